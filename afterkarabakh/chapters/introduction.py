"""Tables and charts of the introduction (chapters/introduction.ipynb)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import data, maps, theme

#: Places named on the regional map; the others are marked and named in their tooltips.
LABELLED = [
    "yerevan",
    "baku",
    "tbilisi",
    "stepanakert",
    "gyumri",
    "goris",
    "lachin",
    "nakhchivan",
    "agarak",
    "upper-lars",
]


#: Kinds of place that are areas, not points: the regional map does not mark them.
AREAS = ("province", "district")


def places_on_map(places: pd.DataFrame, labelled=LABELLED) -> pd.DataFrame:
    """The gazetteer's places inside the regional map (areas apart), with their label, kind
    and citation."""
    on_map = places[
        places["lon"].between(maps.REGION_EXTENT[0], maps.REGION_EXTENT[2])
        & places["lat"].between(maps.REGION_EXTENT[1], maps.REGION_EXTENT[3])
        & ~places["kind"].isin(AREAS)
    ].copy()
    on_map["map_label"] = on_map["label"].where(on_map["place_id"].isin(labelled), "")
    on_map["source"] = on_map["source_id"].map(data.citation)
    on_map["kind"] = on_map["kind"].str.replace("-", " ")
    return on_map


def region_map(on_map: pd.DataFrame, nk) -> alt.LayerChart:
    """The South Caucasus with the places of the book and, shaded, ``nk``."""
    return maps.compose(
        maps.base_map(),
        maps.polygons(nk, colour=theme.INK, opacity=0.12, dash=[4, 3], tooltip=["name"]),
        maps.points(
            on_map,
            label="label",
            shape=alt.Shape("kind:N", title="Place", legend=alt.Legend(orient="bottom")),
            tooltip=[
                alt.Tooltip("label:N", title="Place"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("country_iso3:N", title="State (ISO code)"),
                alt.Tooltip("source:N", title="Source"),
            ],
        ),
    )


def places_drawn() -> set[str]:
    """The places the regional map marks (for the gazetteer's "Used in")."""
    return set(places_on_map(maps.places())["place_id"])
