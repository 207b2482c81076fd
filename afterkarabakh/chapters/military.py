"""Tables and charts of the military chapter (chapters/military.ipynb)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts, data, maps, text, theme

STATUS_LABELS = {
    "active": "Still present in 2026",
    "handed-over": "Handed over to Armenia",
    "withdrawn": "Withdrawn",
}
QUESTION_LABELS = {
    "relations_good": "IRI: relations with Russia are good",
    "relations_bad": "IRI: relations with Russia are bad",
    "political_partner": "IRI: Russia is a main political partner",
    "security_partner": "IRI: Russia is a main security partner",
    "political_threat": "IRI: Russia is a main political threat",
    "main_friend": "CRRC: Russia is Armenia's main friend",
}


def deployments_frame(
    deployments: pd.DataFrame,
    personnel: pd.DataFrame,
    deployment_events: pd.DataFrame,
    gazetteer: pd.DataFrame,
    status_labels=STATUS_LABELS,
) -> pd.DataFrame:
    """One row per installation, with its place, status in 2026, personnel range and dates as labels."""
    deployments_view = deployments.merge(
        gazetteer[["place_id", "lon", "lat", "label"]], on="place_id", how="left"
    )
    deployments_view["status"] = deployments_view["status_2026"].map(status_labels)
    ranges = personnel.groupby("deployment_id").agg(
        low=("personnel_low", "min"),
        high=("personnel_high", "max"),
        estimates=("estimate_id", "count"),
    )
    deployments_view = deployments_view.merge(
        ranges, left_on="deployment_id", right_index=True, how="left"
    )
    deployments_view["personnel"] = deployments_view.apply(
        lambda r: (
            "no open estimate"
            if pd.isna(r["low"])
            else (
                f"{r['low']:,.0f}" if r["low"] == r["high"] else f"{r['low']:,.0f}–{r['high']:,.0f}"
            )
            + f" ({r['estimates']:.0f} estimate{'s' if r['estimates'] > 1 else ''})"
        ),
        axis=1,
    )
    deployments_view["from"] = deployments_view["start_date"].dt.strftime("%Y")
    end_status = deployments_view["end_event_id"].map(
        deployment_events.set_index("event_id")["status"]
    )
    deployments_view["until"] = deployments_view["end_date"].dt.strftime("%-d %b %Y").fillna(
        "present"
    ) + end_status.map({"announced": " (date announced)"}).fillna("")
    return deployments_view


def status_scale(status_labels=STATUS_LABELS) -> alt.Scale:
    return alt.Scale(
        domain=list(status_labels.values()),
        range=[theme.ACTOR_COLOURS["Russia"], theme.ACTOR_COLOURS["Armenia"], theme.MUTED_INK],
    )


def deployment_map(in_armenia: pd.DataFrame, gazetteer: pd.DataFrame, status_scale: alt.Scale):
    """The map of Russian installations in Armenia (sets points at one place side by side, in place)."""
    # Installations at the same place are set side by side so that each stays visible.
    in_armenia["rank"] = in_armenia.groupby("place_id").cumcount()
    in_armenia["lon"] = in_armenia["lon"] + in_armenia["rank"] * 0.09
    armenia_extent = (43.3, 38.75, 46.9, 41.35)
    return maps.compose(
        maps.base_map(extent=armenia_extent, height=440),
        maps.points(
            in_armenia,
            label=None,
            size=120,
            colour=alt.Color(
                "status:N",
                scale=status_scale,
                title="Status in 2026",
                legend=alt.Legend(labelLimit=240),
            ),
            shape=alt.Shape("type:N", title="Type"),
            tooltip=[
                alt.Tooltip("name:N", title="Installation"),
                alt.Tooltip("label:N", title="Place"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("from:N", title="Since"),
                alt.Tooltip("until:N", title="Until"),
                alt.Tooltip("personnel:N", title="Personnel"),
            ],
        ),
        # Erebuni and Zvartnots sit beside Yerevan: named in tooltips only, to keep labels legible.
        maps.points(
            gazetteer[
                gazetteer["place_id"].isin(in_armenia["place_id"])
                & ~gazetteer["place_id"].isin(["erebuni", "zvartnots"])
            ].drop_duplicates("place_id"),
            label="label",
            size=0,
            tooltip=[alt.Tooltip("label:N", title="Place")],
            dx=10,
            dy=-10,
        ),
        extent=armenia_extent,
    )


def deployments_timeline(
    deployments_view: pd.DataFrame, agreements: pd.DataFrame, status_scale: alt.Scale
):
    """Agreements as diamonds over a Gantt chart of the installations."""
    gantt_rows = deployments_view.assign(row=deployments_view["name"].str.split(" \\(").str[0])
    timeline_chart = charts.gantt(
        gantt_rows,
        start="start_date",
        end="end_date",
        row="row",
        colour=alt.Color(
            "status:N",
            scale=status_scale,
            title="Status in 2026",
            legend=alt.Legend(labelLimit=240),
        ),
        tooltip=[
            alt.Tooltip("name:N", title="Installation"),
            alt.Tooltip("from:N", title="Since"),
            alt.Tooltip("until:N", title="Until"),
            alt.Tooltip("personnel:N", title="Personnel"),
            alt.Tooltip("notes:N", title="Note"),
        ],
        height_per_row=22,
    )
    agreement_marks = (
        alt.Chart(agreements.assign(row="Agreements (signature)"))
        .mark_point(shape="diamond", filled=True, size=110, color=theme.INK)
        .encode(
            x=alt.X("date_signed:T", title="Year"),
            y=alt.Y("row:N", title=None, axis=alt.Axis(labelLimit=theme.LABEL_ROOM + 60)),
            tooltip=[
                alt.Tooltip("title:N", title="Agreement"),
                alt.Tooltip("date_signed:T", title="Signed", format="%-d %b %Y"),
                alt.Tooltip("term:N", title="Term"),
                alt.Tooltip("covers:N", title="Covers"),
            ],
        )
        .properties(width=theme.WIDTH - theme.LABEL_ROOM, height=24)
    )
    return alt.vconcat(agreement_marks, timeline_chart, spacing=4).resolve_scale(x="shared")


def presence_chart(presence: pd.DataFrame):
    """Dot chart of dated changes in Russia's presence, one row per post-Soviet state, Armenia first
    (adds a ``source`` column to ``presence``, in place)."""
    order = ["Armenia"] + sorted(s for s in presence["state"].unique() if s != "Armenia")
    change_scale = alt.Scale(
        domain=list(theme.PRESENCE_CHANGE_COLOURS),
        range=list(theme.PRESENCE_CHANGE_COLOURS.values()),
    )
    presence["source"] = presence["source_id"].map(data.citation)
    return (
        alt.Chart(presence)
        .mark_point(filled=True, size=90, opacity=0.85, strokeWidth=1.5)
        .encode(
            x=alt.X("date:T", title="Year", axis=alt.Axis(format="%Y")),
            y=alt.Y("state:N", sort=order, title=None),
            color=alt.Color("change:N", scale=change_scale, title="Russian military presence"),
            fill=alt.condition(
                alt.datum.status == "happened",
                alt.Color("change:N", scale=change_scale, title="Russian military presence"),
                alt.value("white"),
            ),
            stroke=alt.Color("change:N", scale=change_scale, title="Russian military presence"),
            shape=alt.Shape(
                "change:N",
                scale=alt.Scale(domain=change_scale.domain, range=["triangle-up", "triangle-down"]),
                title="Russian military presence",
            ),
            tooltip=[
                alt.Tooltip("state:N", title="State"),
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("change:N", title="Change"),
                alt.Tooltip("status:N", title="Date is"),
                alt.Tooltip("description:N", title="What happened"),
                alt.Tooltip("source:N", title="Source"),
            ],
        )
        .properties(height=alt.Step(22))
    )


def opinion_series(opinion: pd.DataFrame, question_labels=QUESTION_LABELS) -> pd.DataFrame:
    """The survey answers naming Russia, one labelled series per question."""
    russia_answers = opinion[opinion["answer"] == "Russia"].copy()
    russia_answers["question"] = russia_answers["question_id"].map(question_labels)
    russia_answers["share"] = russia_answers["share_pct"].astype(float)
    russia_answers["wave"] = russia_answers["fieldwork_end"].dt.strftime("%b %Y")
    return russia_answers.dropna(subset=["question"])


def share(series: pd.DataFrame, wave: str, question: str) -> str:
    rows = series[(series["wave_id"] == wave) & (series["question_id"] == question)]["share"]
    return f"{rows.iloc[0]:.0f}"


def fieldwork(waves: pd.DataFrame, wave: str) -> str:
    w = waves.set_index("wave_id").loc[wave]
    return (
        text.date_span(w["fieldwork_start"], w["fieldwork_end"])
        if w["date_precision"] == "day"
        else f"{w['fieldwork_end']:%B %Y}"
    )


#: Deployment events and presence changes, grouped into the two directions the chart compares.
CHANGE_GROUPS = {
    "established": "arrived or grew",
    "expanded": "arrived or grew",
    "reduced": "shrank or left",
    "handed-over": "shrank or left",
    "withdrawn": "shrank or left",
    "withdrawal-agreed": "shrank or left",
    "joint-control": "shrank or left",
    "arrived": "arrived or grew",
    "grew": "arrived or grew",
    "shrank": "shrank or left",
    "left": "shrank or left",
}


def presence_changes(deployment_events: pd.DataFrame, post_soviet: pd.DataFrame) -> pd.DataFrame:
    """Armenia's deployment events (the peacekeepers aside) beside the other post-Soviet states' changes."""
    in_armenia = deployment_events["event"].isin(CHANGE_GROUPS) & (
        deployment_events["deployment_id"] != "ru-peacekeepers-karabakh"
    )
    armenia_events = deployment_events[in_armenia].assign(
        country_iso3="ARM", change=lambda f: f["event"].map(CHANGE_GROUPS)
    )
    others = post_soviet.assign(change=post_soviet["change"].map(CHANGE_GROUPS), status="happened")
    columns = ["country_iso3", "date", "change", "description", "status", "source_id"]
    presence = pd.concat([armenia_events[columns], others[columns]])
    return presence.assign(state=presence["country_iso3"].map(text.country_name))


def opinion_chart(series: pd.DataFrame, question_order: list[str]) -> alt.Chart:
    """Lines of survey shares over time, one colour per question, the wording in the tooltip."""
    colour = alt.Color(
        "question:N",
        sort=question_order,
        title=None,
        scale=alt.Scale(domain=question_order, range=theme.SERIES_COLOURS[: len(question_order)]),
        legend=alt.Legend(orient="bottom", columns=2, labelLimit=300),
    )
    return (
        alt.Chart(series)
        .mark_line(point=alt.OverlayMarkDef(filled=True, size=50))
        .encode(
            x=alt.X("fieldwork_end:T", title="End of fieldwork", axis=alt.Axis(format="%Y")),
            y=alt.Y("share:Q", title="Respondents (%)", scale=alt.Scale(domain=[0, 100])),
            color=colour,
            detail="wave_id:N",
            tooltip=[
                alt.Tooltip("question:N", title="Series"),
                alt.Tooltip("question_wording:N", title="Question"),
                alt.Tooltip("wording_note:N", title="How reported"),
                alt.Tooltip("wave:N", title="Fieldwork"),
                alt.Tooltip("share:Q", title="Share (%)"),
            ],
        )
        .encode(detail=alt.Detail("question:N"))
        .properties(height=300)
    )


def places_drawn() -> set[str]:
    """The places the map of Russian forces marks: every installation in Armenia (for the
    gazetteer's "Used in"); the peacekeepers in Karabakh are not on it."""
    deployments = data.load("russian_deployments_armenia")
    return set(deployments.loc[deployments["type"] != "peacekeepers", "place_id"].dropna())


def levers_in_prose() -> dict[str, str]:
    """What the levers chapter finds, in words, for the sentence that points to it
    (:func:`afterkarabakh.chapters.levers.in_prose`)."""
    from . import levers  # here, not at the top: the levers module imports chapter modules

    return levers.in_prose()
