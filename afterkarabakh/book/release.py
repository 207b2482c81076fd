"""``make release VERSION=x.y.z``: a new edition, stamped, recorded, committed and tagged.

In order, refusing at the first problem and changing nothing until every check has passed:

1. the version is of the form major.minor.patch, not older than the current edition, and not
   already tagged;
2. the working tree is clean (nothing uncommitted, nothing untracked);
3. the tests pass (``make test``);
4. the version and today's date are stamped into the one place the edition is stated
   (``afterkarabakh/edition.py``) and into what must carry it literally: ``CITATION.cff``
   (``version``, ``date-released``) and ``data/datapackage.json`` (``version``);
5. ``CHANGELOG.md`` gains the edition's entry, drafted from the data (:mod:`afterkarabakh.editions`:
   rows added, removed and changed, verdicts that moved and why, figures whose data changed) and
   opened in ``$EDITOR`` when run from a terminal, so the maintainer puts it into words a reader
   understands;
6. the edition's data package is kept as ``editions/after-karabakh-data-<version>.zip`` (the zip
   readers download, with the list of figures), so that a clone without tags can still say what
   the next edition changed;
7. the "What changed in this edition" page is re-executed (its checked output names the edition
   it compares with);
8. the lot is committed ("Edition x.y.z") and tagged ``vx.y.z``.

Publishing is then ``make book`` and ``make pdf`` on the tagged commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import edition, editions, paths

EDITION_FILE = Path("afterkarabakh") / "edition.py"
CITATION = Path("CITATION.cff")
DATAPACKAGE = Path("data") / "datapackage.json"
CHANGES_PAGE = Path("chapters") / "appendix_changes.ipynb"
CHANGELOG_HEAD = """# Changes, edition by edition

Each edition of *After Karabakh* is listed here, newest first: what changed in its data, which
verdicts moved and why, and which figures changed with them. `make release` drafts each entry from
the data themselves; the book's "What changed in this edition" appendix shows the same comparison.
"""


class ReleaseError(RuntimeError):
    """A release refused, with the reason a maintainer can act on."""


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def current(root: Path) -> tuple[str, str]:
    """(VERSION, DATE) as the edition file of ``root`` states them."""
    text = (Path(root) / EDITION_FILE).read_text(encoding="utf-8")
    version = re.search(r'^VERSION = "([^"]*)"$', text, re.M)
    day = re.search(r'^DATE = "([^"]*)"$', text, re.M)
    if not (version and day):
        raise ReleaseError(f"{EDITION_FILE} does not state VERSION and DATE")
    return version.group(1), day.group(1)


def dirty(root: Path) -> list[str]:
    """Files changed, staged or untracked in the working tree (empty when it is clean)."""
    return [line for line in _git(root, "status", "--porcelain").splitlines() if line.strip()]


def _replace(path: Path, pattern: str, new: str, insert_after: str | None = None) -> None:
    text = path.read_text(encoding="utf-8")
    updated, n = re.subn(pattern, new, text, count=1, flags=re.M)
    if n == 0:
        if insert_after is None:
            raise ReleaseError(f"{path}: no line matching {pattern!r} to stamp")
        updated, n = re.subn(
            insert_after, lambda m: m.group(0) + "\n" + new, text, count=1, flags=re.M
        )
        if n == 0:
            raise ReleaseError(f"{path}: nowhere to add {new!r}")
    path.write_text(updated, encoding="utf-8")


def stamp(root: Path, version: str, day: str) -> None:
    """Write the version and date into the edition file, CITATION.cff and datapackage.json."""
    root = Path(root)
    _replace(root / EDITION_FILE, r'^VERSION = "[^"]*"$', f'VERSION = "{version}"')
    _replace(root / EDITION_FILE, r'^DATE = "[^"]*"$', f'DATE = "{day}"')
    _replace(
        root / CITATION, r"^version: .*$", f'version: "{version}"', insert_after=r"^title: .*$"
    )
    _replace(
        root / CITATION,
        r"^date-released: .*$",
        f'date-released: "{day}"',
        insert_after=r"^version: .*$",
    )
    _replace(
        root / DATAPACKAGE,
        r'^  "version": "[^"]*",$',
        f'  "version": "{version}",',
        insert_after=r'^  "title": .*,$',
    )
    json.loads((root / DATAPACKAGE).read_text(encoding="utf-8"))  # still a valid descriptor


def changelog_entry(version: str, day: str, lines: list[str]) -> str:
    return f"## {version} ({edition.date_words(day)})\n\n" + "\n".join(lines) + "\n"


def record(root: Path, entry: str) -> Path:
    """Put the entry at the head of CHANGELOG.md (created with its introduction if missing)."""
    path = Path(root) / editions.CHANGELOG
    text = path.read_text(encoding="utf-8") if path.exists() else CHANGELOG_HEAD
    first = re.search(r"^## ", text, re.M)
    at = first.start() if first else len(text)
    head = text[:at].rstrip("\n") + "\n\n"
    rest = text[at:]
    path.write_text(head + entry + ("\n" + rest if rest else ""), encoding="utf-8")
    return path


def draft(root: Path, version: str) -> list[str]:
    """The changelog's draft: the data of ``root`` against the newest recorded older edition."""
    root = Path(root)
    with tempfile.TemporaryDirectory() as scratch:
        prev = editions.previous(version=version, root=root, workdir=Path(scratch))
        if prev.version is None:
            return editions.first_edition_lines(root / DATAPACKAGE)
        if prev.datapackage is None:
            return [f"- Changes since edition {prev.version}: its data could not be read."]
        changes = editions.compare(prev.datapackage, root / DATAPACKAGE)
        return [f"Changes since edition {prev.version}:", ""] + editions.changelog_lines(
            changes, prev.figures
        )


def release(
    version: str,
    *,
    root: Path = paths.ROOT,
    test_command: list[str] | None = None,
    today: dt.date | None = None,
    edit: bool | None = None,
) -> str:
    """Release ``version`` from ``root`` (see the module's docstring); returns the tag made."""
    root = Path(root)
    edition.key(version)  # a malformed version stops here
    was, _ = current(root)
    if edition.key(version) < edition.key(was):
        raise ReleaseError(f"version {version} is older than the current edition {was}")
    tag = edition.tag(version)
    if _git(root, "tag", "--list", tag).strip():
        raise ReleaseError(f"tag {tag} already exists: edition {version} was released")
    changed = dirty(root)
    if changed:
        raise ReleaseError(
            "the working tree is not clean; commit or remove these first:\n  "
            + "\n  ".join(changed)
        )
    command = test_command if test_command is not None else ["make", "test"]
    if subprocess.run(command, cwd=root, check=False).returncode != 0:
        raise ReleaseError(f"the tests failed ({' '.join(command)}); nothing was stamped")
    day = (today or dt.date.today()).isoformat()
    lines = draft(root, version)
    stamp(root, version, day)
    changelog = record(root, changelog_entry(version, day, lines))
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if (edit if edit is not None else sys.stdin.isatty()) and editor:
        subprocess.run([*editor.split(), str(changelog)], check=False)
    from .downloads import write_data_zip

    built = root / "_build" / "html" / "figures.json"
    figures = json.loads(built.read_text(encoding="utf-8")) if built.exists() else None
    kept = write_data_zip(
        editions.snapshot_path(version, root),
        root / "data",
        version=version,
        day=day,
        figures=figures,
    )
    files = [str(EDITION_FILE), str(CITATION), str(DATAPACKAGE), editions.CHANGELOG]
    page = root / CHANGES_PAGE
    if page.exists():  # its checked output names the edition it compares with
        subprocess.run(
            [sys.executable, "-m", "afterkarabakh.book.notebooks", "refresh", str(CHANGES_PAGE)],
            cwd=root,
            check=True,
        )
        files.append(str(CHANGES_PAGE))
    _git(root, "add", *files, str(kept.relative_to(root)))
    _git(root, "commit", "-q", "-m", f"Edition {version} ({edition.date_words(day)})")
    _git(root, "tag", "-a", tag, "-m", f"After Karabakh, {edition.label(version, day)}")
    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Release a new edition of After Karabakh.")
    parser.add_argument("version", help="the new edition's version, major.minor.patch (e.g. 1.2.3)")
    parser.add_argument("--no-edit", action="store_true", help="keep the drafted changelog entry")
    args = parser.parse_args(argv)
    try:
        tag = release(args.version, edit=False if args.no_edit else None)
    except (ReleaseError, ValueError) as problem:
        print(f"release refused: {problem}", file=sys.stderr)
        return 1
    print(f"Released {tag}. Publish it: git push --follow-tags; make book; make pdf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
