"""Charts that carry their title, subtitle, source line and text description.

Every chart in the book goes through :func:`finish`, which refuses a chart
without a title, a description or a source, and builds the "Source:" line from
the source registry so a chart can never cite a source the registry lacks.

Rendering works offline in both places a chart is seen:

* in the built HTML book a chart's output is its spec (as JSON), its still images (light and dark
  page, drawn at build time from the same spec by vl-convert and kept by content in
  ``_build/.cache/charts``: the page shows one at once, at the chart's design size) and its data
  table (:mod:`afterkarabakh.tables`). The book's renderer (``static/afterkarabakh-charts.js``,
  deferred, see :mod:`afterkarabakh.book.sphinxext`) fetches the Vega bundle the book serves when
  a chart first comes near the screen and replaces each still image with the interactive chart;
* in JupyterLab, which renders Vega-Lite 5 but not the version 6 that Altair 6
  writes, the first chart of a kernel session also carries the same bundle and the
  renderer, so nothing is fetched from a CDN either.

The renderer fits every chart to the width of its column (narrower plotting areas,
titles wrapped, stacked panels on a phone), redraws it when the column changes
width or the page its colour mode (the colours that change in dark mode travel with the spec,
from :func:`dark_mode`), shows tooltips on hover and on tap, and adds the exports (SVG, PNG,
named after the chart) and a CSV download of the rows in the table. The marks' generated ARIA
labels are switched off (``config.aria: false``): the chart's box carries its one description.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import textwrap
import unicodedata
import uuid
from functools import lru_cache
from pathlib import Path

import altair as alt
import pandas as pd
from altair.utils import schemapi
from altair.vegalite.data import default_data_transformer

from . import data, paths, stills, tables, theme

#: Set by the book build (sphinxext) so chart outputs rely on the page's own bundle.
BOOK_BUILD_ENV = "AFTERKARABAKH_BOOK_BUILD"
RENDERER = "afterkarabakh"

#: The page-side renderer: sizes each chart to its column, redraws on resize, adds the exports.
RENDERER_JS = Path(__file__).parent / "static" / "afterkarabakh-charts.js"


def vega_lite_version() -> str:
    """The major.minor Vega-Lite version Altair writes (e.g. '6.4'), for the matching compiler."""
    return ".".join(alt.VEGALITE_VERSION.split(".")[:2])


#: The bundle's last line sets the globals from default imports that Vega and Vega-Lite lack (null);
#: their module namespaces, found by their first member, take their place.
_NULL_GLOBALS = "window.vega=__default;window.vegaLite=__default1;"
_VEGA_NAMESPACE = re.compile(r"const __default=null;const (\w+)=function\(\)\{return\{Dataflow:")
_VEGA_LITE_NAMESPACE = re.compile(r"const __default1=null;const (\w+)=function\(\)\{return\{")


def _with_namespaces(bundle: str) -> str:
    """The bundle with ``window.vega`` and ``window.vegaLite`` set (the renderer compiles, parses and
    runs a chart in separate steps with them); unchanged when the bundle is not laid out as expected
    (the renderer then draws with vega-embed alone)."""
    vega, lite = _VEGA_NAMESPACE.search(bundle), _VEGA_LITE_NAMESPACE.search(bundle)
    if not (vega and lite and _NULL_GLOBALS in bundle):
        return bundle
    return bundle.replace(
        _NULL_GLOBALS, f"window.vega={vega.group(1)};window.vegaLite={lite.group(1)};"
    )


@lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script, matching Altair, wrapped in a function scope.

    vl-convert's bundle declares top-level names (``const n`` ...) that would clash
    with other scripts on a Sphinx page; the wrapper keeps them private and only
    the ``window.vega*`` globals it sets escape.
    """
    # Bundling takes vl-convert 1.5 s; every kernel outside the book (nbval, JupyterLab) needs it
    # once, so the first one keeps it on disk under the versions that produce it.
    cached = paths.vega_bundle_cached()
    if cached.exists():
        return cached.read_text(encoding="utf-8")
    import vl_convert

    bundle = _with_namespaces(vl_convert.javascript_bundle(vl_version=vega_lite_version()))
    wrapped = "(function () {\n" + bundle + "\n})();\n"
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(wrapped, encoding="utf-8")
    partial.replace(cached)  # atomic: parallel kernels never read half a bundle
    for stale in cached.parent.glob("vega-bundle-*.js"):
        if stale != cached:
            stale.unlink(missing_ok=True)
    return wrapped


_bundle_sent_to_frontend = False


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:70] or "chart"


def _lean(spec: dict) -> dict:
    """The spec without dataset columns it never names (the table under the chart keeps them all).

    A column stays if its name appears anywhere in the spec outside the data (encodings,
    transforms, expressions), so nothing the chart reads is lost; map features keep their
    type and geometry and only the named properties.
    """
    datasets = spec.get("datasets")
    if not isinstance(datasets, dict):
        return spec
    rest = json.dumps({k: v for k, v in spec.items() if k != "datasets"})

    def lean_row(row):
        if not isinstance(row, dict):
            return row
        if "geometry" in row and isinstance(row.get("properties"), dict):
            return {**row, "properties": {k: v for k, v in row["properties"].items() if k in rest}}
        return {k: v for k, v in row.items() if k in rest}

    return {
        **spec,
        "datasets": {name: [lean_row(r) for r in rows] for name, rows in datasets.items()},
    }


#: Colours a spec names: hex codes anywhere (a colour column in the data too), names outside the data.
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_NAMED = {"white", "black"}


def _colours_in(node, in_data: bool = False, found: set | None = None) -> set[str]:
    found = set() if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            _colours_in(value, in_data or key in ("datasets", "data", "values"), found)
    elif isinstance(node, list):
        for value in node:
            _colours_in(value, in_data, found)
    elif isinstance(node, str) and (
        _HEX.fullmatch(node) or (not in_data and node.lower() in _NAMED)
    ):
        found.add(node)
    return found


def dark_mode(spec: dict) -> dict:
    """What a chart changes in dark mode: each colour it names that needs a dark counterpart
    (``theme.dark_colour``), and the configuration added (background, text, lines).

    The page-side renderer applies it when the page is dark; :func:`in_dark_mode` does the same here.
    """
    colours = {c: theme.dark_colour(c) for c in sorted(_colours_in(spec))}
    return {
        "colours": {c: d for c, d in colours.items() if d != c},
        "config": theme.dark_config(),
    }


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = (
            _merge(merged[key], value)
            if isinstance(value, dict) and isinstance(merged.get(key), dict)
            else value
        )
    return merged


def in_dark_mode(spec: dict, mode: dict | None = None) -> dict:
    """The spec as drawn on the dark page (the same transformation as the renderer's ``inMode``)."""
    mode = mode or dark_mode(spec)
    colours = mode["colours"]

    def swap(node, in_data=False):
        if isinstance(node, dict):
            return {
                k: swap(v, in_data or k in ("datasets", "data", "values")) for k, v in node.items()
            }
        if isinstance(node, list):
            return [swap(v, in_data) for v in node]
        if isinstance(node, str) and node in colours and (not in_data or node.startswith("#")):
            return colours[node]
        return node

    swapped = swap(spec)
    swapped["config"] = _merge(swapped.get("config", {}), mode["config"])
    return swapped


#: The prefix the chart's HTML gives their still images' addresses; the Sphinx extension makes it
#: the page's path to ``_static/charts/`` and copies the images there.
STATIC_PREFIX = "_ak_charts_/"


def static_images(spec: dict) -> tuple[str, int, int]:
    """The chart's two still SVGs (light and dark page), drawn once per content: returns the key
    of ``<key>.svg`` and ``<key>-dark.svg`` in :data:`stills.CACHE`, and their size in px."""
    meta = (spec.get("usermeta") or {}).get("afterkarabakh", {})
    return stills.kept(
        spec,
        in_dark_mode,
        title=meta.get("title", ""),
        description=spec.get("description", ""),
        vl_version=vega_lite_version(),
    )


def _html(spec: dict) -> str:
    global _bundle_sent_to_frontend
    spec = dict(spec)
    # One description per chart, read once: no ARIA labels generated for every mark, axis and legend.
    spec["config"] = {**spec.get("config", {}), "aria": False}
    meta = (spec.get("usermeta") or {}).get("afterkarabakh", {})
    element_id = f"ak-chart-{uuid.uuid4().hex[:12]}"
    description = spec.get("description", "")
    name = _slug(meta.get("title") or description[:60])
    lean = _lean(spec)
    in_book = bool(os.environ.get(BOOK_BUILD_ENV))
    # The renderer draws the chart in the page's colour mode; the dark one is described here.
    usermeta = dict(lean.get("usermeta") or {})
    usermeta["afterkarabakh"] = {**usermeta.get("afterkarabakh", {}), "dark": dark_mode(lean)}
    payload = json.dumps({**lean, "usermeta": usermeta}, separators=(",", ":")).replace(
        "</", "<\\/"
    )
    preamble = ""
    if not in_book and not _bundle_sent_to_frontend:
        preamble = (
            f"<script>{javascript_bundle()}\n{RENDERER_JS.read_text(encoding='utf-8')}</script>\n"
        )
        _bundle_sent_to_frontend = True
    figure_name = f' data-ak-figure="{meta["figure"]}"' if meta.get("figure") else ""
    if in_book:
        # In the book the chart is first a still image, drawn at build time from the same spec at
        # its design size (the size the renderer keeps on a wide column), light or dark as the page;
        # the renderer replaces it with the interactive chart when it comes near the screen.
        key, width, height = static_images(lean)
        images = "".join(
            f'<img class="ak-static-{mode} dark-light" src="{STATIC_PREFIX}{key}{suffix}.svg" '
            f'width="{width}" height="{height}" alt="" loading="lazy" decoding="async" '
            # Its height held (the theme sizes images by their width), so a narrow column shows
            # the whole image scaled down in the box the drawing will fill.
            f'style="height:{height}px">'
            for mode, suffix in (("light", ""), ("dark", "-dark"))
        )
        inside = (
            f'<div class="ak-static">{images}</div><noscript><p class="ak-nojs">Without JavaScript '
            "this chart is a still image, without its tooltips and zoom. Its data are in the table "
            "below.</p></noscript>"
        )
        tools = '<div class="ak-tools"></div>\n'  # room for the exports, filled by the renderer
    else:
        inside = (
            '<noscript><p class="ak-nojs">This chart needs JavaScript. '
            "Its data are in the table below.</p></noscript>"
        )
        tools = ""
    figure = (
        f'<div class="ak-figure" data-ak-title="{html.escape(meta.get("title", ""))}"{figure_name}>\n'
        f'<div class="ak-chart" id="{element_id}" role="figure" aria-label="{html.escape(description)}" '
        f'data-ak-name="{name}">{inside}</div>\n{tools}'
        f'<script type="application/json" id="{element_id}-spec">{payload}</script>\n'
        f"{tables.data_html(spec, meta, element_id)}\n</div>"
    )
    if in_book:  # the page's renderer draws each chart when it comes near the screen
        return figure
    return (
        preamble
        + figure
        + (
            "\n<script>\n(function () {\n"
            f'  var el = document.getElementById("{element_id}");\n'
            "  if (!window.akCharts) {\n"
            "    el.textContent = 'Chart not drawn: the Vega library is missing on this page. "
            "In JupyterLab, re-run the notebook from its first cell.';\n"
            "    return;\n  }\n"
            "  window.akCharts.draw(el);\n"
            "})();\n</script>"
        )
    )


def render(spec: dict, **_metadata) -> dict:
    """Altair renderer: the chart (drawn by the book's own Vega), its data as a table, and a text fallback."""
    return {"text/html": _html(spec), "text/plain": f"<chart: {spec.get('description', '')[:120]}>"}


alt.renderers.register(RENDERER, render)


class _FromDictOnce(schemapi._FromDict):
    """Altair's converter from a dict to its classes, its table of classes by schema built once.

    Altair builds that table (a JSON dump of each of several hundred class schemas) for every
    ``from_dict``, i.e. for every field a chart names by a string (``encode(x="date:T")``): about
    2 ms each, a tenth of a second or more per chapter. The table depends only on the classes,
    so it is kept per set of classes (a class defined later makes a new set); the objects built
    are the same.
    """

    _tables: dict[tuple, dict] = {}

    def __init__(self, wrapper_classes, /) -> None:
        classes = tuple(wrapper_classes)
        table = self._tables.get(classes)
        if table is None:
            super().__init__(classes)
            self._tables[classes] = self.class_dict
        else:
            self.class_dict = table


#: Charts made of parts, which Altair combines when it builds one (lifting the parts' parameters and
#: shared data to the whole, naming views, moving sizes out of layers).
_COMBINED = (alt.LayerChart, alt.VConcatChart, alt.HConcatChart, alt.ConcatChart)
_altair_deep_copy = schemapi._deep_copy


def _deep_copy(obj, by_ref):
    """Altair's deep copy, which copies a chart made of parts without building it again, and
    takes what needs no copy as it is without a call for each.

    Altair copies a compound chart by building a new one from copies of its parts, and building
    one copies every part again (three times for a layer) to combine them, at every level of
    nesting: the largest share of the time a chapter spent in Altair. The parts of a built chart
    are combined already, so a copy of each part, put together as they stand, is the same chart
    (tests/test_package.py compares the specs with Altair's own copy).

    Nine calls in ten of Altair's copy were for a value it returns as it is, mostly the
    ``Undefined`` of each property a chart object leaves unset (an encoding has forty): the
    values of those types are taken without a call, and Altair's switch that stops checking each
    object built (``debug_mode(False)``, which it sets for each) is set once for the whole copy.
    Levers: 89,600 calls, 0.10 s CPU, to 11,000 calls and 0.04 s.
    """
    with schemapi.debug_mode(False):
        return _copied(obj, by_ref)


#: The types of the values Altair's copy returns as they are (immutable: shared safely).
_AS_IS = frozenset({str, int, float, bool, type(None), type(alt.Undefined)})


def _copied(obj, by_ref):
    if isinstance(obj, schemapi.SchemaBase):
        if copier := getattr(obj, "__deepcopy__", None):
            return copier(obj)
        kwds = {
            k: v if k in by_ref or type(v) in _AS_IS else _copied(v, by_ref)
            for k, v in obj._kwds.items()
        }
        args = [v if type(v) in _AS_IS else _copied(v, by_ref) for v in obj._args]
        if isinstance(obj, _COMBINED):
            clone = object.__new__(type(obj))
            object.__setattr__(clone, "_args", tuple(args))
            object.__setattr__(clone, "_kwds", kwds)
            return clone
        return obj.__class__(*args, **kwds)
    if isinstance(obj, list):
        return [v if type(v) in _AS_IS else _copied(v, by_ref) for v in obj]
    if isinstance(obj, dict):
        return {
            k: v if k in by_ref or type(v) in _AS_IS else _copied(v, by_ref) for k, v in obj.items()
        }
    return obj


#: The Altair that the two replacements above and the rows below were written for, and that
#: tests/test_package.py holds them equal to Altair's own on; any other version keeps Altair's own
#: (slower, never wrong). The rows depend on pandas too: they are written only under this pandas.
REPLACED_IN_ALTAIR = "6.3.0"
ROWS_WITH_PANDAS = "3.1.1"
if alt.__version__ == REPLACED_IN_ALTAIR:
    schemapi._FromDict = _FromDictOnce
    schemapi._deep_copy = _deep_copy


#: The column types :func:`_rows` writes as Altair does; a frame with any other (categories,
#: objects, durations, geometries) is written by Altair.
_FLOATS, _AS_LISTS = {"float64"}, {"int64", "int32", "bool"}
_MAYBE_MISSING = {"str", "string", "Int64", "Float64", "boolean"}
_INF = float("inf")


def _rows(frame: pd.DataFrame) -> list[dict] | None:
    """The rows Altair's data transformer writes for a frame (``sanitize_pandas_dataframe`` then
    ``to_dict(orient="records")``), column by column in plain Python; None for a frame it does
    not handle (Altair's own then writes it, or raises its error).

    Altair converts and replaces each column of a copy of the frame through pandas, a dozen
    operations per column that cost more than the values for the book's frames (20 rows, 10
    columns): 0.03-0.05 s a chapter. The values written are the same, type for type: Python
    numbers and booleans, None for a missing value (and for a float's NaN or infinity), dates as
    ISO text ('' for a missing one).
    """
    columns = list(frame.columns)
    if (
        not columns
        or isinstance(frame.columns, (pd.RangeIndex, pd.MultiIndex))
        or isinstance(frame.index, pd.MultiIndex)
        or not all(isinstance(c, str) for c in columns)
        or not frame.columns.is_unique
    ):
        return None
    values = []
    for name, dtype in frame.dtypes.items():
        column, kind = frame[name], str(dtype)
        if kind in _AS_LISTS:
            values.append(column.tolist())
        elif kind in _FLOATS:
            values.append([None if v != v or v in (_INF, -_INF) else v for v in column.tolist()])
        elif kind in _MAYBE_MISSING:
            values.append(
                [
                    None if v is None or (type(v) is float and v != v) else v
                    for v in column.to_numpy(dtype=object, na_value=None).tolist()
                ]
            )
        elif kind.startswith(("datetime", "timestamp")):
            values.append(["" if v is pd.NaT else v.isoformat() for v in column])
        else:
            return None
    return [dict(zip(columns, row)) for row in zip(*values)]


def _to_values(data):
    """Altair's default data transformer without its row limit (the book's frames are small),
    with the rows of a frame written by :func:`_rows` when Altair and pandas are the versions it
    was tested against (tests/test_package.py: every column type, missing values, every chart
    frame of the book), and by Altair otherwise."""
    if (
        alt.__version__ == REPLACED_IN_ALTAIR
        and pd.__version__ == ROWS_WITH_PANDAS
        and type(data) is pd.DataFrame
        and (rows := _rows(data)) is not None
    ):
        return {"values": rows}
    return default_data_transformer(data, max_rows=None)


alt.data_transformers.register(RENDERER, _to_values)


def setup() -> None:
    """Switch on the book's theme and renderer; chapters call this once, first.

    It also turns off Altair's check of each schema object as it is made (each mark, channel,
    scale and axis, against its part of the Vega-Lite schema: 25-40 ms a chapter), as the maps
    already did (:func:`afterkarabakh.maps.base_map`): every chart is checked whole against the
    schema when it is drawn (Altair's ``to_dict``; a finished chart once per spec, see
    :class:`Figure`), which finds the same errors, since the parts are in the whole.
    """
    theme.enable()
    alt.renderers.enable(RENDERER)
    alt.data_transformers.enable(RENDERER)
    schemapi.disable_debug_mode()


def source_line(source_ids, limit: int = 3) -> str:
    """'Source: …' naming the publishers of the given registry ids (all must exist)."""
    ids = sorted(set(source_ids))
    if not ids:
        raise ValueError("a chart needs at least one source id")
    registry = data.sources()
    missing = [i for i in ids if i not in registry.index]
    if missing:
        raise KeyError(f"source ids not in data/sources.csv: {missing}")
    publishers = list(dict.fromkeys(registry.loc[ids, "publisher"]))
    if len(publishers) <= limit:
        return ("Source: " if len(publishers) == 1 else "Sources: ") + "; ".join(publishers) + "."
    shown = "; ".join(publishers[:limit])
    return (
        f"Sources: {shown} and {len(publishers) - limit} more (all listed in the Sources appendix)."
    )


def _sources_of(sources) -> list[str]:
    if isinstance(sources, pd.DataFrame):
        return list(sources["source_id"].dropna())
    if isinstance(sources, str):
        return [sources]
    ids = []
    for item in sources:
        ids.extend(_sources_of(item))
    return ids


def _characters_that_fit(chart) -> int:
    """How many 10-px characters fit under the plotting area (the source line starts at its left edge)."""
    widths = []
    for part in [
        chart,
        getattr(chart, "spec", None),
        *getattr(chart, "layer", []),
        *getattr(chart, "vconcat", []),
    ]:
        width = getattr(part, "width", None)
        if isinstance(width, (int, float)):
            widths.append(width)
    plot_width = max(widths) if widths else theme.WIDTH
    return max(50, int(plot_width / 5.6))


def datasets_of(*things) -> list[str]:
    """The book's datasets a chart draws on, as far as its frames still say (``data.load`` names
    each frame in ``attrs``; pandas keeps the name through filters, not through every reshaping)."""
    found: set[str] = set()
    seen: set[int] = set()

    def walk(item) -> None:
        if id(item) in seen:
            return
        seen.add(id(item))
        if isinstance(item, pd.DataFrame):
            if item.attrs.get("dataset"):
                found.add(item.attrs["dataset"])
        elif isinstance(item, (list, tuple)):
            for part in item:
                walk(part)
        elif isinstance(item, dict):
            for part in item.values():
                walk(part)
        elif isinstance(item, alt.SchemaBase) and isinstance(vars(item).get("_kwds"), dict):
            for part in vars(item)["_kwds"].values():
                walk(part)

    for thing in things:
        walk(thing)
    return sorted(found)


#: Specs that have passed Altair's check against the Vega-Lite schema, one empty file per spec.
VALIDATED_SPECS = paths.CACHE / "chart-specs-validated"


def _validated_key(spec: dict) -> str:
    """The key of a spec's check: what Altair checks (the spec without the datasets it adds
    after checking) and the version of Altair, whose schema it is checked against."""
    checked = {k: v for k, v in spec.items() if k not in ("datasets", "$schema")}
    text = json.dumps(checked, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{alt.__version__}|{text}".encode()).hexdigest()[:24]


class Figure(alt.VConcatChart):
    """A finished chart (what :func:`finish` returns): checked against the Vega-Lite schema once
    per spec, not each time a kernel draws it.

    Altair checks the whole spec with jsonschema whenever a chart is shown (10-20 ms a chart, an
    eighth of a second for the six of the levers chapter), and every chapter's kernel shows the
    same charts on every build. A spec that passed once (kept by content in
    :data:`VALIDATED_SPECS`) is the same spec: it is written without the check; any other (a new
    or changed chart) is written again with the check, and fails as loudly as before.
    """

    def copy(self, deep=True, ignore=None):
        """A copy; a shallow one (what Altair takes of the figure each time it writes the spec, and
        in ``properties``) without rebuilding the group, which would copy the whole chart again.

        Rebuilding a finished group changes nothing (its parts were combined when it was built), and
        the parts are shared as in any shallow copy: Altair writes each part from a copy of its own.
        """
        if deep is not False:
            return super().copy(deep=deep, ignore=ignore)
        clone = object.__new__(type(self))
        object.__setattr__(clone, "_args", self._args)
        kwds = dict(self._kwds)
        kwds["vconcat"] = list(kwds["vconcat"])
        object.__setattr__(clone, "_kwds", kwds)
        return clone

    def to_dict(self, validate=True, *, format="vega-lite", ignore=None, context=None):
        options = {"format": format, "ignore": ignore}
        top_level = (context or {}).get("top_level", True)
        if not (validate and top_level and format == "vega-lite"):
            return super().to_dict(validate, context=context, **options)
        spec = super().to_dict(False, context=dict(context or {}), **options)
        stamp = VALIDATED_SPECS / _validated_key(spec)
        if stamp.exists():
            return spec
        spec = super().to_dict(True, context=dict(context or {}), **options)
        paths.write_stamp(stamp)
        return spec


def finish(
    chart,
    *,
    title: str,
    description: str,
    sources,
    subtitle: str | None = None,
    note: str | None = None,
    name: str | None = None,
) -> Figure:
    """Give a chart its title, subtitle, text description and a source line under it.

    ``sources`` is a DataFrame with a ``source_id`` column (the rows charted), a
    source id, or a list of either. ``note`` adds a caveat before the source line.
    ``name`` (``fig-<chapter>-<what>``) makes the numbered figure a label the prose
    can cite with ``{numref}`` (see ``afterkarabakh.book.figures``).
    """
    if name is not None and not re.fullmatch(r"fig-[a-z0-9-]+", name):
        raise ValueError(f"figure name {name!r}: use fig- and lower-case letters, digits, hyphens")
    if not title or not description:
        raise ValueError("every chart needs a title and a text description")
    footer = source_line(_sources_of(sources))
    if note:
        footer = f"{note} {footer}"
    # The source line is the inner chart's bottom title, anchored to the whole group (axes
    # included) so it starts at the chart's left edge whatever the width of the axis labels.
    source = alt.Title(
        text=textwrap.wrap(footer, width=_characters_that_fit(chart)),
        orient="bottom",
        anchor="start",
        frame="bounds",
        fontSize=10,
        fontWeight="normal",
        color=theme.MUTED_INK,
        offset=12,
    )
    # Vega does not wrap titles: break long ones so they fit the text column.
    heading = alt.Title(
        text=wrap_title(title), subtitle=wrap_title(subtitle, font_size=12) if subtitle else []
    )
    # The renderer reads the title (export file names) and the sources (the data table) from usermeta.
    meta = {"title": title, "sources": sorted(set(_sources_of(sources)))}
    if name:
        meta["figure"] = name
    drawn_from = datasets_of(chart, sources)
    if drawn_from:  # for the list of figures an edition keeps (afterkarabakh.editions)
        meta["datasets"] = drawn_from
    # Legends belong to the chart, above its source line: a legend left to the outer group would be
    # set below the source line (and a chart with two legends would have one on each side of it).
    #
    # Altair copies every part of a compound chart whenever it builds or copies one (a map's
    # geometry included): the group is built once, with its resolution, and the source line is set
    # on the group's own copy of the chart, instead of through three copies (``properties``,
    # ``vconcat`` and ``resolve_legend``). The spec is the same; the whole of it is checked against
    # the schema when first shown (:class:`Figure`).
    figure = Figure(
        vconcat=[chart],
        title=heading,
        description=description,
        usermeta={"afterkarabakh": meta},
        resolve=alt.Resolve(
            legend=alt.LegendResolveMap(**{channel: "independent" for channel in LEGEND_CHANNELS})
        ),
    )
    figure.vconcat[0].title = source
    return figure


#: Every channel a legend can show.
LEGEND_CHANNELS = (
    "angle",
    "color",
    "fill",
    "fillOpacity",
    "opacity",
    "shape",
    "size",
    "stroke",
    "strokeDash",
    "strokeOpacity",
    "strokeWidth",
)


#: The shares of its design width the page's renderer may draw a chart at: it narrows plotting
#: areas to fit the column, down to 0.3 (MIN_SCALE in static/afterkarabakh-charts.js), while
#: text keeps its size. Labels that must stay clear of each other are placed for each.
DRAWN_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
#: Keeps only the rows placed for the width a view is drawn at (Vega's ``width`` signal: the
#: plotting area of a chart passed to :func:`finish`), from ``ak_wmin`` up to ``ak_wmax``.
WIDTH_FILTER = "datum.ak_wmin <= width && width < datum.ak_wmax"


def scaled(size: float, scale: float) -> int:
    """A size as the renderer narrows it (``Math.floor(value * scale)``, at least 1)."""
    return max(1, int(size * scale + 1e-9))


def drawn_widths(width: float) -> list[tuple[float, int, int, int]]:
    """``(scale, drawn width, ak_wmin, ak_wmax)`` for each of :data:`DRAWN_SCALES`.

    A set of labels placed for one drawn width serves every width up to the next one placed
    for (places move apart as the chart widens and text keeps its size, so nothing that was
    clear starts to touch); the narrowest also serves anything narrower.
    """
    widths = [scaled(width, s) for s in DRAWN_SCALES]
    uppers = [10**6, *widths[:-1]]
    lowers = [*widths[:-1], 0]
    return list(zip(DRAWN_SCALES, widths, lowers, uppers))


def spread(positions, room: float, low: float, high: float) -> list[float]:
    """Positions moved as little as possible so that any two are at least ``room`` apart, within
    ``[low, high]``; the order is kept (overlapping runs are centred on what they label)."""

    def centred(members):
        mean = sum(positions[i] for i in members) / len(members)
        start = mean - room * (len(members) - 1) / 2
        return min(max(start, low), max(low, high - room * (len(members) - 1)))

    order = sorted(range(len(positions)), key=lambda i: positions[i])
    clusters = [[centred([i]), [i]] for i in order]  # [first position, members]

    merged = True
    while merged:
        merged = False
        for k in range(len(clusters) - 1):
            a, b = clusters[k], clusters[k + 1]
            if a[0] + room * len(a[1]) > b[0] + 1e-9:
                members = a[1] + b[1]
                clusters[k : k + 2] = [[centred(members), members]]
                merged = True
                break
    result = [0.0] * len(positions)
    for start, members in clusters:
        for n, i in enumerate(members):
            result[i] = start + n * room
    return result


#: Axis labels for dates that never repeat at any zoom: the year on its first day, the month on
#: the first of a month, otherwise day and month (no ticks closer than a day); the first label
#: also carries its year, so a zoomed view always says which year it shows.
DATE_LABELS = (
    "month(datum.value) == 0 && date(datum.value) == 1 ? timeFormat(datum.value, '%Y')"
    " : timeFormat(datum.value, (date(datum.value) == 1 ? '%b' : '%-d %b')"
    " + (datum.index == 0 ? ' %Y' : ''))"
)
_DAY_MS = 86_400_000


def _stack_levels(starts, ends, lanes, width_px: float, gap_px: float) -> list[int]:
    """A level within its lane for each event, so that no two marks closer than ``gap_px`` share one.

    Positions are those of the unzoomed chart (zooming only spreads the marks further apart);
    a span occupies its whole length. Levels alternate around the lane's centre line.
    """
    t0, t1 = min(starts), max(ends)
    scale = width_px / max((t1 - t0).total_seconds(), 1)
    levels = [0] * len(starts)
    last_end: dict = {}
    for i in sorted(range(len(starts)), key=lambda k: (lanes[k], starts[k])):
        x0 = (starts[i] - t0).total_seconds() * scale
        x1 = (ends[i] - t0).total_seconds() * scale
        level = 0
        while last_end.get((lanes[i], level), -1e9) > x0 - gap_px:
            level += 1
        last_end[(lanes[i], level)] = x1
        levels[i] = level
    return levels


def lane_label_expr(centres: dict) -> str:
    """A Vega expression naming the lane whose centre (a whole pixel) an axis tick stands at.

    The tick values are the centres themselves, so each label is found by its exact key; a centre
    that is not a whole number would be written rounded and match no tick.
    """
    keys = {}
    for lane, centre in centres.items():
        if int(centre) != centre:
            raise ValueError(f"lane {lane!r}: centre {centre} is not a whole pixel")
        # A long name on two lines, so a phone's narrow label column shows it whole.
        lines = wrap_title(str(lane), width=LANE_LABEL_WIDTH, font_size=11)
        keys[str(int(centre))] = lines if len(lines) > 1 else lane
    return f"{json.dumps(keys, ensure_ascii=False)}[datum.value] || ''"


#: Px a lane's name may take on one line before it is set on two.
LANE_LABEL_WIDTH = 125


def timeline(
    events: pd.DataFrame,
    *,
    row: str = "theme",
    colour: alt.Scale | None = None,
    row_labels: dict | None = None,
    height: int = 260,
    order: list | None = None,
) -> alt.VConcatChart:
    """An events timeline: a detail view above an overview strip whose brush zooms the detail.

    ``events`` needs ``date``, ``title``, ``description``, ``source_id`` and the
    ``row`` column (one lane per value, e.g. the theme). Events close in time are stacked
    within their lane so none hides another; tooltips give the full entry, and a click on
    an event opens its source in a new tab. Dragging over the strip selects a period,
    double-click resets it.
    """
    frame = events.copy()
    frame["date_end"] = (
        frame["date_end"].fillna(frame["date"]) if "date_end" in frame else frame["date"]
    )
    labels = row_labels or {}
    frame["lane"] = frame[row].map(lambda v: labels.get(v, v))
    lanes = order or list(dict.fromkeys(frame.sort_values("date")["lane"]))
    scale = colour or alt.Scale(domain=list(labels.values()) if labels else lanes)
    if colour is None and labels and row == "theme":
        scale = alt.Scale(
            domain=[labels[k] for k in theme.THEME_COLOURS if k in labels],
            range=[theme.THEME_COLOURS[k] for k in theme.THEME_COLOURS if k in labels],
        )
    frame = frame[["date", "date_end", "title", "description", "lane", "source_id"]].reset_index(
        drop=True
    )
    registry = data.sources()
    citations = {s: data.citation(s) for s in frame["source_id"].unique()}  # once per source
    frame["source"] = frame["source_id"].map(lambda s: citations[s])
    frame["url"] = frame["source_id"].map(registry["url"])
    width = theme.WIDTH - theme.LABEL_ROOM + 40
    pad = 12  # px kept free at each end so the first and last events are drawn whole
    frame["level"] = _stack_levels(
        list(frame["date"]),
        list(frame["date_end"]),
        list(frame["lane"]),
        width - 2 * pad,
        gap_px=10,
    )
    step = 8  # px between levels
    # Each lane is as tall as its stack needs (at least its share of ``height``, up to 40 px); levels
    # 0, 1, 2, ... sit at 0, +step, -step, +2 step ... around the lane's centre line. The y
    # position is in whole pixels from the top, so each lane's centre is an exact key for its label.
    minimum = int(min(height / max(len(lanes), 1), 40))
    lane_heights = {
        lane: int(max(minimum, (frame.loc[frame["lane"] == lane, "level"].max() + 1) * step + 14))
        for lane in lanes
    }
    tops = dict(zip(lanes, [sum(list(lane_heights.values())[:i]) for i in range(len(lanes))]))
    centres = {lane: tops[lane] + lane_heights[lane] // 2 for lane in lanes}
    frame["y"] = [
        centres[lane] + (k + 1) // 2 * step * (1 if k % 2 else -1)
        for lane, k in zip(frame["lane"], frame["level"])
    ]
    total = sum(lane_heights.values())
    lane_of = lane_label_expr(centres)
    brush = alt.selection_interval(encodings=["x"], name="period")
    axis = dict(labelExpr=DATE_LABELS, tickMinStep=_DAY_MS, labelOverlap=True, labelFlush=True)
    base = alt.Chart(frame).encode(
        color=alt.Color("lane:N", scale=scale, title=None, legend=None),
    )
    tooltip = [
        alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
        alt.Tooltip("title:N", title="Event"),
        alt.Tooltip("description:N", title="What happened"),
        alt.Tooltip(
            "source:N",
            title="Source (click the point, or tap it and then “Open the source”, to read it)",
        ),
    ]
    x = alt.X(
        "date:T",
        scale=alt.Scale(domain=brush, padding=pad),
        title="Date (drag on the strip below to zoom)",
        axis=alt.Axis(**axis),
    )
    y = alt.Y(
        "y:Q",
        title=None,
        scale=alt.Scale(domain=[total, 0], nice=False, zero=False),
        axis=alt.Axis(
            values=list(centres.values()),
            labelExpr=lane_of,
            grid=False,
            domain=True,
            labelFontSize=11,
            labelColor=theme.MUTED_INK,
        ),
    )
    detail = alt.layer(
        base.mark_rule(strokeWidth=4, opacity=0.6).encode(x=x, x2="date_end:T", y=y),
        base.mark_point(
            filled=True, size=60, opacity=1, stroke="white", strokeWidth=1, cursor="pointer"
        ).encode(x=x, y=y, tooltip=tooltip, href="url:N"),
    ).properties(width=width, height=total)
    overview = (
        base.mark_tick(thickness=2, size=14)
        .encode(
            x=alt.X(
                "date:T",
                title=None,
                scale=alt.Scale(padding=pad),
                axis=alt.Axis(tickCount=8, **axis),
            ),
            tooltip=tooltip,
        )
        .add_params(brush)
        .properties(width=width, height=24)
    )
    return alt.vconcat(detail, overview, spacing=4)


def gantt(
    frame: pd.DataFrame,
    *,
    start: str,
    end: str,
    row: str,
    colour: alt.Color,
    tooltip: list,
    open_end=None,
    row_title: str | None = None,
    height_per_row: int = 22,
    x_title: str = "Year",
) -> alt.LayerChart:
    """Bars from ``start`` to ``end`` (empty end = still running, drawn to ``open_end``, by default
    the day the data stop), one row each.

    Ongoing items get an arrow-like open end so a reader sees they have not ended.
    """
    data_frame = frame.copy()
    open_end = pd.Timestamp(open_end) if open_end is not None else data.as_of()
    data_frame["ongoing"] = data_frame[end].isna()
    data_frame["_end"] = data_frame[end].fillna(open_end)
    # Long row names break onto two lines (by sense) instead of being cut, which could leave two
    # rows with the same visible text; rows get taller to hold them.
    label_room = theme.LABEL_ROOM + 60
    lines = {
        name: wrap_title(str(name), width=label_room - 8, font_size=11)
        for name in data_frame[row].unique()
    }
    if any(len(v) > 1 for v in lines.values()):
        height_per_row = max(height_per_row, 30)
    data_frame["_row"] = data_frame[row].map(lambda name: "\n".join(lines[name]))
    row = "_row"
    order = list(dict.fromkeys(data_frame.sort_values(start)[row]))
    y = alt.Y(
        f"{row}:N",
        sort=order,
        title=row_title,
        axis=alt.Axis(
            labelLimit=label_room, labelExpr="split(datum.label, '\\n')", labelLineHeight=12
        ),
    )
    x = alt.X(f"{start}:T", title=x_title, axis=alt.Axis(format="%Y"))
    bars = (
        alt.Chart(data_frame)
        .mark_bar(height=height_per_row * 0.6, cornerRadius=2)
        .encode(x=x, x2="_end:T", y=y, color=colour, tooltip=tooltip)
    )
    ongoing = (
        alt.Chart(data_frame[data_frame["ongoing"]])
        .mark_point(shape="triangle-right", filled=True, size=70)
        .encode(x="_end:T", y=y, color=colour, tooltip=tooltip)
    )
    # A tick at the start keeps items of a few days visible at a scale of decades.
    starts = (
        alt.Chart(data_frame)
        .mark_tick(thickness=3, size=height_per_row * 0.8)
        .encode(x=f"{start}:T", y=y, color=colour, tooltip=tooltip)
    )
    return alt.layer(bars, starts, ongoing).properties(
        width=theme.WIDTH - theme.LABEL_ROOM, height=height_per_row * max(len(order), 1)
    )


#: Px per claim and between groups of claims: compact enough that the book's longest list of claims
#: (Figure 2.3, the casualties of September 2023) prints on one A4 page with its text at 7 pt.
CLAIM_STEP, CLAIM_SPACING = 15, 6


def claims(
    frame: pd.DataFrame,
    *,
    category: str,
    label: str,
    low: str,
    high: str,
    colour: alt.Color,
    tooltip: list,
    x_title: str,
    label_room: int = 230,
    key: str | None = None,
) -> alt.FacetChart:
    """Disputed figures side by side: one line per claim, grouped under the figure claimed.

    A single figure (low == high) shows as one point; a range shows a bar between its ends,
    so the spread between claimants and between revisions stays visible. Each claim's number
    is written beside its point, then who claimed it and when, so no axis labels push the
    chart sideways. Each group's heading sits just above its own rows and well below the
    previous group. ``key`` names a column unique per claim, for claims that share a label.
    """
    frame = frame.copy()
    frame["_figure"] = [
        f"{a:,.0f}" if pd.isna(b) or a == b else f"{a:,.0f}–{b:,.0f}"
        for a, b in zip(frame[low], frame[high])
    ]
    number_room = 8 + 7 * max(len(v) for v in frame["_figure"])
    base = alt.Chart().encode(
        y=alt.Y(
            f"{key or label}:N", title=None, sort=None, axis=None, scale=alt.Scale(paddingOuter=0.1)
        ),
        color=colour,
        tooltip=tooltip,
    )
    spread = base.mark_rule(strokeWidth=6, opacity=0.45).encode(
        x=alt.X(f"{low}:Q", title=x_title), x2=f"{high}:Q"
    )
    ends = [
        base.mark_point(filled=True, size=70, opacity=1).encode(x=f"{end}:Q") for end in (low, high)
    ]
    numbers = base.mark_text(
        align="left", dx=9, fontSize=11, fontWeight=600, color=theme.INK
    ).encode(x=f"{high}:Q", text="_figure:N", color=alt.value(theme.INK))
    names = base.mark_text(
        align="left", dx=number_room + 6, fontSize=10, color=theme.MUTED_INK
    ).encode(x=f"{high}:Q", text=f"{label}:N", color=alt.value(theme.MUTED_INK))
    layered = alt.layer(spread, *ends, numbers, names, data=frame).properties(
        width=max(theme.WIDTH * 0.45, theme.WIDTH - label_room - number_room),
        height=alt.Step(CLAIM_STEP),
    )
    return layered.facet(
        row=alt.Row(
            f"{category}:N",
            title=None,
            sort=list(dict.fromkeys(frame[category])),
            header=alt.Header(
                labelAngle=0,
                labelOrient="top",
                labelAnchor="start",
                labelPadding=0,
                labelFontWeight=600,
                labelFontSize=12,
                labelColor=theme.INK,
            ),
        ),
        spacing=CLAIM_SPACING,
    ).resolve_scale(y="independent")


#: Widths of characters, in ems, of a sans-serif at weight 600 (a coarse table is enough to
#: decide where a line is full; the exact font is the reader's system font).
_NARROW, _WIDE = set("iljtfrI.,:;'’!|()[] -–"), set("mwMWÆŒ%@")


class _Ems(dict):
    """Each character's width in ems, worked out the first time it is met."""

    def __missing__(self, c: str) -> float:
        ems = 0.3 if c in _NARROW else 0.85 if c in _WIDE else 0.68 if c.isupper() else 0.56
        self[c] = ems
        return ems


_EMS = _Ems()


def _text_width(text: str, font_size: float) -> float:
    ems = sum(map(_EMS.__getitem__, text))
    return 1.05 * ems * font_size


#: Words a line should not end on (they belong to what follows) and words a line may start on
#: because they open a clause.
_CLINGING = {
    "a",
    "an",
    "the",
    "of",
    "in",
    "on",
    "at",
    "to",
    "by",
    "for",
    "from",
    "with",
    "and",
    "or",
    "but",
    "as",
    "its",
    "their",
    "his",
    "her",
    "each",
    "every",
    "no",
    "not",
    "into",
    "than",
    "per",
    "after",
    "before",
    "since",
    "until",
    "between",
    "over",
    "under",
    "up",
    "one",
    "two",
    "three",
}
_OPENERS = {
    "and",
    "but",
    "while",
    "as",
    "when",
    "then",
    "where",
    "which",
    "who",
    "so",
    "yet",
    "after",
    "before",
    "since",
    "until",
    "from",
    "through",
    "because",
    "though",
}
_MONTHS = {
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
}


def _break_cost(before: str, after: str) -> float:
    """How badly a line break between two words cuts the sense (negative: a good place)."""
    if before.endswith((".", "?", "!")):
        return -9.0
    if before.endswith((":", ";")):
        return -6.0
    if before.endswith(","):
        return -4.0
    if before in ("–", "—") or after in ("–", "—") or "–" in after[:1]:
        return 8.0  # never split a range or a dash from what it joins
    if before.lower() in _CLINGING:
        return 6.0
    if after.lower() in _OPENERS:
        return -2.0
    bare_before, bare_after = before.strip("(),"), after.strip("(),")
    if (
        bare_before in _MONTHS
        or bare_after in _MONTHS
        or (bare_before[:1].isdigit() and bare_after[:1].isdigit())
    ):
        return 6.0  # keep dates together
    if before[:1].isupper() and after[:1].isupper():
        return 2.0  # keep names together ("Russian Federation", "Lachin Corridor")
    return 0.0


def wrap_title(text: str, width: float = 480, font_size: float = 16) -> list[str]:
    """Break a title into lines that fit ``width`` px, at the places that keep its sense.

    Vega does not wrap titles. Among all ways to break the title into as few lines as fit,
    this prefers breaks after a colon, a semicolon or a comma and before a new clause, avoids
    breaking inside a date, a name or after an article or preposition, balances the lines,
    and never leaves a single word alone on the last line. The default width is narrower
    than a chart, so a title breaks the same way on a laptop and on a tablet.
    """
    words = text.split()
    if not words or _text_width(text, font_size) <= width:
        return [text] if text else []
    n = len(words)
    lines_needed = max(2, int(_text_width(text, font_size) // width) + 1)

    known: dict[tuple[int, int], float] = {}  # each line's cost, for every count of lines tried

    def line_cost(i: int, j: int) -> float:
        if (i, j) in known:
            return known[i, j]
        line = " ".join(words[i:j])
        used = _text_width(line, font_size)
        if used > width and j - i > 1:
            cost = float("inf")
        elif j == n and j - i == 1:
            cost = float("inf")  # an orphan
        else:
            slack = (width - used) / width
            cost = 10 * slack**2 + (0 if j == n else _break_cost(words[j - 1], words[j]))
        known[i, j] = cost
        return cost

    for lines in range(lines_needed, n + 1):
        # cost[k][j]: cheapest way to set words[:j] on k lines.
        cost = [[float("inf")] * (n + 1) for _ in range(lines + 1)]
        back = [[0] * (n + 1) for _ in range(lines + 1)]
        cost[0][0] = 0.0
        for k in range(1, lines + 1):
            for j in range(1, n + 1):
                for i in range(k - 1, j):
                    c = cost[k - 1][i] + line_cost(i, j)
                    if c < cost[k][j]:
                        cost[k][j], back[k][j] = c, i
        if cost[lines][n] < float("inf"):
            ends = []
            j = n
            for k in range(lines, 0, -1):
                ends.append((back[k][j], j))
                j = back[k][j]
            return [" ".join(words[i:j]) for i, j in reversed(ends)]
    return textwrap.wrap(text, width=int(width / (0.56 * font_size)))


def persons_claimed(
    frame: pd.DataFrame,
    *,
    category: str,
    note: str,
    label_room: int = 230,
    key: str | None = None,
) -> alt.FacetChart:
    """Counts of people (dead, wounded, displaced) as each claimant gave them: :func:`claims`
    with one colour per claimant and the book's tooltip for such figures."""
    return claims(
        frame,
        category=category,
        label="claim",
        low="value_low",
        high="value_high",
        colour=alt.Color(
            "claimant_actor:N", scale=theme.actor_scale(frame["claimant_actor"]), title="Claimant"
        ),
        x_title="Persons (as claimed)",
        label_room=label_room,
        key=key,
        tooltip=[
            alt.Tooltip(f"{category}:N", title="Figure"),
            alt.Tooltip("value_low:Q", title="Persons"),
            alt.Tooltip("value_high:Q", title="Up to"),
            alt.Tooltip("claimant:N", title="Claimed by"),
            alt.Tooltip("claim_date:T", title="Date of claim", format="%-d %b %Y"),
            alt.Tooltip(f"{note}:N", title="Note"),
        ],
    )
