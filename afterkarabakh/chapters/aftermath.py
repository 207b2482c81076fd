"""Charts of the chapter "After the commentary: October 2023 to 2026" (chapters/aftermath.ipynb)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import data, maps, theme, verdicts

#: The period the chapter follows: from the commentary's publication (October 2023, dated by its
#: summary in the source registry) to the day the data stop.
PERIOD_START = verdicts.commentary_date()
PERIOD_END = data.as_of()

#: The map frame: Armenia, Nakhchivan and the Azerbaijani districts along the Syunik border.
SYUNIK_EXTENT = (43.2, 38.55, 47.35, 41.45)

PRESENT = "Russian presence continues"
ENDED = "Ended 2024–2025 (handed over or withdrawn)"


def period_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events from the commentary's publication on, in date order."""
    return events[events["date"] >= PERIOD_START].sort_values("date").reset_index(drop=True)


def active_on(deployments: pd.DataFrame, day) -> pd.DataFrame:
    """Installations and missions under way on ``day`` (started on or before it, not yet ended)."""
    day = pd.Timestamp(day)
    ended = deployments["end_date"].notna() & (deployments["end_date"] <= day)
    return deployments[(deployments["start_date"] <= day) & ~ended]


def presence_series(deployments: pd.DataFrame) -> pd.DataFrame:
    """A step series: how many Russian installations and missions were active, at each change.

    One row at the start of the period, one per end date inside it (the name of what ended is
    kept for the tooltip), and one at the end of the period.
    """
    ends = deployments[deployments["end_date"].between(PERIOD_START, PERIOD_END)].sort_values(
        "end_date"
    )
    rows = [{"date": PERIOD_START, "change": "The commentary is published", "source_id": None}]
    for day, group in ends.groupby("end_date", sort=True):
        rows.append(
            {
                "date": day,
                "change": "; ".join(group["name"]),
                "source_id": group["source_id"].iloc[0],
            }
        )
    rows.append({"date": PERIOD_END, "change": "End of the data", "source_id": None})
    series = pd.DataFrame(rows)
    series["active"] = series["date"].map(lambda d: len(active_on(deployments, d)))
    return series


def presence_chart(series: pd.DataFrame) -> alt.LayerChart:
    """Step line of the count, a dot and tooltip at each change."""
    colour = theme.ACTOR_COLOURS["Russia"]
    base = alt.Chart(series).encode(
        x=alt.X("date:T", title="Date", axis=alt.Axis(format="%b %Y", tickCount=8)),
        y=alt.Y(
            "active:Q",
            title="Russian installations and missions (count)",
            scale=alt.Scale(domainMin=0),
            axis=alt.Axis(tickMinStep=1),
        ),
    )
    return alt.layer(
        base.mark_line(interpolate="step-after", color=colour, strokeWidth=2.5),
        base.mark_point(filled=True, size=70, color=colour).encode(
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("active:Q", title="Active from this date"),
                alt.Tooltip("change:N", title="What ended"),
            ]
        ),
    ).properties(width=theme.WIDTH, height=260)


def presence_places(deployments: pd.DataFrame, gazetteer: pd.DataFrame) -> pd.DataFrame:
    """One map point per place of a Russian installation, with what is there and its status."""
    frame = deployments.assign(ended=deployments["status_2026"] != "active")
    frame["line"] = frame["name"] + " (" + frame["status_2026"].str.replace("-", " ") + ")"
    per_place = (
        frame.groupby("place_id")
        .agg(
            what=("line", "; ".join),
            any_active=("ended", lambda s: not s.all()),
            source_id=("source_id", "first"),
        )
        .reset_index()
    )
    per_place["status"] = per_place["any_active"].map({True: PRESENT, False: ENDED})
    return per_place.merge(gazetteer[["place_id", "label", "lon", "lat"]], on="place_id")


def transit_map(
    route: pd.DataFrame, presence: pd.DataFrame, gazetteer: pd.DataFrame, hide_labels=()
) -> alt.LayerChart:
    """Armenia's borders, the schematic TRIPP line and the Russian sites, handed over or not."""
    line = route.merge(gazetteer[["place_id", "label", "lon", "lat"]], on="place_id").sort_values(
        "order"
    )
    line = line.assign(line_id="tripp", route="TRIPP, schematic: towns on the old railway line")
    presence = presence.assign(
        map_label=presence["label"].where(~presence["place_id"].isin(hide_labels), "")
    )
    status_colours = alt.Scale(
        domain=[PRESENT, ENDED],
        range=[theme.ACTOR_COLOURS["Russia"], theme.ACTOR_COLOURS["Armenia"]],
    )
    towns = line[~line["place_id"].isin(presence["place_id"])].assign(
        map_label=lambda f: f["label"]
    )
    # Labels are placed by maps.compose, clear of each other, the line and the points, at every width.
    return maps.compose(
        maps.base_map(extent=SYUNIK_EXTENT, height=470),
        maps.lines(
            line,
            colour=theme.INK,
            dash=[6, 3],
            tooltip=[
                alt.Tooltip("route:N", title="Route"),
                alt.Tooltip("label:N", title="Place"),
                alt.Tooltip("note:N", title="Note"),
            ],
        ),
        maps.points(
            towns,
            size=40,
            label="map_label",
            tooltip=[
                alt.Tooltip("label:N", title="Place"),
                alt.Tooltip("note:N", title="On the route"),
            ],
        ),
        maps.points(
            presence,
            label="map_label",
            size=90,
            colour=alt.Color(
                "status:N",
                scale=status_colours,
                title="Russian installations",
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=320),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Place"),
                alt.Tooltip("status:N", title="Status when the data stop"),
                alt.Tooltip("what:N", title="Installations"),
            ],
        ),
        extent=SYUNIK_EXTENT,
    )


def places_drawn() -> set[str]:
    """The places the map of the transit route marks: the towns on its line and the sites of
    Russian installations (for the gazetteer's "Used in")."""
    gazetteer = maps.places()
    presence = presence_places(data.load("russian_deployments_armenia"), gazetteer)
    return set(data.load("tripp_route_schematic")["place_id"]) | set(presence["place_id"])


def levers_in_prose() -> dict[str, str]:
    """What the levers chapter finds, in words, for the sentence that points to it
    (:func:`afterkarabakh.chapters.levers.in_prose`)."""
    from . import levers  # here, not at the top: the levers module imports chapter modules

    return levers.in_prose()
