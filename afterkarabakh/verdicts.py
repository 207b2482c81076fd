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

import numpy as np
import pandas as pd

from . import data, paths

VERDICTS = [
    "supported",
    "partly supported",
    "contradicted",
    "overtaken by events",
    "cannot be tested with these data",
]


def load() -> pd.DataFrame:
    return data.load("verdicts")


def deciding_figure(row: pd.Series) -> str:
    """The value that decides a verdict, with the dataset row it comes from."""
    if pd.isna(row["figure_dataset"]):
        return ""
    frame = data.load(row["figure_dataset"])
    key_fields = data.resource(row["figure_dataset"]).schema.primary_key
    keys = frame[key_fields].astype(str).agg("|".join, axis=1)
    value = frame.loc[keys == row["figure_key"], row["figure_field"]].iloc[0]
    unit = next(
        (
            f.custom.get("unit")
            for f in data.resource(row["figure_dataset"]).schema.fields
            if f.name == row["figure_field"]
        ),
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
    if unit:
        value = f"{value}{unit}" if unit.startswith("%") else f"{value} {unit}"
    title = data.resource(row["figure_dataset"]).title or row["figure_dataset"]
    return f"{value} ({title}: {row['figure_field'].replace('_', ' ')}, row {row['figure_key']})"


def frame(chapter: str | None = None, propositions=None) -> pd.DataFrame:
    """The verdict rows of one chapter (or the given propositions), ready to show."""
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
    return pd.DataFrame(
        {
            "#": rows["proposition"].astype(int),
            "Proposition": rows["wording"],
            "Verdict": rows["verdict"].fillna("not yet assessed").str.capitalize(),
            "Why": rows["reason"].fillna(""),
            "Deciding figure": rows.apply(deciding_figure, axis=1),
        }
    ).sort_values("#")


def table(chapter: str | None = None, propositions=None):
    """The assessment table as a styled HTML table (no index), for a chapter's page."""
    shown = frame(chapter, propositions)
    return shown.style.hide(axis="index").set_table_attributes('class="ak-verdicts"')


# --- the introduction's list of the twenty propositions ---------------------------------------

#: Names of chapters planned but not yet in the table of contents (a published chapter's
#: name is always read from its own first heading).
PLANNED_CHAPTERS = {
    "csto": "The CSTO",
    "icc": "The ICC",
    "trade": "Trade pressure",
    "conclusion": "Conclusion",
}


def published_chapters() -> list[str]:
    """The chapters (file stems in chapters/) listed in _toc.yml, in reading order."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [
        c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])
    ]
    return [f.split("/", 1)[1] for f in files if f.startswith("chapters/")]


def chapter_title(stem: str) -> str:
    """The first level-1 heading of a chapter (notebook or Markdown page)."""
    notebook = paths.CHAPTERS / f"{stem}.ipynb"
    if notebook.exists():
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = (paths.CHAPTERS / f"{stem}.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise ValueError(f"chapters/{stem} has no level-1 heading")


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
    """[3, 4, 14, 15, 16] -> '3, 4 and 14–16'."""
    runs, start = [], None
    for i, n in enumerate(numbers):
        if start is None:
            start = n
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            runs.append(
                str(start) if start == n else (f"{start}–{n}" if n > start + 1 else f"{start}, {n}")
            )
            start = None
    return runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " and " + runs[-1]


# --- the verdict chart: all twenty propositions by chapter and verdict ---------------------------


def chart_frame() -> pd.DataFrame:
    """One row per assessed proposition: its chapter (in reading order), verdict, reason,
    deciding figure, a link to the section that decides it, and its slot within its cell."""
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
            "figure": rows.apply(deciding_figure, axis=1).to_numpy(),
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
    shown = chart_frame() if shown is None else shown
    return {v: int((shown["verdict"] == v).sum()) for v in VERDICTS}


def chart(
    title: str = "Twenty propositions, twenty verdicts",
    subtitle: str | None = "One mark per proposition, by the chapter that tests it; "
    "hover for the wording, the reason and the deciding figure, "
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
