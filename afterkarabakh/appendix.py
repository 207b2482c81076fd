"""The "Data" and "Sources" appendices, generated from datapackage.json and the source registry.

Nothing here is typed by hand: dataset titles, fields, units, constraints,
licences and sources all come from the package, so the appendix cannot drift
from the data it documents.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from . import archive, data

#: Where the book serves the data files (copied by the Sphinx extension), seen from a chapter page.
DOWNLOAD_BASE = "../data/"


def _constraints(field) -> str:
    parts = []
    for key, value in (field.constraints or {}).items():
        if key == "required":
            parts.append("required" if value else "")
        elif key == "enum":
            parts.append("one of: " + ", ".join(map(str, value)))
        else:
            parts.append(f"{key} {value}")
    return "; ".join(p for p in parts if p)


def fields_table(name: str) -> pd.DataFrame:
    """One row per field: name, type, unit, constraints, description."""
    resource = data.resource(name)
    rows = []
    for field in resource.schema.fields:
        rows.append(
            {
                "field": field.name,
                "type": field.type,
                "unit": field.custom.get("unit", ""),
                "constraints": _constraints(field),
                "description": field.description or "",
            }
        )
    return pd.DataFrame(rows)


def sources_of(name: str) -> list[str]:
    """Registry ids a dataset cites (per row for tables, per file for map layers)."""
    resource = data.resource(name)
    if resource.type == "table" and name != "sources":
        return sorted(set(data.load(name)["source_id"].dropna()))
    return sorted(resource.custom.get("source_ids", []))


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url)}">{html.escape(text)}</a>'


def dataset_html(name: str) -> str:
    """The documentation block of one dataset, as HTML for the appendix page."""
    resource = data.resource(name)
    title = html.escape(resource.title or name)
    n_rows = len(data.load(name)) if resource.type == "table" else None
    size = f"{n_rows} rows" if n_rows is not None else "map layer (GeoJSON, EPSG:4326)"
    licences = ", ".join(
        _link(lic.get("path", ""), lic.get("title") or lic.get("name"))
        for lic in (resource.licenses or data.package().licenses)
    )
    cited = sources_of(name)
    registry = data.sources()
    source_items = "".join(
        f"<li>{html.escape(registry.loc[s, 'publisher'])}, "
        f"{archive.original_link(registry.loc[s, 'url'], registry.loc[s, 'date_accessed'], registry.loc[s, 'title'])}"
        f" <code>{html.escape(s)}</code> ({html.escape(registry.loc[s, 'kind'])}; "
        f"{archive.accessed_words(registry.loc[s, 'date_accessed'])}; "
        f"{archive.archive_link(registry.loc[s, 'url'], registry.loc[s, 'date_accessed'])})</li>"
        for s in cited[:12]
    )
    if len(cited) > 12:
        source_items += f"<li>… and {len(cited) - 12} more, listed under Sources below.</li>"
    fields = _fields_html(fields_table(name)) if resource.type == "table" else ""
    sources_block = (
        f"<p><strong>Sources ({len(cited)}):</strong></p><ul>{source_items}</ul>"
        if name != "sources"
        else ""
    )
    return (
        f'<section class="ak-dataset" id="dataset-{html.escape(name)}">'
        f"<h3>{title} <code>{html.escape(name)}</code></h3>"
        f"<p>{html.escape(resource.description or '')}</p>"
        f'<p>File: <a href="{DOWNLOAD_BASE}{html.escape(resource.path)}" download>{html.escape(resource.path)}</a>'
        f" ({size}). Licence: {licences}.</p>"
        f"{sources_block}{fields}</section>"
    )


def _fields_html(frame: pd.DataFrame) -> str:
    """A dataset's fields as a table (one card per field on a phone), field names as code."""
    from .tables import card_table

    rows = [
        # A long field name may break after an underscore, never inside a word.
        [f"<code>{html.escape(str(r['field'])).replace('_', '_<wbr>')}</code>"]
        + [html.escape(str(r[c])) for c in ("type", "unit", "constraints", "description")]
        for _, r in frame.iterrows()
    ]
    return card_table(list(frame.columns), rows, classes="ak-fields")


def catalogue_html() -> str:
    """Every dataset of the package, in the descriptor's order."""
    return "\n".join(dataset_html(r.name) for r in data.package().resources)


def summary() -> dict:
    """Counts for the appendix's checked figures."""
    resources = data.package().resources
    return {
        "datasets": len(resources),
        "tables": sum(r.type == "table" for r in resources),
        "sources": len(data.sources()),
    }


# --- the source mix: how much of the book rests on which kind of source ---------------------

#: Kinds that only carry someone else's reporting (a republication, a mirror, an encyclopedia).
WEAK_KINDS = ("relay", "reference")


def kinds() -> list[str]:
    """The grades a source may have, in the order the schema lists them."""
    field = data.resource("sources").schema.get_field("kind")
    return list(field.constraints["enum"])


def source_fields(name: str, datapackage=None) -> list[str]:
    """The fields of a table that name a registry source: ``source_id`` and any other
    ``*source_id`` field (a second source for an end date, an alternative date, a status)."""
    return [
        f.name
        for f in data.resource(name, datapackage).schema.fields
        if f.name.endswith("source_id")
    ]


def data_rows(datapackage=None) -> pd.DataFrame:
    """One row per data row of every table (the registry itself excluded): dataset, the row's
    position, its ``source_id`` and that source's kind, every source the row cites (``source_id``
    and any other ``*source_id`` field) and whether all of them are relay or reference."""
    registry = data.sources(datapackage)
    frames = []
    for name in data.names(datapackage):
        if name == "sources":
            continue
        table = data.load(name, datapackage)
        fields = source_fields(name, datapackage)
        cited = table[fields].apply(
            lambda row: tuple(dict.fromkeys(str(v) for v in row if isinstance(v, str) and v)),
            axis=1,
        )
        keep = table["source_id"].notna()  # a verdict not yet given cites nothing
        ids = table.loc[keep, "source_id"].astype(str)
        cited = cited[keep]
        frames.append(
            pd.DataFrame(
                {
                    "dataset": name,
                    "row": table.index[keep] + 2,  # the line in the CSV file, header on line 1
                    "source_id": ids.values,
                    "kind": registry.loc[ids, "kind"].astype(str).values,
                    "sources": cited.values,
                    "weak_only": [
                        all(registry.loc[s, "kind"] in WEAK_KINDS for s in ids_) for ids_ in cited
                    ],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def weak_rows(datapackage=None) -> pd.DataFrame:
    """The data rows whose every source is a relay or a reference work."""
    rows = data_rows(datapackage)
    return rows[rows["weak_only"]].reset_index(drop=True)


def relay_share(datapackage=None) -> float:
    """Share of all data rows resting on relay or reference sources alone (0 to 1): a row counts
    when every source it cites, in ``source_id`` and any other ``*source_id`` field, is a relay
    or a reference work; one original among its sources lifts it out."""
    return float(data_rows(datapackage)["weak_only"].mean())


def undated_share() -> float:
    """Share of the registry's sources that show no publication date (0 to 1); each has a note saying why."""
    sources = data.load("sources")
    return float(sources["date_published"].isna().mean())


def chapter_sources(notebook) -> set[str]:
    """Registry ids a chapter rests on: the sources of every row of each dataset it loads
    with ``data.load("...")``, plus the ids it cites with ``{cite}`` in its text."""
    import json
    import re
    from pathlib import Path

    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    text = "\n".join("".join(c["source"]) for c in cells)
    ids = {
        part.strip()
        for cited in re.findall(r"\{cite[a-z:]*\}`([^`]+)`", text)
        for part in cited.split(",")
    }
    for name in sorted(set(re.findall(r"data\.load\(\s*[\"']([A-Za-z0-9_]+)[\"']", code))):
        ids |= set(data.load(name)["source_id"].dropna().astype(str))
    return ids


def _chapter_label(notebook, first: bool) -> str:
    """A short row label: "Introduction" for the book's opening page, else the chapter title up to its first colon or comma."""
    if first:
        return "Introduction"
    return re.split(r"[:,]", _chapter_title(notebook))[0].strip()


def _chapter_title(notebook) -> str:
    import json
    from pathlib import Path

    for cell in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(notebook).stem


def source_mix() -> pd.DataFrame:
    """Sources by kind: one row per chapter (its distinct sources), then the whole registry,
    then the data rows of all tables (each counted under the kind of its ``source_id``); each
    cell is a count, and the last column the share of relay and reference sources in per cent
    (for the data rows, of rows resting on such sources alone, as :func:`relay_share`)."""
    from . import paths

    order = kinds()
    registry = data.sources()
    toc = (paths.ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = [
        p for p in paths.CHAPTERS.glob("*.ipynb") if f"chapters/{p.stem}\n" in toc
    ]  # pages of the book only
    notebooks = sorted(listed, key=lambda p: toc.find(f"chapters/{p.stem}\n"))
    groups = []
    for index, notebook in enumerate(notebooks):
        ids = chapter_sources(notebook)
        if ids:
            groups.append(
                (
                    f"{_chapter_label(notebook, index == 0)} (sources)",
                    registry.loc[sorted(ids), "kind"],
                )
            )
    groups.append(("Whole registry (sources)", registry["kind"]))
    rows = data_rows()
    groups.append(("All data tables (rows)", rows["kind"]))
    table = []
    for label, series in groups:
        counts = series.astype(str).value_counts()
        total = int(counts.sum())
        row = {"": label, "total": total}
        for kind in order:
            n = int(counts.get(kind, 0))
            row[kind] = n
        weak = int(sum(counts.get(k, 0) for k in WEAK_KINDS))
        if label == "All data tables (rows)":  # a row counts only when all its sources are weak
            weak = int(rows["weak_only"].sum())
        row["relay or reference (%)"] = round(100 * weak / total, 1)
        table.append(row)
    return pd.DataFrame(table, columns=["", "total", *order, "relay or reference (%)"])


def source_mix_html() -> str:
    from .tables import card_table

    mix = source_mix()
    headers = ["What is counted", *mix.columns[1:]]
    rows = [[html.escape(str(v)) for v in row] for row in mix.itertuples(index=False)]
    table = card_table(headers, rows, classes="ak-source-mix")
    # Focusable, so a keyboard can scroll it on a narrow screen (axe: scrollable-region-focusable).
    return (
        f'<div class="ak-table-scroll" style="overflow-x:auto" tabindex="0" role="region" '
        f'aria-label="Sources by kind, per chapter">{table}</div>'
    )
