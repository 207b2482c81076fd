"""The data beside every chart: the rows a Vega-Lite spec draws, as an HTML table with sources.

:func:`data_html` reads a chart's spec (as Altair writes it) and returns a collapsed
``<details>`` disclosure holding one table per dataset the chart draws: exactly its rows,
the columns its encodings use (named by the tooltip titles, else the axis and legend
titles, which carry the units), and each row's source as a citation linked to the
original. The page-side renderer adds a link that downloads those rows as CSV.

Map furniture (state shapes and state names from Natural Earth, cited in the chart's
source line) is left out; every row with a ``source_id`` is in, map areas coloured from a
dataset (a state's standing, a disputed territory) included.
"""

from __future__ import annotations

import html
import math
from datetime import datetime

from . import archive, data

#: Encoding channels whose fields are data a reader would want, in the order columns appear.
CHANNELS = (
    "tooltip",
    "x",
    "x2",
    "y",
    "y2",
    "theta",
    "color",
    "shape",
    "size",
    "text",
    "longitude",
    "latitude",
    "row",
    "column",
    "facet",
)
#: Readable names for positional fields that carry no title of their own.
KNOWN = {
    "lon": "Longitude (°)",
    "lat": "Latitude (°)",
    "longitude": "Longitude (°)",
    "latitude": "Latitude (°)",
}
#: Columns the table builds itself (the source), so they are not repeated from the encodings.
SOURCE_FIELDS = {"source", "source_id"}


def internal(field: str) -> bool:
    """A field the book uses to join or order rows, never shown to a reader: a key such as
    ``claim_id`` or ``place_id`` (the reader sees the claim and the place it stands for), or a
    helper column whose name begins with an underscore."""
    name = field.replace("properties.", "")
    return name.startswith("_") or name == "id" or name.endswith("_id")


def _humanise(field: str) -> str:
    if field in KNOWN:
        return KNOWN[field]
    words = field.replace("properties.", "").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _title_of(definition: dict) -> str | None:
    title = definition.get("title")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return title or None


def _field_defs(encoding: dict):
    """(field, definition, from_tooltip) for every field an encoding uses."""
    for channel in CHANNELS:
        value = encoding.get(channel)
        if value is None:
            continue
        for definition in value if isinstance(value, list) else [value]:
            if isinstance(definition, dict) and isinstance(definition.get("field"), str):
                yield definition["field"], definition, channel == "tooltip"


def _views(node: dict, data_key=None, marks=()):
    """(dataset key, mark type, encoding) for every unit view, with inherited data."""
    if not isinstance(node, dict):
        return
    own = node.get("data")
    if isinstance(own, dict):
        if "name" in own:
            data_key = ("name", own["name"])
        elif "values" in own:
            data_key = ("values", id(own["values"]))
    if "mark" in node:
        mark = node["mark"] if isinstance(node["mark"], str) else node["mark"].get("type", "")
        yield data_key, mark, node.get("encoding", {})
    facet = node.get("facet")
    if isinstance(facet, dict):
        encoding = {k: v for k, v in facet.items() if k in ("row", "column")} or {"facet": facet}
        yield data_key, None, encoding
    for key in ("layer", "vconcat", "hconcat", "concat"):
        for child in node.get(key, []):
            yield from _views(child, data_key)
    if isinstance(node.get("spec"), dict):
        yield from _views(node["spec"], data_key)


def spec_nodes(spec):
    """Every object of a chart's JSON spec, depth first (views, encodings, data, features)."""
    if isinstance(spec, dict):
        yield spec
        for value in spec.values():
            yield from spec_nodes(value)
    elif isinstance(spec, list):
        for value in spec:
            yield from spec_nodes(value)


def _rows(spec: dict, key) -> list:
    kind, ref = key
    if kind == "name":
        return spec.get("datasets", {}).get(ref, [])
    found = [
        node["data"]["values"]
        for node in spec_nodes(spec)
        if isinstance(node.get("data"), dict) and id(node["data"].get("values")) == ref
    ]
    return found[0] if found else []


def _get(row: dict, field: str):
    value = row
    for part in field.replace("\\.", "\0").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part.replace("\0", "."))
    return value


def _format(value, definition: dict) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    fmt = definition.get("format")
    if definition.get("type") == "temporal" and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", ""))
        except ValueError:
            return value
        try:
            return moment.strftime(fmt if isinstance(fmt, str) and "%" in fmt else "%-d %b %Y")
        except ValueError:
            return moment.strftime("%-d %b %Y")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(fmt, str) and fmt:
            try:
                return format(value, fmt)
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return f"{value:.6g}" if isinstance(value, float) else str(value)
    return str(value)


def tables(spec: dict) -> list[dict]:
    """The datasets a chart draws: for each, its columns (field, title, definition) and rows."""
    found: dict = {}
    for key, mark, encoding in _views(spec):
        if key is None:
            continue
        entry = found.setdefault(key, {"tooltip": {}, "other": {}, "marks": []})
        if mark and mark not in entry["marks"]:
            entry["marks"].append(mark)
        for field, definition, from_tooltip in _field_defs(encoding):
            target = entry["tooltip"] if from_tooltip else entry["other"]
            target.setdefault(field, definition)
    result = []
    for key, entry in found.items():
        rows = _rows(spec, key)
        if not rows:
            continue
        if any(isinstance(r, dict) and "geometry" in r for r in rows[:1]):
            # Map areas: their properties are the row (a coloured state with its source); shapes
            # that carry no source (the states of a base map) are cited in the source line.
            rows = [
                {"properties": r.get("properties") or {}, **(r.get("properties") or {})}
                for r in rows
            ]
            if not any(r.get("source_id") for r in rows):
                continue
        columns = {}
        for field, definition in [*entry["tooltip"].items(), *entry["other"].items()]:
            if field in SOURCE_FIELDS or field in columns or internal(field):
                continue
            title = (
                _title_of(definition)
                if field in entry["tooltip"] or _title_of(definition)
                else None
            )
            columns[field] = (title or _humanise(field), definition)
        # A tooltip title beats an axis title for the same field; drop columns that repeat a title.
        seen, unique = set(), {}
        for field, (title, definition) in columns.items():
            if title in seen:
                continue
            seen.add(title)
            unique[field] = (title, definition)
        result.append(
            {
                "key": key,
                "marks": entry["marks"],
                "columns": unique,
                "rows": rows,
                "sourced": all(isinstance(r, dict) and r.get("source_id") for r in rows),
            }
        )
    sourced = [t for t in result if t["sourced"]]
    result = sourced or result
    # A dataset whose rows are all in another one (e.g. the ongoing items drawn again as arrows) is left out.
    kept = []
    for table in result:
        fields = list(table["columns"])
        mine = {(tuple(str(_get(r, f)) for f in fields), r.get("source_id")) for r in table["rows"]}
        covered = False
        for other in result:
            if other is table or not set(fields) <= set(other["columns"]):
                continue
            theirs = {
                (tuple(str(_get(r, f)) for f in fields), r.get("source_id")) for r in other["rows"]
            }
            if mine <= theirs and (
                len(other["rows"]) > len(table["rows"]) or result.index(other) < result.index(table)
            ):
                covered = True
                break
        if not covered and fields:
            kept.append(table)
    return kept


def citation_html(source_id, registry=None) -> str:
    """Publisher, “title” (date), linked to the original, with the day it was read and a link to
    the archive's copy nearest that day (a Robust Link, :mod:`afterkarabakh.archive`).

    ``registry`` is :func:`data.sources` when the caller already holds it (a table citing many
    sources reads the registry, and checks that the data are current, once)."""
    registry = data.sources() if registry is None else registry
    if source_id not in registry.index:
        return html.escape(str(source_id))
    s = registry.loc[source_id]
    published = (
        s["date_published"].strftime("%-d %b %Y")
        if s["date_published"] == s["date_published"] and s["date_published"] is not None
        else "undated"
    )
    text = f"{s['publisher']}, “{s['title']}” ({published})"
    return archive.citation_html(s["url"], s["date_accessed"], text)


def _chart_sources_note(meta: dict, registry) -> str:
    ids = [i for i in meta.get("sources", []) if i in registry.index]
    if not ids:
        return ""
    names = "; ".join(dict.fromkeys(registry.loc[ids, "publisher"]))
    return f'<p class="ak-data-note">Sources of these rows: {html.escape(names)}.</p>'


def _marks_phrase(marks: list) -> str:
    names = {
        "point": "points",
        "circle": "points",
        "square": "points",
        "text": "labels",
        "rule": "lines",
        "line": "lines",
        "bar": "bars",
        "tick": "ticks",
        "area": "areas",
        "rect": "cells",
        "trail": "lines",
    }
    words = list(dict.fromkeys(names.get(m, m) for m in marks))
    return " and ".join(words) if words else "rows"


def data_html(spec: dict, meta: dict | None = None, element_id: str = "ak-data") -> str:
    """A collapsed "Data" disclosure: the rows charted, each with its numbered source, and the sources.

    Sources are numbered per table in the order they first appear, so a source behind many
    rows is cited in full once; the renderer puts the id, the citation, its address, the day it
    was read and the archive's address in the CSV.
    """
    meta = meta or {}
    found = tables(spec)
    if not found:
        return ""
    registry = data.sources()
    total = sum(len(t["rows"]) for t in found)
    parts = [
        f'<details class="ak-data"><summary>Data: the {total} row{"s" if total != 1 else ""} '
        "charted, with sources</summary>"
    ]
    for number, table in enumerate(found, 1):
        caption = (
            f"Rows drawn as {_marks_phrase(table['marks'])}"
            if len(found) > 1
            else "The rows charted"
        )
        head = "".join(
            f'<th scope="col">{html.escape(title)}</th>' for title, _ in table["columns"].values()
        )
        has_sources = table["sourced"]
        head += '<th scope="col">Source</th>' if has_sources else ""
        body = []
        numbers: dict = {}
        prefix = f"{element_id}-t{number}-s"
        for row in table["rows"]:
            cells = "".join(
                f"<td>{html.escape(_format(_get(row, field), definition))}</td>"
                for field, (_, definition) in table["columns"].items()
            )
            if has_sources:
                source_id = row.get("source_id")
                n = numbers.setdefault(source_id, len(numbers) + 1)
                cells += (
                    f'<td data-source="{html.escape(str(source_id))}">'
                    f'<a href="#{prefix}{n}">[{n}]</a></td>'
                )
            body.append(f"<tr>{cells}</tr>")
        parts.append(
            f'<div class="ak-table-wrap"><table class="ak-table"><caption>{caption} '
            f"({len(table['rows'])})</caption><thead><tr>{head}</tr></thead><tbody>"
            + "".join(body)
            + "</tbody></table></div>"
        )
        if numbers:
            items = "".join(
                f'<li id="{prefix}{n}">{citation_html(source_id, registry)}</li>'
                for source_id, n in numbers.items()
            )
            parts.append(f'<ol class="ak-sources" aria-label="Sources of these rows">{items}</ol>')
        if not has_sources and number == len(found):
            parts.append(_chart_sources_note(meta, registry))
    parts.append("</details>")
    return "".join(parts)


def card_table(headers: list[str], rows: list[list[str]], classes: str = "") -> str:
    """A table that a narrow screen shows as one card per row (``ak-cards`` in the stylesheet):
    each cell carries its column's name (``data-label``), which the card prints before it.

    ``rows`` hold each cell's HTML, already escaped.
    """
    head = "".join(f'<th scope="col">{html.escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td data-label="{html.escape(h)}">{cell}</td>' for h, cell in zip(headers, cells)
        )
        + "</tr>"
        for cells in rows
    )
    names = " ".join(["table", "ak-cards", *classes.split()])
    return f'<table class="{names}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
