"""What changed between two editions, read from the data themselves.

An edition is released by ``make release`` (:mod:`afterkarabakh.book.release`): it is recorded in
``CHANGELOG.md``, tagged ``v<version>`` in git, and its data package is kept as the zip readers
download (``editions/after-karabakh-data-<version>.zip``, with the list of the edition's figures
and the datasets each draws on). The previous edition's data are read from its git tag when the
clone has it, else from that kept zip (a CI clone often has no tags); when neither is there, the
page says so rather than pretend the edition is the first.

:func:`compare` sets two data packages side by side, dataset by dataset (rows added, removed and
changed, matched on each dataset's primary key), proposition by proposition (the verdicts that
moved, with the new reason), and figure by figure (those drawn from a dataset that changed).
The "What changed in this edition" appendix renders the result; the release command drafts the
changelog entry from it.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from . import edition, paths

CHANGELOG = "CHANGELOG.md"
#: Where each released edition's data package is kept, beside the repository's own data.
SNAPSHOTS = "editions"
#: The list of figures (number, title, page, anchor, datasets, sources) inside a data zip.
FIGURES_FILE = "figures.json"
#: An edition's heading in CHANGELOG.md: "## 1.2.3 (4 May 2027)".
HEADING = re.compile(r"^## (\d+\.\d+\.\d+) \((\d{1,2} [A-Z][a-z]+ \d{4})\)\s*$", re.M)


@dataclass(frozen=True)
class Recorded:
    """An edition as CHANGELOG.md records it."""

    version: str
    date: date


def recorded(root: Path = paths.ROOT) -> list[Recorded]:
    """The released editions, newest first (none when the changelog records none)."""
    file = Path(root) / CHANGELOG
    if not file.exists():
        return []
    found = [
        Recorded(v, datetime.strptime(d, "%d %B %Y").date())
        for v, d in HEADING.findall(file.read_text(encoding="utf-8"))
    ]
    return sorted(found, key=lambda r: edition.key(r.version), reverse=True)


def snapshot_path(version: str, root: Path = paths.ROOT) -> Path:
    return Path(root) / SNAPSHOTS / edition.data_zip_name(version)


def _git(root: Path, *args: str, binary: bool = False):
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=False, text=not binary
    )


def has_tag(version: str, root: Path = paths.ROOT) -> bool:
    """Whether this clone holds the edition's tag (shallow CI clones often hold none)."""
    if shutil.which("git") is None:
        return False
    found = _git(
        root, "rev-parse", "-q", "--verify", f"refs/tags/{edition.tag(version)}^{{commit}}"
    )
    return found.returncode == 0


@dataclass
class Previous:
    """The edition a build is compared with.

    ``version`` is None for the first edition. ``datapackage`` is None when the edition is
    recorded but neither its tag nor its kept zip is in this clone. ``origin`` says where its
    data were read: "tag" or "snapshot". ``unreleased`` marks a build whose data have moved on
    since the edition it still bears (changes not yet released as a new edition).
    """

    version: str | None
    date: date | None = None
    datapackage: Path | None = None
    figures: list | None = None
    origin: str = ""
    unreleased: bool = False


def _figures_from_zip(archive: Path) -> list | None:
    with zipfile.ZipFile(archive) as zipped:
        names = [n for n in zipped.namelist() if n.endswith("/" + FIGURES_FILE)]
        return json.loads(zipped.read(names[0]).decode("utf-8")) if names else None


def edition_data(version: str, root: Path, workdir: Path) -> tuple[Path | None, list | None, str]:
    """(datapackage.json, figures, origin) of a released edition, unpacked under ``workdir``."""
    root, target = Path(root), Path(workdir) / version
    snapshot = snapshot_path(version, root)
    figures = _figures_from_zip(snapshot) if snapshot.exists() else None
    if target.exists():
        shutil.rmtree(target)
    if has_tag(version, root):
        tar = _git(root, "archive", "--format=tar", edition.tag(version), "data", binary=True)
        if tar.returncode == 0:
            import tarfile

            target.mkdir(parents=True)
            with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
                archive.extractall(target, filter="data")
            return target / "data" / "datapackage.json", figures, "tag"
    if snapshot.exists():
        target.mkdir(parents=True)
        with zipfile.ZipFile(snapshot) as zipped:
            zipped.extractall(target)
        found = sorted(target.rglob("datapackage.json"))
        if found:
            return found[0], figures, "snapshot"
    return None, None, ""


def previous(
    version: str = edition.VERSION,
    root: Path = paths.ROOT,
    workdir: Path | None = None,
    current: Path | None = None,
) -> Previous:
    """The edition to compare this build with.

    The newest recorded edition older than ``version``; but when ``version`` itself is recorded
    and this build's data (``current``, the repository's by default) differ from it, that
    edition, with ``unreleased`` set: the build holds changes made since it.
    """
    root = Path(root)
    if workdir is None:  # the package's cache (outside the checkout when it is installed)
        cache = getattr(paths, "CACHE", None) if root == paths.ROOT else None
        workdir = (cache or root / "_build" / ".cache") / "editions"
    workdir = Path(workdir)
    editions = recorded(root)
    this = next((r for r in editions if r.version == version), None)
    if this is not None:
        found, figures, origin = edition_data(version, root, workdir)
        if (
            found is not None
            and not compare(found, current or root / "data" / "datapackage.json").empty
        ):
            return Previous(version, this.date, found, figures, origin, unreleased=True)
    older = [r for r in editions if edition.key(r.version) < edition.key(version)]
    if not older:
        return Previous(None)
    last = older[0]
    found, figures, origin = edition_data(last.version, root, workdir)
    return Previous(last.version, last.date, found, figures, origin)


# --- the comparison ------------------------------------------------------------------------------


@dataclass
class DatasetChange:
    name: str
    title: str
    status: str  # "new", "removed" or "kept"
    rows: int  # rows now (before, for a removed dataset)
    added: list = field(default_factory=list)  # keys
    removed: list = field(default_factory=list)
    changed: list = field(default_factory=list)
    sources: set = field(default_factory=set)  # source ids of the rows added, removed or changed

    @property
    def moved(self) -> bool:
        return self.status != "kept" or bool(self.added or self.removed or self.changed)


@dataclass
class VerdictChange:
    proposition: int
    wording: str
    old: str
    new: str
    reason: str


@dataclass
class Changes:
    datasets: list[DatasetChange]
    verdicts: list[VerdictChange]

    @property
    def moved(self) -> list[DatasetChange]:
        return [d for d in self.datasets if d.moved]

    @property
    def empty(self) -> bool:
        return not self.moved and not self.verdicts


def _tables(datapackage: Path) -> dict[str, dict]:
    """name -> {title, key, rows: {key: row}, order} for each table of a package, read as text."""
    datapackage = Path(datapackage)
    descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    tables = {}
    for resource in descriptor["resources"]:
        if "schema" not in resource:
            continue
        file = datapackage.parent / resource["path"]
        if not file.exists():
            continue
        with file.open(newline="", encoding=resource.get("encoding", "utf-8")) as handle:
            rows = list(csv.DictReader(handle))
        key_fields = resource["schema"].get("primaryKey") or []
        key_fields = [key_fields] if isinstance(key_fields, str) else key_fields
        keyed: dict = {}
        for index, row in enumerate(rows):
            key = "|".join(row.get(k) or "" for k in key_fields) if key_fields else str(index)
            keyed.setdefault(key, row)
        tables[resource["name"]] = {
            "title": resource.get("title") or resource["name"],
            "keyed": bool(key_fields),
            "rows": keyed,
        }
    return tables


def _same(old: dict, new: dict) -> bool:
    """Rows agree on every column both editions have (a column added or dropped is not a change
    of each row; the served registry's archive column, made at build time, is not either)."""
    shared = (set(old) & set(new)) - {None}
    return all((old.get(c) or "") == (new.get(c) or "") for c in shared)


def compare(old_datapackage: Path, new_datapackage: Path) -> Changes:
    """Every dataset's rows added, removed and changed, and the verdicts that moved."""
    old, new = _tables(old_datapackage), _tables(new_datapackage)
    datasets = []
    for name in list(new) + [n for n in old if n not in new]:
        before, after = old.get(name), new.get(name)
        if before is None:
            rows = after["rows"]
            datasets.append(
                DatasetChange(
                    name,
                    after["title"],
                    "new",
                    len(rows),
                    added=list(rows),
                    sources={r.get("source_id") for r in rows.values()} - {None, ""},
                )
            )
            continue
        if after is None:
            rows = before["rows"]
            datasets.append(
                DatasetChange(
                    name,
                    before["title"],
                    "removed",
                    len(rows),
                    removed=list(rows),
                    sources={r.get("source_id") for r in rows.values()} - {None, ""},
                )
            )
            continue
        a, b = before["rows"], after["rows"]
        if not (before["keyed"] and after["keyed"]):  # no key: rows are matched whole
            a = {json.dumps(r, sort_keys=True): r for r in a.values()}
            b = {json.dumps(r, sort_keys=True): r for r in b.values()}
        added = [k for k in b if k not in a]
        removed = [k for k in a if k not in b]
        changed = [k for k in b if k in a and not _same(a[k], b[k])]
        touched = [b[k] for k in added + changed] + [a[k] for k in removed + changed]
        datasets.append(
            DatasetChange(
                name,
                after["title"],
                "kept",
                len(b),
                added,
                removed,
                changed,
                {r.get("source_id") for r in touched} - {None, ""},
            )
        )
    verdicts = []
    old_v, new_v = old.get("verdicts", {}).get("rows", {}), new.get("verdicts", {}).get("rows", {})
    for key, row in new_v.items():
        was = (old_v.get(key) or {}).get("verdict") or ""
        if key in old_v and was != (row.get("verdict") or ""):
            verdicts.append(
                VerdictChange(
                    int(key),
                    row.get("wording", ""),
                    was or "not yet assessed",
                    row.get("verdict") or "not yet assessed",
                    row.get("reason") or "",
                )
            )
    return Changes(datasets, sorted(verdicts, key=lambda v: v.proposition))


def figures_changed(changes: Changes, figures: list | None) -> list[dict] | None:
    """The previous edition's figures drawn from a dataset that changed (None: figures unknown).

    A figure names the datasets it draws on where the build could tell; otherwise it counts as
    changed when a row added, removed or changed cites one of its sources.
    """
    if figures is None:
        return None
    moved = {d.name for d in changes.moved}
    touched = set().union(*(d.sources for d in changes.moved)) if changes.moved else set()
    hit = []
    for figure in figures:
        used = set(figure.get("datasets") or [])
        if (used & moved) or (not used and set(figure.get("sources") or []) & touched):
            hit.append(figure)
    return hit


# --- the page ------------------------------------------------------------------------------------


def _count(n: int, what: str) -> str:
    from .verdicts import number_words

    return f"{number_words(n)} {what}{'' if n == 1 else 's'}"


def summary_sentence(
    prev: Previous, changes: Changes | None, version: str = edition.VERSION
) -> str:
    """The page's opening sentence: which edition this is, and what it is compared with."""
    this = f"This is {edition.label(version)}"
    if prev.version is None:
        return (
            f"{this}, the book's first: there is no earlier edition to compare it with. From the "
            "next edition on, this page lists, from the data themselves, the rows each dataset "
            "gained, lost or changed, the verdicts that moved and why, and the figures whose data "
            "changed."
        )
    then = edition.label(prev.version, prev.date.isoformat())
    if prev.datapackage is None:
        return (
            f"{this}. The previous one, {then}, could not be read by this build (its data are "
            "kept with its release), so the changes since it are not listed here; the "
            "changelog that comes with the book's files records them."
        )
    if prev.unreleased:
        lead = f"This build holds changes made since {then}, not yet released as a new edition"
    else:
        lead = f"{this}; the previous one was {then}"
    if changes is None or changes.empty:
        return f"{lead}. No dataset and no verdict changed between them."
    return (
        f"{lead}. Between them, {_count(len(changes.moved), 'dataset')} and "
        f"{_count(len(changes.verdicts), 'verdict')} changed."
    )


def _nothing(prev: Previous | None) -> str:
    """What a section says when there is nothing to compare with."""
    if prev is not None and prev.version is not None:
        return f"<p>Edition {html.escape(prev.version)} could not be compared with this one.</p>"
    return "<p>There is no earlier edition to compare this one with.</p>"


def datasets_html(changes: Changes | None, prev: Previous | None = None) -> str:
    """One row per dataset that changed: its title, rows now, and rows added, removed, changed."""
    if changes is None:
        return _nothing(prev)
    if not changes.moved:
        return "<p>No dataset changed.</p>"
    body = []
    for d in changes.moved:
        status = {"new": " (new dataset)", "removed": " (dataset removed)"}.get(d.status, "")
        body.append(
            f"<tr><td>{html.escape(d.title)}{status}<br><code>{html.escape(d.name)}</code></td>"
            f"<td>{d.rows:,}</td><td>{len(d.added):,}</td><td>{len(d.removed):,}</td>"
            f"<td>{len(d.changed):,}</td></tr>"
        )
    return (
        '<table class="table ak-changes"><thead><tr><th>Dataset</th><th>Rows now</th>'
        "<th>Added</th><th>Removed</th><th>Changed</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


def rows_html(changes: Changes | None, limit: int = 12) -> str:
    """The keys of the rows each dataset gained, lost or changed (the first few of each)."""
    if changes is None or not changes.moved:
        return ""
    items = []
    for d in changes.moved:
        parts = []
        for what, keys in (("added", d.added), ("removed", d.removed), ("changed", d.changed)):
            if keys:
                shown = ", ".join(f"<code>{html.escape(k)}</code>" for k in keys[:limit])
                more = f" and {len(keys) - limit:,} more" if len(keys) > limit else ""
                parts.append(f"{what}: {shown}{more}")
        items.append(f"<li><strong>{html.escape(d.title)}</strong>: {'; '.join(parts)}</li>")
    return '<ul class="ak-changes-rows">' + "".join(items) + "</ul>"


def verdicts_html(changes: Changes | None, prev: Previous | None = None) -> str:
    """One row per verdict that moved: the proposition, the old and new verdict, the new reason."""
    if changes is None:
        return _nothing(prev)
    if not changes.verdicts:
        return "<p>No verdict changed.</p>"
    body = "".join(
        f"<tr><td>{v.proposition}</td><td>{html.escape(v.wording)}</td>"
        f"<td>{html.escape(v.old.capitalize())}</td><td>{html.escape(v.new.capitalize())}</td>"
        f"<td>{html.escape(v.reason)}</td></tr>"
        for v in changes.verdicts
    )
    return (
        '<table class="table ak-changes"><thead><tr><th>#</th><th>Proposition</th>'
        "<th>Was</th><th>Now</th><th>Why</th></tr></thead><tbody>" + body + "</tbody></table>"
    )


def figures_html(changes: Changes | None, prev: Previous | None = None) -> str:
    """The previous edition's figures whose data changed, each linked to where it is now."""
    if changes is None:
        return _nothing(prev)
    if not changes.moved:
        return "<p>No figure's data changed.</p>"
    figures = prev.figures if prev is not None else None
    hit = figures_changed(changes, figures)
    if hit is None:
        return (
            "<p>The previous edition's list of figures is not kept with its data, so the figures "
            "cannot be matched to the datasets above.</p>"
        )
    if not hit:
        return "<p>No figure of the previous edition draws on a dataset that changed.</p>"
    items = []
    for f in hit:
        page = _page(f["page"].rsplit("/", 1)[-1])
        items.append(
            f'<li><a href="{html.escape(page)}#{html.escape(f["id"])}">Figure '
            f"{html.escape(str(f['number']))}</a>: {html.escape(f['title'])}</li>"
        )
    return '<ul class="ak-changes-figures">' + "".join(items) + "</ul>"


def changelog_lines(changes: Changes, figures: list | None = None) -> list[str]:
    """The changelog's draft of an edition, in sentences the maintainer then edits."""
    lines = []
    for d in changes.moved:
        if d.status == "new":
            lines.append(f"- New dataset: {d.title} ({_count(d.rows, 'row')}).")
        elif d.status == "removed":
            lines.append(f"- Dataset withdrawn: {d.title}.")
        else:
            parts = [
                f"{_count(len(keys), 'row')} {what}"
                for what, keys in (
                    ("added", d.added),
                    ("removed", d.removed),
                    ("changed", d.changed),
                )
                if keys
            ]
            lines.append(f"- {d.title}: {', '.join(parts)}.")
    for v in changes.verdicts:
        lines.append(f"- Proposition {v.proposition} moved from {v.old} to {v.new}: {v.reason}")
    hit = figures_changed(changes, figures)
    if hit:
        lines.append(
            "- Figures drawn from changed data: "
            + "; ".join(f"Figure {f['number']} ({f['title']})" for f in hit)
            + "."
        )
    return lines or ["- No dataset and no verdict changed."]


def first_edition_lines(datapackage: Path) -> list[str]:
    """The changelog's draft for the first edition: what it holds, from its data."""
    from .verdicts import VERDICTS, counts_phrase

    tables = _tables(datapackage)
    rows = sum(len(t["rows"]) for name, t in tables.items() if name != "sources")
    verdicts = [r.get("verdict") for r in tables.get("verdicts", {}).get("rows", {}).values()]
    counts = {v: verdicts.count(v) for v in VERDICTS}
    return [
        f"- The first edition: {len(tables) - 1:,} tables of data holding {rows:,} rows, and a "
        f"registry of the {len(tables.get('sources', {}).get('rows', {})):,} sources they rest on.",
        f"- Of the {len(verdicts)} propositions tested, {counts_phrase(counts)}.",
    ]


def what_changed(root: Path = paths.ROOT) -> tuple[Previous, Changes | None]:
    """This build's edition set beside the previous one (``Changes`` is None when there is none
    to compare with)."""
    prev = previous(root=root)
    if prev.datapackage is None:
        return prev, None
    return prev, compare(prev.datapackage, Path(root) / "data" / "datapackage.json")


def _page(stem: str) -> str:
    """A link to another page that works where the page is read: the built book, or Jupyter."""
    return f"{stem}.html" if os.environ.get("AFTERKARABAKH_BOOK_BUILD") else f"{stem}.ipynb"


def introduction_html() -> str:
    """The introduction's edition line: which edition this is, where its changes are listed, and
    the book as one PDF and the data as one zip (both at the book's root, seen from a chapter)."""
    return (
        f'<p class="ak-edition-line">This is edition {edition.VERSION} of the book, dated '
        f"{edition.date_words()}. "
        f'<a href="{_page("appendix_changes")}">What changed in this edition</a> lists, from the '
        "data themselves, what is new since the previous one. The whole book can be read as "
        f'<a href="../{edition.pdf_name()}">one PDF</a>, and its data downloaded as '
        f'<a href="../data/{edition.data_zip_name()}" download>one zip</a>.</p>'
    )


def data_zip_html() -> str:
    """The Data appendix's link to the whole data package of this edition, as one zip."""
    return (
        f'<p class="ak-edition-line">All the data of {html.escape(edition.label())}, as one '
        f'download: <a href="../data/{edition.data_zip_name()}" download>'
        f"{edition.data_zip_name()}</a> (every CSV file and map layer, the descriptor "
        "<code>datapackage.json</code>, the licence, a README and the list of the book's "
        "figures with the datasets each draws on).</p>"
    )


def summary_paragraph(prev: Previous, changes: Changes | None):
    """The page's opening sentence as a paragraph of its own (displayed, not glued)."""
    from IPython.display import HTML

    return HTML(f"<p>{html.escape(summary_sentence(prev, changes))}</p>")


def introduction_line():
    """The edition line, displayed as the last expression of a notebook cell."""
    from IPython.display import HTML

    return HTML(introduction_html())
