"""The reader's apparatus: the gazetteer and the glossary pages, generated from the data.

Nothing on these pages is typed by hand. Each place comes from ``data/places.csv`` (the
file every map reads) and each term from ``data/glossary.csv``; the chapters that mention a
place or a term are found by reading the chapters themselves: the names written in their
cells, and, for places, the data rows that refer to the place's id in a dataset the chapter
loads, or the place's id written in its code (a map that labels the place).
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache

import pandas as pd

from . import data, paths, text, verdicts


def reading_chapters() -> list[str]:
    """The pages of the book that tell its story (the root and every part but the appendices)."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [
        c["file"]
        for part in toc.get("parts", [])
        if part.get("caption") != "Appendices"
        for c in part.get("chapters", [])
    ]
    return [
        f.split("/", 1)[1]
        for f in files
        if (paths.CHAPTERS / f"{f.split('/', 1)[1]}.ipynb").exists()
    ]


@lru_cache(maxsize=32)
def _cells(stem: str, _mtime: int) -> str:
    notebook = json.loads((paths.CHAPTERS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"])


def chapter_text(stem: str) -> str:
    """Everything written in a chapter's cells: its prose, and the titles and captions in its code."""
    return _cells(stem, (paths.CHAPTERS / f"{stem}.ipynb").stat().st_mtime_ns)


def datasets_loaded(stem: str) -> set[str]:
    """The datasets a chapter reads (``data.load("name")``)."""
    return set(re.findall(r"data\.load\(\"([a-z0-9_]+)\"\)", chapter_text(stem)))


def names_in(stem: str, names) -> bool:
    """Whether any of the names appears in the chapter as a whole word.

    Abbreviations (CSTO) must match exactly; a name with lower-case letters (Line of contact)
    matches whatever its capitalisation at the start of a sentence or in a title.
    """
    body = chapter_text(stem)
    for name in (n for n in names if isinstance(n, str) and n):
        flags = 0 if name.isupper() else re.IGNORECASE
        words = r"\s+".join(
            re.escape(word) for word in name.split()
        )  # a name may wrap across lines
        if re.search(rf"(?<![\w-]){words}(?![\w-])", body, flags):
            return True
    return False


def place_references() -> dict[str, set[str]]:
    """For each place_id, the datasets with a row that refers to it (a place_id or a list of places)."""
    found: dict[str, set[str]] = {}
    for name in data.names():
        if name == "places":
            continue
        frame = data.load(name)
        for field in data.resource(name).schema.fields:
            if field.name == "place_id":
                ids = frame[field.name].dropna()
            elif (
                field.type == "list"
                and (field.custom.get("references") or {}).get("resource") == "places"
            ):
                ids = frame[field.name].dropna().explode().dropna()
            else:
                continue
            for place_id in set(ids):
                found.setdefault(place_id, set()).add(name)
    return found


def _chapter_links(stems: list[str]) -> str:
    return (
        ", ".join(
            f'<a href="{verdicts._page(s)}">{html.escape(verdicts.chapter_short_title(s))}</a>'
            for s in stems
        )
        or "<em>none yet</em>"
    )


def _source_link(source_id: str) -> str:
    s = data.sources().loc[source_id]
    return f'<a href="{html.escape(s["url"])}">{html.escape(s["publisher"])}</a>'


# --- the gazetteer -------------------------------------------------------------------------------


def gazetteer_frame() -> pd.DataFrame:
    """Every place in data/places.csv with its label, country and the chapters that mention it."""
    from . import maps

    places = maps.places().sort_values("label", key=lambda s: s.str.lower())
    references = place_references()
    chapters = reading_chapters()
    mentioned = [
        [
            c
            for c in chapters
            if names_in(c, [p["name"], p["alt_name"]])
            or f'"{p["place_id"]}"' in chapter_text(c)
            or references.get(p["place_id"], set()) & datasets_loaded(c)
        ]
        for _, p in places.iterrows()
    ]
    return pd.DataFrame(
        {
            "place_id": places["place_id"].to_numpy(),
            "Place": places["label"].to_numpy(),
            "Kind": places["kind"].str.replace("-", " ").to_numpy(),
            "Country": places["country_iso3"].map(text.country_name).to_numpy(),
            "Latitude": places["lat"].map(lambda v: f"{v:.4f}° N").to_numpy(),
            "Longitude": places["lon"]
            .map(lambda v: f"{abs(v):.4f}° {'E' if v >= 0 else 'W'}")
            .to_numpy(),
            "chapters": mentioned,
            "source_id": places["source_id"].to_numpy(),
        }
    )


def gazetteer_html() -> str:
    rows = [
        [
            html.escape(r["Place"]),
            html.escape(r["Kind"]),
            html.escape(r["Country"]),
            f"{r['Latitude']}, {r['Longitude']}",
            _chapter_links(r["chapters"]),
            _source_link(r["source_id"]),
        ]
        for _, r in gazetteer_frame().iterrows()
    ]
    return _table(["Place", "Kind", "Country", "Coordinates", "Mentioned in", "Source"], rows)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """An apparatus table (one card per row on a phone): header cells over rows of cell HTML."""
    from .tables import card_table

    return card_table(headers, rows, classes="ak-apparatus")


def _shown(markup: str):
    """HTML that a notebook cell displays as it is (the book and JupyterLab alike)."""
    from IPython.display import HTML

    return HTML(markup)


def gazetteer_table():
    return _shown(gazetteer_html())


# --- the glossary --------------------------------------------------------------------------------


def glossary_frame() -> pd.DataFrame:
    """Every term in data/glossary.csv, alphabetically, with the chapters that use it."""
    terms = data.load("glossary").sort_values("term", key=lambda s: s.str.lower())
    chapters = reading_chapters()
    return pd.DataFrame(
        {
            "Term": terms["term"].to_numpy(),
            "Stands for": terms["expansion"].fillna("").to_numpy(),
            "Definition": terms["definition"].to_numpy(),
            "chapters": [
                [c for c in chapters if names_in(c, [t["term"], t["expansion"]])]
                for _, t in terms.iterrows()
            ],
            "source_id": terms["source_id"].to_numpy(),
        }
    )


def glossary_html() -> str:
    rows = [
        [
            f'<strong id="term-{html.escape(re.sub(r"[^a-z0-9]+", "-", r["Term"].lower()).strip("-"))}">'
            f"{html.escape(r['Term'])}</strong>"
            + (f"<br><small>{html.escape(r['Stands for'])}</small>" if r["Stands for"] else ""),
            html.escape(r["Definition"]),
            _chapter_links(r["chapters"]),
            _source_link(r["source_id"]),
        ]
        for _, r in glossary_frame().iterrows()
    ]
    return _table(["Term", "Definition", "Used in", "Source"], rows)


def glossary_table():
    return _shown(glossary_html())


# --- one order for disputed names ----------------------------------------------------------------


def reversed_names(body: str) -> list[str]:
    """Disputed places written in the reverse of the gazetteer's order ('Khankendi/Stepanakert')."""
    places = data.load("places").dropna(subset=["alt_name"])
    return [
        f"{p['alt_name']}/{p['name']}"
        for _, p in places.iterrows()
        if f"{p['alt_name']}/{p['name']}" in body
    ]


# --- the method page -----------------------------------------------------------------------------


def source_grades() -> pd.DataFrame:
    """For each grade of source (the ``kind`` field of the registry): its definition, how many
    sources have it, and how many data rows rest on them (every table but the registry)."""
    registry = data.sources()
    field = next(f for f in data.resource("sources").schema.fields if f.name == "kind")
    kinds = field.constraints["enum"]
    rows = pd.concat(
        [
            data.load(n)["source_id"]
            for n in data.names()
            if n != "sources" and "source_id" in data.load(n)
        ]
    ).dropna()
    row_kinds = rows.map(registry["kind"])
    meaning = dict(re.findall(r"(\w+) \(([^()]*(?:\([^()]*\)[^()]*)*)\)", field.description))
    return pd.DataFrame(
        {
            "Grade": kinds,
            "Meaning": [meaning.get(k, "") for k in kinds],
            "Sources": [int((registry["kind"] == k).sum()) for k in kinds],
            "Data rows": [int((row_kinds == k).sum()) for k in kinds],
        }
    )


def data_span() -> dict:
    """The dates that bound the data: the last day a source was read, the latest dated event."""
    events = data.load("events")
    registry = data.sources()
    return {
        "as_of": text.data_as_of(),
        "last_event": text.date(events["date"].max()),
        "last_published": text.date(registry["date_published"].max()),
        "undated_sources": int(registry["date_published"].isna().sum()),
        "sources": len(registry),
    }
