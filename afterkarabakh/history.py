"""When did each claim become clear? The twenty verdicts as the evidence stood at five dates.

``data/verdict_history.csv`` holds, for each proposition, the verdict that the evidence dated on or
before each checkpoint supports, on the criteria of ``data/verdicts.csv``: the commentary's date,
mid-2024, the ends of 2024 and 2025, and the day the data stop. Each entry points to the dated row
that moved it (the loader refuses one dated before its evidence); the last checkpoint's verdicts are
the book's verdicts. This module groups the propositions by how their verdicts moved and draws them,
a row per proposition and a column per checkpoint, for the conclusion.
"""

from __future__ import annotations

import json

import pandas as pd

from . import data, verdicts

#: The fixed checkpoints between the commentary's date and the day the data stop.
FIXED = ["2024-06-30", "2024-12-31", "2025-12-31"]
#: How each checkpoint is named on the chart (two lines), in order.
NAMES = ["Published", "Mid-2024", "End of 2024", "End of 2025", "Latest data"]
#: A claim "holds" at a checkpoint when the evidence then supports it in whole or in part.
HELD = ("supported", "partly supported")
#: How a proposition's verdicts moved over the checkpoints, in the order the chart shows them.
GROUPS = {
    "held from the start": "Held from the start",
    "held only later": "Held only later",
    "held, then failed": "Held at first, then failed",
    "never held": "Never held",
}


def checkpoints() -> list[pd.Timestamp]:
    """The commentary's date, the three fixed dates and the day the data stop."""
    return [
        verdicts.commentary_date(),
        *(pd.Timestamp(d) for d in FIXED),
        pd.Timestamp(data.as_of()).normalize(),
    ]


def load() -> pd.DataFrame:
    return data.load("verdict_history")


def trajectory(sequence: list[str]) -> str:
    """The group of one proposition from its verdicts in checkpoint order."""
    held = [v in HELD for v in sequence]
    if all(held):
        return "held from the start"
    if not any(held):
        return "never held"
    if held[-1] and not held[0]:
        return "held only later"
    return "held, then failed"


def frame() -> pd.DataFrame:
    """One row per proposition and checkpoint: the verdict, its reason, its evidence, the
    proposition's wording and group, and a link to its card in the conclusion."""
    rows = load().sort_values(["proposition", "checkpoint"])
    order = {pd.Timestamp(c): i for i, c in enumerate(checkpoints())}
    unknown = sorted(set(rows["checkpoint"]) - set(order))
    if unknown:
        raise ValueError(f"data/verdict_history.csv has checkpoints not in the book's: {unknown}")
    wording = verdicts.load().set_index("proposition")["wording"]
    groups = {
        p: trajectory(list(g.sort_values("checkpoint")["verdict"]))
        for p, g in rows.groupby("proposition")
    }
    evidence = verdicts.deciding_figures(rows, prefix="evidence")
    shown = pd.DataFrame(
        {
            "proposition": rows["proposition"].astype(int).to_numpy(),
            "wording": [wording[p] for p in rows["proposition"]],
            "checkpoint": rows["checkpoint"].to_numpy(),
            "step": [order[pd.Timestamp(c)] for c in rows["checkpoint"]],
            "when": [NAMES[order[pd.Timestamp(c)]] for c in rows["checkpoint"]],
            "date": [f"{pd.Timestamp(c):%-d %B %Y}" for c in rows["checkpoint"]],
            "short_date": [f"{pd.Timestamp(c):%-d %b %Y}" for c in rows["checkpoint"]],
            "verdict": rows["verdict"].to_numpy(),
            "reason": rows["reason"].to_numpy(),
            "evidence": evidence,
            "group": [GROUPS[groups[p]] for p in rows["proposition"]],
            "href": [f"#proposition-{int(p)}" for p in rows["proposition"]],
            "source_id": rows["source_id"].to_numpy(),
        }
    )
    shown.attrs["dataset"] = "verdict_history"
    group_order = list(GROUPS.values())
    shown["_order"] = [group_order.index(g) for g in shown["group"]]
    return (
        shown.sort_values(["_order", "proposition", "step"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def groups(shown: pd.DataFrame | None = None) -> dict[str, list[int]]:
    """The propositions in each group (groups with none included, as empty lists)."""
    shown = frame() if shown is None else shown
    return {
        label: sorted(set(shown.loc[shown["group"] == label, "proposition"]))
        for label in GROUPS.values()
    }


def moves(shown: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each change of verdict between two checkpoints: proposition, when, from, to, why, evidence."""
    shown = frame() if shown is None else shown
    found = []
    for p, g in shown.sort_values("step").groupby("proposition"):
        previous = None
        for _, r in g.iterrows():
            if previous is not None and r["verdict"] != previous["verdict"]:
                found.append(
                    {
                        "proposition": p,
                        "checkpoint": r["checkpoint"],
                        "when": r["date"],
                        "from": previous["verdict"],
                        "to": r["verdict"],
                        "reason": r["reason"],
                        "evidence": r["evidence"],
                    }
                )
            previous = r
    columns = ["proposition", "checkpoint", "when", "from", "to", "reason", "evidence"]
    return pd.DataFrame(found, columns=columns).sort_values(["checkpoint", "proposition"])


def chart(title: str, subtitle: str | None = None, name: str | None = None):
    """A row per proposition, a column per checkpoint, each mark coloured and shaped by the
    verdict then; propositions grouped by how their verdicts moved (through ``charts.finish``)."""
    import altair as alt

    from . import charts, theme

    shown = frame()
    dates = shown.drop_duplicates("step").sort_values("step")
    lines = json.dumps({w: [w, d] for w, d in zip(dates["when"], dates["short_date"])})
    # On a phone's column the five heads keep only month and year, on two short lines.
    narrow = json.dumps({w: d.split()[-2:] for w, d in zip(dates["when"], dates["short_date"])})
    colour = alt.Color(
        "verdict:N",
        title="Verdict",
        scale=alt.Scale(
            domain=verdicts.VERDICTS, range=[theme.VERDICT_COLOURS[v] for v in verdicts.VERDICTS]
        ),
        legend=alt.Legend(orient="top", direction="horizontal", columns=2, symbolSize=140),
    )
    shape = alt.Shape("verdict:N", title="Verdict", scale=alt.Scale(domain=verdicts.VERDICTS))
    tooltip = [
        alt.Tooltip("proposition:Q", title="Proposition"),
        alt.Tooltip("wording:N", title="Wording"),
        alt.Tooltip("date:N", title="As the evidence stood on"),
        alt.Tooltip("verdict:N", title="Verdict"),
        alt.Tooltip("reason:N", title="Why"),
        alt.Tooltip("evidence:N", title="Evidence"),
    ]
    panels = []
    present = [g for g in GROUPS.values() if g in set(shown["group"])]
    for index, group in enumerate(present):
        first = index == 0
        x_axis = alt.Axis(
            orient="top",
            labelAngle=0,
            labelExpr=f"width < 330 ? {narrow}[datum.label] : {lines}[datum.label]",
            labelFontSize=10,
            labelLimit=120,
            labelBaseline="line-bottom",
            labelPadding=6,
            domain=False,
            ticks=False,
            labels=first,
        )
        y_axis = alt.Axis(
            labelExpr="'No. ' + datum.label",
            domain=False,
            ticks=False,
            grid=True,
            gridColor="#DDDDDD",
        )
        rows = shown[shown["group"] == group]
        panel = (
            alt.Chart(rows)
            .mark_point(filled=True, size=170, opacity=1, cursor="pointer")
            .encode(
                x=alt.X("when:N", title=None, sort=list(dates["when"]), axis=x_axis),
                y=alt.Y("proposition:O", title=None, sort=None, axis=y_axis),
                color=colour,
                shape=shape,
                href="href:N",
                tooltip=tooltip,
            )
            .properties(
                width=theme.WIDTH - 150,
                height=alt.Step(22),
                title=alt.Title(
                    group,
                    anchor="start",
                    frame="bounds",
                    fontSize=12,
                    fontWeight=600,
                    color=theme.INK,
                    offset=6,
                ),
            )
        )
        panels.append(panel)
    grid = alt.vconcat(*panels, spacing=12).resolve_scale(color="shared", shape="shared")
    counts = {g: len(n) for g, n in groups(shown).items()}
    description = (
        f"Grid of {shown['proposition'].nunique()} propositions by {len(dates)} dates "
        f"({', '.join(f'{w} ({d})' for w, d in zip(dates['when'], dates['date']))}), "
        "each mark coloured and shaped by the verdict the evidence then supported. "
        + "; ".join(
            f"{g}: {n} ({', '.join(str(p) for p in groups(shown)[g])})"
            for g, n in counts.items()
            if n
        )
        + "."
    )
    return charts.finish(
        grid,
        title=title,
        subtitle=subtitle,
        description=description,
        sources=shown,
        name=name,
    )


def summary(shown: pd.DataFrame | None = None) -> str:
    """The groups and the moves in one paragraph of prose, every number read from the data."""
    from .text import listing
    from .verdicts import number_words

    shown = frame() if shown is None else shown
    found = groups(shown)
    total = shown["proposition"].nunique()
    parts = [
        f"{number_words(len(numbers))} {label[:1].lower()}{label[1:]} ({listing(numbers)})"
        for label, numbers in found.items()
        if numbers
    ]
    text = f"Of the {number_words(total)} propositions, {listing(parts)}."
    moved = moves(shown)
    if moved.empty:
        return text + " No verdict moved between the dates."
    by_date = []
    for when, rows in moved.groupby("when", sort=False):
        numbers = listing(sorted(int(p) for p in rows["proposition"]))
        by_date.append(f"{numbers} by {when}")
    many = len(moved) != 1
    return (
        text
        + f" {number_words(len(moved)).capitalize()} verdict{'s' if many else ''} moved between "
        f"the dates, {'those of propositions' if many else 'that of proposition'} "
        f"{listing(by_date)}; the table under the chart gives the reason and the evidence for each."
    )


def summary_paragraph(shown: pd.DataFrame | None = None):
    """:func:`summary` as a paragraph, displayed as the last expression of a notebook cell."""
    import html

    from IPython.display import HTML

    return HTML(f"<p>{html.escape(summary(shown))}</p>")
