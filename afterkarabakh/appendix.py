"""The "Data and sources" appendix, generated from datapackage.json and the source registry.

Nothing here is typed by hand: dataset titles, fields, units, constraints,
licences and sources all come from the package, so the appendix cannot drift
from the data it documents.
"""
from __future__ import annotations

import html

import pandas as pd

from . import data

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
        rows.append({
            "field": field.name,
            "type": field.type,
            "unit": field.custom.get("unit", ""),
            "constraints": _constraints(field),
            "description": field.description or "",
        })
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
    licences = ", ".join(_link(l.get("path", ""), l.get("title") or l.get("name"))
                         for l in (resource.licenses or data.package().licenses))
    cited = sources_of(name)
    registry = data.sources()
    source_items = "".join(
        f"<li>{html.escape(registry.loc[s, 'publisher'])}, {_link(registry.loc[s, 'url'], registry.loc[s, 'title'])}"
        f" <code>{html.escape(s)}</code></li>" for s in cited[:12])
    if len(cited) > 12:
        source_items += f"<li>… and {len(cited) - 12} more, listed under Sources below.</li>"
    fields = fields_table(name).to_html(index=False, border=0, classes="table ak-fields", escape=True) \
        if resource.type == "table" else ""
    sources_block = f"<p><strong>Sources ({len(cited)}):</strong></p><ul>{source_items}</ul>" if name != "sources" else ""
    return (
        f"<section class=\"ak-dataset\" id=\"dataset-{html.escape(name)}\">"
        f"<h3>{title} <code>{html.escape(name)}</code></h3>"
        f"<p>{html.escape(resource.description or '')}</p>"
        f"<p>File: <a href=\"{DOWNLOAD_BASE}{html.escape(resource.path)}\" download>{html.escape(resource.path)}</a>"
        f" ({size}). Licence: {licences}.</p>"
        f"{sources_block}{fields}</section>"
    )


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
