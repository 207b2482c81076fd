"""Tables and charts of the chapter "Conclusion: was it a defeat for Russia too?" (chapters/conclusion.ipynb).

The verdict chart itself lives in :mod:`afterkarabakh.verdicts` so that the introduction can
reuse it; this module holds what only the conclusion shows: the deciding figures by theme and
the record of Western and Russian responses to Azerbaijan (proposition 3).
"""

from __future__ import annotations

import json

import altair as alt
import pandas as pd

from .. import charts, theme, verdicts

#: Actors of the pressure dataset counted as "the West" (France keeps its own colour on the timeline).
WESTERN = ("EU and the West", "France")

#: What a step did, from the two flags of the dataset, in the order the bar chart shows them.
EFFECTS = [
    "Warned, condemned or reassured",
    "Called for sanctions or aid cuts",
    "Took effect against Azerbaijan",
    "Took effect in Azerbaijan's favour",
]


def deciding_table() -> pd.DataFrame:
    """Every verdict with its deciding figure, grouped by the chapter (theme) that tests it."""
    shown = verdicts.chart_frame()
    return pd.DataFrame(
        {
            "Chapter (theme)": shown["theme"],
            "#": shown["proposition"],
            "Verdict": shown["verdict"].str.capitalize(),
            "Deciding figure": shown["figure"],
            "Why": shown["reason"],
        }
    )


def closest_calls() -> pd.DataFrame:
    """The propositions the book finds only partly supported, in the order of the chart."""
    shown = verdicts.chart_frame()
    return shown[shown["verdict"] == "partly supported"].reset_index(drop=True)


def effect(row: pd.Series) -> str:
    """One of :data:`EFFECTS` for a row of the pressure dataset."""
    if row["took_effect"]:
        return EFFECTS[3] if row["kind"] == "waiver" else EFFECTS[2]
    return EFFECTS[1] if row["calls_for_sanctions"] else EFFECTS[0]


def pressure_timeline(pressure: pd.DataFrame) -> alt.VConcatChart:
    """The responses to Azerbaijan on a zoomable timeline, one lane per side."""
    frame = pressure.copy()
    frame["title"] = (
        frame["body"]
        + ": "
        + frame["kind"]
        + frame.apply(
            lambda r: (
                " (calls for sanctions)"
                if r["calls_for_sanctions"]
                else (" (took effect)" if r["took_effect"] else "")
            ),
            axis=1,
        )
    )
    frame["description"] = frame["summary"]
    order = [a for a in theme.ACTOR_COLOURS if a in set(frame["actor"])]
    return charts.timeline(
        frame, row="actor", colour=theme.actor_scale(frame["actor"]), order=order, height=200
    )


def effects_frame(pressure: pd.DataFrame) -> pd.DataFrame:
    """Western and Russian steps (Azerbaijan's own replies left out), each with what it did and its
    place in a stacked bar (one unit per step), so every segment keeps its own source."""
    frame = pressure[pressure["actor"] != "Azerbaijan"].sort_values("date").copy()
    frame["side"] = frame["actor"].map(lambda a: "EU and the West" if a in WESTERN else a)
    frame["effect"] = frame.apply(effect, axis=1)
    frame["end"] = frame.groupby(["side", "effect"]).cumcount() + 1
    frame["start"] = frame["end"] - 1
    return frame.reset_index(drop=True)


def effects_chart(steps: pd.DataFrame) -> alt.Chart:
    """Horizontal stacked bars: how many steps of each side did what, one segment per step."""
    return (
        alt.Chart(steps)
        .mark_bar(height=14, stroke="white", strokeWidth=1.5)
        .encode(
            y=alt.Y(
                "effect:N",
                title=None,
                sort=EFFECTS,
                scale=alt.Scale(domain=EFFECTS),
                # Two short lines each, so a phone's column shows them whole.
                axis=alt.Axis(
                    labelExpr=f"{json.dumps({e: charts.wrap_title(e, 130, 11) for e in EFFECTS})}"
                    "[datum.label]",
                    labelLimit=theme.LABEL_ROOM,
                ),
            ),
            yOffset=alt.YOffset("side:N", sort=["EU and the West", "Russia"]),
            x=alt.X(
                "start:Q", title="Steps recorded (count)", axis=alt.Axis(tickMinStep=1, format="d")
            ),
            x2="end:Q",
            color=alt.Color("side:N", title="Side", scale=theme.actor_scale(steps["side"])),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("side:N", title="Side"),
                alt.Tooltip("body:N", title="Who acted"),
                alt.Tooltip("effect:N", title="What the step did"),
                alt.Tooltip("summary:N", title="What it said or did"),
            ],
        )
        .properties(width=theme.WIDTH - theme.LABEL_ROOM - 60, height=4 * 44)
    )


def effects_summary(steps: pd.DataFrame) -> str:
    """'warned, condemned or reassured: 3, called for sanctions or aid cuts: 4, ...' for a chart description."""
    return ", ".join(f"{e.lower()}: {int((steps['effect'] == e).sum())}" for e in EFFECTS)


def figure_kinds() -> dict[str, int]:
    """How many deciding figures are dates, quantities, yes-or-no facts and terms (by field type)."""
    from .. import data

    kinds = {
        "date": "dates",
        "datetime": "dates",
        "number": "quantities",
        "integer": "quantities",
        "boolean": "yes-or-no facts",
        "string": "terms",
    }
    rows = verdicts.load().dropna(subset=["verdict"])
    found = [
        kinds[next(f.type for f in data.resource(d).schema.fields if f.name == field)]
        for d, field in zip(rows["figure_dataset"], rows["figure_field"])
    ]
    return {k: found.count(k) for k in dict.fromkeys(kinds.values())}
