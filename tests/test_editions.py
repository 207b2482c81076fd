"""Editions: one statement of the version, a release that refuses what it must, and a "What
changed" page that reports what changed.

Releases are made in a throwaway git repository under ``tmp_path``, never in the real one.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

import afterkarabakh
from afterkarabakh import edition, editions, paths
from afterkarabakh.book import release

# --- one place ------------------------------------------------------------------------------------


def test_the_edition_is_read_everywhere_from_one_place():
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    package = json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))
    assert edition.key(edition.VERSION) and edition.date() <= dt.date.today()
    assert str(cff["version"]) == edition.VERSION, "CITATION.cff: run make release"
    assert str(cff["date-released"]) == edition.DATE, "CITATION.cff: run make release"
    assert package["version"] == edition.VERSION, "data/datapackage.json: run make release"
    assert afterkarabakh.__version__ == edition.VERSION
    assert release.current(paths.ROOT) == (edition.VERSION, edition.DATE)


def test_no_other_file_types_the_version():
    """The version is written in the edition file and stamped where it must be literal; every
    other page, notebook and module reads it (the tests may name versions of their own)."""
    allowed = {"afterkarabakh/edition.py", "CITATION.cff", "data/datapackage.json", "CHANGELOG.md"}
    typed = []
    for path in paths.ROOT.rglob("*"):
        relative = path.relative_to(paths.ROOT)
        if (
            not path.is_file()
            or relative.parts[0].startswith((".", "_"))
            or relative.parts[0] == "tests"
            or relative.parts[0] == editions.SNAPSHOTS
            or path.suffix not in {".py", ".ipynb", ".md", ".yml", ".cff", ".json", ".toml", ".css"}
        ):
            continue
        if str(relative) in allowed:
            continue
        if re.search(rf"(?<![\d.]){re.escape(edition.VERSION)}(?![\d.])", path.read_text("utf-8")):
            typed.append(str(relative))
    assert not typed, f"the version {edition.VERSION} is typed in {typed}"


def test_versions_are_ordered_as_numbers():
    assert edition.key("1.10.0") > edition.key("1.9.2") > edition.key("1.0.0")
    with pytest.raises(ValueError, match="not a version"):
        edition.key("1.0")
    assert edition.label("2.1.0", "2027-01-02") == "edition 2.1.0 of 2 January 2027"


# --- make release, in a throwaway repository ---------------------------------------------------


def _next(version: str) -> str:
    major, minor, _ = edition.key(version)
    return f"{major}.{minor + 1}.0"


#: The editions the throwaway repository releases: the next two after the real one.
NEXT = _next(edition.VERSION)
LATER = _next(NEXT)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A git repository holding what a release touches: the edition file, CITATION.cff, the data
    and a changelog, at the real repository's edition, committed."""
    root = tmp_path / "book"
    (root / "afterkarabakh").mkdir(parents=True)
    shutil.copy(paths.PACKAGE / "edition.py", root / "afterkarabakh" / "edition.py")
    shutil.copy(paths.ROOT / "CITATION.cff", root / "CITATION.cff")
    shutil.copytree(paths.DATA, root / "data")
    (root / editions.CHANGELOG).write_text(release.CHANGELOG_HEAD, encoding="utf-8")
    _git(root.parent, "init", "-q", str(root))
    _git(root, "config", "user.email", "maintainer@example.org")
    _git(root, "config", "user.name", "Maintainer")
    _git(root, "config", "commit.gpgsign", "false")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "The book before its release")
    return root


def _release(root: Path, version: str, day=dt.date(2027, 1, 2), command=("true",)) -> str:
    return release.release(version, root=root, test_command=list(command), today=day, edit=False)


def test_release_stamps_records_keeps_commits_and_tags(repo):
    tag = _release(repo, NEXT)
    assert tag == f"v{NEXT}" and _git(repo, "tag", "--list").split() == [f"v{NEXT}"]
    assert release.current(repo) == (NEXT, "2027-01-02")
    cff = yaml.safe_load((repo / "CITATION.cff").read_text(encoding="utf-8"))
    assert (cff["version"], cff["date-released"]) == (NEXT, "2027-01-02")
    assert json.loads((repo / "data" / "datapackage.json").read_text("utf-8"))["version"] == NEXT
    changelog = (repo / editions.CHANGELOG).read_text(encoding="utf-8")
    assert f"## {NEXT} (2 January 2027)" in changelog
    assert re.search(r"- The first edition: \d+ tables of data holding [\d,]+ rows", changelog)
    assert "- Of the 20 propositions tested, " in changelog
    assert [r.version for r in editions.recorded(repo)] == [NEXT]
    kept = editions.snapshot_path(NEXT, repo)
    with zipfile.ZipFile(kept) as zipped:
        names = zipped.namelist()
        folder = f"after-karabakh-data-{NEXT}"
        descriptor = json.loads(zipped.read(f"{folder}/datapackage.json"))
    assert descriptor["version"] == NEXT
    assert {f"{folder}/README.md", f"{folder}/events.csv", f"{folder}/sources.csv"} <= set(names)
    assert release.dirty(repo) == [], "the release commits everything it changed"
    assert _git(repo, "log", "-1", "--format=%s").strip() == f"Edition {NEXT} (2 January 2027)"
    assert _git(repo, "describe", "--tags", "--exact-match").strip() == f"v{NEXT}"


def test_release_refuses_a_dirty_tree_and_changes_nothing(repo):
    (repo / "notes.txt").write_text("uncommitted", encoding="utf-8")
    before = (repo / "afterkarabakh" / "edition.py").read_text(encoding="utf-8")
    with pytest.raises(release.ReleaseError, match=r"not clean[\s\S]*notes\.txt"):
        _release(repo, NEXT)
    assert (repo / "afterkarabakh" / "edition.py").read_text(encoding="utf-8") == before
    assert _git(repo, "tag", "--list") == ""


def test_release_refuses_when_the_tests_fail(repo):
    with pytest.raises(release.ReleaseError, match="tests failed"):
        _release(repo, NEXT, command=("false",))
    assert release.current(repo)[0] == edition.VERSION and _git(repo, "tag", "--list") == ""


@pytest.mark.parametrize(
    "version, words",
    [("0.0.0", "older than the current edition"), ("1.1", "not a version")],
)
def test_release_refuses_a_bad_version(repo, version, words):
    with pytest.raises((release.ReleaseError, ValueError), match=words):
        _release(repo, version)


def test_release_refuses_a_version_already_tagged(repo):
    _release(repo, NEXT)
    with pytest.raises(release.ReleaseError, match="already exists"):
        _release(repo, NEXT)


def _edit_row(csv_path: Path, key_field: str, key: str, field: str, value: str) -> None:
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    next(r for r in rows if r[key_field] == key)[field] = value
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def test_the_previous_edition_is_read_from_its_tag_or_its_kept_zip(repo, tmp_path):
    """A clone without tags (as CI makes) still finds the previous edition, in its kept zip; with
    neither, the page says the edition could not be read instead of calling itself the first."""
    _release(repo, NEXT)
    first = next(iter(csv.DictReader((repo / "data" / "events.csv").open(encoding="utf-8"))))
    _edit_row(repo / "data" / "events.csv", "event_id", first["event_id"], "title", "Retitled")
    _git(repo, "commit", "-q", "-am", "A title corrected")

    # Between releases: the build holds changes not yet released.
    since = editions.previous(version=NEXT, root=repo, workdir=tmp_path / "w0")
    assert (since.version, since.unreleased) == (NEXT, True)

    found = {}
    for case in ("tag", "snapshot", "neither"):
        if case == "snapshot":
            _git(repo, "tag", "-d", f"v{NEXT}")
        if case == "neither":
            editions.snapshot_path(NEXT, repo).unlink()
        prev = editions.previous(version=LATER, root=repo, workdir=tmp_path / case)
        found[case] = prev
        assert prev.version == NEXT and prev.date == dt.date(2027, 1, 2)
    assert found["tag"].origin == "tag" and found["snapshot"].origin == "snapshot"
    for case in ("tag", "snapshot"):
        changes = editions.compare(found[case].datapackage, repo / "data" / "datapackage.json")
        events = next(d for d in changes.moved if d.name == "events")
        assert events.changed == [first["event_id"]] and not events.added
    assert found["snapshot"].figures is None or isinstance(found["snapshot"].figures, list)
    assert found["neither"].datapackage is None
    sentence = editions.summary_sentence(found["neither"], None, version=LATER)
    assert "could not be read" in sentence and "first" not in sentence


def test_a_first_edition_says_it_is_the_first(repo, tmp_path):
    prev = editions.previous(version=edition.VERSION, root=repo, workdir=tmp_path / "w")
    assert prev.version is None
    assert "the book's first" in editions.summary_sentence(prev, None)
    assert "no earlier edition" in editions.datasets_html(None, prev)


def test_the_changelog_draft_names_what_changed(repo):
    _release(repo, NEXT)
    _edit_row(repo / "data" / "verdicts.csv", "proposition", "9", "verdict", "supported")
    _git(repo, "commit", "-q", "-am", "Proposition 9 re-decided")
    lines = release.draft(repo, LATER)
    assert lines[0] == f"Changes since edition {NEXT}:"
    assert any("Proposition 9 moved from partly supported to supported" in line for line in lines)


# --- the "What changed" page against a synthetic previous edition --------------------------------


@pytest.fixture
def previous_edition(data_copy) -> tuple[Path, dict]:
    """A copy of data/ as an earlier edition: one events row changed, one removed, one verdict
    different."""
    events_path = data_copy.parent / "events.csv"
    with events_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    changed, removed = rows[3]["event_id"], rows[5]["event_id"]
    rows[3]["title"] = "An earlier title"
    del rows[5]
    with events_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    _edit_row(data_copy.parent / "verdicts.csv", "proposition", "16", "verdict", "supported")
    return data_copy, {"changed": changed, "added": removed}


def test_the_page_reports_a_changed_row_an_added_row_and_a_changed_verdict(previous_edition):
    old, expected = previous_edition
    changes = editions.compare(old, paths.DATAPACKAGE)
    assert [d.name for d in changes.moved] == ["events", "verdicts"]
    events = changes.moved[0]
    assert changes.moved[1].changed == ["16"]
    assert events.changed == [expected["changed"]] and events.added == [expected["added"]]
    assert events.removed == [] and events.status == "kept"
    [verdict] = changes.verdicts
    assert (verdict.proposition, verdict.old, verdict.new) == (16, "supported", "contradicted")

    prev = editions.Previous("0.9.0", dt.date(2026, 1, 1), old, figures=None)
    page = (
        editions.summary_sentence(prev, changes)
        + editions.datasets_html(changes, prev)
        + editions.rows_html(changes)
        + editions.verdicts_html(changes, prev)
    )
    assert "edition 0.9.0 of 1 January 2026" in page
    assert "two datasets and one verdict changed" in page
    assert re.search(
        r"<td>Key events[^<]*<br><code>events</code></td><td>[\d,]+</td><td>1</td>"
        r"<td>0</td><td>1</td>",
        page,
    ), "the events row counts one added, one changed"
    assert f"added: <code>{expected['added']}</code>" in page
    assert f"changed: <code>{expected['changed']}</code>" in page
    assert "<td>Supported</td><td>Contradicted</td>" in page


def test_the_page_lists_the_figures_drawn_from_changed_data(previous_edition):
    old, expected = previous_edition
    changes = editions.compare(old, paths.DATAPACKAGE)
    figures = [
        {
            "number": "1.2",
            "title": "Events",
            "page": "chapters/introduction",
            "id": "fig-a",
            "datasets": ["events"],
            "sources": [],
        },
        {
            "number": "6.1",
            "title": "Trade",
            "page": "chapters/trade",
            "id": "fig-b",
            "datasets": ["wine_exports"],
            "sources": [],
        },
    ]
    prev = editions.Previous("0.9.0", dt.date(2026, 1, 1), old, figures=figures)
    listed = editions.figures_html(changes, prev)
    assert "Figure 1.2</a>: Events" in listed and "Figure 6.1" not in listed
    assert "no earlier edition" not in listed
    unknown = editions.figures_html(changes, editions.Previous("0.9.0", dt.date(2026, 1, 1), old))
    assert "not kept" in unknown


def test_identical_editions_compare_as_unchanged(data_copy):
    changes = editions.compare(data_copy, paths.DATAPACKAGE)
    assert changes.empty and changes.verdicts == []


def test_the_package_version_is_read_from_the_edition_file():
    """pyproject.toml (when the checkout has one) declares the version dynamic, read by setuptools
    from afterkarabakh/edition.py without importing anything, never typed."""
    import tomllib

    file = paths.ROOT / "pyproject.toml"
    if not file.exists():
        pytest.skip("no pyproject.toml in this checkout")
    project = tomllib.loads(file.read_text(encoding="utf-8"))
    assert "version" not in project["project"], "pyproject.toml types a version; make it dynamic"
    assert "version" in project["project"].get("dynamic", [])
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "afterkarabakh.edition.VERSION"}
