"""The book's verdicts on the twenty propositions, read from ``data/verdicts.csv``.

Every table of propositions in the book (a chapter's "Assessment of the propositions",
the introduction's list, the conclusion) is rendered from this one dataset, so no two
pages can disagree. The loader has already checked that each verdict's deciding figure
is a real row and field of another dataset; :func:`deciding_figure` reads it.
"""

from __future__ import annotations

import html
import json
import os
import re
import textwrap
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import data, paths, text

#: The commentary whose propositions the book tests: Alexander Atasuntsev, "Long-Standing Ties Between
#: Armenia and Russia Are Fraying Fast" (Carnegie Endowment for International Peace, Carnegie Politika,
#: October 2023), cited through Russia Matters' summary of 13 October 2023 (the registry's only copy).
COMMENTARY = "russiamatters-2023-10-13-atasuntsev-fraying"


def commentary_date() -> pd.Timestamp:
    """The day the book dates the commentary by (its summary's), where the "since then" period starts."""
    return pd.Timestamp(data.sources().loc[COMMENTARY, "date_published"])


VERDICTS = [
    "supported",
    "partly supported",
    "contradicted",
    "overtaken by events",
    "cannot be tested with these data",
]


def load() -> pd.DataFrame:
    return data.load("verdicts")


#: Fields of the deciding figures in the words a reader would use (others: the name with spaces).
FIELD_WORDS = {
    "date_end": "end date",
    "date_start": "start date",
    "end_date": "end date",
    "request_date": "date of the request",
    "finding_date": "date of the court's finding",
    "killed_low": "killed (lowest count)",
    "value_usd_m_low": "value (lowest report)",
    "took_effect": "took effect",
    "recognised_host_sovereignty_at_deployment": "host state's sovereignty recognised at deployment",
}
#: Fields that name a row, in order of preference, for saying which row a figure comes from.
ROW_LABELS = [
    "title",
    "event",
    "name",
    "step",
    "milestone",
    "crisis",
    "item",
    "measure",
    "outcome",
    "summary",
    "description",
]


def _row_label(row: pd.Series, limit: int = 72) -> str:
    """A short, readable name for a dataset row (its title, or the start of its description)."""
    for field in ROW_LABELS:
        if field in row.index and isinstance(row[field], str) and row[field].strip():
            label = row[field].strip()
            if len(label) > limit:
                label = label[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
            return label
    return ""


def _with_unit(value: str, unit: str | None) -> str:
    if not unit:
        return value
    if unit.startswith("%"):
        return f"{value}{unit}"
    if unit.startswith("US$ "):
        return f"US${value} {unit[4:]}"
    return f"{value} {unit}"


def deciding_figure(row: pd.Series) -> str:
    """The value that decides a verdict, with the dataset and the row it comes from, in words."""
    if pd.isna(row["figure_dataset"]):
        return ""
    path, fingerprint = data.version()
    return _figure_words(
        row["figure_dataset"], row["figure_key"], row["figure_field"], path, fingerprint
    )


def deciding_figures(rows: pd.DataFrame, prefix: str = "figure") -> list[str]:
    """:func:`deciding_figure` for each row, whose columns are ``<prefix>_dataset``, ``_key`` and
    ``_field`` (the data's fingerprint taken once for all the rows)."""
    path, fingerprint = data.version()
    return [
        "" if pd.isna(name) else _figure_words(name, key, field, path, fingerprint)
        for name, key, field in zip(
            rows[f"{prefix}_dataset"], rows[f"{prefix}_key"], rows[f"{prefix}_field"]
        )
    ]


@lru_cache(maxsize=1024)
def _figure_words(name: str, key: str, field_name: str, path, fingerprint: tuple) -> str:
    """:func:`deciding_figure` for one dataset row and field, read from the data as they stand:
    once per figure and version of the data (the conclusion's chart, table and verdict history
    ask 287 times for 63 figures, each a row read from a frame)."""
    record, resource = _row(name, key, path, fingerprint)
    value = record[field_name]
    unit = next(
        (f.custom.get("unit") for f in resource.schema.fields if f.name == field_name),
        None,
    )
    if isinstance(value, pd.Timestamp):
        value = value.strftime("%-d %B %Y")
    elif isinstance(value, (bool, np.bool_)):
        value = "yes" if value else "no"
    elif isinstance(value, (float, np.floating)):
        value = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    elif isinstance(value, (int, np.integer)):
        value = f"{value:,}"
    value = _with_unit(str(value), unit)
    field = FIELD_WORDS.get(field_name, field_name.replace("_", " "))
    label = _row_label(record)
    title = resource.title or name
    where = f", in “{label}”" if label else ""
    return f"{field[:1].upper()}{field[1:]}: {value}{where} ({title})"


def dataset_row(name: str, key: str) -> tuple[pd.Series, data.Resource]:
    """The row of a dataset named by its primary key (its fields joined by ``|``, as the verdicts
    and the lever assessment write it), and the dataset's description."""
    path, fingerprint = data.version()
    return _row(name, key, path, fingerprint)


def _row(name: str, key: str, path, fingerprint: tuple) -> tuple[pd.Series, data.Resource]:
    frame, rows, resource = _keyed(name, path, fingerprint)
    if key not in rows:
        raise KeyError(f"data/{resource.path}: no row with the key {key!r}")
    return frame.iloc[rows[key]], resource


@lru_cache(maxsize=64)
def _keyed(
    name: str, path, fingerprint: tuple
) -> tuple[pd.DataFrame, dict[str, int], data.Resource]:
    """A dataset, the position of each row by its primary key written as the verdicts write it
    (the key's fields joined by ``|``), and its description: once per dataset and version of the
    data (the fingerprint changes when any file does, so an edited file is read again).

    The verdict history alone asks for a hundred figures; joining the keys of a whole dataset
    for each of them cost a second per page.
    """
    frame = data.load(name, path)
    resource = data.resource(name, path)
    # Each field as text as pandas writes it, joined row by row (a row-wise ``agg`` turns the
    # frame around and builds a Series for each row: 1 ms a dataset).
    fields = [frame[f].astype(str).tolist() for f in resource.schema.primary_key]
    keys = ["|".join(parts) for parts in zip(*fields)]
    rows: dict[str, int] = {}
    for position, key in enumerate(keys):
        rows.setdefault(key, position)  # the first row with the key, as a filter's first match
    return frame, rows, resource


#: The columns of an assessment, in the order a reader meets them: the claim, the test set before
#: the verdict, the verdict and its reason, the figure it rests on, what would change it.
COLUMNS = {
    "proposition": "#",
    "wording": "Proposition",
    "supported_if": "Supported if",
    "contradicted_if": "Contradicted if",
    "verdict": "Verdict",
    "reason": "Why",
    "figure": "Deciding figure",
    "would_change": "What would change it",
}


def frame(chapter: str | None = None, propositions=None) -> pd.DataFrame:
    """The verdict rows of one chapter (or the given propositions), with their criteria, ready to show."""
    rows = load()
    if chapter is not None:
        rows = rows[rows["chapter"] == chapter]
    if propositions is not None:
        missing = set(propositions) - set(rows["proposition"])
        if missing:
            raise KeyError(f"propositions {sorted(missing)} have no row in data/verdicts.csv")
        rows = rows[rows["proposition"].isin(propositions)]
    pending = rows[rows["verdict"].isna()]
    if chapter is not None and chapter != "conclusion" and len(pending):
        raise ValueError(
            f"chapter {chapter!r} shows propositions {list(pending['proposition'])} "
            "without a verdict in data/verdicts.csv"
        )
    empty = [
        f"proposition {r['proposition']}: {c}"
        for _, r in rows.iterrows()
        for c in ("supported_if", "contradicted_if", "would_change")
        if pd.isna(r[c]) or not str(r[c]).strip()
    ]
    if empty:
        raise ValueError("data/verdicts.csv has empty criteria: " + "; ".join(empty))
    shown = rows.assign(
        proposition=rows["proposition"].astype(int),
        verdict=rows["verdict"].fillna("not yet assessed").str.capitalize(),
        reason=rows["reason"].fillna(""),
        figure=deciding_figures(rows),
    )
    return shown[list(COLUMNS)].rename(columns=COLUMNS).sort_values("#").reset_index(drop=True)


def cards_html(shown: pd.DataFrame) -> str:
    """One card per proposition (a table would not fit a phone): the claim, then the test set
    before the verdict, then the verdict, its reason, the deciding figure and what would change it."""
    cards = []
    for _, r in shown.iterrows():
        slug = r["Verdict"].lower().replace(" ", "-")
        rows = "".join(
            f"<dt>{html.escape(label)}</dt><dd>{html.escape(str(r[label]))}</dd>"
            for label in ("Supported if", "Contradicted if")
        )
        after = "".join(
            f"<dt>{html.escape(label)}</dt><dd>{html.escape(str(r[label]))}</dd>"
            for label in ("Why", "Deciding figure", "What would change it")
            if str(r[label]).strip()
        )
        cards.append(
            f'<section class="ak-verdict-card ak-verdict-{slug}" id="proposition-{r["#"]}">'
            f'<p class="ak-verdict-claim"><strong>Proposition {r["#"]}.</strong> '
            f"{html.escape(r['Proposition'])}</p>"
            f'<p class="ak-verdict-test-head">The test, set before the verdict</p>'
            f'<dl class="ak-verdict-test">{rows}</dl>'
            f'<p class="ak-verdict-word"><span>Verdict:</span> '
            f"{html.escape(r['Verdict'])}</p>"
            f'<dl class="ak-verdict-why">{after}</dl></section>'
        )
    return '<div class="ak-verdicts">' + "".join(cards) + "</div>"


def table(chapter: str | None = None, propositions=None):
    """A chapter's assessment of its propositions, criteria first, as cards that read on a phone."""
    from IPython.display import HTML

    return HTML(cards_html(frame(chapter, propositions)))


# --- the introduction's list of the twenty propositions ---------------------------------------

#: Names of chapters planned but not yet in the table of contents (a published chapter's
#: name is always read from its own first heading).
PLANNED_CHAPTERS = {
    "csto": "The CSTO",
    "icc": "The ICC",
    "trade": "Trade pressure",
    "conclusion": "Conclusion",
}


#: What the table of contents and the chapters' titles were read as, by file and modification time
#: (a verdict table asks for them once per row; a page re-reads them only if they change).
_READ: dict = {}
#: The same, kept between kernels by the content of the file read (and the package's code, which reads it).
READ_CACHE = paths.CACHE / "toc-and-titles"


def _read_once(path: Path, name: str, read):
    """``read(text of path)``: once per process and version of the file, and once per content
    of the file between kernels (:func:`paths.kept`: parsing the table of contents needs PyYAML,
    whose import alone takes 10-20 ms, and a title the whole notebook read as JSON)."""
    import hashlib

    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        raw = path.read_bytes()
        digest = hashlib.sha256(data.package_code().encode() + raw).hexdigest()[:24]
        _READ[key] = paths.kept(READ_CACHE, name, digest, lambda: read(raw.decode("utf-8")))
    return _READ[key]


def _toc(text: str) -> dict:
    import yaml

    return yaml.safe_load(text)


def published_chapters() -> list[str]:
    """The chapters (file stems in chapters/) listed in _toc.yml, in reading order."""
    toc = _read_once(paths.ROOT / "_toc.yml", "toc", _toc)
    files = [toc["root"]] + [
        c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])
    ]
    return [f.split("/", 1)[1] for f in files if f.startswith("chapters/")]


def _first_heading(markdown: str) -> str | None:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None


def _notebook_heading(text: str) -> str | None:
    cells = json.loads(text)["cells"]
    return _first_heading(
        "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    )


def chapter_title(stem: str) -> str:
    """The first level-1 heading of a chapter (notebook or Markdown page)."""
    notebook = paths.CHAPTERS / f"{stem}.ipynb"
    if notebook.exists():
        title = _read_once(notebook, f"title-{stem}", _notebook_heading)
    else:
        title = _first_heading((paths.CHAPTERS / f"{stem}.md").read_text(encoding="utf-8"))
    if title is None:
        raise ValueError(f"chapters/{stem} has no level-1 heading")
    return title


def chapter_short_title(stem: str) -> str:
    """A chapter's title without its subtitle or its span of years, for links in tables
    ('Ukraine's impact: how the war ...' -> 'Ukraine's impact'); the root page is the Introduction."""
    if stem == published_chapters()[0]:
        return "Introduction"
    return re.sub(r",\s*\d{4}[–-]\d{4}$", "", chapter_title(stem).split(":")[0]).strip()


def section_anchor(section: str) -> str:
    """The HTML id Sphinx gives a section heading ('Was Armenia the exception?' -> 'was-armenia-the-exception')."""
    from docutils.nodes import make_id

    return make_id(section)


def _page(stem: str) -> str:
    """A link target that works where the page is read: the built book, or Jupyter."""
    return f"{stem}.html" if os.environ.get("AFTERKARABAKH_BOOK_BUILD") else f"{stem}.ipynb"


def introduction_frame() -> pd.DataFrame:
    """All twenty propositions: wording, chapter (linked when published) and verdict or 'to come'.

    A published chapter must have a verdict on each of its propositions; otherwise this
    raises, so the introduction can never show a pending verdict for a chapter a reader can open.
    """
    rows = load().sort_values("proposition")
    published = set(published_chapters())
    pending = rows[rows["chapter"].isin(published) & rows["verdict"].isna()]
    if len(pending):
        raise ValueError(
            f"propositions {list(pending['proposition'])} belong to published chapters "
            "but have no verdict in data/verdicts.csv"
        )
    titles = {stem: chapter_short_title(stem) for stem in set(rows["chapter"]) & published}
    shown = rows["chapter"].isin(published)
    return pd.DataFrame(
        {
            "#": rows["proposition"].astype(int).to_numpy(),
            "Proposition": rows["wording"].to_numpy(),
            "Chapter": [
                titles[c] if s else PLANNED_CHAPTERS.get(c, c)
                for c, s in zip(rows["chapter"], shown)
            ],
            "Verdict": [v if s else "to come" for v, s in zip(rows["verdict"], shown)],
            "chapter": rows["chapter"].to_numpy(),
            "section": rows["section"].to_numpy(),
            "published": shown.to_numpy(),
        }
    )


def introduction_html() -> str:
    """The introduction's table: each chapter linked to its page, each verdict to its deciding section."""
    cells = []
    for _, r in introduction_frame().iterrows():
        if r["published"]:
            chapter = f'<a href="{_page(r["chapter"])}">{html.escape(r["Chapter"])}</a>'
            verdict = (
                f'<a href="{_page(r["chapter"])}#{section_anchor(r["section"])}">'
                f"{html.escape(r['Verdict'].capitalize())}</a>"
            )
        else:
            chapter, verdict = html.escape(r["Chapter"]), "<em>to come</em>"
        cells.append(
            f"<tr><td>{r['#']}</td><td>{html.escape(r['Proposition'])}</td>"
            f"<td>{chapter}</td><td>{verdict}</td></tr>"
        )
    return (
        '<table class="table ak-verdicts ak-propositions"><thead><tr><th>#</th><th>Proposition</th>'
        "<th>Chapter</th><th>Verdict</th></tr></thead><tbody>" + "".join(cells) + "</tbody></table>"
    )


def introduction_table():
    """The introduction's table, displayed as the last expression of a notebook cell."""
    from IPython.display import HTML

    return HTML(introduction_html())


def pending_sentence() -> str:
    """What the introduction says about propositions not yet assessed (nothing typed)."""
    frame = introduction_frame()
    waiting = frame.loc[~frame["published"], "#"].tolist()
    if not waiting:
        return "Every proposition now has its verdict."
    return (
        f"Proposition{'s' if len(waiting) > 1 else ''} {_number_list(waiting)} belong{'' if len(waiting) > 1 else 's'}"
        " to chapters still to come and are not yet assessed here."
    )


def _number_list(numbers: list[int]) -> str:
    """[3, 4, 14, 15, 16] -> '3, 4 and 14–16'; [16, 17] -> '16 and 17'."""
    runs, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            runs += [f"{start}–{n}"] if n > start + 1 else [str(m) for m in range(start, n + 1)]
            start = None
    return runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " and " + runs[-1]


# --- the verdict chart: all twenty propositions by chapter and verdict ---------------------------


def chart_frame() -> pd.DataFrame:
    """One row per assessed proposition: its chapter (in reading order), verdict, reason,
    deciding figure, a link to the section that decides it, and its slot within its cell."""
    return _chart_frame(figures=True)


def _chart_frame(figures: bool) -> pd.DataFrame:
    """:func:`chart_frame`, with its checks; without ``figures`` the deciding figures are left
    empty (a count of verdicts needs none, and each reads a dataset of its own)."""
    rows = load().sort_values("proposition")
    rows = rows[rows["verdict"].notna()]
    order = [c for c in published_chapters() if c in set(rows["chapter"])]
    unknown = sorted(set(rows["chapter"]) - set(order))
    if unknown:
        raise ValueError(f"verdicts of chapters not in _toc.yml: {unknown}")
    shown = pd.DataFrame(
        {
            "proposition": rows["proposition"].astype(int).to_numpy(),
            "wording": rows["wording"].to_numpy(),
            "chapter": [chapter_short_title(c) for c in rows["chapter"]],
            "theme": [_theme_label(c) for c in rows["chapter"]],
            "chapter_order": [order.index(c) for c in rows["chapter"]],
            "verdict": rows["verdict"].to_numpy(),
            "reason": rows["reason"].to_numpy(),
            "figure": deciding_figures(rows) if figures else [""] * len(rows),
            "href": [
                f"{_page(c)}#{section_anchor(s)}" for c, s in zip(rows["chapter"], rows["section"])
            ],
            "source_id": rows["source_id"].to_numpy(),
        }
    )
    shown["slot"] = shown.groupby(["chapter", "verdict"]).cumcount()
    if shown["slot"].max() >= MAX_PER_CELL:
        raise ValueError(
            f"more than {MAX_PER_CELL} propositions share a chapter and a verdict; widen the chart"
        )
    return shown.sort_values(["chapter_order", "proposition"]).reset_index(drop=True)


#: Chapters whose theme has a label of its own in the book's timelines (theme.THEME_LABELS).
CHAPTER_THEMES = {
    "military": "military-presence",
    "peacekeeping": "peacekeeping",
    "ukraine": "ukraine",
    "csto": "csto",
    "icc": "icc",
    "trade": "trade",
}
#: How each verdict is broken over lines at the head of its column.
VERDICT_LINES = {
    "supported": ["supported"],
    "partly supported": ["partly", "supported"],
    "contradicted": ["contradicted"],
    "overtaken by events": ["overtaken", "by events"],
    "cannot be tested with these data": ["cannot be", "tested with", "these data"],
}
MAX_PER_CELL = 3
#: Below this width (px) of the grid, the verdict chart sets its heads upright and its marks smaller.
NARROW = 330


def _theme_label(stem: str) -> str:
    from . import theme

    key = CHAPTER_THEMES.get(stem)
    return theme.THEME_LABELS[key] if key else chapter_short_title(stem)


def verdict_counts(shown: pd.DataFrame | None = None) -> dict[str, int]:
    """How many propositions have each verdict, in the order of :data:`VERDICTS` (zeros kept)."""
    shown = _chart_frame(figures=False) if shown is None else shown
    return {v: int((shown["verdict"] == v).sum()) for v in VERDICTS}


def chart(
    title: str = "Twenty propositions, twenty verdicts",
    subtitle: str | None = "One mark per proposition, by the chapter that tests it; "
    "hover or tap for the wording, the reason and the deciding figure, "
    "click to open the section that decides it",
    name: str | None = None,
):
    """The verdicts of all assessed propositions as a grid of chapters by verdict, through
    :func:`charts.finish` (so with its source line and data table); reusable by any page."""
    import altair as alt

    from . import charts, theme

    shown = chart_frame()
    chapters = list(dict.fromkeys(shown["theme"]))
    lines = json.dumps(VERDICT_LINES)
    # Chapter names on at most two short lines, so a phone's column keeps room for the grid.
    rows_lines = json.dumps({c: textwrap.wrap(c, 16) for c in chapters})
    # The column heads name the verdicts, so colour and shape (a second cue) need no legend,
    # which would not fit a narrow column.
    colour = alt.Color(
        "verdict:N",
        title="Verdict",
        legend=None,
        scale=alt.Scale(domain=VERDICTS, range=[theme.VERDICT_COLOURS[v] for v in VERDICTS]),
    )
    # On a phone's column (a grid narrower than NARROW px) the heads stand upright and the marks
    # are smaller, so neither heads nor numbers run into their neighbours.
    narrow = f"width < {NARROW}"
    base = alt.Chart(shown).encode(
        x=alt.X(
            "verdict:N",
            title="Verdict",
            sort=VERDICTS,
            scale=alt.Scale(domain=VERDICTS),
            axis=alt.Axis(
                orient="top",
                labelAngle=alt.ExprRef(f"{narrow} ? -90 : 0"),
                labelAlign=alt.ExprRef(f"{narrow} ? 'left' : 'center'"),
                labelBaseline=alt.ExprRef(f"{narrow} ? 'middle' : 'bottom'"),
                labelExpr=f"{lines}[datum.label]",
                labelLimit=200,
                labelFontSize=10,
                domain=False,
                ticks=False,
            ),
        ),
        y=alt.Y(
            "theme:N",
            title=None,
            sort=chapters,
            axis=alt.Axis(
                labelExpr=f"{rows_lines}[datum.label]",
                labelLimit=theme.LABEL_ROOM,
                domain=False,
                ticks=False,
            ),
        ),
        xOffset=alt.XOffset(
            "slot:O", scale=alt.Scale(domain=list(range(MAX_PER_CELL)), paddingOuter=0.15)
        ),
        href="href:N",
        tooltip=[
            alt.Tooltip("proposition:Q", title="Proposition"),
            alt.Tooltip("wording:N", title="Wording"),
            alt.Tooltip("chapter:N", title="Chapter"),
            alt.Tooltip("verdict:N", title="Verdict"),
            alt.Tooltip("reason:N", title="Why"),
            alt.Tooltip("figure:N", title="Deciding figure"),
        ],
    )
    marks = base.mark_point(
        filled=True, size=alt.ExprRef(f"{narrow} ? 190 : 300"), opacity=1, cursor="pointer"
    ).encode(
        color=colour,
        shape=alt.Shape(
            "verdict:N",
            title="Verdict",
            sort=VERDICTS,
            legend=None,
            scale=alt.Scale(domain=VERDICTS),
        ),
    )
    numbers = base.mark_text(fontSize=10, fontWeight=700, color="white", cursor="pointer").encode(
        text="proposition:Q"
    )
    grid = alt.layer(marks, numbers).properties(width=theme.WIDTH - 110, height=48 * len(chapters))
    counts = verdict_counts(shown)
    description = (
        f"Grid of {len(shown)} propositions by chapter ({', '.join(chapters)}) and verdict: "
        + "; ".join(f"{v}: {n}" for v, n in counts.items())
        + f". The first mark is proposition {shown['proposition'].iloc[0]} ({shown['theme'].iloc[0]}, "
        f"{shown['verdict'].iloc[0]}); the last is proposition {shown['proposition'].iloc[-1]} "
        f"({shown['theme'].iloc[-1]}, {shown['verdict'].iloc[-1]})."
    )
    return charts.finish(
        grid, title=title, subtitle=subtitle, description=description, sources=shown, name=name
    )


# --- the verdicts counted, in words ---------------------------------------------------------------


def number_words(n: int) -> str:
    """A count as a writer writes it: words up to ten ('none' for zero), digits above."""
    return text.words(n, zero="none")


def counts_phrase(counts: dict[str, int] | None = None) -> str:
    """'four supported, ten partly supported, five contradicted, none overtaken by events and one
    that cannot be tested with these data': every verdict of the scale, zeros included."""
    counts = verdict_counts() if counts is None else counts
    parts = []
    for verdict in VERDICTS:
        n = number_words(counts.get(verdict, 0))
        if verdict == "cannot be tested with these data":
            parts.append(f"{n} that cannot be tested with these data")
        else:
            parts.append(f"{n} {verdict}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def numbers_with(verdict: str) -> str:
    """The propositions with one verdict, as prose lists them ('5, 12, 14, 16 and 17'), or 'none'."""
    rows = load()
    found = sorted(int(p) for p in rows.loc[rows["verdict"] == verdict, "proposition"])
    return _number_list(found) if found else "none"
