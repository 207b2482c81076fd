"""Load the book's datasets by name, validated against ``data/datapackage.json``.

Every chapter reads its numbers through :func:`load`. The data package is
validated (types, constraints and primary keys by Frictionless, foreign keys and the
book's own rules by this module) the first time any dataset is asked for, and again
whenever a data file changes, so a notebook can never chart a row that breaks the schema. A problem raises
:class:`DataError`, whose message names the file, the row and the field.

Validation runs once per content of the package (a stamp keyed on the files' hash, shared by
every kernel of a build). Once a content has passed, :func:`load` reads the CSV with pandas and
types each column from the schema (:func:`_fast_frame`), which gives the same frame as reading
the rows through Frictionless (:func:`_frictionless_frame`, tested for every dataset) in a
fraction of the time; Frictionless itself is imported only when a content needs validating or a
caller asks for its objects (:func:`package`, :func:`resource`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import archive, paths

if TYPE_CHECKING:  # Frictionless costs a third of a second to import: only when needed
    from frictionless import Package

_files_noted: set[Path] = set()


#: The files read while :func:`kept` computes a result (a set per result being computed).
_READING: list[set] = []


def _note_use(file: Path) -> None:
    """In a book build, list a data file this kernel read (see ``paths.DATA_USES_ENV``), and the
    chapter modules imported by then (a chapter imports them in its preamble, before its data)."""
    for files in _READING:
        files.add(file)
    folder = os.environ.get(paths.DATA_USES_ENV)
    if not folder:
        return
    modules = {
        Path(module.__file__)
        for name, module in list(sys.modules.items())
        if name.startswith("afterkarabakh.chapters.") and getattr(module, "__file__", None)
    }
    new = ({file} | modules) - _files_noted
    if not new:
        return
    _files_noted.update(new)
    # Named after the process that started this kernel (the Sphinx reader): jupyter_client names
    # it in JPY_PARENT_PID, which holds when the kernel is not its child (afterkarabakh.book.kernels).
    starter = os.environ.get("JPY_PARENT_PID") or os.getppid()
    with open(Path(folder) / f"{starter}.txt", "a", encoding="utf-8") as log:
        log.writelines(f"{path}\n" for path in sorted(new))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, located precisely enough to fix it."""

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        row = "header" if self.row == 1 else (f"row {self.row}" if self.row else "whole file")
        field = f", field '{self.field}'" if self.field else ""
        return f"{self.file}, {row}{field}: {self.message}"


class DataError(ValueError):
    """Raised when the data package does not validate; lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"the data package does not validate ({len(problems)} problem(s)):\n{lines}{more}"
        )


def _descriptor_path(datapackage: Path | None) -> Path:
    return Path(datapackage) if datapackage else paths.DATAPACKAGE


def _fingerprint(datapackage: Path) -> tuple:
    """Size and modification time of the descriptor and every file it names.

    Cheap enough to check on every load, and it changes whenever a file is edited, so an
    edited file is re-validated and re-read rather than served from the cache.
    """
    stamps = []
    for file in [datapackage] + _resource_files(datapackage, datapackage.stat().st_mtime_ns):
        try:
            stat = os.stat(file)
            stamps.append((str(file), stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            stamps.append((str(file), None, None))
    return tuple(stamps)


@lru_cache(maxsize=8)
def _resource_files(datapackage: Path, _descriptor_mtime: int) -> list[Path]:
    resources = json.loads(datapackage.read_text(encoding="utf-8"))["resources"]
    return [datapackage.parent / r["path"] for r in resources]


def _relative(datapackage: Path, resource_path: str) -> str:
    """The file as a reader would type it from the repository root (data/events.csv)."""
    file = (datapackage.parent / resource_path).resolve()
    try:
        return str(file.relative_to(paths.ROOT))
    except ValueError:
        return str(file)


def _check_list_references(package: Package, datapackage: Path) -> list[Problem]:
    """Foreign keys for list fields (``places: yerevan;baku``), which Frictionless cannot express.

    A list field declares ``"references": {"resource": ..., "field": ...}``; every
    item must exist in that resource's key column.
    """
    problems = []
    for resource in package.resources:
        for field in resource.schema.fields:
            target = field.custom.get("references") if hasattr(field, "custom") else None
            if field.type != "list" or not target:
                continue
            known = {
                row[target["field"]] for row in package.get_resource(target["resource"]).read_rows()
            }
            for row in resource.read_rows():
                for item in row[field.name] or []:
                    if item not in known:
                        problems.append(
                            Problem(
                                _relative(datapackage, resource.path),
                                row.row_number,
                                field.name,
                                f"'{item}' is not a {target['field']} in {target['resource']}",
                            )
                        )
    return problems


def _check_resource_sources(package: Package, datapackage: Path) -> list[Problem]:
    """Non-tabular files (map layers) name their registry sources in ``source_ids``; each must exist."""
    known = {row["id"] for row in package.get_resource("sources").read_rows()}
    problems = []
    for resource in package.resources:
        if resource.type == "table":
            continue
        ids = resource.custom.get("source_ids") or []
        if not ids:
            problems.append(
                Problem(
                    _relative(datapackage, resource.path),
                    None,
                    "source_ids",
                    "a file resource must name its sources in 'source_ids'",
                )
            )
        problems += [
            Problem(
                _relative(datapackage, resource.path),
                None,
                "source_ids",
                f"'{i}' is not an id in sources",
            )
            for i in ids
            if i not in known
        ]
        if not (datapackage.parent / resource.path).is_file():
            problems.append(
                Problem(_relative(datapackage, resource.path), None, None, "file not found")
            )
    return problems


def _check_row_references(package: Package, datapackage: Path) -> list[Problem]:
    """Rules Frictionless cannot express, declared on fields of the descriptor.

    - ``"required_with": "other"``: the field is required in every row where ``other`` has a value
      (a verdict needs its reason, its section, its deciding figure and a source).
    - ``"required_without": "other"``: the field is required in every row where ``other`` is empty
      (a source with no publication date needs a note saying why).
    - ``"row_of": "dataset_field"``: the value is the primary key (composite parts joined by '|')
      of a row of the dataset named in ``dataset_field`` of the same row.
    - ``"field_of": "dataset_field"``: the value is a field of that dataset.
    - ``"not_before": {"dataset": ..., "key": ..., "field": ...}`` (names of fields of the same
      row): the value, a date, is not earlier than the date held in that field of that row (a
      verdict at a checkpoint cannot rest on evidence dated after it).
    So a verdict can never cite a figure the data lack, nor evidence from its future.

    The files are read as text (each once per validation) and only the cells a rule compares are
    typed, each by its own field, as Frictionless types it: reading whole tables through
    Frictionless's typed rows cost most of a validation.
    """
    problems = []
    written: dict[str, list] = {}  # dataset -> [(row number, {field: text})]
    keyed: dict[str, dict] = {}  # dataset -> {key: row}

    def rows_of(name: str) -> list:
        if name not in written:
            written[name] = next(_text_rows(package, datapackage, name), (None, []))[1]
        return written[name]

    def rows_by_key(name: str) -> dict:
        if name not in keyed:
            schema = package.get_resource(name).schema
            key_fields = [schema.get_field(k) for k in schema.primary_key]
            keyed[name] = {
                "|".join(str(_typed(f, row.get(f.name))) for f in key_fields): row
                for _, row in rows_of(name)
            }
        return keyed[name]

    for resource in package.resources:
        if resource.type != "table":
            continue
        fields = [
            f
            for f in resource.schema.fields
            if any(
                k in f.custom
                for k in ("required_with", "required_without", "row_of", "field_of", "not_before")
            )
        ]
        if not fields:
            continue
        where = _relative(datapackage, resource.path)
        for line, row in rows_of(resource.name):
            for field in fields:
                value = row.get(field.name) or None
                needed_by = field.custom.get("required_with")
                if needed_by and row.get(needed_by) and value is None:
                    problems.append(
                        Problem(where, line, field.name, f"required when '{needed_by}' is given")
                    )
                missing = field.custom.get("required_without")
                if missing and not row.get(missing) and value is None:
                    problems.append(
                        Problem(where, line, field.name, f"required when '{missing}' is empty")
                    )
                rule = field.custom.get("not_before")
                if rule and value is not None:
                    problems += _not_before(package, where, line, row, field, rule, rows_by_key)
                target_field = field.custom.get("row_of") or field.custom.get("field_of")
                if value is None or not target_field:
                    continue
                target = row.get(target_field)
                if (
                    not target
                    or not package.has_resource(target)
                    or package.get_resource(target).type != "table"
                ):
                    problems.append(
                        Problem(where, line, target_field, f"'{target}' is not a dataset")
                    )
                    continue
                schema = package.get_resource(target).schema
                if "field_of" in field.custom:
                    if value not in schema.field_names:
                        problems.append(
                            Problem(
                                where, line, field.name, f"'{value}' is not a field of {target}"
                            )
                        )
                    continue
                if value not in rows_by_key(target):
                    problems.append(
                        Problem(
                            where,
                            line,
                            field.name,
                            f"'{value}' is not a row of {target} (key: {', '.join(schema.primary_key)})",
                        )
                    )
    return problems


def _typed(field, text: str | None):
    """A cell as Frictionless types it (None where it is empty or does not read as its type)."""
    return field.read_cell(text if text is not None else "")[0]


def _not_before(
    package: Package, where: str, line: int, row: dict, field, rule: dict, rows_by_key
) -> list:
    """The ``not_before`` rule for one cell (see :func:`_check_row_references`); a reference that
    does not resolve is left to ``row_of`` and ``field_of``, which report it."""
    dataset, key, name = (row.get(rule[part]) for part in ("dataset", "key", "field"))
    if not (dataset and key and name) or not package.has_resource(dataset):
        return []
    if package.get_resource(dataset).type != "table":
        return []
    target = rows_by_key(dataset).get(key)
    schema = package.get_resource(dataset).schema
    if target is None or name not in target or not schema.has_field(name):
        return []
    when, value = _typed(schema.get_field(name), target[name]), _typed(field, row[field.name])
    if isinstance(when, datetime):
        when = when.date()
    if when is None:
        return [Problem(where, line, rule["field"], f"{dataset} row '{key}' has no {name}")]
    if not isinstance(when, date):
        return [Problem(where, line, rule["field"], f"'{name}' of {dataset} is not a date")]
    if value < when:
        return [
            Problem(
                where,
                line,
                field.name,
                f"{value} is earlier than its evidence: {dataset} row '{key}' has {name} {when}",
            )
        ]
    return []


# --- what a careless or hostile contribution could slip in: refused where it enters -------------
# These read the files as text (not through Frictionless' types), so they report together with
# the schema's own errors in one DataError.


def _text_rows(package: Package, datapackage: Path, name: str | None = None):
    """(resource, [(row number, {field: text})]) for each table (or the one named), as written;
    row 2 is the first data row, as Frictionless counts."""
    for resource in package.resources:
        if resource.type != "table" or (name and resource.name != name):
            continue
        file = datapackage.parent / resource.path
        if not file.is_file():
            continue
        with file.open(newline="", encoding=resource.encoding or "utf-8") as handle:
            yield resource, list(enumerate(csv.DictReader(handle), start=2))


def _check_source_urls(package: Package, datapackage: Path) -> list[Problem]:
    """Every registry address is a public web address (http or https), safe to link and to archive;
    so is every licence or source address in the descriptor (the Data appendix links them)."""
    problems = []
    for resource, rows in _text_rows(package, datapackage, "sources"):
        where = _relative(datapackage, resource.path)
        for line, row in rows:
            url = row.get("url")
            problem = archive.url_problem(url) if url else None  # empty: the schema says required
            if problem:
                problems.append(Problem(where, line, "url", f"the address {url!r} {problem}"))
    descriptor = str(datapackage.relative_to(datapackage.parent.parent))
    owners = [("package", package), *((f"resource '{r.name}'", r) for r in package.resources)]
    for owner, item in owners:
        for key, links in (("licenses", item.licenses), ("sources", item.sources)):
            for link in links or []:
                url = link.get("path")
                problem = archive.url_problem(url) if url else None
                if problem:
                    problems.append(
                        Problem(descriptor, None, f"{key}.path", f"{owner}: {url!r} {problem}")
                    )
    return problems


#: Markup in text shown to readers (a tag, a comment, an entity-free script).
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?][^>]*>")


def _check_source_text(package: Package, datapackage: Path) -> list[Problem]:
    """The registry's words are printed in every citation: a publisher and a title must say
    something (not spaces, not only punctuation), without markup, hidden characters or stray spaces."""
    problems = []
    for resource, rows in _text_rows(package, datapackage, "sources"):
        where = _relative(datapackage, resource.path)
        for line, row in rows:
            for field, value in row.items():
                if field is None or value is None:
                    continue
                message = None
                hidden = _hidden(value, allow_newline=False)
                if hidden:
                    message = f"holds an invisible or control character (U+{ord(hidden):04X})"
                elif field in ("publisher", "title") and value and not value.strip():
                    message = "is only spaces"
                elif (
                    field in ("publisher", "title")
                    and value
                    and not any(c.isalnum() for c in value)
                ):
                    message = f"{value!r} has no letter or digit"
                elif value != value.strip():
                    message = f"{value!r} begins or ends with a space"
                elif field in ("publisher", "title", "note") and _MARKUP.search(value):
                    message = f"holds markup ({_MARKUP.search(value).group(0)!r}); write plain text"
                if message:
                    problems.append(Problem(where, line, field, message))
    return problems


def _check_source_dates(package: Package, datapackage: Path) -> list[Problem]:
    """A source cannot be published or read after today, nor read before it was published.

    Only the registry's dates: other datasets hold dates that are legitimately ahead (a lease
    that runs to 2044, a mandate's planned end)."""
    today = date.today()
    problems = []
    for resource, rows in _text_rows(package, datapackage, "sources"):
        where = _relative(datapackage, resource.path)
        for line, row in rows:
            days = {}
            for field in ("date_published", "date_accessed"):
                try:
                    days[field] = date.fromisoformat(row.get(field) or "")
                except ValueError:
                    continue  # empty, or not a date: the schema reports it
                if days[field] > today:
                    problems.append(
                        Problem(where, line, field, f"{days[field]} is after today ({today})")
                    )
            if len(days) == 2 and days["date_accessed"] < days["date_published"]:
                problems.append(
                    Problem(
                        where,
                        line,
                        "date_accessed",
                        f"read on {days['date_accessed']}, before it was published "
                        f"({days['date_published']})",
                    )
                )
    return problems


def _check_key_case(package: Package, datapackage: Path) -> list[Problem]:
    """No two rows of a dataset have keys that differ only in case ('ARM' and 'arm'): the key is
    an identifier that people type, link and search for."""
    problems = []
    for resource, rows in _text_rows(package, datapackage):
        key = resource.schema.primary_key
        if not key:
            continue
        seen: dict = {}
        for line, row in rows:
            value = tuple(row.get(k) or "" for k in key)
            folded = tuple(v.casefold() for v in value)
            first = seen.setdefault(folded, (line, value))
            if first[1] != value:
                problems.append(
                    Problem(
                        _relative(datapackage, resource.path),
                        line,
                        ", ".join(key),
                        f"'{'|'.join(value)}' differs only in case from row {first[0]} "
                        f"('{'|'.join(first[1])}')",
                    )
                )
    return problems


def _hidden_pattern(allow_newline: bool) -> re.Pattern:
    """A control character (Unicode's category Cc: U+0000-U+001F and U+007F-U+009F), or one that
    hides or reverses text (a bidirectional override), as one character class: a cell is searched
    once rather than character by character."""
    controls = "\x00-\x09\x0b-\x1f\x7f-\x9f" + ("" if allow_newline else "\n")
    return re.compile(f"[{controls}{re.escape(''.join(sorted(archive.INVISIBLE)))}]")


_HIDDEN = {allow: _hidden_pattern(allow) for allow in (True, False)}


def _hidden(text: str, allow_newline: bool) -> str | None:
    """The first control or text-hiding character in ``text``, if any."""
    found = _HIDDEN[allow_newline].search(text)
    return found.group() if found else None


def _check_hidden_characters(package: Package, datapackage: Path) -> list[Problem]:
    """No cell of any dataset holds a control character (a line break aside) or one that
    reverses or hides text, which would make a cell read differently from what it holds
    (the registry, checked more strictly above, is left out)."""
    problems = []
    for resource, rows in _text_rows(package, datapackage):
        if resource.name == "sources":
            continue
        for line, row in rows:
            for field, value in row.items():
                # A cell beyond the header (field None, its values a list) is Frictionless's
                # extra-cell error, reported with its row.
                if field is None:
                    continue
                hidden = _hidden(value or "", allow_newline=True)
                if hidden:
                    problems.append(
                        Problem(
                            _relative(datapackage, resource.path),
                            line,
                            field,
                            f"holds an invisible or control character (U+{ord(hidden):04X})",
                        )
                    )
    return problems


#: Where a successful validation is remembered, keyed on the content of the data and of this module.
VALIDATED_CACHE = paths.CACHE / "data-validated"


@lru_cache(maxsize=8)
def _content_key(datapackage: Path, fingerprint: tuple) -> str:
    """SHA-256 of every file of the package and of the code that validates it."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name, _mtime, _size in fingerprint:
        file = Path(name)
        digest.update(
            str(
                file.relative_to(datapackage.parent)
                if file.is_relative_to(datapackage.parent)
                else file
            ).encode()
        )
        digest.update(file.read_bytes() if file.exists() else b"<missing>")
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _checked(datapackage: Path, fingerprint: tuple) -> bool:
    """Validate once per content: every kernel of a build reuses the first one's result.

    Validation costs seconds, and each chapter runs in its own kernel; the files' content hash
    (not their dates) says whether this exact package has passed before. Raises
    :class:`DataError` if it does not pass.
    """
    stamp = VALIDATED_CACHE / _content_key(datapackage, fingerprint)
    if stamp.exists():
        return True
    _raise_problems(_frictionless_package(datapackage, fingerprint), datapackage)
    paths.write_stamp(stamp, str(datapackage))
    return True


@lru_cache(maxsize=8)
def _frictionless_package(datapackage: Path, fingerprint: tuple) -> Package:
    from frictionless import Package

    return Package(str(datapackage))


def _checked_path(datapackage: Path | None) -> tuple[Path, tuple]:
    """The descriptor's path and fingerprint, after its content has validated."""
    request = _kernel_request()
    if request is not None and (seen := _SEEN_IN_REQUEST.get(datapackage)) and seen[0] == request:
        return seen[1]
    path = _descriptor_path(datapackage).resolve()
    fingerprint = _fingerprint(path)
    _checked(path, fingerprint)
    if request is not None:
        _SEEN_IN_REQUEST[datapackage] = (request, (path, fingerprint))
    return path, fingerprint


#: The path and fingerprint :func:`_checked_path` found for each descriptor asked for, with the
#: kernel request (a notebook cell's run) it found them in.
_SEEN_IN_REQUEST: dict = {}


def _kernel_request() -> str | None:
    """The id of the request a Jupyter kernel is running (one per run of a cell), else None.

    A chapter loads 30-200 datasets, each load taking the fingerprint of the whole package (a
    stat of each of its 80 files, 10-20 ms a chapter in all). In a kernel it is taken once per
    run of a cell: a file edited between two runs is seen by the second, as before; outside a
    kernel (scripts, tests) it is taken on every call.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    header = getattr(shell, "parent_header", None)
    if not isinstance(header, dict):
        return None
    return (header.get("header") or {}).get("msg_id") or None


def _schema_report(package: Package, datapackage: Path):
    """Frictionless's validation of the package (its metadata, then each resource's types,
    constraints and keys), with two savings that change no verdict:

    - a resource is checked by Frictionless only when its own content is new: its file, its
      description and the package's description, hashed with this module (a stamp per resource
      under :data:`VALIDATED_CACHE`), so an edit to one file re-checks that file, not all 77;
    - foreign keys are checked by :func:`_check_foreign_keys`, over every resource on every
      validation (Frictionless would re-read each referenced table for each resource that
      refers to it, and cache nothing across them).
    """
    from frictionless import FrictionlessException, Report, Resource

    try:
        package.to_descriptor(validate=True)
    except FrictionlessException as exception:
        return Report.from_validation(time=0, errors=exception.to_errors())
    described = _descriptor(datapackage, _fingerprint(datapackage))
    shared = {k: v for k, v in described.items() if k not in ("resources", "_by_name")}
    common = hashlib.sha256(Path(__file__).read_bytes())
    common.update(json.dumps(shared, sort_keys=True).encode())
    reports, stamps = [], []
    for resource in package.resources:
        digest = common.copy()
        digest.update(json.dumps(described["_by_name"].get(resource.name), sort_keys=True).encode())
        file = datapackage.parent / resource.path
        digest.update(file.read_bytes() if file.is_file() else b"<missing>")
        stamp = VALIDATED_CACHE / "resources" / digest.hexdigest()
        if stamp.exists():
            continue
        descriptor = resource.to_descriptor()
        if "schema" in descriptor:
            descriptor["schema"].pop("foreignKeys", None)
        report = Resource(descriptor, basepath=resource.basepath).validate()
        reports.append(report)
        if report.valid:
            stamps.append(stamp)
    for stamp in stamps:
        paths.write_stamp(stamp, str(datapackage))
    return Report.from_validation_reports(time=0, reports=reports)


def _check_foreign_keys(package: Package, datapackage: Path) -> list[Problem]:
    """Every foreign key of every table (all single fields): a value, where given, is a value of
    the referenced field. Values are compared as written, as the book writes its keys."""
    values: dict[tuple[str, str], set[str]] = {}

    def referenced(name: str, field: str) -> set[str] | None:
        if (name, field) not in values:
            rows = next(_text_rows(package, datapackage, name), (None, None))[1]
            values[name, field] = None if rows is None else {row.get(field) for _, row in rows}
        return values[name, field]

    problems = []
    for resource, rows in _text_rows(package, datapackage):
        where = _relative(datapackage, resource.path)
        for key in resource.schema.foreign_keys:
            (field,), reference = key["fields"], key["reference"]
            target = reference.get("resource") or resource.name
            (target_field,) = reference["fields"]
            known = referenced(target, target_field)
            if known is None:
                problems.append(
                    Problem(where, None, field, f"foreign-key: no dataset '{target}' to refer to")
                )
                continue
            for line, row in rows:
                value = row.get(field)
                if value not in (None, "") and value not in known:
                    problems.append(
                        Problem(
                            where,
                            line,
                            field,
                            f"foreign-key: '{value}' is not a value of '{target_field}' in {target}",
                        )
                    )
    return problems


def _raise_problems(package: Package, datapackage: Path) -> None:
    report = _schema_report(package, datapackage)
    problems = []
    for task in report.tasks:
        for error in task.errors:
            field = (
                getattr(error, "field_name", None)
                or ", ".join(getattr(error, "field_names", []) or [])
                or None
            )
            row = getattr(error, "row_number", None)
            if row is None and error.type in {
                "missing-label",
                "blank-label",
                "duplicate-label",
                "incorrect-label",
                "extra-label",
            }:
                row = 1
            if error.type == "primary-key" and not field:
                field = ", ".join(package.get_resource(task.name).schema.primary_key)
            if error.type == "missing-label" and not field:
                field = getattr(error, "label", None)
            problems.append(
                Problem(
                    _relative(datapackage, task.place),
                    row,
                    field,
                    f"{error.type}: {error.note or error.message}",
                )
            )
    for error in report.errors:
        problems.append(
            Problem(
                str(datapackage.relative_to(datapackage.parent.parent)), None, None, error.message
            )
        )
    if not report.errors:
        problems += _check_foreign_keys(package, datapackage)
    if not problems:
        problems = (
            _check_list_references(package, datapackage)
            + _check_resource_sources(package, datapackage)
            + _check_row_references(package, datapackage)
        )
    problems += (
        _check_source_urls(package, datapackage)
        + _check_source_text(package, datapackage)
        + _check_source_dates(package, datapackage)
        + _check_key_case(package, datapackage)
        + _check_hidden_characters(package, datapackage)
    )
    if problems:
        raise DataError(problems)


def package(datapackage: Path | None = None) -> Package:
    """The validated Frictionless package (raises :class:`DataError` if anything is wrong)."""
    path, fingerprint = _checked_path(datapackage)
    return _frictionless_package(path, fingerprint)


def version(datapackage: Path | None = None) -> tuple[Path, tuple]:
    """The validated package's descriptor and its fingerprint: a key for what is computed from the
    data, which changes whenever any of its files does (so nothing is served stale)."""
    return _checked_path(datapackage)


def validate(datapackage: Path | None = None) -> None:
    """Validate the whole data package; raises :class:`DataError` naming file, row and field."""
    _checked_path(datapackage)


@lru_cache(maxsize=8)
def _descriptor(datapackage: Path, fingerprint: tuple) -> dict:
    """``datapackage.json`` as JSON, with its resources by name."""
    descriptor = json.loads(datapackage.read_text(encoding="utf-8"))
    descriptor["_by_name"] = {r["name"]: r for r in descriptor["resources"]}
    return descriptor


def _descriptor_resource(name: str, datapackage: Path, fingerprint: tuple) -> dict:
    resources = _descriptor(datapackage, fingerprint)["_by_name"]
    if name not in resources:
        raise KeyError(f"no dataset called {name!r}; the data package has: {', '.join(resources)}")
    return resources[name]


def names(datapackage: Path | None = None) -> list[str]:
    """The names of the tabular datasets, in the order of the descriptor."""
    path, fingerprint = _checked_path(datapackage)
    return [
        r["name"]
        for r in _descriptor(path, fingerprint)["resources"]
        if "schema" in r and r.get("type", "table") == "table"
    ]


def fields(name: str, datapackage: Path | None = None) -> list[dict]:
    """The schema's fields of a dataset as ``datapackage.json`` writes them (name, type, and any
    custom keys such as ``references``), without building Frictionless objects."""
    path, fingerprint = _checked_path(datapackage)
    return [dict(f) for f in _descriptor_resource(name, path, fingerprint)["schema"]["fields"]]


def resource(name: str, datapackage: Path | None = None) -> Resource:
    """The dataset's description (its schema, units, sources, licence) after the package has
    validated: a :class:`Resource`, read from ``datapackage.json`` without Frictionless, with the
    attributes of a Frictionless resource the book reads. :func:`package` gives the Frictionless
    package itself."""
    path, fingerprint = _checked_path(datapackage)
    res = Resource(_descriptor_resource(name, path, fingerprint))
    _note_use(path.parent / res.path)
    return res


# --- a dataset's description, read from the descriptor -----------------------------------------
# Frictionless builds its objects through JSON Schema checks (a third of a second to import, a
# whole package a third more); a chapter only reads names, types, units and keys, so these
# views read them straight from datapackage.json. tests/test_data.py holds them equal to
# Frictionless's for every resource and field.

#: Properties of a field that are the Table Schema's own; the rest are the book's (``custom``).
FIELD_PROPERTIES = {
    "name", "type", "title", "description", "format", "missingValues", "constraints", "rdfType",
    "example", "delimiter", "itemType", "itemConstraints", "trueValues", "falseValues",
    "bareNumber", "groupChar", "decimalChar", "floatNumber", "arrayItem",
}  # fmt: skip
#: Properties of a resource that are the Data Package's own.
RESOURCE_PROPERTIES = {
    "name", "type", "title", "description", "homepage", "profile", "path", "data", "scheme",
    "format", "mediatype", "compression", "extrapaths", "innerpath", "encoding", "hash", "bytes",
    "fields", "rows", "dialect", "schema", "checklist", "pipeline", "stats", "sources",
    "licenses", "$schema", "control",
}  # fmt: skip


class Field:
    """One field of a dataset's schema (as ``frictionless.Field`` names its attributes)."""

    def __init__(self, descriptor: dict):
        self.descriptor = descriptor
        self.name: str = descriptor["name"]
        self.type: str = descriptor.get("type", "any")
        self.format: str = descriptor.get("format", "default")
        self.title: str | None = descriptor.get("title")
        self.description: str | None = descriptor.get("description")
        self.constraints: dict = dict(descriptor.get("constraints", {}))
        self.custom: dict = {k: v for k, v in descriptor.items() if k not in FIELD_PROPERTIES}

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.type!r})"


class Schema:
    """A dataset's schema: its fields, primary key and foreign keys."""

    def __init__(self, descriptor: dict):
        self.descriptor = descriptor
        self.fields = [Field(f) for f in descriptor.get("fields", [])]
        self.field_names = [f.name for f in self.fields]
        key = descriptor.get("primaryKey", [])
        self.primary_key: list[str] = [key] if isinstance(key, str) else list(key)
        self.foreign_keys: list[dict] = list(descriptor.get("foreignKeys", []))

    def has_field(self, name: str) -> bool:
        return name in self.field_names

    def get_field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(f"no field called {name!r}; the schema has: {', '.join(self.field_names)}")


class Resource:
    """A dataset (or map layer) as ``datapackage.json`` describes it."""

    def __init__(self, descriptor: dict):
        self.descriptor = descriptor
        self.name: str = descriptor["name"]
        self.title: str | None = descriptor.get("title")
        self.description: str | None = descriptor.get("description")
        self.path: str = descriptor["path"]
        self.format: str | None = descriptor.get("format")
        self.type: str = descriptor.get("type") or ("table" if "schema" in descriptor else "file")
        self.licenses: list[dict] = list(descriptor.get("licenses", []))
        self.sources: list[dict] = list(descriptor.get("sources", []))
        self.schema = Schema(descriptor.get("schema", {}))
        self.custom: dict = {k: v for k, v in descriptor.items() if k not in RESOURCE_PROPERTIES}

    def __repr__(self) -> str:
        return f"Resource({self.name!r})"


def load(name: str, datapackage: Path | None = None) -> pd.DataFrame:
    """A dataset as a typed DataFrame: dates as datetimes, integers as nullable ints, lists as lists.

    The column order and types follow the schema in ``datapackage.json``;
    ``df.attrs`` carries the dataset's title and source ids for chart captions.
    Each call returns its own copy, so a chapter may change it freely (pandas copies on write:
    the copy costs nothing until it is changed, and a change never reaches the cached frame).
    """
    path, fingerprint = _checked_path(datapackage)
    frame = _typed_frame(name, path, fingerprint)
    _note_use(path.parent / _descriptor_resource(name, path, fingerprint)["path"])
    return frame.copy(deep=False)


def _kept_key(datapackage: Path, fingerprint: tuple) -> str:
    """What anything kept from the data depends on: the package's content, the loader's code
    (:func:`_content_key`) and the versions of pandas and NumPy that pickle it."""
    import numpy as np

    return f"{_content_key(datapackage, fingerprint)}|{pd.__version__}|{np.__version__}"


#: Results computed from the data, kept between kernels (see :func:`kept`).
RESULTS_CACHE = paths.CACHE / "data-results"


@lru_cache(maxsize=1)
def package_code() -> str:
    """SHA-256 of the package's source, read once per process (1-2 ms): the key of a result kept
    between kernels includes all of it, not the modules the result is thought to depend on (a
    list nothing checks could leave out the one edited)."""
    digest = hashlib.sha256()
    for file in sorted(paths.PACKAGE.rglob("*.py")):
        digest.update(str(file.relative_to(paths.PACKAGE)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def kept(name: str, compute, arguments=(), datapackage: Path | None = None):
    """``compute()``, a result computed by the package from the data alone and from
    ``arguments`` (frames a page passes), kept between kernels: read back by any kernel that
    asks under the same content of the data package, of the arguments (pickled, so lossless)
    and of every module of the package (:func:`package_code`; and the same pandas and NumPy),
    so never stale.

    For figures two pages state and each computes again from half a dozen datasets (tens of
    ms of pandas each time). The files the computation read are kept with it and noted as used
    when it is read back, as reading them would (the build re-executes a page when one changes).
    """
    path, fingerprint = _checked_path(datapackage)
    digest = hashlib.sha256(f"{_kept_key(path, fingerprint)}|{package_code()}".encode())
    if arguments:
        import pickle

        digest.update(pickle.dumps(arguments, protocol=5))

    def computed():
        files: set = set()
        _READING.append(files)
        try:
            result = compute()
        finally:
            _READING.remove(files)
        # The files read, as the package names them (a kept result serves any copy of it).
        return result, sorted(os.path.relpath(file, path.parent) for file in files)

    result, files = paths.kept(RESULTS_CACHE, name, digest.hexdigest()[:24], computed)
    for file in files:
        _note_use(path.parent / file)
    return result


#: Typed frames kept between kernels, one file per dataset and content of the package.
FRAMES_CACHE = paths.CACHE / "data-frames"


@lru_cache(maxsize=128)
def _typed_frame(name: str, datapackage: Path, fingerprint: tuple) -> pd.DataFrame:
    """Read once per content version of the data (the fingerprint changes when any file does).

    Typing a CSV from its schema takes 2-5 ms, and every kernel of a build types the same 15-35
    datasets again: the first keeps the frame it typed (pickled, a tenth of the time to read
    back) under the hash of the package's content and of this module (:func:`_content_key`,
    the key of its validation) and the versions of pandas and NumPy; any change to a data file
    or to the loader types every frame anew.
    """
    key = hashlib.sha256(_kept_key(datapackage, fingerprint).encode()).hexdigest()[:24]

    def typed() -> pd.DataFrame:
        descriptor = _descriptor_resource(name, datapackage, fingerprint)
        if _fast_readable(descriptor):
            return _fast_frame(descriptor, datapackage)
        return _frictionless_frame(name, datapackage)

    return paths.kept(FRAMES_CACHE, name, key, typed)


#: Frictionless's default true and false values for a boolean field.
TRUE_VALUES = ["true", "True", "TRUE", "1"]
FALSE_VALUES = ["false", "False", "FALSE", "0"]


def _fast_readable(descriptor: dict) -> bool:
    """Whether :func:`_fast_frame` types this dataset exactly as Frictionless does: plain CSV and
    the field types and formats the book uses. Anything else is read through Frictionless."""
    if (
        descriptor.get("format", "csv") != "csv"
        or descriptor.get("dialect")
        or "schema" not in descriptor
    ):
        return False
    for field in descriptor["schema"]["fields"]:
        kind, form = field.get("type", "any"), field.get("format", "default")
        if kind == "string" or (kind == "date" and form == "default"):
            continue
        if kind in {"integer", "number"} and not {
            "bareNumber",
            "groupChar",
            "decimalChar",
            "floatNumber",
        } & set(field):
            continue
        if kind == "boolean":
            continue
        if kind == "list" and field.get("itemType", "string") == "string":
            continue
        return False
    return True


def _fast_frame(descriptor: dict, datapackage: Path) -> pd.DataFrame:
    """A validated CSV typed from its schema with pandas: the frame :func:`_frictionless_frame`
    gives, in milliseconds. Only for a content that has validated (:func:`_checked`), so every
    cell is known to parse."""
    schema = descriptor["schema"]
    missing = schema.get("missingValues", [""])
    encoding = descriptor.get("encoding", "utf-8")
    raw = pd.read_csv(
        datapackage.parent / descriptor["path"],
        dtype=str,
        keep_default_na=False,
        na_values=missing,
        encoding="utf-8-sig" if encoding.lower() in {"utf-8", "utf8"} else encoding,
    )
    columns = {}
    for field in schema["fields"]:
        kind, column = field.get("type"), raw[field["name"]]
        if kind not in {"date", "integer", "number", "boolean", "list"}:
            columns[field["name"]] = column.astype("string")
            continue
        values = column.astype(object).where(column.notna(), None)
        if kind == "date":
            # Seconds, as pandas types the dates Frictionless gives (datetime.date objects).
            columns[field["name"]] = pd.to_datetime(values, format="%Y-%m-%d").astype(
                "datetime64[s]"
            )
        elif kind == "integer":
            columns[field["name"]] = pd.array(
                [None if v is None else int(v) for v in values], dtype="Int64"
            )
        elif kind == "number":
            columns[field["name"]] = pd.array(
                [None if v is None else float(v) for v in values], dtype="Float64"
            )
        elif kind == "boolean":
            truth = dict.fromkeys(field.get("trueValues", TRUE_VALUES), True)
            truth |= dict.fromkeys(field.get("falseValues", FALSE_VALUES), False)
            columns[field["name"]] = pd.array(
                [None if v is None else truth[v] for v in values], dtype="boolean"
            )
        elif kind == "list":
            delimiter = field.get("delimiter", ",")
            columns[field["name"]] = pd.Series(
                [None if v is None else v.split(delimiter) for v in values], dtype=object
            )
    return _with_attrs(
        pd.DataFrame(columns, index=raw.index), descriptor["name"], descriptor.get("title")
    )


def _frictionless_frame(name: str, datapackage: Path) -> pd.DataFrame:
    """The dataset read row by row through Frictionless: the reference :func:`_fast_frame` matches."""
    res = _frictionless_package(datapackage, _fingerprint(datapackage)).get_resource(name)
    rows = [row.to_dict() for row in res.read_rows()]
    frame = pd.DataFrame(rows, columns=res.schema.field_names)
    for field in res.schema.fields:
        column = frame[field.name]
        if field.type in {"date", "datetime"}:
            frame[field.name] = pd.to_datetime(column)
        elif field.type == "integer":
            frame[field.name] = column.astype("Int64")
        elif field.type == "number":
            frame[field.name] = column.astype("Float64")
        elif field.type == "boolean":
            frame[field.name] = column.astype("boolean")
        elif field.type in {"string"}:
            frame[field.name] = column.astype("string")
    return _with_attrs(frame, name, res.title)


def _with_attrs(frame: pd.DataFrame, name: str, title: str | None) -> pd.DataFrame:
    frame.attrs["dataset"] = name
    frame.attrs["title"] = title or name
    frame.attrs["source_ids"] = (
        sorted(set(frame["source_id"].dropna())) if "source_id" in frame else []
    )
    return frame


def geo_path(name: str, datapackage: Path | None = None) -> Path:
    """The file behind a (non-tabular) geodata resource, after the package has validated."""
    path, fingerprint = _checked_path(datapackage)
    file = path.parent / _descriptor_resource(name, path, fingerprint)["path"]
    _note_use(file)
    return file


@lru_cache(maxsize=8)
def _registry(datapackage: Path, fingerprint: tuple) -> pd.DataFrame:
    return _typed_frame("sources", datapackage, fingerprint).set_index("id")


def sources(datapackage: Path | None = None) -> pd.DataFrame:
    """The source registry, indexed by source id."""
    path, fingerprint = _checked_path(datapackage)
    _note_use(path.parent / _descriptor_resource("sources", path, fingerprint)["path"])
    return _registry(path, fingerprint).copy(deep=False)


def as_of(datapackage: Path | None = None) -> pd.Timestamp:
    """The day the book's data stop: the latest day any registered source was read. Charts draw
    what is still running up to this day, so a rebuild on a later day draws the same."""
    path, fingerprint = _checked_path(datapackage)
    _note_use(path.parent / _descriptor_resource("sources", path, fingerprint)["path"])
    return _registry(path, fingerprint)["date_accessed"].max()


def citation(source_id: str, datapackage: Path | None = None) -> str:
    """A one-line citation in plain text (tooltips): publisher, title, date, URL, the day it was
    read and the archive's address for its copy nearest that day (see :mod:`afterkarabakh.archive`)."""
    path, fingerprint = _checked_path(datapackage)
    _note_use(path.parent / _descriptor_resource("sources", path, fingerprint)["path"])
    registry = _registry(path, fingerprint)
    if source_id not in registry.index:
        raise KeyError(f"source id {source_id!r} is not in data/sources.csv")
    s = registry.loc[source_id]
    published = (
        s["date_published"].strftime("%-d %b %Y") if pd.notna(s["date_published"]) else "undated"
    )
    return f"{s['publisher']}, “{s['title']}” ({published}), " + archive.citation_text(
        s["url"], s["date_accessed"]
    )
