"""Tables and charts of the peacekeeping chapter (chapters/peacekeeping.ipynb)."""

from __future__ import annotations

import altair as alt
import pandas as pd
from shapely.geometry import MultiPoint

from .. import charts, data, maps, theme


def corridor_map(route: pd.DataFrame, zone: pd.DataFrame):
    """The Lachin corridor and the towns of the peacekeeping zone, with the rows it draws
    (``shown``, ``route_points``, ``zone_places``) for the description and the source line."""
    gazetteer = maps.places()
    route_points = route.merge(
        gazetteer[["place_id", "lon", "lat", "label"]], on="place_id", how="left"
    )
    route_points["route"] = route_points["line_id"].map(
        {
            "lachin-corridor-2020": "Corridor road, Nov 2020 – Aug 2022",
            "lachin-corridor-2022": "Corridor road from Aug 2022",
        }
    )
    zone_places = zone.dropna(subset=["place_id"]).merge(
        gazetteer[["place_id", "lon", "lat", "label"]], on="place_id", how="left"
    )
    zone_places["status"] = zone_places["status"].str.replace("_", " ")
    zone_places["area_type"] = zone_places["area_type"].str.replace("_", " ")
    shown = pd.concat(
        [
            zone_places[["label", "lon", "lat", "status", "note", "source_id"]],
            route_points[~route_points["place_id"].isin(zone_places["place_id"])]
            .drop_duplicates("place_id")
            .assign(status="on the corridor route")[
                ["label", "lon", "lat", "status", "note", "source_id"]
            ],
        ]
    ).drop_duplicates("label")
    # Tegh sits next to Kornidzor: marked, but only named in its tooltip.
    shown["map_label"] = shown["label"].where(shown["label"] != "Tegh", "")
    # The zone itself was never mapped: its schematic outline is the hull of the towns the sources
    # place inside it, drawn dashed and labelled as such.
    inside = zone_places[zone_places["status"] == "inside"]
    import geopandas as gpd  # here, not with the module: the gazetteer imports it for its places

    zone_outline = gpd.GeoDataFrame(
        {"name": ["Peacekeeping zone, schematic: outline joining the towns reported inside it"]},
        geometry=[MultiPoint(list(zip(inside["lon"], inside["lat"]))).convex_hull.buffer(0.04)],
        crs=4326,
    )
    nk_extent = (45.7, 38.95, 47.6, 40.55)
    route_colours = alt.Scale(
        domain=list(route_points["route"].unique()),
        range=[theme.ACTOR_COLOURS["Russia"], theme.INK],
    )
    nk_map = maps.compose(
        maps.base_map(
            extent=nk_extent,
            height=460,
            keep_labels_off=maps.nagorno_karabakh_1994_2020().geometry.union_all().buffer(0.05),
        ),
        maps.polygons(
            maps.nagorno_karabakh_1994_2020(),
            colour=theme.INK,
            opacity=0.10,
            dash=[4, 3],
            tooltip=["name"],
            extent=nk_extent,
        ),
        maps.polygons(
            zone_outline,
            colour=theme.ACTOR_COLOURS["Russia"],
            opacity=0.08,
            dash=[2, 4],
            tooltip=["name"],
            extent=nk_extent,
        ),
        maps.lines(
            route_points,
            colour=theme.ACTOR_COLOURS["Russia"],
            group="line_id",
            tooltip=[alt.Tooltip("route:N", title="Route"), alt.Tooltip("note:N", title="Note")],
        ).encode(
            color=alt.Color(
                "route:N",
                scale=route_colours,
                title="Lachin corridor (schematic)",
                legend=alt.Legend(labelLimit=260, titleLimit=260),
            ),
            strokeDash=alt.StrokeDash("route:N", legend=None),
        ),
        maps.points(
            shown,
            label="map_label",
            tooltip=[
                alt.Tooltip("label:N", title="Place"),
                alt.Tooltip("status:N", title="Relation to the zone"),
                alt.Tooltip("note:N", title="Note"),
            ],
        ),
        extent=nk_extent,
    )
    return nk_map, shown, route_points, zone_places


def casualty_claims(casualties: pd.DataFrame) -> pd.DataFrame:
    """One row per casualty claim (killed, wounded, missing), labelled by side, claimant and date."""
    view = casualties[casualties["category"].isin(["killed", "wounded", "missing"])].copy()
    view["value_high"] = view["value_high"].fillna(view["value_low"])
    view["figure"] = view["side"] + ": " + view["category"] + " (" + view["status"] + ")"
    view["claimant_actor"] = view["claimant"].map(theme.actor_of_claimant)
    view["claim"] = (
        view["claimant"].str.split(" \\(").str[0]
        + ", "
        + view["claim_date"].dt.strftime("%-d %b %Y").fillna("undated")
    )
    return view.sort_values(["side", "category", "status", "claim_date"])


def casualty_chart(view: pd.DataFrame):
    return charts.persons_claimed(
        view, category="figure", note="note", label_room=260, key="claim_id"
    )


def exodus_chart(timed: pd.DataFrame, untimed: pd.DataFrame, official: pd.DataFrame):
    """Cumulative arrivals as a step line, timed announcements filled, untimed ones hollow (placed at
    noon, set on ``untimed`` in place), against a dashed rule at the pre-offensive population."""
    untimed["when"] = untimed["reported_at"] + pd.Timedelta(hours=12)
    step = (
        alt.Chart(timed)
        .mark_line(interpolate="step-after", color=theme.ACTOR_COLOURS["Armenia"])
        .encode(
            x=alt.X(
                "when:T",
                title="Time of the announcement (Armenian time)",
                axis=alt.Axis(format="%-d %b"),
            ),
            y=alt.Y("cumulative_arrivals:Q", title="People arrived in Armenia (cumulative)"),
        )
    )
    tip = [
        alt.Tooltip("reported_at:T", title="Date", format="%-d %b %Y"),
        alt.Tooltip("reported_time:N", title="Time"),
        alt.Tooltip("cumulative_arrivals:Q", title="Arrivals so far", format=","),
        alt.Tooltip("reported_by:N", title="Reported by"),
        alt.Tooltip("note:N", title="Note"),
    ]
    dots = (
        alt.Chart(timed)
        .mark_point(filled=True, size=45, color=theme.ACTOR_COLOURS["Armenia"])
        .encode(x="when:T", y="cumulative_arrivals:Q", tooltip=tip)
    )
    open_dots = (
        alt.Chart(untimed)
        .mark_point(size=60, color=theme.ACTOR_COLOURS["Armenia"])
        .encode(x="when:T", y="cumulative_arrivals:Q", tooltip=tip)
    )
    population_rule = (
        alt.Chart(official)
        .mark_rule(strokeDash=[5, 3], color=theme.MUTED_INK)
        .encode(
            y="low:Q",
            tooltip=[
                alt.Tooltip("claimant:N", title="Population before the offensive, per"),
                alt.Tooltip("low:Q", title="People", format=","),
            ],
        )
    )
    population_label = (
        alt.Chart(official)
        .mark_text(align="left", dy=-7, fontSize=10, color=theme.MUTED_INK)
        .encode(
            y="low:Q",
            x=alt.value(4),
            text=alt.value("Population before the offensive (Armenian government)"),
        )
    )
    return alt.layer(population_rule, population_label, step, dots, open_dots).properties(
        height=300
    )


def missions_frame(missions: pd.DataFrame) -> pd.DataFrame:
    """One row per Russian-led mission, labelled for the Gantt chart."""
    return missions.assign(
        mission=missions["territory"].str.split(" \\(").str[0]
        + " ("
        + missions["start_date"].dt.strftime("%Y")
        + ")",
        recognition=missions["recognised_host_sovereignty_at_deployment"].map(
            {
                True: "Russia recognised the host state's sovereignty when it deployed",
                False: "Russia did not recognise the host state's sovereignty",
            }
        ),
        strength=missions["authorised_strength"].map(lambda v: "" if pd.isna(v) else f"{v:,.0f}"),
    )


def missions_gantt(missions_view: pd.DataFrame):
    return charts.gantt(
        missions_view,
        start="start_date",
        end="end_date",
        row="mission",
        colour=alt.value(theme.ACTOR_COLOURS["Russia"]),
        row_title=None,
        height_per_row=30,
        tooltip=[
            alt.Tooltip("name:N", title="Mission"),
            alt.Tooltip("territory:N", title="Where"),
            alt.Tooltip("start_date:T", title="From", format="%-d %b %Y"),
            alt.Tooltip("end_date:T", title="To", format="%b %Y"),
            alt.Tooltip("legal_basis:N", title="Legal basis"),
            alt.Tooltip("international_mandate:N", title="International mandate"),
            alt.Tooltip("strength:N", title="Authorised strength"),
            alt.Tooltip("outcome:N", title="Outcome"),
            alt.Tooltip("recognition_note:N", title="Recognition"),
        ],
    )


BLOCKADE_LANES = ["Azerbaijani side", "Aid convoys and Armenia", "Courts and the UN"]


def blockade_lane(actor: str) -> str:
    """Which of the timeline's three rows an actor of the blockade belongs to."""
    if "Red Cro" in actor or "ICRC" in actor or actor.startswith("Government of Armenia"):
        return "Aid convoys and Armenia"
    if "Court" in actor or actor.startswith("UN "):
        return "Courts and the UN"
    return "Azerbaijani side"


def blockade_timeline(blockade: pd.DataFrame):
    """The blockade's dated steps in three rows: the Azerbaijani side, aid and Armenia, the courts and the UN."""
    lane_colours = alt.Scale(
        domain=BLOCKADE_LANES,
        range=[
            theme.ACTOR_COLOURS["Azerbaijan"],
            theme.ACTOR_COLOURS["Armenia"],
            theme.ACTOR_COLOURS["EU and the West"],
        ],
    )
    return charts.timeline(
        blockade.assign(lane=blockade["actor"].map(blockade_lane)),
        row="lane",
        order=BLOCKADE_LANES,
        colour=lane_colours,
        height=150,
    )


def claims_table(claims: pd.DataFrame) -> pd.DataFrame:
    """Armenia's acts and statements on Karabakh's status, dated as precisely as each source allows."""
    formats = {"day": "%-d %b %Y", "month": "%b %Y", "year": "%Y"}
    view = claims.assign(
        date=[d.strftime(formats[p]) for d, p in zip(claims["date"], claims["date_precision"])]
    )[["date", "actor", "kind", "bearing", "what_it_says"]]
    view.columns = ["Date", "Who", "Kind", "Bearing", "What it says about Karabakh"]
    return view


def claims_summary(claims: pd.DataFrame) -> str:
    """One line for the key-figure check: the rows, and the formal acts that point toward a claim."""
    toward = claims[claims["formal_act"] & (claims["bearing"] == "toward a claim")]
    return (
        f"Armenia and Karabakh: {len(claims)} acts and statements, {len(toward)} formal acts "
        f"toward a claim ({', '.join(toward['date'].dt.strftime('%Y'))})"
    )


def places_drawn() -> set[str]:
    """The towns the corridor map marks: the corridor's two routes and the towns of the zone
    (for the gazetteer's "Used in")."""
    route, zone = data.load("corridor_route"), data.load("peacekeeping_zone_schematic")
    return set(route["place_id"]) | set(zone["place_id"].dropna())
