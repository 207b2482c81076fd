"""The reader's apparatus: the gazetteer and the glossary pages, generated from the data.

Nothing on these pages is typed by hand. Each place comes from ``data/places.csv`` (the
file every map reads) and each term from ``data/glossary.csv``; the chapters that use a place
or a term are found by reading the chapters themselves: the names written in their prose and in
the titles, notes and descriptions of their charts, and, for places, the places their maps draw
(each chapter module with a map says which, in ``places_drawn()``). A place's name inside a
glossary term does not count as naming the place: "Minsk Group" names a mediation format, not
the city of Minsk.

Each glossary entry has an anchor (:func:`term_anchor`); a chapter links the first use of a
term to it with :func:`term_link`, and tests/test_apparatus.py holds every chapter to that.
"""

from __future__ import annotations

import html
import importlib
import json
import re
from functools import lru_cache

import pandas as pd

from . import archive, data, paths, text, verdicts


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


#: A string in code that a reader never sees: an id, a dataset or column name, a format.
_IDENTIFIER = re.compile(r"[a-z0-9_.%:-]*")


def _strings(source: str) -> list[str]:
    """The string constants of a code cell that can reach a reader (titles, notes,
    descriptions, captions, the literal parts of f-strings), identifiers apart."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except SyntaxError:
        return [source]
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and not _IDENTIFIER.fullmatch(node.value)
    ]


@lru_cache(maxsize=32)
def _cells(stem: str, _mtime: int) -> str:
    notebook = json.loads((paths.CHAPTERS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    parts = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        parts += [source] if cell["cell_type"] == "markdown" else _strings(source)
    return "\n".join(parts)


def chapter_text(stem: str) -> str:
    """What a chapter writes for its reader: its prose, and the titles, notes, descriptions and
    captions in its code (string constants; ids and column names apart)."""
    return _cells(stem, (paths.CHAPTERS / f"{stem}.ipynb").stat().st_mtime_ns)


@lru_cache(maxsize=4096)
def name_pattern(name: str) -> re.Pattern:
    """A name as a whole word, whatever the line breaks inside it.

    Abbreviations (CSTO) must match exactly; a name with lower-case letters (Line of contact)
    matches whatever its capitalisation at the start of a sentence or in a title.
    """
    flags = 0 if name.isupper() else re.IGNORECASE
    words = r"\s+".join(re.escape(word) for word in name.split())  # a name may wrap across lines
    return re.compile(rf"(?<![\w-]){words}(?![\w-])", flags)


def names_in(stem: str, names, body: str | None = None) -> bool:
    """Whether any of the names appears in the chapter as a whole word: in its text, or in
    ``body``, the chapter's text with some phrases blanked out (:func:`without_terms`).

    A name is searched for only if its words are in the chapter at all (:func:`could_name`):
    a case-blind search scans the whole text at every character, and most names are in no
    chapter (the gazetteer's 870 searches 0.30 s, the words' test 0.01 s).
    """
    body = chapter_text(stem) if body is None else body
    for name in (n for n in names if isinstance(n, str) and n):
        if could_name(stem, [name]) and name_pattern(name).search(body):
            return True
    return False


#: The characters outside ASCII that a case-blind pattern takes for an ASCII letter (dotted and
#: dotless i, long s, the Kelvin sign), as the letter: tests/test_apparatus.py checks every code point.
_AS_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


@lru_cache(maxsize=32)
def _folded(stem: str, _mtime: int) -> str:
    return chapter_text(stem).translate(_AS_ASCII).lower()


def could_name(stem: str, names) -> bool:
    """False when none of the names can appear in the chapter: for each, a word of it (ASCII;
    others are not tested) is not in the chapter's text, whatever its case. A word found by
    :func:`name_pattern` in the text, or in it with phrases blanked out, is in the text: each
    character it matches is the same letter or the other case of it (or one of ``_AS_ASCII``),
    and blanking puts a space where the word has none."""
    folded = _folded(stem, (paths.CHAPTERS / f"{stem}.ipynb").stat().st_mtime_ns)
    return any(
        all(word.lower() in folded for word in name.split() if word.isascii())
        for name in names
        if isinstance(name, str) and name
    )


def place_references() -> dict[str, set[str]]:
    """For each place_id, the datasets with a row that refers to it (a place_id or a list of places).

    Only the datasets whose schema has such a field are read (from the descriptor, so no
    Frictionless object is built for the other fifty-odd)."""
    found: dict[str, set[str]] = {}
    for name in data.names():
        if name == "places":
            continue
        referring = [
            field
            for field in data.fields(name)
            if field["name"] == "place_id"
            or (
                field["type"] == "list"
                and (field.get("references") or {}).get("resource") == "places"
            )
        ]
        if not referring:
            continue
        frame = data.load(name)
        for field in referring:
            ids = frame[field["name"]].dropna()
            if field["type"] == "list":
                ids = ids.explode().dropna()
            for place_id in set(ids):
                found.setdefault(place_id, set()).add(name)
    return found


def _chapter_links(stems: list[str]) -> str:
    return ", ".join(_chapter_link(s) for s in stems) or "<em>none yet</em>"


def _chapter_link(stem: str) -> str:
    """A link to a chapter under its short title, made once per page (the title reads the table
    of contents and the chapter's notebook)."""
    toc = (paths.ROOT / "_toc.yml").stat().st_mtime_ns
    return _chapter_link_cached(stem, toc, (paths.CHAPTERS / f"{stem}.ipynb").stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _chapter_link_cached(stem: str, _toc_mtime: int, _mtime: int) -> str:
    return f'<a href="{verdicts._page(stem)}">{html.escape(verdicts.chapter_short_title(stem))}</a>'


def _source_link(source_id: str) -> str:
    """The publisher, linked to the page read, with the day read and the archive's copy."""
    s = data.sources().loc[source_id]
    return archive.citation_html(s["url"], s["date_accessed"], s["publisher"])


# --- the gazetteer -------------------------------------------------------------------------------


#: Words that end the full name of a site which prose names without them ("Zvartnots airport").
SITE_SUFFIXES = (" International Airport", " Air Base")


def place_names(place) -> list[str]:
    """The names prose uses for a place: its name, its other name, and the name of a site
    without the kind of site ("Erebuni" for Erebuni Air Base)."""
    names = [n for n in (place["name"], place["alt_name"]) if isinstance(n, str) and n]
    names += [place["name"][: -len(s)] for s in SITE_SUFFIXES if place["name"].endswith(s)]
    return names


def without_terms(body: str, names, data_version: tuple | None = None) -> str:
    """``body`` with every glossary term that contains one of ``names`` blanked out, so that
    "Minsk Group" or "Rome Statute" does not count as naming Minsk or Rome (``data_version``:
    :func:`data.version`'s fingerprint, when the caller holds it)."""
    for phrase in _terms_naming(tuple(names), data_version or data.version()[1]):
        body = name_pattern(phrase).sub(" ", body)
    return body


@lru_cache(maxsize=1024)
def _terms_naming(names: tuple, _data_version: tuple) -> tuple[str, ...]:
    """The glossary's terms and expansions that contain one of ``names`` (other than the name
    itself), in the glossary's order: found once per place, not once per place and chapter."""
    terms = data.load("glossary")
    return tuple(
        phrase
        for phrase in [*terms["term"], *terms["expansion"].dropna()]
        if any(name_pattern(n).search(phrase) for n in names if n != phrase)
    )


def places_drawn(stem: str) -> set[str]:
    """The places a chapter's maps draw (its module's ``places_drawn()``; none without one)."""
    try:
        module = importlib.import_module(f"afterkarabakh.chapters.{stem}")
    except ModuleNotFoundError:
        return set()
    drawn = getattr(module, "places_drawn", None)
    return set(drawn()) if drawn else set()


def _book_state() -> tuple:
    """What the apparatus pages are computed from: the data (its fingerprint), the table of
    contents and every chapter's text. Unchanged, a page's table is computed once per kernel."""
    toc = paths.ROOT / "_toc.yml"
    return (
        data.version()[1],
        toc.stat().st_mtime_ns,
        tuple((p.name, p.stat().st_mtime_ns) for p in sorted(paths.CHAPTERS.glob("*.ipynb"))),
    )


def gazetteer_frame() -> pd.DataFrame:
    """Every place in data/places.csv with its label, country and the chapters that use it:
    those whose prose or chart text names it, and those whose maps draw it."""
    return _gazetteer_frame(_book_state()).copy()


@lru_cache(maxsize=2)
def _gazetteer_frame(state: tuple) -> pd.DataFrame:
    from . import maps

    places = maps.places().sort_values("label", key=lambda s: s.str.lower())
    chapters = reading_chapters()
    drawn = {c: places_drawn(c) for c in chapters}
    mentioned = []
    for _, p in places.iterrows():
        names = place_names(p)
        mentioned.append(
            [
                c
                for c in chapters
                if p["place_id"] in drawn[c]
                or (
                    could_name(c, names)
                    and names_in(c, names, without_terms(chapter_text(c), names, state[0]))
                )
            ]
        )
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
    return _table(["Place", "Kind", "Country", "Coordinates", "Used in", "Source"], rows)


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
    return _glossary_frame(_book_state()).copy()


@lru_cache(maxsize=2)
def _glossary_frame(_state: tuple) -> pd.DataFrame:
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


def term_anchor(term: str) -> str:
    """The id of a term's row on the Glossary page: 'term-csto', 'term-article-12-3'."""
    return "term-" + re.sub(r"[^a-z0-9]+", "-", term.lower()).strip("-")


#: The Glossary page as the built book serves it, beside every chapter page.
GLOSSARY_PAGE = "glossary.html"


def term_link(term: str, shown: str | None = None) -> str:
    """The link a chapter writes at a term's first use: ``<a class="ak-term" href=...>``."""
    return (
        f'<a class="ak-term" href="{GLOSSARY_PAGE}#{term_anchor(term)}">'
        f"{shown or html.escape(term)}</a>"
    )


def glossary_html() -> str:
    rows = [
        [
            f'<strong id="{html.escape(term_anchor(r["Term"]))}">{html.escape(r["Term"])}</strong>'
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
    field = next(f for f in data.fields("sources") if f["name"] == "kind")
    kinds = field["constraints"]["enum"]
    rows = pd.concat(
        [
            data.load(n)["source_id"]
            for n in data.names()
            if n != "sources" and any(f["name"] == "source_id" for f in data.fields(n))
        ]
    ).dropna()
    row_kinds = rows.map(registry["kind"])
    meaning = dict(
        re.findall(r"(\w+) \(([^()]*(?:\([^()]*\)[^()]*)*)\)", field.get("description", ""))
    )
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


# --- linking the first use of each term -----------------------------------------------------------

#: A link :func:`term_link` wrote.
TERM_LINK = re.compile(r'<a class="ak-term" href="[^"#]*#term-[a-z0-9-]+">(.*?)</a>', re.S)
#: What a reader does not read as a use of a term: roles, code, headings, links, tags.
_NOT_A_USE = re.compile(
    r"\{[a-z:]+\}`[^`]*`|`[^`]*`|^#.*$|\[[^\]]*\]\([^)]*\)"
    r"|<a (?![^>]*ak-term)[^>]*>[\s\S]*?</a>|<[^>]+>",
    re.M,
)


def link_first_uses(cells: list[str]) -> list[str]:
    """A chapter's markdown cells with the first use of each glossary term (the term or what it
    stands for; headings, links and a term inside a longer term apart) linked to its entry, and
    every other term link removed. tests/test_apparatus.py checks the chapters against this rule;
    run this after rewriting a chapter's prose::

        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if c.cell_type == "markdown"]
        for cell, text in zip(cells, link_first_uses([c.source for c in cells])):
            cell.source = text
        nbformat.write(nb, path)
    """
    separator = "\n\n\x00\n\n"
    body = separator.join(TERM_LINK.sub(lambda m: m.group(1), c) for c in cells)
    masked = _NOT_A_USE.sub(lambda m: " " * len(m.group(0)), body)
    terms = data.load("glossary")
    spans = [
        (m.start(), m.end(), term)
        for term, expansion in zip(terms["term"], terms["expansion"])
        for name in (n for n in (term, expansion) if isinstance(n, str) and n)
        for m in name_pattern(name).finditer(masked)
    ]
    kept = [
        a
        for a in spans
        if not any(b[0] <= a[0] and a[1] <= b[1] and b != a and b[2] != a[2] for b in spans)
    ]
    first: dict[str, tuple[int, int]] = {}
    for start, end, term in sorted(kept):
        first.setdefault(term, (start, end))
    for term, (start, end) in sorted(first.items(), key=lambda item: -item[1][0]):
        body = body[:start] + term_link(term, body[start:end]) + body[end:]
    linked = body.split(separator)
    assert len(linked) == len(cells), "a cell contains the separator"
    return linked
