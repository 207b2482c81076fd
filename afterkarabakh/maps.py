"""Maps drawn by Altair from the book's GeoPandas layers, in one projection.

A map is a base (states, coloured by actor where they are one, with their
names) plus overlays the chapter brings: points, lines or polygons. All layers
share the projection of :func:`projection`, so overlays always line up.

Vega draws a polygon whose outer ring runs counter-clockwise (the GeoJSON
standard's order) as "everything but this shape"; :func:`to_altair_data`
turns rings clockwise before a layer reaches Vega.
"""

from __future__ import annotations

import math
from functools import lru_cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.polygon import orient
from shapely.ops import polylabel

from . import charts, data, paths, theme

if TYPE_CHECKING:
    import geopandas as gpd

# geopandas (and pyproj with it) is imported where a layer is read or built, not with this module:
# the pages that only name places (the gazetteer) or reuse a map chapter's figures (the
# conclusion) never need it, and it costs a twentieth of a second to import.

#: The South Caucasus as the book's regional maps show it (lon/lat degrees).
REGION_EXTENT = (39.5, 37.2, 51.0, 43.9)

#: Territory the map layers hold as features of their own because two states claim it (split off
#: from the state Natural Earth gives it to, in afterkarabakh.book.geobuild): what a map's legend,
#: tooltip and data table call it, and the source of that. Every map that draws one fills it with
#: theme.DISPUTED_FILL, in neither claimant's colour.
DISPUTED = {
    "Crimea": {
        "label": "Crimea (disputed; annexed by Russia, 2014)",
        "source_id": "usatoday-2014-03-18-crimea-treaty",
    },
}


def disputed(frame: gpd.GeoDataFrame) -> pd.Series:
    """Which features of a layer are disputed areas (by name, with no ISO code)."""
    return frame["name"].isin(DISPUTED) & (frame["iso_a3"].fillna("") == "")


#: The channel classes of the encodings maps use (field, value). Given a shorthand string or a
#: ``{"value": ...}`` dict, Altair finds the class through its schema-matching ``from_dict``, which
#: builds a table of every schema class each time (about 5 ms a channel, up to a tenth of a
#: second a map); :func:`_channels` builds the same object directly.
_CHANNEL_CLASSES = {
    "longitude": (alt.Longitude, None),
    "latitude": (alt.Latitude, None),
    "longitude2": (alt.Longitude2, alt.Longitude2Value),
    "latitude2": (alt.Latitude2, alt.Latitude2Value),
    "text": (alt.Text, alt.TextValue),
    "order": (alt.Order, alt.OrderValue),
    "detail": (alt.Detail, None),
    "tooltip": (alt.Tooltip, alt.TooltipValue),
    "color": (alt.Color, alt.ColorValue),
    "shape": (alt.Shape, alt.ShapeValue),
}


def _channels(**encoding) -> dict:
    """``encoding`` for ``Chart.encode`` with shorthands and value dicts made channel objects."""

    def wrap(name, value):
        field, constant = _CHANNEL_CLASSES[name]
        if isinstance(value, (list, tuple)):
            return [wrap(name, v) for v in value]
        if isinstance(value, str):
            return field(shorthand=value)
        if constant is not None and isinstance(value, dict) and list(value) == ["value"]:
            return constant(value=value["value"])
        return value

    return {
        name: wrap(name, value) if name in _CHANNEL_CLASSES else value
        for name, value in encoding.items()
    }


def _with_disputed(scale: alt.Scale) -> alt.Scale:
    """A colour scale with the disputed areas' label and fill added at the end."""
    domain, colours = list(scale.domain), list(scale.range)
    for area in DISPUTED.values():
        if area["label"] not in domain:
            domain.append(area["label"])
            colours.append(theme.DISPUTED_FILL)
    return alt.Scale(domain=domain, range=colours)


def _layer(name: str) -> gpd.GeoDataFrame:
    path = data.geo_path(name)
    stat = path.stat()
    return _read_layer(path, stat.st_mtime_ns, stat.st_size).copy()


#: Map layers as read, kept between kernels (see :func:`_read_layer`).
LAYERS_CACHE = paths.CACHE / "map-layers"


@lru_cache(maxsize=8)
def _read_layer(path, _mtime: int, _size: int) -> gpd.GeoDataFrame:
    """A map layer read and set in WGS 84 once per kernel (and again if its file changes).

    Reading the GeoJSON through GDAL takes 10-25 ms a layer, the first read of a kernel the
    most; the first kernel keeps the layer it read (pickled, under a hash of the file, of this
    module and of the versions that read it) and the next reads that back in under a
    millisecond."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(Path(path).read_bytes())
    digest.update(
        "|".join(
            version(p) for p in ("geopandas", "shapely", "pyogrio", "pyproj", "pandas")
        ).encode()
    )
    return paths.kept(LAYERS_CACHE, Path(path).stem, digest.hexdigest()[:24], lambda: _read(path))


def _read(path) -> gpd.GeoDataFrame:
    import geopandas as gpd

    frame = gpd.read_file(path)
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        frame = (
            frame.set_crs(4326, allow_override=True) if frame.crs is None else frame.to_crs(4326)
        )
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


def to_altair_data(frame: gpd.GeoDataFrame, extent=None, simplify: float | None = None) -> Features:
    """GeoJSON features for Vega: clipped to ``extent``, optionally simplified, rings clockwise."""
    frame = frame.copy()
    if extent is not None:
        frame = frame.clip(box(*extent))
        frame = frame[~frame.geometry.is_empty]
    if simplify:
        frame["geometry"] = frame.geometry.simplify(simplify, preserve_topology=True)
    frame["geometry"] = frame.geometry.apply(_clockwise)
    features = frame.to_geo_dict(drop_id=True)["features"]
    # Altair checks every object against the Vega-Lite schema as it is made; for a layer's
    # features that is a walk through every coordinate (0.15 s for the world), and the chart
    # they go into is checked whole when it is drawn.
    with alt.utils.schemapi.debug_mode(False):
        return Features(values=features, format=alt.DataFormat(type="json"))


class Features(alt.InlineData):
    """Inline GeoJSON features that Altair's copies share instead of copying.

    Altair copies a chart deeply each time it is layered, sized or resolved, coordinate list by
    coordinate list (3-4 ms a copy for the world's states, and a map is copied many times as it
    is composed and finished). The features are never changed once made, so a copy can hold the
    same object; the spec is the same.
    """

    def __deepcopy__(self, memo=None):
        return self


def projection(extent=REGION_EXTENT) -> alt.Projection:
    """The book's map projection (Mercator, fitted to ``extent``)."""
    west, south, east, north = extent
    frame = {
        "type": "Feature",
        "properties": {},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[west, south], [west, north], [east, north], [east, south], [west, south]]
            ],
        },
    }
    return alt.Projection(type="mercator", fit=frame)


def _checked_when_drawn(function):
    """Run a map builder with Altair's check of each object as it is made turned off.

    Altair checks every schema object against Vega-Lite as it is made (each mark, channel and
    property: 15-20 ms a map); the chart a map goes into is checked whole when it is
    drawn (``to_dict``), which finds the same errors: the spec is the same and still checked.
    """

    @wraps(function)
    def unchecked(*args, **kwargs):
        with alt.utils.schemapi.debug_mode(False):
            return function(*args, **kwargs)

    return unchecked


def _layered(layers: list, width, height, extent, **properties) -> alt.LayerChart:
    """``alt.layer(*layers)`` with its size, the map projection and ``properties`` set as it is
    made: the same chart as setting them after (``.properties``, ``.resolve_scale``), without a
    copy and a schema check of the chart for each (the whole chart is checked when drawn)."""
    return alt.layer(
        *layers, width=width, height=height, projection=projection(extent), **properties
    )


#: Base maps kept between kernels (see :func:`base_map`).
BASE_MAPS_CACHE = paths.CACHE / "base-maps"


def base_map(
    extent=REGION_EXTENT,
    width: int = theme.WIDTH,
    height: int = 400,
    label_states: bool = True,
    keep_labels_off=None,
) -> alt.LayerChart:
    """States in the extent: actors in their colour (light), others neutral, with names.

    ``keep_labels_off`` is a geometry (e.g. an overlay polygon) that state names must avoid.

    A base map is made from the region's layer by geopandas (clipped, simplified, its names set
    clear of each other): 50-70 ms in a kernel, most of it importing geopandas and pyproj, and
    every map chapter's kernel makes the same one on every build. The first keeps the chart it
    made (pickled, the same chart) under a hash of the layer's file, of the arguments and of the
    code and versions that make it (the whole package's); the others read it back.
    """
    import hashlib
    import pickle

    layer = data.geo_path("south_caucasus")  # noted as used, as reading it would
    arguments = (extent, width, height, label_states, keep_labels_off)
    digest = hashlib.sha256(_base_map_code())
    digest.update(layer.read_bytes())
    digest.update(pickle.dumps(arguments, protocol=5))
    name = "base-" + hashlib.sha256(repr(arguments[:4]).encode()).hexdigest()[:12]
    return paths.kept(BASE_MAPS_CACHE, name, digest.hexdigest()[:24], lambda: _base_map(*arguments))


@lru_cache(maxsize=1)
def _base_map_code() -> bytes:
    """The package's code (all of it: see :func:`data.package_code`) and the versions that make
    a base map."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(data.package_code().encode())
    packages = ("altair", "geopandas", "shapely", "pyproj", "pyogrio", "pandas", "numpy")
    digest.update("|".join(version(p) for p in packages).encode())
    return digest.digest()


@_checked_when_drawn
def _base_map(extent, width, height, label_states, keep_labels_off) -> alt.LayerChart:
    """:func:`base_map`, made."""
    states = region()
    states["actor"] = states["iso_a3"].map(theme.actor_of)
    states["label"] = states["actor"].where(states["actor"] != "Others", states["name"])
    claimed = disputed(states)
    values = to_altair_data(
        states.loc[~claimed, ["iso_a3", "name", "actor", "label", "geometry"]],
        extent=extent,
        simplify=0.01,
    )
    land = (
        alt.Chart(values)
        .mark_geoshape(stroke="white", strokeWidth=0.8, opacity=0.35, clip=True)
        .encode(
            color=alt.Color(
                "properties.actor:N", scale=theme.actor_scale(states["actor"]), legend=None
            ),
            tooltip=[alt.Tooltip("properties.label:N", title="State")],
        )
    )
    layers = [land]
    areas = states[claimed].clip(box(*extent))
    areas = areas[~areas.geometry.is_empty]
    if len(areas):
        areas = areas.assign(label=areas["name"].map(lambda n: DISPUTED[n]["label"]))
        layers.append(
            alt.Chart(to_altair_data(areas[["name", "label", "geometry"]], simplify=0.01))
            .mark_geoshape(
                fill=theme.DISPUTED_FILL, stroke="white", strokeWidth=0.8, opacity=0.6, clip=True
            )
            .encode(tooltip=[alt.Tooltip("properties.label:N", title="Territory")])
        )
    if label_states:
        clipped = states.clip(box(*extent))
        # Only states with room for a name inside the frame (area in square degrees, a rough cut).
        if keep_labels_off is not None:
            clipped["geometry"] = clipped.geometry.difference(keep_labels_off)
        clipped = clipped[
            ~clipped.geometry.is_empty & (clipped.geometry.apply(lambda g: g.area) > 0.3)
        ]
        # Largest first: where two names would touch on a narrow map, the larger state keeps its own.
        clipped = clipped.iloc[(-clipped.geometry.apply(lambda g: g.area)).argsort(kind="stable")]
        # Label each state at the pole of inaccessibility of its largest piece (Azerbaijan's
        # mainland, not Nakhchivan), which keeps the name clear of borders and of most places.
        points = clipped.geometry.apply(
            lambda g: polylabel(max(getattr(g, "geoms", [g]), key=lambda part: part.area), 0.01)
        )
        labels = pd.DataFrame(
            {"label": clipped["label"].str.upper(), "lon": points.x, "lat": points.y}
        )
        layers.append(
            alt.Chart(labels)
            .mark_text(fontSize=STATE_FONT_SIZE, fontWeight=600, color=theme.MUTED_INK, opacity=0.7)
            .encode(**_channels(longitude="lon:Q", latitude="lat:Q", text="label:N"))
            .properties(name=STATE_LABELS)
        )
    return _layered(layers, width, height, extent)


@_checked_when_drawn
def polygons(
    frame: gpd.GeoDataFrame,
    *,
    colour: str,
    tooltip: list,
    extent=REGION_EXTENT,
    opacity: float = 0.45,
    dash: list | None = None,
) -> alt.Chart:
    """An overlay of polygons (e.g. the 1994–2020 Nagorno-Karabakh area)."""
    return (
        alt.Chart(to_altair_data(frame, extent=extent))
        .mark_geoshape(
            fill=colour,
            fillOpacity=opacity,
            stroke=colour,
            strokeWidth=1.2,
            strokeDash=dash or [],
            clip=True,
        )
        .encode(
            tooltip=[
                alt.Tooltip(f"properties.{t}:N", title=t.replace("_", " ").capitalize())
                for t in tooltip
            ]
        )
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


@_checked_when_drawn
def points(
    frame: pd.DataFrame,
    *,
    tooltip: list,
    colour=None,
    shape=None,
    size: int = 60,
    label: str | None = "label",
    dx: int = 6,
    dy: int = -6,
) -> alt.LayerChart:
    """Point overlay with optional text labels; ``frame`` needs ``lon`` and ``lat`` columns.

    Labels (rows with an empty ``label`` have none) are placed by :func:`compose`, clear of
    each other and of the other layers; where room is short, capitals and cities keep theirs
    first (``KIND_PRIORITY``), then places in the frame's order. ``dx`` and ``dy`` are kept for
    compatibility: placement now chooses each label's side.
    """
    colour = colour if colour is not None else alt.value(theme.INK)
    marks = alt.Chart(frame).mark_point(
        filled=True, size=size, opacity=0.9, stroke="white", strokeWidth=0.8
    )
    encoding = dict(longitude="lon:Q", latitude="lat:Q", color=colour, tooltip=tooltip)
    if shape is not None:
        encoding["shape"] = shape
    layers = [marks.encode(**_channels(**encoding))]
    if label:
        named = frame[frame[label].fillna("").astype(str) != ""]
        kinds = named["kind"] if "kind" in named else pd.Series("", index=named.index)
        named = pd.DataFrame(
            {
                "text": named[label].astype(str),
                "lon": named["lon"],
                "lat": named["lat"],
                "priority": [KIND_PRIORITY.get(k, 5) * 1000 + i for i, k in enumerate(kinds)],
                "radius": (size**0.5) / 2 + 0.8 if size else 0.0,
            }
        )
        layers.append(
            alt.Chart(named)
            .mark_text(align="left", fontSize=LABEL_FONT_SIZE, color=theme.INK)
            .encode(**_channels(longitude="lon:Q", latitude="lat:Q", text="text:N"))
            .properties(name=PLACE_LABELS)
        )
    return alt.layer(*layers)


@_checked_when_drawn
def lines(
    frame: pd.DataFrame,
    *,
    colour: str,
    tooltip: list,
    order: str = "order",
    group: str = "line_id",
    dash: list | None = None,
) -> alt.Chart:
    """Line overlay through ordered lon/lat points (e.g. a road), one line per ``group``."""
    return (
        alt.Chart(frame)
        .mark_line(color=colour, strokeWidth=2.5, strokeDash=dash or [])
        .encode(
            **_channels(
                longitude="lon:Q",
                latitude="lat:Q",
                order=f"{order}:Q",
                detail=f"{group}:N",
                tooltip=tooltip,
            )
        )
    )


@_checked_when_drawn
def compose(base: alt.LayerChart, *overlays, extent=REGION_EXTENT) -> alt.LayerChart:
    """Base map plus overlays, all in the book's projection, with place labels placed clear of all.

    Place labels from :func:`points` are collected from the overlays and set by
    :func:`place_labels` in the map's pixel frame; they are drawn last, over everything else,
    with a white halo, and with a leader line where they stand away from their point.

    The page's renderer draws a map narrower on a small screen (its shape kept, its text not
    shrunk), so state names and place labels are placed once for each width it may be drawn at
    (:func:`charts.drawn_widths`); each row carries the range of drawn widths it is placed for,
    and :data:`charts.WIDTH_FILTER` draws only the set placed for the width the map has.
    """
    width, height = base.width, base.height
    scene = _scene(base, overlays)
    state_sets, placed_sets = _placed(scene, extent, width, height)
    layers = [_with_state_labels(base, pd.concat(state_sets, ignore_index=True)), *scene["kept"]]
    if placed_sets:
        layers.extend(_label_layers(pd.concat(placed_sets, ignore_index=True)))
    # Overlays keep their own colour legends: the base map's state colours carry no legend.
    return _layered(
        layers,
        width,
        height,
        extent,
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(color="independent")),
    )


#: Label placements kept between kernels (see :func:`_placed`).
PLACEMENTS_CACHE = paths.CACHE / "map-labels"


def _placed(scene: dict, extent, width, height) -> tuple[list, list]:
    """The state names and place labels of a map's :func:`_scene`, placed at each width the
    map may be drawn at: a list of state-name frames and one of placed-label frames, each row
    with the range of drawn widths it is placed for.

    Placing takes 40-60 ms a map (eight widths), and every kernel of a build places the same
    labels again: the first keeps the placement under a hash of all it is placed from (the
    scene's names, labels, obstacles and outlines, lossless as pickled, the extent and size)
    and of the code and versions that place it; a kernel placing the same reads it back.
    """
    import hashlib
    import pickle

    digest = hashlib.sha256(_placing_code())
    placed_from = {k: v for k, v in scene.items() if k != "kept"}
    digest.update(pickle.dumps((placed_from, extent, width, height), protocol=5))
    # Kept under the map's name (its frame, size and the names it labels), so a placement made
    # anew (an edited place, a change in the code) replaces the one it supersedes.
    named = [str(extent), str(width), str(height)]
    named += [s[0] for s in scene["states"]]
    named += [str(t) for frame, *_ in scene["labels"] for t in frame["text"]]
    name = "labels-" + hashlib.sha256("|".join(named).encode()).hexdigest()[:12]
    return paths.kept(
        PLACEMENTS_CACHE,
        name,
        digest.hexdigest()[:24],
        lambda: _place_all(scene, extent, width, height),
    )


@lru_cache(maxsize=1)
def _placing_code() -> bytes:
    """The package's code (all of it: see :func:`data.package_code`) and the versions that place
    labels."""
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(data.package_code().encode())
    digest.update("|".join(version(p) for p in ("shapely", "numpy", "pandas")).encode())
    return digest.digest()


def _place_all(scene: dict, extent, width, height) -> tuple[list, list]:
    placed_sets, state_sets = [], []
    for scale, w, wmin, wmax in charts.drawn_widths(width):
        h = charts.scaled(height, scale)
        labels, obstacles, soft, states = _collect(scene, extent, w, h)
        state_sets.append(states.assign(ak_wmin=wmin, ak_wmax=wmax))
        if len(labels):
            placed = place_labels(
                pd.concat(labels, ignore_index=True),
                obstacles,
                box(1, 1, w - 1, h - 1),
                soft,
            )
            if len(placed):
                placed_sets.append(
                    _to_lonlat(placed, extent, w, h).assign(ak_wmin=wmin, ak_wmax=wmax)
                )
    return state_sets, placed_sets


def _with_state_labels(base: alt.LayerChart, states: pd.DataFrame) -> alt.LayerChart:
    """The base map with its state names replaced by the per-width sets of :func:`_collect`."""
    layers = []
    for layer in getattr(base, "layer", [base]):
        if getattr(layer, "name", None) == STATE_LABELS:
            if not len(states):
                continue
            layer = layer.copy()
            layer.data = states[["label", "lon", "lat", "ak_wmin", "ak_wmax"]]
            layer.transform = [alt.FilterTransform(charts.WIDTH_FILTER)]
        layers.append(layer)
    if not isinstance(base, alt.LayerChart):
        return layers[0]
    base = base.copy()
    base.layer = layers
    return base


# --- Place labels placed in Python, clear of each other and of every overlay -----------------------
#
# Vega draws text where it is told and never moves it, so labels are placed here: in the map's
# own pixel coordinates (the projection Vega computes, see `mercator`), each label tries
# candidate positions around its point in a fixed order and takes the first that collides with
# nothing already there (other labels, state names, point symbols, lines, the frame); a label
# that finds no room next to its point is set further out with a leader line, and one that
# finds no room at all is left out (the place stays marked and named in its tooltip).

LABEL_FONT_SIZE = 11
STATE_FONT_SIZE = 10
#: Layer names that mark label layers for `compose` to place.
PLACE_LABELS, STATE_LABELS = "ak_place_labels", "ak_state_labels"
#: Which places keep their label first when room is short (lower first), by gazetteer kind.
KIND_PRIORITY = {
    "capital": 0,
    "city": 1,
    "border-crossing": 2,
    "military-site": 3,
    "airport": 3,
    "town": 4,
}


def _raw(lon: float, lat: float) -> tuple[float, float]:
    """Mercator before fitting: lon/lat degrees to radians east and (down) north."""
    return math.radians(lon), -math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def _fit(extent, width: float, height: float) -> tuple[float, float, float]:
    """The scale ``k`` and offsets ``tx``, ``ty`` that fit ``extent`` in the frame: a point's
    pixels are ``k * x + tx``, ``k * y + ty`` of its :func:`_raw` coordinates."""
    west, south, east, north = extent
    (x0, y0), (x1, y1) = _raw(west, north), _raw(east, south)
    k = min(width / (x1 - x0), height / (y1 - y0))
    return k, (width - k * (x0 + x1)) / 2, (height - k * (y0 + y1)) / 2


def mercator(extent=REGION_EXTENT, width: float = theme.WIDTH, height: float = 400):
    """The book's projection as Vega computes it: Mercator fitted to ``extent`` in a width × height frame.

    Returns ``(forward, inverse)``: lon/lat degrees to pixels from the top-left corner, and back.
    This is d3-geo's ``fitSize`` (the frame's projected bounds scaled to fit, then centred).
    """

    k, tx, ty = _fit(extent, width, height)

    def forward(lon, lat):
        x, y = _raw(lon, lat)
        return k * x + tx, k * y + ty

    def inverse(px, py):
        lon = math.degrees((px - tx) / k)
        lat = math.degrees(2 * math.atan(math.exp(-(py - ty) / k)) - math.pi / 2)
        return lon, lat

    return forward, inverse


def text_box(
    x: float,
    y: float,
    text: str,
    align: str = "left",
    font_size: float = LABEL_FONT_SIZE,
    bold: bool = False,
):
    """The box (shapely) a one-line label takes when drawn at x, y with the given align, baseline middle.

    Widths are estimated a little generously from the characters (system sans-serif fonts).
    """
    width = text_width(text, font_size, bold)
    height = font_size * 1.25
    left = {"left": x, "right": x - width, "center": x - width / 2}[align]
    return box(left, y - height / 2, left + width, y + height / 2)


def text_width(text: str, font_size: float = LABEL_FONT_SIZE, bold: bool = False) -> float:
    """A one-line label's width in pixels, estimated a little generously from its characters."""
    ems = sum(
        0.3 if c in "iljtfrI.,:;'’!|() -/" else 0.9 if c in "mwMW" else 0.7 if c.isupper() else 0.58
        for c in text
    )
    # 1.06: wide enough for DejaVu Sans, the widest of the usual system fonts.
    return ems * font_size * (1.1 if bold else 1.0) * 1.06 + 2


#: Candidate places for a label next to its point: (dx, dy) in units of the symbol's radius plus
#: a gap, and the text's alignment; tried in this order (right first, as maps usually do).
_NEAR = [
    (1, 0, "left"),
    (-1, 0, "right"),
    (0.7, -0.85, "left"),
    (0.7, 0.85, "left"),
    (-0.7, -0.85, "right"),
    (-0.7, 0.85, "right"),
    (0, -1.3, "center"),
    (0, 1.3, "center"),
]


#: The candidates further out, reached by a leader line, in the order tried: rings 22 to 80 px
#: from the point, each tried from the horizontal outwards (right before left, up before down),
#: 15 degrees apart. As rows (rank, dx, dy, align, length): the same for every label, so made once.
_FAR = []
for _rank, _distance in enumerate((22, 34, 48, 64, 80), start=len(_NEAR)):
    for _angle in sorted(
        range(-180, 180, 15), key=lambda a: min(abs(a), abs(abs(a) - 180)) * 2 + (a < 0)
    ):
        _dx = math.cos(math.radians(_angle)) * _distance
        _dy = math.sin(math.radians(_angle)) * _distance
        _align = "left" if _dx > 5 else "right" if _dx < -5 else "center"
        _FAR.append((_rank, _dx, _dy, _align, math.hypot(_dx, _dy)))
_ALIGNS = ("left", "right", "center")


def _candidate_groups():
    """The candidates as arrays, in two groups tested one after the other (see place_labels).

    The places next to the point (:data:`_NEAR`) are one group, all of :data:`_FAR` the other:
    a label with room next to its point is never tested further out, and one that needs a leader
    rarely stops before the last ring (a leader costs more than its rank unless it points
    straight away from the crowd), so its rings are tested together. Per group: rank, the offsets
    (in units of the gap for the near ones, pixels for the far ones), the alignment code (index
    into ``_ALIGNS``) and, for the far ones, the leader's length and its unit direction (as
    ``place_labels`` computed them, one candidate at a time).
    """
    near = np.array([(rank, ux, uy) for rank, (ux, uy, _) in enumerate(_NEAR)], dtype=float)
    return [
        dict(
            rank=near[:, 0],
            ux=near[:, 1],
            uy=near[:, 2],
            align=np.array([_ALIGNS.index(a) for _, _, a in _NEAR]),
            leader=False,
        ),
        dict(
            rank=np.array([row[0] for row in _FAR], dtype=float),
            dx=np.array([row[1] for row in _FAR]),
            dy=np.array([row[2] for row in _FAR]),
            align=np.array([_ALIGNS.index(row[3]) for row in _FAR]),
            length=np.array([row[4] for row in _FAR]),
            # leader[0] / length, as the start of the leader is computed.
            udx=np.array([row[1] / row[4] for row in _FAR]),
            udy=np.array([row[2] / row[4] for row in _FAR]),
            leader=True,
        ),
    ]


_GROUPS = _candidate_groups()


def _near_pairs(bounds: np.ndarray, others: np.ndarray, margin: float):
    """Index pairs (i, j) of ``bounds`` rows and ``others`` rows whose boxes, grown by ``margin``,
    overlap: the only pairs an exact test of contact or distance up to ``margin`` can find."""
    if not len(bounds) or not len(others):
        return np.empty(0, dtype=int), np.empty(0, dtype=int)
    close = (
        (others[None, :, 0] <= bounds[:, None, 2] + margin)
        & (others[None, :, 2] >= bounds[:, None, 0] - margin)
        & (others[None, :, 1] <= bounds[:, None, 3] + margin)
        & (others[None, :, 3] >= bounds[:, None, 1] - margin)
    )
    return np.nonzero(close)


def _rectangles(geometries) -> np.ndarray:
    """Bounds of each geometry that is an axis-aligned rectangle (a box), NaN for the others."""
    cores = np.full((len(geometries), 4), np.nan)
    boxes = np.flatnonzero(
        (shapely.get_type_id(geometries) == 3)
        & (shapely.get_num_coordinates(geometries) == 5)
        & (shapely.get_num_interior_rings(geometries) == 0)
    )
    if len(boxes):
        corners = shapely.get_coordinates(geometries[boxes]).reshape(-1, 5, 2)
        bounds = shapely.bounds(geometries[boxes])
        on_edges = (
            (corners[:, :, 0] == bounds[:, [0]]) | (corners[:, :, 0] == bounds[:, [2]])
        ).all(axis=1) & (
            (corners[:, :, 1] == bounds[:, [1]]) | (corners[:, :, 1] == bounds[:, [3]])
        ).all(axis=1)
        # Each side runs along x or along y (no diagonal: not a bow tie of the four corners).
        steps = np.diff(corners, axis=1)
        straight = ((steps[:, :, 0] == 0) != (steps[:, :, 1] == 0)).all(axis=1)
        rect = boxes[on_edges & straight]
        cores[rect] = shapely.bounds(geometries[rect])
    return cores


def _any_within(
    geometries, bounds, others, others_bounds, distance: float, others_cores=None
) -> np.ndarray:
    """For each geometry, whether any of ``others`` lies within ``distance`` of it.

    Exactly ``shapely.dwithin(g, others, distance).any()`` for each ``g``, with the exact test run
    only on the pairs whose bounding boxes come that close (a 1 px margin on top, for rounding).
    ``others_cores`` (optional) are boxes known to lie inside each of ``others`` (rows of NaN
    where none); when given, ``geometries`` must be boxes (their own ``bounds``). A box that
    overlaps a core shares area with that obstacle, so it is within any distance of it and is
    counted without the exact test.
    """
    hit = np.zeros(len(geometries), dtype=bool)
    i, j = _near_pairs(bounds, others_bounds, distance + 1)
    if not len(i):
        return hit
    if others_cores is not None:
        core = others_cores[j]
        inside = (np.minimum(bounds[i, 2], core[:, 2]) > np.maximum(bounds[i, 0], core[:, 0])) & (
            np.minimum(bounds[i, 3], core[:, 3]) > np.maximum(bounds[i, 1], core[:, 1])
        )
        hit[i[inside]] = True
        rest = ~hit[i]
        i, j = i[rest], j[rest]
    if len(i):
        hit[i[shapely.dwithin(geometries[i], others[j], distance)]] = True
    return hit


def place_labels(
    labels: pd.DataFrame, obstacles: list, frame_box, soft: list | None = None
) -> pd.DataFrame:
    """Place labels (columns x, y, text, radius, priority) clear of each other and of ``obstacles``.

    ``obstacles`` are shapely geometries in pixels that no label may touch; ``soft`` ones (e.g.
    polygon outlines) are avoided where an equally close position is free of them. Returns the
    labels kept, with the anchor ``lx``, ``ly``, the ``align``, the ``box`` and, for labels set
    away from their point, the leader line's start ``x0``, ``y0`` (else NaN).

    Each label tries its candidates in a fixed order (:data:`_NEAR`, then the rings of
    :data:`_FAR`) and takes the cheapest that fits (rank, plus half a point per soft outline
    crossed, plus up to two for a leader pointing into the crowd), stopping at the first that
    costs no more than its rank. The candidates of a group are tested together (shapely's
    vectorised predicates, each only against the obstacles whose bounding boxes are near), which
    gives the same choice as testing them one by one, at a fraction of the cost.
    """
    soft = soft or []
    soft_array = np.array(soft, dtype=object)
    soft_bounds = shapely.bounds(soft_array).reshape(-1, 4)
    kept = []
    taken = np.array(list(obstacles), dtype=object)
    shapely.prepare(taken)
    taken_bounds = shapely.bounds(taken).reshape(-1, 4)
    # Boxes inside what is taken (the obstacles that are boxes, the labels placed): a candidate
    # overlapping one is blocked without the exact test.
    taken_cores = _rectangles(taken)
    everyone = labels[["x", "y"]].to_numpy()
    labels = labels.copy()
    # A label whose place is drawn by another layer's symbol (a marker at the same spot) keeps
    # clear of that symbol as of its own.
    # (A marker's box, not a state's name or a line: a polygon under 400 square pixels.)
    symbols = taken[(shapely.get_type_id(taken) == 3) & (shapely.area(taken) < 400)]
    holds = (
        shapely.contains(symbols[None, :], shapely.points(everyone)[:, None])
        if len(symbols) and len(everyone)
        else np.zeros((len(everyone), 0), dtype=bool)
    )
    symbol_bounds = shapely.bounds(symbols).reshape(-1, 4)
    labels["radius"] = [
        max(
            [r]
            + [
                math.hypot(b[2] - b[0], b[3] - b[1]) / 2
                for b in symbol_bounds[np.flatnonzero(hits)].tolist()
            ]
        )
        for r, hits in zip(labels["radius"], holds)
    ]
    # The frame is a rectangle: a label inside it is a matter of four comparisons.
    fx0, fy0, fx1, fy1 = frame_box.bounds
    half = LABEL_FONT_SIZE * 1.25 / 2
    for row in labels.sort_values(["priority"], kind="stable").itertuples():
        # Leaders point away from the crowd: the mean of the other places within 60 px.
        near = everyone[(abs(everyone[:, 0] - row.x) < 60) & (abs(everyone[:, 1] - row.y) < 60)]
        away = (
            (row.x - near[:, 0].mean(), row.y - near[:, 1].mean()) if len(near) > 1 else (0.0, 0.0)
        )
        away_norm = math.hypot(*away)
        gap = row.radius + 3
        point = Point(row.x, row.y)
        own_point = point.buffer(row.radius)
        # What this label must not touch: everything taken but the shapes that hold its own point.
        free = ~shapely.contains(taken, point)
        blockers, blocker_bounds, blocker_cores = taken[free], taken_bounds[free], taken_cores[free]
        width = text_width(row.text)
        best = None
        for group in _GROUPS:
            if group["leader"]:
                lx, ly = row.x + group["dx"], row.y + group["dy"]
            else:
                lx, ly = row.x + group["ux"] * gap, row.y + group["uy"] * gap * 1.0
            code = group["align"]
            left = np.where(code == 0, lx, np.where(code == 1, lx - width, lx - width / 2))
            top, bottom = ly - half, ly + half
            fits = (fx0 <= left) & (left + width <= fx1) & (fy0 <= top) & (bottom <= fy1)
            idx = np.flatnonzero(fits)
            if not len(idx):
                continue
            bounds = np.column_stack([left[idx], top[idx], left[idx] + width, bottom[idx]])
            boxes = shapely.box(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3])
            # A little air between a label and anything else (1.5 px), and around a leader (0.75):
            # "within that distance", not a buffered copy of each candidate.
            blocked = shapely.dwithin(own_point, boxes, 1.5) | _any_within(
                boxes, bounds, blockers, blocker_bounds, 1.5, blocker_cores
            )
            lines = None
            if group["leader"]:
                # From the symbol's edge, along the candidate's direction, to the nearest point
                # of the label's box (drawn only for the candidates whose box is clear).
                open_ = np.flatnonzero(~blocked)
                lines = np.full(len(idx), None, dtype=object)
                rings = shapely.get_exterior_ring(boxes[open_])
                ends = shapely.line_interpolate_point(
                    rings, shapely.line_locate_point(rings, point)
                )
                starts = np.column_stack(
                    [
                        row.x + group["udx"][idx[open_]] * (row.radius + 1),
                        row.y + group["udy"][idx[open_]] * (row.radius + 1),
                    ]
                )
                ends = shapely.get_coordinates(ends).reshape(-1, 2)
                lines[open_] = shapely.linestrings(np.stack([starts, ends], axis=1))
                blocked[open_] = _any_within(
                    lines[open_],
                    shapely.bounds(lines[open_]).reshape(-1, 4),
                    blockers,
                    blocker_bounds,
                    0.75,
                )
            ok = np.flatnonzero(~blocked)
            if not len(ok):
                continue
            crossed = np.zeros(len(ok), dtype=int)
            i, j = _near_pairs(bounds[ok], soft_bounds, 1)
            if len(i):
                np.add.at(crossed, i[shapely.intersects(boxes[ok][i], soft_array[j])], 1)
            rank = group["rank"][idx][ok]
            cost = rank + 0.5 * crossed
            if group["leader"] and away_norm:
                # 0 straight away from the crowd, 2 straight into it.
                cost = cost + (
                    1
                    - (group["dx"][idx][ok] * away[0] + group["dy"][idx][ok] * away[1])
                    / (group["length"][idx][ok] * away_norm)
                )
            # Candidate by candidate, the search would stop at the first costing just its rank,
            # keeping the cheapest up to there (the first of equals).
            stop = np.flatnonzero(cost == rank)
            last = stop[0] + 1 if len(stop) else len(cost)
            pick = int(np.argmin(cost[:last]))
            if best is None or cost[pick] < best[0]:
                k = idx[ok[pick]]
                line = lines[ok[pick]] if lines is not None else None
                best = (
                    cost[pick],
                    lx[k],
                    ly[k],
                    _ALIGNS[code[k]],
                    boxes[ok[pick]],
                    line,
                )
            if len(stop):
                break
        if best is None:
            continue
        _, lx, ly, align, label_box, line = best
        new = [label_box.buffer(1)] + ([line.buffer(1)] if line is not None else [])
        new = np.array(new, dtype=object)
        shapely.prepare(new)
        taken = np.concatenate([taken, new])
        taken_bounds = np.concatenate([taken_bounds, shapely.bounds(new).reshape(-1, 4)])
        # The label's box lies inside its buffered copy; a leader's has no box inside it.
        cores = [label_box.bounds] + ([(np.nan,) * 4] if line is not None else [])
        taken_cores = np.concatenate([taken_cores, np.array(cores, dtype=float)])
        kept.append(
            dict(
                row._asdict(),
                lx=float(lx),
                ly=float(ly),
                align=align,
                box=label_box,
                x0=line.coords[0][0] if line is not None else float("nan"),
                y0=line.coords[0][1] if line is not None else float("nan"),
                x1=line.coords[-1][0] if line is not None else float("nan"),
                y1=line.coords[-1][1] if line is not None else float("nan"),
            )
        )
    return pd.DataFrame(kept)


def _field(channel) -> str | None:
    if channel is alt.Undefined or channel is None:
        return None
    shorthand = getattr(channel, "shorthand", alt.Undefined)
    if shorthand is not alt.Undefined and isinstance(shorthand, str):
        return shorthand.split(":")[0]
    field = getattr(channel, "field", alt.Undefined)
    return field if isinstance(field, str) else None


def _mark(unit) -> tuple[str, dict]:
    mark = unit.mark
    if isinstance(mark, str):
        return mark, {}
    props = mark.to_dict(validate=False)
    return props.get("type"), props


def _units(chart, data=None):
    """The unit charts of a (layered) chart, each with its data (Altair may hoist shared data up)."""
    own = chart.data if not isinstance(chart.data, alt.utils.schemapi.UndefinedType) else data
    if isinstance(chart, alt.LayerChart):
        for layer in chart.layer:
            yield from _units(layer, own)
    else:
        yield chart, own


def _scene(base, overlays) -> dict:
    """What a map's layers hold for placing labels, read once for all its drawn widths.

    Positions are kept in raw Mercator units (:func:`_raw`); at each width :func:`_collect` puts
    them in pixels with that width's scale and offset, exactly as :func:`mercator` does. Returns
    a dict: ``states`` (label, lon, lat and raw x, y of each state name), ``labels`` (each
    place-label frame with its raw x, y), ``obstacles`` (``("points", half size, x, y)`` or
    ``("line", xy)``, raw, in layer order), ``outlines`` (geoshape features, raw) and ``kept``
    (the overlays without their place-label layers).
    """
    from shapely.geometry import shape

    def raw(lons, lats):
        xy = [_raw(lon, lat) for lon, lat in zip(lons, lats)]
        return np.array([p[0] for p in xy], dtype=float), np.array([p[1] for p in xy], dtype=float)

    scene = dict(states=[], labels=[], obstacles=[], outlines=[], kept=[])
    for unit, frame in _units(base):
        if getattr(unit, "name", None) == STATE_LABELS:
            for row in frame.itertuples():
                scene["states"].append((row.label, row.lon, row.lat, *_raw(row.lon, row.lat)))
    for overlay in overlays:
        parts = [
            u for u in getattr(overlay, "layer", []) if getattr(u, "name", None) != PLACE_LABELS
        ]
        for unit, values in _units(overlay):
            kind, props = _mark(unit)
            frame = values if isinstance(values, pd.DataFrame) else None
            if getattr(unit, "name", None) == PLACE_LABELS:
                scene["labels"].append((frame, *raw(frame["lon"], frame["lat"])))
            elif (
                kind in ("point", "circle", "square")
                and frame is not None
                and props.get("size", 30)
            ):
                half = props.get("size", 30) ** 0.5 / 2
                scene["obstacles"].append(("points", half, *raw(frame["lon"], frame["lat"])))
            elif kind == "line" and frame is not None:
                group, order = _field(unit.encoding.detail), _field(unit.encoding.order)
                for _, line in frame.groupby(group) if group else [(None, frame)]:
                    line = line.sort_values(order) if order else line
                    if len(line) > 1:
                        scene["obstacles"].append(
                            ("line", np.column_stack(raw(line["lon"], line["lat"])))
                        )
            elif kind == "geoshape" and isinstance(values, alt.InlineData):
                for feature in values.values:
                    scene["outlines"].append(
                        shapely.transform(
                            shape(feature["geometry"]),
                            lambda xy: np.array([_raw(lon, lat) for lon, lat in xy]).reshape(-1, 2),
                        )
                    )
        if isinstance(overlay, alt.LayerChart) and len(parts) != len(overlay.layer):
            overlay = overlay.copy()
            overlay.layer = parts
        scene["kept"].append(overlay)
    return scene


def _collect(scene: dict, extent, width, height):
    """Labels to place, and what they must avoid, from a map's :func:`_scene` (in pixels).

    Also returns the state names that fit at this size: inside the frame and clear of each
    other (the larger state keeps its name where two would touch).
    """
    k, tx, ty = _fit(extent, width, height)
    labels, obstacles, soft = [], [], []
    frame_box = box(1, 1, width - 1, height - 1)
    state_rows = []
    for label, lon, lat, rx, ry in scene["states"]:
        name_box = text_box(k * rx + tx, k * ry + ty, label, "center", STATE_FONT_SIZE, bold=True)
        if not frame_box.contains(name_box) or any(
            name_box.intersects(other) for other in obstacles
        ):
            continue
        obstacles.append(name_box)
        state_rows.append({"label": label, "lon": lon, "lat": lat})
    states = pd.DataFrame(state_rows, columns=["label", "lon", "lat"])
    for frame, rx, ry in scene["labels"]:
        labels.append(frame.assign(x=k * rx + tx, y=k * ry + ty))
    for kind, *shape_ in scene["obstacles"]:
        if kind == "points":
            half, rx, ry = shape_
            x, y = k * rx + tx, k * ry + ty
            obstacles.extend(shapely.box(x - half, y - half, x + half, y + half))
        else:
            (xy,) = shape_
            line = shapely.linestrings(np.column_stack([k * xy[:, 0] + tx, k * xy[:, 1] + ty]))
            obstacles.append(line.buffer(2))
    for outline in scene["outlines"]:
        soft.append(
            shapely.transform(
                outline, lambda xy: np.column_stack([k * xy[:, 0] + tx, k * xy[:, 1] + ty])
            ).boundary
        )
    return labels, obstacles, soft, states


def _to_lonlat(placed: pd.DataFrame, extent, width, height) -> pd.DataFrame:
    """Placed labels with their anchors (and leader lines) back in degrees, for Vega to project."""
    _, inverse = mercator(extent, width, height)
    frame = placed.copy()
    anchors = [inverse(x, y) for x, y in zip(frame["lx"], frame["ly"])]
    frame["alon"], frame["alat"] = [a[0] for a in anchors], [a[1] for a in anchors]
    for end in ("0", "1"):
        points = [
            inverse(x, y) if x == x else (float("nan"), float("nan"))
            for x, y in zip(frame[f"x{end}"], frame[f"y{end}"])
        ]
        frame[f"lon{end}"], frame[f"lat{end}"] = [p[0] for p in points], [p[1] for p in points]
    return frame


def _label_layers(placed: pd.DataFrame) -> list:
    """Text layers (a white halo, then the ink) for placed labels, and their leader lines."""
    layers = []
    leaders = placed.dropna(subset=["lon0"])
    width_columns = ["ak_wmin", "ak_wmax"]
    if len(leaders):
        layers.append(
            alt.Chart(leaders[["lon0", "lat0", "lon1", "lat1", *width_columns]])
            .transform_filter(charts.WIDTH_FILTER)
            .mark_rule(color=theme.MUTED_INK, strokeWidth=0.8)
            .encode(
                **_channels(
                    longitude="lon0:Q", latitude="lat0:Q", longitude2="lon1:Q", latitude2="lat1:Q"
                )
            )
        )
    # Each set is placed inside the frame it is drawn in; the clip only guards against a font
    # much wider than the estimate of text_box.
    for align, group in placed.groupby("align"):
        text = alt.Chart(group[["text", "alon", "alat", *width_columns]]).transform_filter(
            charts.WIDTH_FILTER
        )
        encoding = _channels(longitude="alon:Q", latitude="alat:Q", text="text:N")
        layers.append(
            text.mark_text(
                align=align,
                baseline="middle",
                fontSize=LABEL_FONT_SIZE,
                stroke="white",
                strokeWidth=3,
                strokeOpacity=0.85,
                strokeJoin="round",
                color="white",
                clip=True,
            ).encode(**encoding)
        )
        layers.append(
            text.mark_text(
                align=align, baseline="middle", fontSize=LABEL_FONT_SIZE, color=theme.INK, clip=True
            ).encode(**encoding)
        )
    return layers


#: The inhabited world as the book's world maps show it (Antarctica and the far north cut off).
WORLD_EXTENT = (-180.0, -56.0, 180.0, 78.0)


@_checked_when_drawn
def world_map(
    categories: pd.DataFrame,
    *,
    field: str,
    scale: alt.Scale,
    fallback: str,
    title: str,
    width: int = theme.WIDTH,
    height: int = 330,
    simplify: float = 0.2,
) -> alt.LayerChart:
    """All states (1:110m) coloured by ``categories[field]``, keyed by its ``iso3`` column.

    States without a row get ``fallback``; disputed areas (:data:`DISPUTED`) their own fill and
    legend entry. The states coloured from ``categories`` (with its ``source_id``, if any) and the
    disputed areas are the rows of the map's data table. Compose overlays with
    ``compose(base, *overlays, extent=WORLD_EXTENT)`` so they share the projection.
    """
    import geopandas as gpd

    layer = world()
    claimed = disputed(layer)
    columns = ["iso3", field] + (["source_id"] if "source_id" in categories else [])
    states = layer[~claimed].merge(
        categories[columns], how="left", left_on="iso_a3", right_on="iso3"
    )
    areas = layer[claimed].assign(
        **{
            field: layer.loc[claimed, "name"].map(lambda n: DISPUTED[n]["label"]),
            "source_id": layer.loc[claimed, "name"].map(lambda n: DISPUTED[n]["source_id"]),
        }
    )
    coloured = pd.concat([states[states[field].notna()], areas], ignore_index=True)
    scale = _with_disputed(scale)
    colour = alt.Color(
        f"properties.{field}:N",
        scale=scale,
        title=title,
        legend=alt.Legend(orient="bottom", columns=2, symbolType="square", labelLimit=300),
    )
    tooltip = [
        alt.Tooltip("properties.name:N", title="State or territory"),
        alt.Tooltip(f"properties.{field}:N", title=title),
    ]
    keep = ["iso_a3", "name", field, "geometry"] + (
        ["source_id"] if "source_id" in coloured else []
    )
    # The rest of the world in the fallback colour: drawn, in the legend, not a row of the table.
    rest = states[states[field].isna()].assign(**{field: fallback})
    backdrop = (
        alt.Chart(
            to_altair_data(
                rest[["iso_a3", "name", field, "geometry"]], extent=WORLD_EXTENT, simplify=simplify
            )
        )
        .mark_geoshape(stroke="white", strokeWidth=0.4)
        .encode(
            color=colour, tooltip=[alt.Tooltip("properties.name:N", title="State or territory")]
        )
    )
    drawn = (
        alt.Chart(
            to_altair_data(
                gpd.GeoDataFrame(coloured, geometry="geometry", crs=layer.crs)[keep],
                extent=WORLD_EXTENT,
                simplify=simplify,
            )
        )
        .mark_geoshape(stroke="white", strokeWidth=0.4)
        .encode(color=colour, tooltip=tooltip)
    )
    return _layered([backdrop, drawn], width, height, WORLD_EXTENT)


#: Eurasia from the Baltic to Lake Baikal (lon/lat degrees), for maps of the post-Soviet alliances.
EURASIA_EXTENT = (22.0, 34.0, 112.0, 66.0)


@_checked_when_drawn
def world_status_map(
    frame: pd.DataFrame,
    *,
    iso3: str,
    field: str,
    scale: alt.Scale,
    legend_title: str,
    tooltip: list,
    highlight: str | None = None,
    extent=EURASIA_EXTENT,
    width: int = theme.WIDTH,
    height: int = 330,
) -> alt.LayerChart:
    """States of the world layer coloured by ``field`` of ``frame`` (one row per state).

    States not in ``frame`` are drawn neutral; ``highlight`` (an ISO3 code) gets a dark outline
    and a label, so one state stands out whatever its colour. ``tooltip`` is a list of
    ``(column, title)`` pairs over ``frame``'s (text) columns.
    """
    import geopandas as gpd

    fields = list(frame.columns)
    layer = world()
    states = layer[["iso_a3", "name", "geometry"]].merge(frame, left_on="iso_a3", right_on=iso3)
    # Disputed areas in the frame are drawn apart from both claimants, named, with their source.
    areas = layer[disputed(layer)]
    areas = areas[areas.intersects(box(*extent))]
    labels = areas["name"].map(lambda n: DISPUTED[n]["label"])
    named = [column for column, _ in tooltip if column != field][:1]
    states = pd.concat(
        [
            states,
            areas[["name", "geometry"]].assign(
                **{
                    field: labels,
                    "source_id": areas["name"].map(lambda n: DISPUTED[n]["source_id"]),
                },
                **{column: areas["name"] for column in named},
            ),
        ],
        ignore_index=True,
    )
    states = gpd.GeoDataFrame(states, geometry="geometry", crs=layer.crs)
    if len(areas):
        scale = _with_disputed(scale)
        fields = list(dict.fromkeys([*fields, "source_id"]))
    states = states[["geometry", "name", *[f for f in fields if f != "name"]]]
    tips = [alt.Tooltip(f"properties.{column}:N", title=title) for column, title in tooltip]
    # Not clipped in advance: a clipped edge, simplified to one long segment, would be drawn as a
    # great-circle arc. The marks are clipped to the frame instead.
    backdrop = alt.Chart(
        to_altair_data(world()[["iso_a3", "geometry"]], simplify=0.05)
    ).mark_geoshape(fill=theme.SHADE, stroke="white", strokeWidth=0.5, clip=True)
    coloured = (
        alt.Chart(to_altair_data(states, simplify=0.05))
        .mark_geoshape(stroke="white", strokeWidth=0.8, clip=True)
        .encode(
            color=alt.Color(
                f"properties.{field}:N",
                scale=scale,
                title=legend_title,
                legend=alt.Legend(labelLimit=300, columns=2, symbolType="square"),
            ),
            tooltip=tips,
        )
    )
    layers = [backdrop, coloured]
    if highlight is not None:
        # A small state would vanish under a thick outline: mark it with a ringed dot and its name.
        spot = states[states[iso3] == highlight]
        centre = spot.geometry.iloc[0].representative_point()
        marker = pd.DataFrame(
            {
                "lon": [centre.x],
                "lat": [centre.y],
                "label": [spot["name"].iloc[0]],
                # Without its source: the ringed state is already a row of the map's table.
                **{c: [spot[c].iloc[0]] for c in fields if c not in ("name", "source_id")},
            }
        )
        layers.append(
            alt.Chart(marker)
            .mark_point(size=260, filled=False, strokeWidth=2.2, color=theme.INK)
            .encode(
                **_channels(
                    longitude="lon:Q",
                    latitude="lat:Q",
                    tooltip=[alt.Tooltip(f"{column}:N", title=title) for column, title in tooltip],
                )
            )
        )
        layers.append(
            alt.Chart(marker)
            .mark_text(align="right", dx=-12, dy=10, fontSize=11, fontWeight=600, color=theme.INK)
            .encode(**_channels(longitude="lon:Q", latitude="lat:Q", text="label:N"))
        )
    return _layered(layers, width, height, extent)
