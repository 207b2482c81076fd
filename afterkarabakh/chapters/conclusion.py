"""Tables and charts of the chapter "Conclusion: was it a defeat for Russia too?" (chapters/conclusion.ipynb).

The verdict chart and the cards of the twenty tests live in :mod:`afterkarabakh.verdicts`, which
every chapter uses; this module holds what only the conclusion shows: the record of Western and
Russian responses to Azerbaijan (proposition 3), and Moscow's dealings with Baku, the evidence on
the rival reading of its conduct ("could not, or would not?") and on proposition 12.
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


# --- "Could not, or would not?": Moscow's dealings with Baku (the rival reading) --------------------

#: The lanes of the relations timeline: which reading each step fits, in the order the prose weighs them.
#: Steps of Moscow's dealings with Baku whose dates the prose gives (glued as d_<relation_id>).
DEALINGS_IN_PROSE = [
    "2020-10-07-duty-ends-at-armenia",
    "2021-01-30-joint-monitoring-centre",
    "2022-02-22-allied-interaction-declaration",
    "2022-09-13-appeal-unanswered",
    "2024-08-18-putin-state-visit",
    "2024-12-25-azal-crash",
    "2025-06-27-yekaterinburg-raids",
    "2025-08-08-washington-without-russia",
    "2025-10-09-putin-admits-missiles",
]

READING_LABELS = {
    "would not": "'Would not' (chose)",
    "could not": "'Could not' (unable)",
    "either": "Either reading",
    "bargain did not hold": "Bargain did not hold",
}


def relations_timeline(relations: pd.DataFrame) -> alt.VConcatChart:
    """Russia's dealings with Azerbaijan (and Turkey) on a zoomable timeline, one lane per reading.

    The lanes are readings, not actors, so they share the book's ink rather than an actor's colour;
    the actor is named in each step's tooltip."""
    frame = relations.assign(
        title=relations["event"],
        description=relations["actor"] + ": " + relations["what_it_shows"],
    )
    order = [READING_LABELS[r] for r in READING_LABELS if r in set(frame["reading"])]
    ink = alt.Scale(domain=order, range=[theme.INK] * len(order))
    return charts.timeline(
        frame, row="reading", row_labels=READING_LABELS, colour=ink, order=order, height=220
    )


def reading_counts(relations: pd.DataFrame) -> dict[str, int]:
    """How many steps fit each reading, in the order of :data:`READING_LABELS` (zeros kept)."""
    return {r: int((relations["reading"] == r).sum()) for r in READING_LABELS}


def trade_gains(monthly: pd.DataFrame, reported: pd.DataFrame) -> dict[str, float]:
    """What Russia's trade with Armenia was worth after 2022, from the trade chapter's data:
    Armenia's exports to Russia in 2021 and 2023 (US$ million, summed from ArmStat's monthly rows),
    Russian precious metals and stones imported by Armenia in 2024, and Moscow's own figures for
    turnover in 2024 and its forecast for 2025 (US$ billion, as reported)."""
    from .trade import annual_trade_with_russia

    annual = annual_trade_with_russia(monthly).set_index("year")
    claims = reported.set_index("claim_id")["value_usd_bn"].astype(float)
    return {
        "exports_2021_m": float(annual.loc[2021, "exports"]),
        "exports_2023_m": float(annual.loc[2023, "exports"]),
        "precious_2024_bn": float(claims["armstat-2024-imports-precious"]),
        "turnover_2024_bn": float(claims["russia-2024-turnover"]),
        "turnover_2025_forecast_bn": float(claims["russia-2025-turnover-forecast"]),
    }


def lanes_summary(relations: pd.DataFrame) -> str:
    """The lanes in words ("'Would not' (chose), 10 steps, October 2020 to October 2025; ..."), for a chart description."""
    parts = []
    for reading, label in READING_LABELS.items():
        steps = relations[relations["reading"] == reading]
        if len(steps):
            parts.append(
                f"{label}, {len(steps)} steps, {steps['date'].min():%B %Y} to {steps['date'].max():%B %Y}"
            )
    return "; ".join(parts)
