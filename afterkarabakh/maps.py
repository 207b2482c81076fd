"""Maps drawn by Altair from the book's GeoPandas layers, in one projection.

A map is a base (states, coloured by actor where they are one, with their
names) plus overlays the chapter brings: points, lines or polygons. All layers
share the projection of :func:`projection`, so overlays always line up.

Vega draws a polygon whose outer ring runs counter-clockwise (the GeoJSON
standard's order) as "everything but this shape"; :func:`to_altair_data`
turns rings clockwise before a layer reaches Vega.
"""
from __future__ import annotations

import altair as alt
import geopandas as gpd
import pandas as pd
from shapely.geometry import box
from shapely.geometry.polygon import orient
from shapely.ops import polylabel
from shapely.geometry import MultiPolygon, Polygon

from . import data, theme

#: The South Caucasus as the book's regional maps show it (lon/lat degrees).
REGION_EXTENT = (39.5, 37.2, 51.0, 43.9)


def _layer(name: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(data.geo_path(name))
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        frame = frame.set_crs(4326, allow_override=True) if frame.crs is None else frame.to_crs(4326)
    return frame


def region() -> gpd.GeoDataFrame:
    """States of the South Caucasus and their neighbours (Natural Earth 1:10m, clipped)."""
    return _layer("south_caucasus")


def world() -> gpd.GeoDataFrame:
    """All states (Natural Earth 1:110m)."""
    return _layer("world_110m")


def nagorno_karabakh_1994_2020() -> gpd.GeoDataFrame:
    """The area under Armenian control from 1994 to 2020 (Natural Earth's polygon)."""
    return _layer("nagorno_karabakh_1994_2020")


def _clockwise(geometry):
    if isinstance(geometry, Polygon):
        return orient(geometry, sign=-1.0)
    if isinstance(geometry, MultiPolygon):
        return MultiPolygon([orient(p, sign=-1.0) for p in geometry.geoms])
    return geometry


def to_altair_data(frame: gpd.GeoDataFrame, extent=None, simplify: float | None = None) -> alt.InlineData:
    """GeoJSON features for Vega: clipped to ``extent``, optionally simplified, rings clockwise."""
    frame = frame.copy()
    if extent is not None:
        frame = frame.clip(box(*extent))
        frame = frame[~frame.geometry.is_empty]
    if simplify:
        frame["geometry"] = frame.geometry.simplify(simplify, preserve_topology=True)
    frame["geometry"] = frame.geometry.apply(_clockwise)
    features = frame.to_geo_dict(drop_id=True)["features"]
    return alt.InlineData(values=features, format=alt.DataFormat(type="json"))


def projection(extent=REGION_EXTENT) -> alt.Projection:
    """The book's map projection (Mercator, fitted to ``extent``)."""
    west, south, east, north = extent
    frame = {"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon",
        "coordinates": [[[west, south], [west, north], [east, north], [east, south], [west, south]]]}}
    return alt.Projection(type="mercator", fit=frame)


def base_map(extent=REGION_EXTENT, width: int = theme.WIDTH, height: int = 400,
             label_states: bool = True, keep_labels_off=None) -> alt.LayerChart:
    """States in the extent: actors in their colour (light), others neutral, with names.

    ``keep_labels_off`` is a geometry (e.g. an overlay polygon) that state names must avoid.
    """
    states = region()
    states["actor"] = states["iso_a3"].map(theme.actor_of)
    states["label"] = states["actor"].where(states["actor"] != "Others", states["name"])
    values = to_altair_data(states[["iso_a3", "name", "actor", "label", "geometry"]],
                            extent=extent, simplify=0.01)
    land = (
        alt.Chart(values)
        .mark_geoshape(stroke="white", strokeWidth=0.8, opacity=0.35, clip=True)
        .encode(
            color=alt.Color("properties.actor:N", scale=theme.actor_scale(states["actor"]), legend=None),
            tooltip=[alt.Tooltip("properties.label:N", title="State")],
        )
    )
    layers = [land]
    if label_states:
        clipped = states.clip(box(*extent))
        # Only states with room for a name inside the frame (area in square degrees, a rough cut).
        if keep_labels_off is not None:
            clipped["geometry"] = clipped.geometry.difference(keep_labels_off)
        clipped = clipped[~clipped.geometry.is_empty & (clipped.geometry.apply(lambda g: g.area) > 0.3)]
        # Label each state at the pole of inaccessibility of its largest piece (Azerbaijan's
        # mainland, not Nakhchivan), which keeps the name clear of borders and of most places.
        points = clipped.geometry.apply(
            lambda g: polylabel(max(getattr(g, "geoms", [g]), key=lambda part: part.area), 0.01))
        labels = pd.DataFrame({"label": clipped["label"].str.upper(), "lon": points.x, "lat": points.y})
        layers.append(
            alt.Chart(labels).mark_text(fontSize=10, fontWeight=600, color=theme.MUTED_INK, opacity=0.7)
            .encode(longitude="lon:Q", latitude="lat:Q", text="label:N")
        )
    return alt.layer(*layers).properties(width=width, height=height, projection=projection(extent))


def polygons(frame: gpd.GeoDataFrame, *, colour: str, tooltip: list, extent=REGION_EXTENT,
             opacity: float = 0.45, dash: list | None = None) -> alt.Chart:
    """An overlay of polygons (e.g. the 1994–2020 Nagorno-Karabakh area)."""
    return (
        alt.Chart(to_altair_data(frame, extent=extent))
        .mark_geoshape(fill=colour, fillOpacity=opacity, stroke=colour, strokeWidth=1.2,
                       strokeDash=dash or [], clip=True)
        .encode(tooltip=[alt.Tooltip(f"properties.{t}:N", title=t.replace("_", " ").capitalize())
                         for t in tooltip])
    )


def place_label(frame: pd.DataFrame) -> pd.Series:
    """'Stepanakert/Khankendi': both names where custom gives two."""
    alt_name = frame["alt_name"].fillna("")
    return frame["name"].where(alt_name == "", frame["name"] + "/" + alt_name)


def places(place_ids=None) -> pd.DataFrame:
    """Gazetteer rows (all, or the given ids in that order) with a ``label`` column."""
    frame = data.load("places")
    if place_ids is not None:
        missing = sorted(set(place_ids) - set(frame["place_id"]))
        if missing:
            raise KeyError(f"place ids not in data/places.csv: {missing}")
        frame = frame.set_index("place_id").loc[list(place_ids)].reset_index()
    frame["label"] = place_label(frame)
    return frame


def points(frame: pd.DataFrame, *, tooltip: list, colour=None, shape=None, size: int = 60,
           label: str | None = "label", dx: int = 6, dy: int = -6) -> alt.LayerChart:
    """Point overlay with optional text labels; ``frame`` needs ``lon`` and ``lat`` columns."""
    colour = colour if colour is not None else alt.value(theme.INK)
    marks = alt.Chart(frame).mark_point(filled=True, size=size, opacity=0.9, stroke="white", strokeWidth=0.8)
    encoding = dict(longitude="lon:Q", latitude="lat:Q", color=colour, tooltip=tooltip)
    if shape is not None:
        encoding["shape"] = shape
    layers = [marks.encode(**encoding)]
    if label:
        layers.append(
            alt.Chart(frame).mark_text(align="left", dx=dx, dy=dy, fontSize=11, color=theme.INK)
            .encode(longitude="lon:Q", latitude="lat:Q", text=f"{label}:N")
        )
    return alt.layer(*layers)


def lines(frame: pd.DataFrame, *, colour: str, tooltip: list, order: str = "order",
          group: str = "line_id", dash: list | None = None) -> alt.Chart:
    """Line overlay through ordered lon/lat points (e.g. a road), one line per ``group``."""
    return (
        alt.Chart(frame)
        .mark_line(color=colour, strokeWidth=2.5, strokeDash=dash or [])
        .encode(longitude="lon:Q", latitude="lat:Q", order=f"{order}:Q", detail=f"{group}:N", tooltip=tooltip)
    )


def compose(base: alt.LayerChart, *overlays, extent=REGION_EXTENT) -> alt.LayerChart:
    """Base map plus overlays, all in the book's projection."""
    # Overlays keep their own colour legends: the base map's state colours carry no legend.
    return alt.layer(base, *overlays).properties(
        width=base.width, height=base.height, projection=projection(extent)).resolve_scale(color="independent")


#: Eurasia from the Baltic to Lake Baikal (lon/lat degrees), for maps of the post-Soviet alliances.
EURASIA_EXTENT = (22.0, 34.0, 112.0, 66.0)


def world_status_map(frame: pd.DataFrame, *, iso3: str, field: str, scale: alt.Scale, legend_title: str,
                     tooltip: list, highlight: str | None = None, extent=EURASIA_EXTENT,
                     width: int = theme.WIDTH, height: int = 330) -> alt.LayerChart:
    """States of the world layer coloured by ``field`` of ``frame`` (one row per state).

    States not in ``frame`` are drawn neutral; ``highlight`` (an ISO3 code) gets a dark outline
    and a label, so one state stands out whatever its colour. ``tooltip`` is a list of
    ``(column, title)`` pairs over ``frame``'s (text) columns.
    """
    fields = list(frame.columns)
    states = world()[["iso_a3", "name", "geometry"]].merge(frame, left_on="iso_a3", right_on=iso3)
    states = states[["geometry", "name", *[f for f in fields if f != "name"]]]
    tips = [alt.Tooltip(f"properties.{column}:N", title=title) for column, title in tooltip]
    # Not clipped in advance: a clipped edge, simplified to one long segment, would be drawn as a
    # great-circle arc. The marks are clipped to the frame instead.
    backdrop = alt.Chart(to_altair_data(world()[["iso_a3", "geometry"]], simplify=0.05)).mark_geoshape(
        fill="#EEEEEE", stroke="white", strokeWidth=0.5, clip=True)
    coloured = alt.Chart(to_altair_data(states, simplify=0.05)).mark_geoshape(
        stroke="white", strokeWidth=0.8, clip=True).encode(
        color=alt.Color(f"properties.{field}:N", scale=scale, title=legend_title,
                        legend=alt.Legend(labelLimit=300, columns=2)), tooltip=tips)
    layers = [backdrop, coloured]
    if highlight is not None:
        # A small state would vanish under a thick outline: mark it with a ringed dot and its name.
        spot = states[states[iso3] == highlight]
        centre = spot.geometry.iloc[0].representative_point()
        marker = pd.DataFrame({"lon": [centre.x], "lat": [centre.y], "label": [spot["name"].iloc[0]],
                               **{c: [spot[c].iloc[0]] for c in fields if c not in ("name",)}})
        layers.append(alt.Chart(marker).mark_point(size=260, filled=False, strokeWidth=2.2, color=theme.INK).encode(
            longitude="lon:Q", latitude="lat:Q",
            tooltip=[alt.Tooltip(f"{column}:N", title=title) for column, title in tooltip]))
        layers.append(alt.Chart(marker).mark_text(align="right", dx=-12, dy=10, fontSize=11, fontWeight=600,
                                                  color=theme.INK).encode(longitude="lon:Q", latitude="lat:Q", text="label:N"))
    return alt.layer(*layers).properties(width=width, height=height, projection=projection(extent))
