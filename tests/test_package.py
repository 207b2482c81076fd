"""The shared package's promises: charts carry credits, colours are fixed, maps draw for Vega."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import altair as alt
import nbformat
import numpy as np
import pandas as pd
import pytest
import shapely
import vl_convert
from shapely.geometry import Point, shape

from afterkarabakh import charts, data, maps, tables, text, theme
from afterkarabakh.paths import ROOT


@pytest.fixture(autouse=True)
def _book_setup():
    charts.setup()


def _bar():
    return alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q")


def test_finish_adds_title_description_and_registry_source_line():
    source_id = data.sources().index[0]
    spec = charts.finish(
        _bar(), title="T", subtitle="S", description="A bar chart of two values.", sources=source_id
    ).to_dict()
    assert spec["title"]["text"] == ["T"] and spec["title"]["subtitle"] == ["S"]
    assert spec["description"] == "A bar chart of two values."
    footer = " ".join(spec["vconcat"][0]["title"]["text"])
    assert spec["vconcat"][0]["title"]["orient"] == "bottom"
    assert footer.startswith("Source: " + data.sources().loc[source_id, "publisher"][:20])


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(title="", description="d", sources="x"), ValueError),
        (dict(title="t", description="", sources="x"), ValueError),
        (dict(title="t", description="d", sources="no-such-source"), KeyError),
        (dict(title="t", description="d", sources=[]), ValueError),
    ],
)
def test_finish_refuses_a_chart_without_credits(kwargs, error):
    with pytest.raises(error):
        charts.finish(_bar(), **kwargs)


def test_long_source_lists_point_to_the_appendix():
    line = charts.source_line(list(data.sources().index))
    assert "Sources appendix" in line


def test_actor_colours_are_distinct_and_complete():
    colours = list(theme.ACTOR_COLOURS.values())
    assert len(set(colours)) == len(colours)
    for actor in [
        "Russia",
        "Armenia",
        "Azerbaijan",
        "Turkey",
        "Iran",
        "Georgia",
        "EU and the West",
        "Israel",
        "India",
        "France",
        "Ukraine",
        "Others",
    ]:
        assert actor in theme.ACTOR_COLOURS
    with pytest.raises(KeyError):
        theme.actor_scale(["Atlantis"])


def test_book_renderer_uses_local_vega_in_the_book(monkeypatch):
    """In the book a chart is data for the page's deferred renderer: no script of its own, no CDN."""
    monkeypatch.setenv(charts.BOOK_BUILD_ENV, "1")
    html = charts.render({"description": "d", "mark": "bar"})["text/html"]
    assert "cdn" not in html.lower() and "http" not in html
    assert '<script type="application/json"' in html and "<script>" not in html
    assert 'class="ak-nojs"' in html and '"aria":false' in html


def test_every_chart_carries_its_rows_and_their_sources(monkeypatch):
    monkeypatch.setenv(charts.BOOK_BUILD_ENV, "1")
    source_id = data.sources().index[0]
    frame = pd.DataFrame({"year": [2020, 2021], "count": [3, 4], "source_id": [source_id] * 2})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year"),
            y=alt.Y("count:Q", title="Count (units)"),
            tooltip=[alt.Tooltip("count:Q", title="Units counted")],
        )
    )
    html = charts.render(
        charts.finish(
            chart, title="Two years", description="Bars for two years.", sources=frame
        ).to_dict()
    )["text/html"]
    table = html.split('<details class="ak-data">')[1]
    assert table.count("<tr>") == 3  # the header and exactly the two rows charted
    assert ">Units counted<" in table and ">Year<" in table and ">Source<" in table
    assert data.sources().loc[source_id, "publisher"] in table
    assert 'data-ak-name="two-years"' in html


def test_renderer_outside_the_book_ships_the_bundle_once(monkeypatch):
    monkeypatch.delenv(charts.BOOK_BUILD_ENV, raising=False)
    monkeypatch.setattr(charts, "_bundle_sent_to_frontend", False)
    first = charts.render({"description": "d"})["text/html"]
    second = charts.render({"description": "d"})["text/html"]
    assert "window.vegaEmbed=" in first.replace(" ", "") and len(second) < 5000


def test_bundle_matches_altair_and_is_wrapped():
    bundle = charts.javascript_bundle()
    assert bundle.startswith("(function () {") and bundle.rstrip().endswith("})();")


def test_bundle_is_made_once_and_kept_under_its_versions():
    from importlib.metadata import version

    charts.javascript_bundle.cache_clear()
    bundle = charts.javascript_bundle()
    kept = [
        p
        for p in (ROOT / "_build" / ".cache").glob("vega-bundle-*.js")
        if version("altair") in p.name and version("vl-convert-python") in p.name
    ]
    assert kept, "no bundle kept on disk under the current versions"
    assert kept[0].read_text(encoding="utf-8") == bundle


def test_book_serves_the_bundle_under_a_versioned_name():
    from importlib.metadata import version

    from afterkarabakh.book import sphinxext

    assert version("altair") in sphinxext._vendor_js_name()


def test_a_kept_label_placement_is_the_placement_and_a_moved_place_is_placed_anew(
    tmp_path, monkeypatch
):
    """compose keeps its placement between kernels: the next compose of the same map reads it
    back (no label placed again) into the same spec; a place moved, or a map of another size,
    is placed anew and replaces the placement it supersedes."""
    monkeypatch.setattr(maps, "PLACEMENTS_CACHE", tmp_path)
    placed = []
    place = maps.place_labels
    monkeypatch.setattr(maps, "place_labels", lambda *a, **k: placed.append(1) or place(*a, **k))
    places = maps.places(["stepanakert", "shusha", "lachin"])

    def spec(frame, height=400):
        chart = maps.compose(maps.base_map(height=height), maps.points(frame, tooltip=["label:N"]))
        return json.dumps(chart.to_dict(validate=False))

    first = spec(places)
    n = len(placed)
    assert n and len(list(tmp_path.iterdir())) == 1
    assert spec(places) == first and len(placed) == n  # read back, not placed again
    moved = places.assign(lat=places["lat"] + [0.0, 0.0, 0.3])
    assert spec(moved) != first and len(placed) == 2 * n
    assert len(list(tmp_path.iterdir())) == 1  # the moved map's placement replaced the first
    assert spec(places, height=300) != first and len(placed) == 3 * n


def test_a_kept_base_map_is_the_map_made_and_its_layer_noted_as_used(tmp_path, monkeypatch):
    monkeypatch.setattr(maps, "BASE_MAPS_CACHE", tmp_path)
    made, noted = [], []
    make = maps._base_map
    monkeypatch.setattr(maps, "_base_map", lambda *a: made.append(a) or make(*a))
    monkeypatch.setattr(data, "_note_use", noted.append)
    extent = (43.2, 38.7, 47.0, 42.95)
    first = json.dumps(maps.base_map(extent=extent, height=520).to_dict(validate=False))
    again = json.dumps(maps.base_map(extent=extent, height=520).to_dict(validate=False))
    fresh = json.dumps(make(extent, theme.WIDTH, 520, True, None).to_dict(validate=False))
    assert first == again == fresh and len(made) == 1
    assert [p.name for p in noted[-2:]] == ["south_caucasus.geojson"] * 2
    maps.base_map(extent=extent, height=500)
    assert len(made) == 2 and len(list(tmp_path.iterdir())) == 2


def test_map_layers_reach_vega_with_clockwise_rings():
    values = maps.to_altair_data(maps.nagorno_karabakh_1994_2020()).values
    ring = shape(values[0]["geometry"]).exterior
    assert not ring.is_ccw, "Vega fills the whole frame for counter-clockwise outer rings"


def test_base_map_is_one_projection_and_labels_both_names():
    spec = maps.compose(
        maps.base_map(), maps.points(maps.places(["stepanakert"]), tooltip=["label:N"])
    ).to_dict()
    assert spec["projection"]["type"] == "mercator"
    assert "Stepanakert/Khankendi" in json.dumps(spec)


def test_date_spans_read_like_prose():
    assert text.date_span("2023-09-19", "2023-09-20") == "19–20 September 2023"
    assert text.date_span("2020-09-27", "2020-11-10") == "27 September – 10 November 2020"
    assert text.date_span("2024-06-12", None) == "12 June 2024"
    with pytest.raises(KeyError, match="not in data/events.csv"):
        text.event("1900-01-01-nothing")


def test_actor_scale_orders_present_actors_the_book_way():
    scale = theme.actor_scale(["Israel", "Russia", "Israel", "Others"])
    assert scale.domain == ["Russia", "Israel", "Others"]
    assert scale.range == [theme.ACTOR_COLOURS[a] for a in scale.domain]


@pytest.mark.parametrize(
    "claimant, actor",
    [
        ("Armenian Security Council", "Armenia"),
        ("Nagorno-Karabakh human rights ombudsman", "Armenia"),
        ("Azerbaijani Ministry of Defence", "Azerbaijan"),
        ("Margarita Simonyan (RT editor-in-chief), no source given", "Russia"),
        ("Massis Post (no source named)", "Others"),
    ],
)
def test_claims_are_coloured_by_the_side_that_makes_them(claimant, actor):
    assert theme.actor_of_claimant(claimant) == actor


# --- Colours: contrast against the page (WCAG 1.4.11) and distance between colours (CIEDE2000) ---

#: Machado, Oliveira and Fernandes (2009), severity 1.0, applied to linear RGB.
CVD_MATRICES = {
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "tritanopia": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}
#: Smallest CIEDE2000 distance allowed between two colours of one palette, by vision.
MIN_DISTANCE = {None: 15.0, "deuteranopia": 8.0, "protanopia": 8.0, "tritanopia": 10.0}


def _linear_rgb(colour: str) -> np.ndarray:
    rgb = np.array([int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]) / 255
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def contrast_ratio(colour: str, background: str) -> float:
    lum = sorted(
        (float(_linear_rgb(c) @ [0.2126, 0.7152, 0.0722]) for c in (colour, background)),
        reverse=True,
    )
    return (lum[0] + 0.05) / (lum[1] + 0.05)


def cielab(colour: str, vision: str | None = None) -> np.ndarray:
    rgb = _linear_rgb(colour)
    if vision:
        rgb = np.clip(CVD_MATRICES[vision] @ rgb, 0, 1)
    xyz = (
        np.array(
            [
                [0.4124564, 0.3575761, 0.1804375],
                [0.2126729, 0.7151522, 0.0721750],
                [0.0193339, 0.1191920, 0.9503041],
            ]
        )
        @ rgb
        / [0.95047, 1.0, 1.08883]
    )
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def ciede2000(lab1, lab2) -> float:
    """Sharma, Wu and Dalal's implementation notes (2005) of the CIEDE2000 colour difference."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1, a2 = (1 + g) * a1, (1 + g) * a2
    c1, c2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1 = np.degrees(np.arctan2(b1, a1)) % 360 if c1 else 0.0
    h2 = np.degrees(np.arctan2(b2, a2)) % 360 if c2 else 0.0
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_l, d_c, d_h = l2 - l1, c2 - c1, 2 * np.sqrt(c1 * c2) * np.sin(np.radians(dh) / 2)
    l_bar, c_bar = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_bar = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_bar = (h1 + h2) / 2
    else:
        h_bar = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar, 1 + 0.015 * c_bar * t
    r_t = (
        -2
        * np.sqrt(c_bar**7 / (c_bar**7 + 25**7))
        * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2))))
    )
    return float(
        np.sqrt(
            (d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h)
        )
    )


def _closest_pairs(palette: dict, vision) -> list:
    names = list(palette)
    return sorted(
        (ciede2000(cielab(palette[a], vision), cielab(palette[b], vision)), a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    )


def test_colour_science_matches_published_values():
    # Sharma et al. (2005), table 1, pairs 1 and 17; WCAG's extremes; a grey stays grey.
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert abs(cielab("#808080", "deuteranopia") - cielab("#808080")).max() < 0.5


PALETTES = {
    "actors": theme.ACTOR_COLOURS,
    "themes": theme.THEME_COLOURS,
    "series": dict(enumerate(theme.SERIES_COLOURS)),
    "verdicts": theme.VERDICT_COLOURS,
    "ICC hosts": theme.ICC_HOST_COLOURS,
    "presence changes": theme.PRESENCE_CHANGE_COLOURS,
}
#: Colours of areas (map fills, the membership bars), as one chart shows them together: they must
#: stay apart like the palettes above, not reach 3:1 (an area is not a thin line).
_CSTO = theme.CSTO_STATUS_COLOURS
AREA_PALETTES = {
    "CSTO bars": {k: _CSTO[k] for k in list(_CSTO)[:3]},
    "CSTO map": {
        **{k: _CSTO[k] for k in list(_CSTO)[1:]},
        "not a signatory": theme.SHADE,
        "disputed": theme.DISPUTED_FILL,
    },
    "ICC map": {
        **theme.ICC_STATE_COLOURS,
        **{f"host {k}": v for k, v in theme.ICC_HOST_COLOURS.items()},
        "Russia (summits missed)": theme.ACTOR_COLOURS["Russia"],
        "disputed": theme.DISPUTED_FILL,
    },
}
#: Colours that stand for an actor outside the actor palette (the one place an actor's colour may
#: appear under another key): palette, key, actor.
STANDS_FOR_ACTOR = {
    ("CSTO statuses", "Participation frozen"): "Armenia",  # Armenia alone froze it
    ("ICC states", "Armenia (state party from 2024)"): "Armenia",
    ("presence changes", "arrived or grew"): "Russia",  # Russia's presence
}


@pytest.mark.parametrize("name", PALETTES)
def test_every_colour_reaches_3_to_1_against_the_page(name):
    background = theme.book_theme()["config"]["background"]
    background = {"white": "#FFFFFF"}.get(background, background)
    faint = {
        key: round(contrast_ratio(colour, background), 2)
        for key, colour in PALETTES[name].items()
        if contrast_ratio(colour, background) < 3
    }
    assert not faint, (
        f"theme.py: {name} colours below 3:1 against {background} (WCAG 1.4.11): {faint}"
    )


def test_ink_and_axis_colours_reach_their_contrast():
    assert (
        contrast_ratio(theme.INK, theme.SEA) >= 4.5
        and contrast_ratio(theme.MUTED_INK, "#FFFFFF") >= 4.5
    )


@pytest.mark.parametrize("vision", list(MIN_DISTANCE))
@pytest.mark.parametrize("name", AREA_PALETTES)
def test_colours_of_areas_shown_together_stay_apart(name, vision):
    close = [
        (round(d, 1), a, b)
        for d, a, b in _closest_pairs(AREA_PALETTES[name], vision)
        if d < MIN_DISTANCE[vision]
    ]
    assert not close, f"theme.py: {name} colours too close ({vision or 'normal vision'}): {close}"


OTHER_MEANINGS = {
    "themes": theme.THEME_COLOURS,
    "verdicts": theme.VERDICT_COLOURS,
    "CSTO statuses": theme.CSTO_STATUS_COLOURS,
    "ICC states": theme.ICC_STATE_COLOURS,
    "ICC hosts": theme.ICC_HOST_COLOURS,
    "presence changes": theme.PRESENCE_CHANGE_COLOURS,
    "fills": {"disputed": theme.DISPUTED_FILL, "shade": theme.SHADE},
}


@pytest.mark.parametrize("name", OTHER_MEANINGS)
def test_no_colour_of_another_meaning_looks_like_an_actor(name):
    """An actor's colour means that actor wherever it appears: a theme, verdict or status never
    takes it or one a reader would take for it (green was Azerbaijan and CSTO members)."""
    clashes = []
    for key, colour in OTHER_MEANINGS[name].items():
        for actor, actor_colour in theme.ACTOR_COLOURS.items():
            if STANDS_FOR_ACTOR.get((name, key)) == actor and colour == actor_colour:
                continue
            distance = ciede2000(cielab(colour), cielab(actor_colour))
            if distance < theme.OTHER_MEANING_DISTANCE:
                clashes.append(f"{key} {colour} ~ {actor} {actor_colour} ({distance:.1f})")
    assert not clashes, f"theme.py: {name} colours that look like an actor's: {clashes}"


def test_chapter_modules_take_their_colours_from_the_theme():
    found = {
        path.name: re.findall(r"#[0-9A-Fa-f]{6}\b", path.read_text(encoding="utf-8"))
        for path in (ROOT / "afterkarabakh" / "chapters").glob("*.py")
    }
    assert not {k: v for k, v in found.items() if v}, f"hex colours outside theme.py: {found}"


def test_the_old_palette_would_fail_the_distance_check():
    old = {"Russia": "#D55E00", "India": "#E69F00", "Ukraine": "#CCBB44", "Iran": "#999933"}
    assert _closest_pairs(old, "deuteranopia")[0][0] < MIN_DISTANCE["deuteranopia"]
    assert contrast_ratio("#CCBB44", "#FFFFFF") < 3


#: The same palettes as drawn on the dark page (the reader's colour mode).
DARK_PALETTES = {
    "actors": theme.DARK_ACTOR_COLOURS,
    "themes": theme.DARK_THEME_COLOURS,
    "series": dict(enumerate(theme.DARK_SERIES_COLOURS)),
    "verdicts": theme.DARK_VERDICT_COLOURS,
}


@pytest.mark.parametrize("name", DARK_PALETTES)
def test_every_dark_mode_colour_reaches_3_to_1_against_the_dark_page(name):
    faint = {
        key: round(contrast_ratio(colour, theme.DARK_BACKGROUND), 2)
        for key, colour in DARK_PALETTES[name].items()
        if contrast_ratio(colour, theme.DARK_BACKGROUND) < 3
    }
    assert not faint, f"theme.py: dark {name} colours below 3:1 against the dark page: {faint}"
    assert contrast_ratio(theme.DARK_MUTED_INK, theme.DARK_BACKGROUND) >= 4.5


@pytest.mark.parametrize("vision", list(MIN_DISTANCE))
@pytest.mark.parametrize(
    "mode, name",
    [("light", name) for name in PALETTES] + [("dark", name) for name in DARK_PALETTES],
)
def test_palette_colours_stay_apart(mode, name, vision):
    # Any two actors can meet in one chart (the suppliers' stacked bars, the regional map),
    # so every pair must differ, also as seen with the common colour-vision deficiencies, on the
    # light page and on the dark one.
    palette = (PALETTES if mode == "light" else DARK_PALETTES)[name]
    close = [
        (round(d, 1), a, b)
        for d, a, b in _closest_pairs(palette, vision)
        if d < MIN_DISTANCE[vision]
    ]
    assert not close, (
        f"theme.py: {mode} {name} colours too close ({vision or 'normal vision'}, CIEDE2000 < {MIN_DISTANCE[vision]}): {close}"
    )


def test_dark_mode_keeps_one_colour_per_actor_and_redraws_the_spec():
    assert list(theme.DARK_ACTOR_COLOURS) == list(theme.ACTOR_COLOURS)
    assert len(set(theme.DARK_ACTOR_COLOURS.values())) == len(theme.ACTOR_COLOURS)
    # An actor too dark for the dark page is swapped, in the scale and in a colour column alike;
    # a data value that merely reads "white" is not a colour.
    france = theme.ACTOR_COLOURS["France"]
    frame = pd.DataFrame({"x": [1, 2], "c": [france, "#123456"], "name": ["white", "b"]})
    chart = (
        alt.Chart(frame)
        .mark_point(stroke="white")
        .encode(x="x:Q", color=alt.Color("c:N", scale=None), tooltip="name:N")
    )
    spec = charts.finish(chart, title="T", description="d", sources=data.sources().index[0])
    light = spec.to_dict()
    dark = charts.in_dark_mode(light)
    rows = next(iter(dark["datasets"].values()))
    assert rows[0]["c"] == theme.DARK_ACTOR_COLOURS["France"] != france
    assert contrast_ratio(rows[1]["c"], theme.DARK_BACKGROUND) >= 3
    assert rows[0]["name"] == "white"
    assert dark["config"]["background"] == theme.DARK_BACKGROUND
    assert dark["vconcat"][0]["mark"]["stroke"] == theme.DARK_BACKGROUND
    assert charts.dark_mode(light)["colours"]["white"] == theme.DARK_BACKGROUND


# --- Titles ---
@pytest.mark.parametrize(
    "title, lines",
    [
        (
            "Three decades of Russian deployments, and the treaties behind them",
            ["Three decades of Russian deployments,", "and the treaties behind them"],
        ),
        (
            "Nagorno-Karabakh after 2020: the corridor and the towns of the zone",
            ["Nagorno-Karabakh after 2020:", "the corridor and the towns of the zone"],
        ),
        (
            "From the road block to the offensive, December 2022 – September 2023",
            ["From the road block to the offensive,", "December 2022 – September 2023"],
        ),
        ("Key events, 1988–2026", ["Key events, 1988–2026"]),
    ],
)
def test_titles_break_where_the_sense_does(title, lines):
    assert charts.wrap_title(title) == lines


@pytest.mark.parametrize("width", [240, 320, 480, 560])
def test_titles_fit_and_never_leave_a_word_alone(width):
    titles = [
        "19–20 September 2023: casualties by side, as each claimant counted them",
        "Armenia bought from Russia; Azerbaijan bought more, and from Israel",
        "The South Caucasus moved when Russia was stretched in Ukraine",
        "Russia's arms exports shrank before 2022 and collapsed after them all",
    ]
    for title in titles:
        lines = charts.wrap_title(title, width=width)
        assert " ".join(lines) == title
        assert len(lines[-1].split()) >= 2 or len(lines) == 1, lines
        assert all(charts._text_width(line, 16) <= width for line in lines if " " in line), lines
        assert not any(line.split()[-1] in ("the", "of", "a", "and") for line in lines[:-1]), lines


def test_finish_wraps_title_and_subtitle_by_sense():
    spec = charts.finish(
        _bar(),
        title="Three decades of Russian deployments, and the treaties behind them",
        subtitle="Diamonds: agreements as signed. Bars: each installation from its start; "
        "an arrow means still present",
        description="d",
        sources=data.sources().index[0],
    ).to_dict()
    assert spec["title"]["text"][-1] == "and the treaties behind them"
    assert spec["title"]["subtitle"][0] == "Diamonds: agreements as signed."


# --- Timelines ---


def _intro_timeline():
    events = data.load("events")
    lanes = {k: theme.THEME_LABELS[k] for k in theme.THEME_COLOURS if k in set(events["theme"])}
    return events, charts.timeline(events, row="theme", row_labels=lanes)


def _visible_labels(spec: dict, role: str = "axis-label") -> list[list[str]]:
    svg = vl_convert.vegalite_to_svg(json.dumps(spec))
    groups = re.findall(rf'<g class="mark-text role-{role}"[^>]*>(.*?)</g>', svg, flags=re.S)
    # Multi-line labels come as <tspan>s inside one <text>.
    return [
        [
            " ".join(re.findall(r">([^<]+)<", f">{t}<"))
            for t in re.findall(r'<text[^>]*opacity="1"[^>]*>(.*?)</text>', g, flags=re.S)
        ]
        for g in groups
    ]


def _zoomed(spec, start, end):
    """The spec with the brush replaced by a fixed period, as if a reader had dragged over it."""
    window = [pd.Timestamp(start).value // 10**6, pd.Timestamp(end).value // 10**6]

    def swap(node):
        if isinstance(node, dict):
            return {
                k: (window if k == "domain" and v == {"param": "period"} else swap(v))
                for k, v in node.items()
            }
        return [swap(v) for v in node] if isinstance(node, list) else node

    return swap(spec)


def _symbol_centres(spec: dict) -> list[tuple[float, float]]:
    """Centres of the drawn point symbols of the first point layer, read from Vega's own SVG."""
    svg = vl_convert.vegalite_to_svg(json.dumps(spec))
    group = re.search(
        r'<g class="mark-symbol role-mark[^"]*"[^>]*>(.*?)</g>', svg, flags=re.S
    ).group(1)
    return [
        (float(x), float(y))
        for x, y in re.findall(r'<path[^>]*? transform="translate\(([-\d.]+),([-\d.]+)\)', group)
    ]


def test_timeline_keeps_every_event_visible():
    events, chart = _intro_timeline()
    spec = chart.to_dict()
    centres = _symbol_centres(spec)
    assert len(centres) == len(events) == len(data.load("events"))
    # A symbol of 60 px² is 8.7 px wide: centres closer than 7.5 px would hide one behind the other.
    close = [
        (a, b)
        for i, a in enumerate(centres)
        for b in centres[i + 1 :]
        if np.hypot(a[0] - b[0], a[1] - b[1]) < 7.5
    ]
    assert not close, f"timeline: {len(close)} pairs of events hide each other, e.g. at {close[:3]}"
    width = spec["vconcat"][0]["width"]
    assert all(4 <= x <= width - 4 for x, _ in centres), (
        "first or last events clipped at the chart's edge"
    )
    points = [layer for layer in spec["vconcat"][0]["layer"] if layer["mark"]["type"] == "point"][0]
    assert points["encoding"]["href"]["field"] == "url"


@pytest.mark.parametrize("height", [170, 220, 260, 333])
def test_timeline_names_every_lane(height):
    """Each lane's label is drawn (lanes of a third of a pixel once matched no tick and lost it)."""
    events = data.load("events")
    period = events[events["date"] >= "2023-11-01"]
    lanes = {k: theme.THEME_LABELS[k] for k in theme.THEME_COLOURS if k in set(period["theme"])}
    chart = charts.timeline(period, row="theme", row_labels=lanes, height=height)
    shown = [label for group in _visible_labels(chart.to_dict()) for label in group]
    assert sorted(set(shown) & set(lanes.values())) == sorted(lanes.values()), shown


def test_lane_labels_refuse_a_centre_between_pixels():
    assert (
        charts.lane_label_expr({"A": 10, "B": 30}) == '{"10": "A", "30": "B"}[datum.value] || \'\''
    )
    long = json.loads(
        charts.lane_label_expr({"Russian military presence": 10}).split("[datum.value]")[0]
    )["10"]
    assert len(long) == 2 and " ".join(long) == "Russian military presence"
    with pytest.raises(ValueError, match="whole pixel"):
        charts.lane_label_expr({"A": 36.666666666666664})


def test_timeline_points_link_to_their_source_in_a_new_tab():
    events, chart = _intro_timeline()
    values = next(iter(chart.to_dict()["datasets"].values()))
    registry = data.sources()
    assert [v["url"] for v in values] == list(registry.loc[events["source_id"], "url"])
    # The renderer's loader (every chart's, for links) opens them in a new tab.
    assert 'var LINKS = { target: "_blank"' in charts.RENDERER_JS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "start, end",
    [
        (None, None),
        ("2020-01-01", "2026-06-30"),
        ("2023-01-01", "2024-01-01"),
        ("2023-08-15", "2023-10-15"),
        ("2023-09-15", "2023-09-25"),
    ],
)
def test_timeline_labels_each_year_once_at_every_zoom(start, end):
    _, chart = _intro_timeline()
    spec = chart.to_dict()
    if start:
        spec = _zoomed(spec, start, end)
    labels = _visible_labels(spec)
    detail = labels[0]  # the detail view's date axis (then the lanes, then the overview strip)
    assert detail and len(detail) == len(set(detail)), detail
    years = [label for label in detail if re.search(r"\b(19|20)\d\d\b", label)]
    assert years, f"no year on the axis of a zoom to {start}–{end}: {detail}"
    assert len({re.search(r"(19|20)\d\d", y).group() for y in years}) == len(years), detail


# --- Maps: place labels placed clear of each other and of the overlays ---


def _chapter_map(chapter: str, marker: str) -> dict:
    """The spec of the map a chapter draws, by running the chapter's code up to the map's cell."""
    notebook = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    drawn, namespace = [], {}
    finish = charts.finish
    try:
        charts.finish = lambda chart, **kw: drawn.append(finish(chart, **kw)) or drawn[-1]
        for cell in notebook.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, f"{chapter}.ipynb", "exec"), namespace)
                if marker in cell.source and drawn:
                    return drawn[-1].to_dict()
    finally:
        charts.finish = finish
    raise AssertionError(f"{chapter}.ipynb: no map drawn by a cell containing {marker!r}")


def _drawn_labels(spec: dict):
    """Place labels, state names and point symbols as Vega draws them (pixel boxes and centres)."""
    svg = vl_convert.vegalite_to_svg(json.dumps(spec))
    anchor = {"start": "left", "end": "right", "middle": "center"}
    labels, states, symbols = [], [], []
    for name, body in re.findall(
        r'<g class="mark-(?:text|symbol) role-mark ([^"]*)"[^>]*>(.*?)</g>', svg, flags=re.S
    ):
        if "<text" not in body:
            symbols += [
                (float(x), float(y))
                for x, y in re.findall(
                    r'<path[^>]*? transform="translate\(([-\d.]+),([-\d.]+)\)', body
                )
            ]
            continue
        for attrs, label in re.findall(r"<text([^>]*)>([^<]*)</text>", body):
            x, y = map(float, re.search(r"translate\(([-\d.]+),([-\d.]+)\)", attrs).groups())
            align = (
                anchor[re.search(r'text-anchor="(\w+)"', attrs).group(1)]
                if "text-anchor" in attrs
                else "center"
            )
            if "state_labels" in name:
                states.append(
                    (label, maps.text_box(x, y, label, align, maps.STATE_FONT_SIZE, bold=True))
                )
            elif 'fill="white"' not in attrs:  # the halo repeats each label
                labels.append((label, maps.text_box(x, y, label, align)))
    return labels, states, symbols


BOOK_MAPS = [
    ("introduction", "region_map"),
    ("military", "deployment_map"),
    ("peacekeeping", "nk_map"),
    ("aftermath", "transit_map"),
]
#: Shares of its design width a map is drawn at: as designed, and on a 400 px phone.
MAP_SCALES = (1.0, 0.61)


def _narrowed(spec: dict, scale: float) -> dict:
    """The spec with its map narrowed as the page's renderer narrows it (scaledSpec in
    static/afterkarabakh-charts.js): width and height of every view with a projection."""
    spec = json.loads(json.dumps(spec))

    def walk(node, in_map=False):
        if isinstance(node, list):
            for child in node:
                walk(child, in_map)
        elif isinstance(node, dict):
            in_map = in_map or "projection" in node
            for key in ("width", "height"):
                if in_map and isinstance(node.get(key), (int, float)):
                    node[key] = max(1, int(node[key] * scale))
            for key in ("layer", "vconcat", "hconcat", "concat"):
                walk(node.get(key), in_map)

    walk(spec)
    return spec


@pytest.fixture(
    scope="module",
    params=[(m, s) for m in BOOK_MAPS for s in MAP_SCALES],
    ids=[f"{m[0]}-{s}" for m in BOOK_MAPS for s in MAP_SCALES],
)
def book_map(request):
    charts.setup()
    (chapter, marker), scale = request.param
    spec = _narrowed(_chapter_map(chapter, marker), scale)
    return f"{chapter} at {scale:.0%}", _drawn_labels(spec)


def test_map_labels_never_overlap_each_other_or_state_names(book_map):
    chapter, (labels, states, _) = book_map
    assert len(labels) >= 6, f"{chapter}: only {len(labels)} places labelled"
    for i, (a, box_a) in enumerate(labels):
        for b, box_b in labels[i + 1 :] + states:
            assert not box_a.intersects(box_b), f"{chapter} map: label '{a}' overlaps '{b}'"


def test_map_labels_hide_no_marked_place(book_map):
    chapter, (labels, _, symbols) = book_map
    for label, label_box in labels:
        hidden = [p for p in symbols if label_box.contains(Point(p))]
        assert not hidden, f"{chapter} map: label '{label}' covers a marked place at {hidden[0]}"


def _placed_one_by_one(labels, obstacles, frame_box, soft):
    """Labels placed as maps.place_labels describes it, one candidate at a time: the oracle for
    its vectorised search (each candidate's box, leader and cost built on its own)."""
    import math

    import shapely
    from shapely.geometry import LineString, box

    everyone = labels[["x", "y"]].to_numpy()
    taken, kept = list(obstacles), []
    for row in labels.sort_values("priority", kind="stable").itertuples():
        point = Point(row.x, row.y)
        radius = max(
            [row.radius]
            + [
                math.hypot(o.bounds[2] - o.bounds[0], o.bounds[3] - o.bounds[1]) / 2
                for o in obstacles
                if o.geom_type == "Polygon" and o.contains(point) and o.area < 400
            ]
        )
        near = everyone[(abs(everyone[:, 0] - row.x) < 60) & (abs(everyone[:, 1] - row.y) < 60)]
        away = (row.x - near[:, 0].mean(), row.y - near[:, 1].mean()) if len(near) > 1 else (0, 0)
        away_norm, gap = math.hypot(*away), radius + 3
        options = [
            (rank, row.x + ux * gap, row.y + uy * gap * 1.0, align, None)
            for rank, (ux, uy, align) in enumerate(maps._NEAR)
        ] + [(rank, row.x + dx, row.y + dy, a, (dx, dy)) for rank, dx, dy, a, _ in maps._FAR]
        blockers = [o for o in taken if not o.contains(point)]
        width, half = maps.text_width(row.text), maps.LABEL_FONT_SIZE * 1.25 / 2
        best = None
        for rank, lx, ly, align, leader in options:
            left = {"left": lx, "right": lx - width, "center": lx - width / 2}[align]
            label_box = box(left, ly - half, left + width, ly + half)
            if not frame_box.contains(label_box):
                continue
            line = None
            if leader is not None:
                length = math.hypot(*leader)
                start = (
                    row.x + leader[0] / length * (radius + 1),
                    row.y + leader[1] / length * (radius + 1),
                )
                end = label_box.exterior.interpolate(label_box.exterior.project(point))
                line = LineString([start, (end.x, end.y)])
            if (
                shapely.dwithin(point.buffer(radius), label_box, 1.5)
                or any(shapely.dwithin(label_box, o, 1.5) for o in blockers)
                or (line is not None and any(shapely.dwithin(line, o, 0.75) for o in blockers))
            ):
                continue
            cost = rank + 0.5 * sum(label_box.intersects(o) for o in soft)
            if leader is not None and away_norm:
                cost += 1 - (leader[0] * away[0] + leader[1] * away[1]) / (
                    math.hypot(*leader) * away_norm
                )
            if best is None or cost < best[0]:
                best = (cost, lx, ly, align, label_box, line)
            if cost == rank:
                break
        if best is not None:
            _, lx, ly, align, label_box, line = best
            taken += [label_box.buffer(1)] + ([line.buffer(1)] if line is not None else [])
            ends = [*line.coords[0], *line.coords[-1]] if line is not None else [float("nan")] * 4
            kept.append((row.text, lx, ly, align, *label_box.bounds, *ends))
    return kept


@pytest.mark.parametrize("seed", range(6))
def test_map_labels_are_placed_as_one_candidate_at_a_time_would(seed):
    from shapely.geometry import LineString, box

    rng = np.random.default_rng(seed)
    width, height = 500, 320
    # A crowd (labels that need leaders or find no room) and places scattered around it.
    xy = np.vstack(
        [rng.normal((250, 160), 25, size=(14, 2)), rng.uniform((0, 0), (width, height), (14, 2))]
    )
    names = ["Yerevan", "Gyumri", "Stepanakert/Khankendi", "Meghri", "Lachin/Berdzor", "Goris"]
    labels = pd.DataFrame(
        {
            "text": rng.choice(names, len(xy)),
            "x": xy[:, 0],
            "y": xy[:, 1],
            "priority": rng.integers(0, 5, len(xy)) * 1000 + np.arange(len(xy)),
            "radius": rng.choice([0.0, 4.7, 8.0], len(xy)),
        }
    )
    # Marker boxes, state names (boxes), a buffered route; a polygon's outline as a soft obstacle.
    obstacles = [box(x - 4.7, y - 4.7, x + 4.7, y + 4.7) for x, y in xy[::2]]
    obstacles += [box(x - 30, y - 6, x + 30, y + 6) for x, y in rng.uniform(0, 300, (3, 2))]
    obstacles.append(LineString(rng.uniform((0, 0), (width, height), (4, 2))).buffer(2))
    soft = [Point(250, 160).buffer(70).boundary]
    frame_box = box(1, 1, width - 1, height - 1)
    placed = maps.place_labels(labels, obstacles, frame_box, soft)
    got = [
        (row.text, row.lx, row.ly, row.align, *row.box.bounds, row.x0, row.y0, row.x1, row.y1)
        for row in placed.itertuples()
    ]
    expected = _placed_one_by_one(labels, obstacles, frame_box, soft)
    assert any(not np.isnan(row[8]) for row in expected), "the scene needs a leader line"
    # Exact equality (NaN for no leader compared as equal): the same places, to the last digit.
    assert [tuple("nan" if v != v else v for v in row) for row in got] == [
        tuple("nan" if v != v else v for v in row) for row in expected
    ]


def test_any_within_finds_what_testing_every_pair_finds():
    from shapely.geometry import LineString, box

    rng = np.random.default_rng(7)
    corners = rng.uniform(0, 200, (60, 2))
    geometries = np.array([box(x, y, x + 40, y + 12) for x, y in corners], dtype=object)
    inner = [box(x, y, x + 25, y + 10) for x, y in rng.uniform(0, 200, (20, 2))]
    others = np.array(
        inner  # boxes
        + [b.buffer(1) for b in inner]  # placed labels: a box inside each
        + [LineString(rng.uniform(0, 200, (3, 2))).buffer(2) for _ in range(4)],  # lines
        dtype=object,
    )
    cores = maps._rectangles(others)
    assert np.isfinite(cores[:20]).all() and np.isnan(cores[20:]).all()
    cores[20:40] = shapely.bounds(np.array(inner, dtype=object))
    expected = [bool(shapely.dwithin(g, others, 1.5).any()) for g in geometries]
    args = (geometries, shapely.bounds(geometries), others, shapely.bounds(others), 1.5)
    assert maps._any_within(*args).tolist() == expected
    assert maps._any_within(*args, cores).tolist() == expected
    assert 0 < sum(expected) < len(expected)


def test_rectangles_are_boxes_and_nothing_else():
    from shapely.geometry import LineString, Polygon, box

    shapes = np.array(
        [
            box(0, 0, 4, 2),
            box(0, 0, 4, 2, ccw=False),
            box(0, 0, 4, 2).buffer(1),
            Polygon([(2, 0), (4, 2), (2, 4), (0, 2)]),  # a square turned 45 degrees
            Polygon([(0, 0), (4, 2), (4, 0), (0, 2)]),  # the four corners as a bow tie
            LineString([(0, 0), (4, 2)]),
            Point(1, 1),
        ],
        dtype=object,
    )
    found = maps._rectangles(shapes)
    assert found[:2].tolist() == [[0, 0, 4, 2]] * 2
    assert np.isnan(found[2:]).all()


def test_map_channels_make_the_spec_shorthands_make():
    frame = pd.DataFrame({"lon": [44.5], "lat": [40.2], "label": ["Yerevan"]})
    encoding = dict(
        longitude="lon:Q",
        latitude="lat:Q",
        color=alt.value(theme.INK),
        tooltip=["label:N", alt.Tooltip("lon:Q", title="Longitude")],
    )
    chart = alt.Chart(frame).mark_point()
    assert (
        chart.encode(**maps._channels(**encoding)).to_dict() == chart.encode(**encoding).to_dict()
    )


def test_map_features_are_shared_by_copies_and_drawn_as_inline_data():
    features = maps.to_altair_data(maps.nagorno_karabakh_1994_2020())
    chart = alt.Chart(features).mark_geoshape()
    assert chart.copy().data is features
    plain = alt.InlineData(values=features.values, format=features.format)
    assert chart.to_dict() == alt.Chart(plain).mark_geoshape().to_dict()


SIMFEROPOL = Point(34.10, 44.95)


def _areas(spec: dict) -> list[dict]:
    """Every map feature of a spec (inline or in its datasets)."""
    return [
        node
        for node in tables.spec_nodes(spec)
        if "geometry" in node and isinstance(node.get("properties"), dict)
    ]


def _status_maps():
    frame = pd.DataFrame(
        {
            "iso3": ["RUS", "UKR", "ARM"],
            "status": ["Member", "Left (1999)", "Participation frozen"],
            "state": ["Russia", "Ukraine", "Armenia"],
            "source_id": [data.sources().index[0]] * 3,
        }
    )
    scale = alt.Scale(
        domain=list(theme.CSTO_STATUS_COLOURS), range=list(theme.CSTO_STATUS_COLOURS.values())
    )
    world = maps.world_map(
        frame.rename(columns={"status": "category"}),
        field="category",
        scale=scale,
        fallback="Left (1999)",
        title="Status",
    )
    eurasia = maps.world_status_map(
        frame,
        iso3="iso3",
        field="status",
        scale=scale,
        legend_title="Status",
        tooltip=[("state", "State"), ("status", "Status")],
    )
    return {"world_map": (world, "category"), "world_status_map": (eurasia, "status")}


@pytest.mark.parametrize("which", ["world_map", "world_status_map"])
def test_maps_draw_crimea_as_disputed_not_as_russia(which):
    chart, field = _status_maps()[which]
    spec = chart.to_dict()
    holding = [f for f in _areas(spec) if shape(f["geometry"]).buffer(0).contains(SIMFEROPOL)]
    label = maps.DISPUTED["Crimea"]["label"]
    coloured = [f for f in holding if field in f["properties"]]
    assert coloured and all(f["properties"][field] == label for f in coloured), [
        f["properties"] for f in holding
    ]
    scales = [
        layer["encoding"]["color"]["scale"]
        for layer in spec.get("layer", [])
        if "color" in layer.get("encoding", {})
    ]
    for scale in scales:
        assert scale["range"][scale["domain"].index(label)] == theme.DISPUTED_FILL


@pytest.mark.parametrize("which", ["world_map", "world_status_map"])
def test_a_maps_data_table_holds_every_area_it_colours(which):
    from afterkarabakh import tables

    chart, field = _status_maps()[which]
    spec = charts.finish(
        chart, title="t", description="d", sources=data.sources().index[0]
    ).to_dict()
    rows = [r for t in tables.tables(spec) for r in t["rows"] if "properties" in r]
    shown = sorted(r["properties"].get(field) for r in rows)
    assert shown == sorted(
        ["Member", "Left (1999)", "Participation frozen", maps.DISPUTED["Crimea"]["label"]]
    ), shown
    assert all(r.get("source_id") for r in rows)


def test_python_projection_matches_vega():
    base = maps.base_map(label_states=False)
    place = maps.places(["stepanakert", "yerevan"])
    spec = charts.finish(
        maps.compose(base, maps.points(place, tooltip=["label:N"], label=None)),
        title="t",
        description="d",
        sources=place,
    ).to_dict()
    _, _, symbols = _drawn_labels(spec)
    forward, _ = maps.mercator(maps.REGION_EXTENT, base.width, base.height)
    expected = [forward(lon, lat) for lon, lat in zip(place["lon"], place["lat"])]
    offset = (
        symbols[0][0] - expected[0][0],
        symbols[0][1] - expected[0][1],
    )  # the view's place on the page
    assert symbols[1] == pytest.approx(
        (expected[1][0] + offset[0], expected[1][1] + offset[1]), abs=0.5
    )


def test_gantt_rows_keep_their_whole_names():
    deployments = data.load("russian_deployments_armenia")
    rows = deployments.assign(row=deployments["name"].str.split(" \\(").str[0])
    chart = charts.gantt(
        rows,
        start="start_date",
        end="end_date",
        row="row",
        open_end="2026-11-26",
        colour=alt.value(theme.INK),
        tooltip=["name:N"],
    )
    groups = _visible_labels(
        charts.finish(chart, title="t", description="d", sources=deployments).to_dict()
    )
    shown = next(group for group in groups if any("FSB" in label for label in group))
    assert sorted(shown) == sorted(rows["row"]), "gantt: row names cut or merged"


# --- The verdict chart (the conclusion; reusable by the introduction) ---
def test_verdict_chart_has_one_linked_mark_per_proposition_and_a_colour_per_verdict(monkeypatch):
    from afterkarabakh import verdicts

    assert list(theme.VERDICT_COLOURS) == verdicts.VERDICTS
    monkeypatch.setenv("AFTERKARABAKH_BOOK_BUILD", "1")  # links as the built book has them
    shown = verdicts.chart_frame()
    assert sorted(shown["proposition"]) == sorted(
        verdicts.load().dropna(subset=["verdict"])["proposition"]
    )
    assert shown["href"].str.fullmatch(r"[a-z_]+\.html#[a-z0-9-]+").all()
    spec = verdicts.chart().to_dict()
    assert spec["title"]["text"] and spec["description"].startswith(
        f"Grid of {len(shown)} propositions"
    )
    assert sum(verdicts.verdict_counts(shown).values()) == len(shown)


def test_listing_joins_names_as_prose_does():
    assert text.listing(["Georgia"]) == "Georgia"
    assert text.listing(["Azerbaijan", "Georgia"]) == "Azerbaijan and Georgia"
    assert text.listing(["Belarus", "Russia", "Tajikistan"]) == "Belarus, Russia and Tajikistan"


def test_glue_leaves_in_a_kernel_the_outputs_myst_nb_glue_leaves():
    """The book's glue (one message, no stream flush) and myst-nb's, run in a kernel on the same
    values, leave the same outputs: texts (long ones, quotes, new lines), numbers, booleans,
    a value to display and a frame (those two through myst-nb's own)."""
    from nbclient import NotebookClient

    values = (
        "['19 September 2023', 'it\\'s \"quoted\"', 'x' * 200, 'two\\nlines', 'Ørdubad–Julfa', "
        "7, -1.5, 2.0, True, __import__('pandas').DataFrame({'a': [1, 2]})]"
    )
    cell = (
        "from myst_nb import glue as mine\nfrom afterkarabakh.text import glue as ours\n"
        f"values = {values}\nprint('before')\n"
        "for glue in (mine, ours):\n"
        "    for i, value in enumerate(values):\n"
        "        glue(f'v{i}', value, display=False)\n"
        "    glue('shown', 'a value to display', display=True)\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    displayed = [o for o in notebook.cells[0].outputs if o["output_type"] == "display_data"]
    n = len(displayed) // 2
    assert n == 11 and displayed[:n] == displayed[n:]
    assert displayed[0]["metadata"]["scrapbook"] == {
        "name": "v0",
        "mime_prefix": text.GLUE_PREFIX,
    }
    assert [o["text"] for o in notebook.cells[0].outputs if o["output_type"] == "stream"] == [
        "before\n"
    ]


# --- citations that outlive their links: one builder of Robust Links -------------------------------

from html.parser import HTMLParser  # noqa: E402

from afterkarabakh import archive  # noqa: E402


class _Links(HTMLParser):
    """Every <a> of a fragment, with its attributes unescaped as a browser reads them."""

    def __init__(self, markup: str):
        super().__init__()
        self.links: list[dict] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs))


URL = "https://example.org/news?id=7&lang=en"


@pytest.mark.parametrize(
    "accessed", ["2026-12-03", pd.Timestamp("2026-12-03"), pd.Timestamp("2026-12-03").date()]
)
def test_archive_address_is_the_wayback_lookup_nearest_the_day_read(accessed):
    assert (
        archive.archive_url(URL, accessed)
        == "https://web.archive.org/web/20261203/https://example.org/news?id=7&lang=en"
    )


def test_a_citation_is_a_robust_link_with_its_archive_link():
    markup = archive.citation_html(URL, "2026-12-03", "Publisher, “Title” (1 Dec 2026)")
    original, archived = _Links(markup).links
    lookup = "https://web.archive.org/web/20261203/" + URL
    assert original == {"href": URL, "data-versiondate": "2026-12-03", "data-versionurl": lookup}
    assert archived["href"] == lookup and archived["class"] == "ak-archive"
    assert archived["data-originalurl"] == URL and archived["data-versiondate"] == "2026-12-03"
    assert "accessed 3 Dec 2026; " in markup and "&amp;lang=en" in markup
    assert "accessed" not in archive.citation_html(URL, "2026-12-03", URL, dated=False)
    assert (
        archive.citation_text(URL, "2026-12-03")
        == f"{URL} (accessed 3 Dec 2026; archived: {lookup})"
    )


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "/relative", ""])
def test_the_link_builder_refuses_what_is_not_a_web_address(url):
    with pytest.raises(ValueError, match="cannot cite"):
        archive.citation_html(url, "2026-12-03", "text")


def test_a_citation_needs_the_day_it_was_read():
    with pytest.raises(ValueError, match="day its page was read"):
        archive.archive_url(URL, pd.NaT)


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & co'


@pytest.fixture
def hostile_registry(monkeypatch):
    """The registry with markup in its first source's publisher, title and note (the data
    package refuses markup; every place that renders registry text must escape it all the same)."""
    registry = data.sources().copy()
    source_id = registry.index[0]
    for field in ("publisher", "title", "note"):
        registry[field] = registry[field].astype(object)
        registry.loc[source_id, field] = HOSTILE
    monkeypatch.setattr(data, "sources", lambda *a, **k: registry.copy())
    return source_id


def _escaped(markup: str) -> None:
    assert "<script" not in markup and "<img" not in markup, markup
    assert "&lt;script&gt;" in markup


def test_every_place_that_renders_registry_text_escapes_it(hostile_registry, monkeypatch):
    from afterkarabakh import apparatus, appendix, tables
    from afterkarabakh.book import sphinxext

    _escaped(tables.citation_html(hostile_registry))
    monkeypatch.setenv(charts.BOOK_BUILD_ENV, "1")
    frame = pd.DataFrame({"year": [2020], "count": [3], "source_id": [hostile_registry]})
    chart = alt.Chart(frame).mark_bar().encode(x="year:O", y="count:Q")
    _escaped(tables.data_html(chart.to_dict()))
    _escaped(apparatus._source_link(hostile_registry))
    cited_by = next(n for n in data.names() if hostile_registry in appendix.sources_of(n))
    _escaped(appendix.dataset_html(cited_by))
    # The bibliography: the BibTeX the registry becomes, formatted as sphinxcontrib-bibtex does.
    from docutils.core import publish_from_doctree
    from docutils.utils import new_document
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin

    entries = parse_string(sphinxext.bibtex_from_registry(), "bibtex").entries
    style = find_plugin("pybtex.style.formatting", "plain")()
    entry = next(iter(style.format_entries([entries[hostile_registry]])))
    document = new_document("bibliography")
    document += find_plugin("pybtex.backends", "docutils")().paragraph(entry)
    page = publish_from_doctree(document, writer_name="html5").decode()
    _escaped(page.split("<body>", 1)[1])


def test_the_bibliography_shows_each_sources_title_and_publisher_as_registered():
    """pybtex reads the generated BibTeX as LaTeX: a double hyphen would become a dash and an
    escaped dollar sign would keep its backslash, unless each is written so that it reads back."""
    from pybtex.backends.plaintext import Backend
    from pybtex.database import parse_string
    from pybtex.richtext import Text

    from afterkarabakh.book import sphinxext

    as_text = Backend()  # what render_as("text") looks up among the installed plugins each time
    entries = parse_string(sphinxext.bibtex_from_registry(), "bibtex").entries
    wrong = []
    for source_id, source in data.sources().iterrows():
        for field, column in (("title", "title"), ("howpublished", "publisher")):
            shown = Text.from_latex(entries[source_id].fields[field]).render(as_text)
            if shown != source[column]:
                wrong.append(
                    f"data/sources.csv, row {source_id}, field {column}: shown as {shown!r}"
                )
    assert not wrong, "\n".join(wrong)
    from afterkarabakh.book.citing import bibtex_text

    sample = "Boxes --- and -- en-wiki--on--ipfs, $6bn, 50% & C:\\x_y #1"
    written = bibtex_text(sample, for_pybtex=True)
    assert Text.from_latex(written).render_as("text") == sample, written


def test_counts_read_as_a_writer_writes_them():
    assert [text.words(n) for n in (0, 1, 4, 10, 11, 1200)] == [
        "none",
        "one",
        "four",
        "ten",
        "11",
        "1,200",
    ]
    assert text.words(0, zero="no") == "no"
    assert text.count(1, "day", one="a") == "a day" and text.count(2, "day") == "two days"
    assert text.count(14, "day") == "14 days" and text.count(0, "visit") == "no visits"
    assert text.count(3, "country", "countries") == "three countries"
    assert text.all_of(4, 4, "mission") == "all four missions"
    assert text.all_of(3, 4, "mission") == "three of the four missions"
    assert text.all_of(2, 2, "mission") == "both missions"
    assert text.all_of(0, 4, "mission") == "none of the four missions"
    assert text.capitalised(text.words(5)) == "Five"


def test_an_edited_static_file_has_every_page_written_again(tmp_path, monkeypatch):
    """Sphinx copies static files only when it writes a page: an edited stylesheet or renderer
    dates the built pages back so that all are written, with the new file and its checksum."""
    import os

    from afterkarabakh import paths
    from afterkarabakh.book import build

    package = tmp_path / "package"
    (package / "static").mkdir(parents=True)
    (package / "static" / "book.css").write_text("p { color: black; }", encoding="utf-8")
    monkeypatch.setattr(paths, "PACKAGE", package)
    output = tmp_path / "html"
    (output / "_static").mkdir(parents=True)
    (output / "chapters").mkdir()
    page = output / "chapters" / "one.html"
    page.write_text("<p>one</p>", encoding="utf-8")
    (output / "_static" / "book.css").write_text("p { color: black; }", encoding="utf-8")
    assert not build.rewrite_pages_if_static_changed(output)
    assert page.stat().st_mtime > 0
    (package / "static" / "book.css").write_text("p { color: navy; }", encoding="utf-8")
    assert build.rewrite_pages_if_static_changed(output)
    assert page.stat().st_mtime == 0
    os.utime(page)
    (output / "_static" / "book.css").unlink()  # a new file, not yet served, counts too
    assert build.rewrite_pages_if_static_changed(output)


def test_a_mistake_in_a_part_is_found_when_the_chart_is_drawn(tmp_path, monkeypatch):
    """charts.setup turns off Altair's check of each part as it is made; the whole chart is
    still checked when drawn, finished or not, and the mistake named."""
    monkeypatch.setattr(charts, "VALIDATED_SPECS", tmp_path)
    assert not alt.utils.schemapi.DEBUG_MODE
    axis = alt.Axis(labelAngle="steep")  # Altair's own check would refuse it here
    wrong = alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x=alt.X("x:Q", axis=axis))
    with pytest.raises(alt.utils.schemapi.SchemaValidationError, match="steep"):
        wrong.to_dict()
    finished = charts.finish(wrong, title="T", description="D", sources=data.sources().index[0])
    with pytest.raises(alt.utils.schemapi.SchemaValidationError, match="steep"):
        finished.to_dict()
    with alt.utils.schemapi.debug_mode(True):
        with pytest.raises(alt.utils.schemapi.SchemaValidationError, match="steep"):
            alt.Axis(labelAngle="steep")


def test_a_finished_chart_is_checked_against_the_schema_once_per_spec(tmp_path, monkeypatch):
    monkeypatch.setattr(charts, "VALIDATED_SPECS", tmp_path)
    checked = []
    original = charts.Figure.validate.__func__

    def counting(cls, instance, schema=None):
        checked.append(instance.get("description"))
        return original(cls, instance, schema)

    monkeypatch.setattr(charts.Figure, "validate", classmethod(counting))
    source_id = data.sources().index[0]
    figure = charts.finish(_bar(), title="Bars", description="Two bars.", sources=source_id)
    spec = figure.to_dict()
    assert checked == ["Two bars."] and len(list(tmp_path.iterdir())) == 1
    assert figure.to_dict() == spec and checked == ["Two bars."]  # the same spec: not again
    assert figure.to_dict(validate=False) == spec
    changed = figure.properties(description="Two other bars.")
    changed.to_dict()
    assert checked == ["Two bars.", "Two other bars."]
    broken = figure.copy()
    broken["padding"] = "generous"  # set without a check, as a mistake in a chart would be
    with pytest.raises(alt.utils.schemapi.SchemaValidationError, match="padding"):
        broken.to_dict()
    with pytest.raises(alt.utils.schemapi.SchemaValidationError):
        broken.to_dict()  # a spec that failed is checked (and fails) every time
    assert len(list(tmp_path.iterdir())) == 2


def test_altair_builds_the_same_objects_from_dicts_with_its_class_table_kept():
    original = charts._FromDictOnce.__mro__[1]  # Altair's own converter, building its table anew
    assert alt.utils.schemapi._FromDict is charts._FromDictOnce
    shorthands = {
        alt.X: {"shorthand": "date:T"},
        alt.Y: {"shorthand": "sum(value):Q", "title": "Value"},
        alt.Color: {"shorthand": "actor:N", "legend": {"orient": "bottom"}},
        alt.Tooltip: {"shorthand": "claim_date:T", "format": "%-d %b %Y"},
        alt.Chart: {"mark": {"type": "bar"}, "encoding": {"x": {"field": "a", "type": "nominal"}}},
    }
    for tp, dct in shorthands.items():
        kept = tp.from_dict(dct, validate=False)
        fresh = original(tp._default_wrapper_classes()).from_dict(dct, tp)
        assert type(kept) is type(fresh)
        assert kept.to_dict(validate=False) == fresh.to_dict(validate=False)
    tables = dict(charts._FromDictOnce._tables)
    alt.X.from_dict({"shorthand": "x:Q"}, validate=False)
    assert charts._FromDictOnce._tables == tables  # built once for the classes, then reused


def _compound_charts():
    """Charts made of parts at several levels, with a shared selection, finished as the book does."""
    events = data.load("events").head(12)
    frame = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2], "k": ["a", "b", "a"]})
    pick = alt.selection_point(fields=["k"], name="pick")
    base = alt.Chart(frame).encode(x="x:Q", y="y:Q", color="k:N")
    layered = alt.layer(base.mark_line(), base.mark_point().add_params(pick)).properties(width=200)
    return [
        charts.timeline(events),
        alt.vconcat(layered, alt.layer(layered, base.mark_text().encode(text="k:N"))),
        alt.hconcat(layered, base.mark_bar().transform_filter(pick)),
    ]


@pytest.mark.filterwarnings("ignore:Automatically deduplicated selection parameter")
def test_altair_copies_a_chart_of_parts_as_it_stands_with_the_same_spec(monkeypatch):
    assert alt.utils.schemapi._deep_copy is charts._deep_copy
    source_id = data.sources().index[0]

    def specs():
        return [
            json.dumps(
                charts.finish(chart, title="T", description="D", sources=source_id)
                .copy()
                .to_dict(validate=False)
            )
            for chart in _compound_charts()
        ]

    ours = specs()
    monkeypatch.setattr(alt.utils.schemapi, "_deep_copy", charts._altair_deep_copy)
    assert ours == specs()  # key for key, in the same order


def _shared(original, copy, seen=None) -> list[str]:
    """Mutable parts (chart objects, lists, dicts) a copy shares with its original, and any part
    whose type differs; Features are shared on purpose (maps.Features.__deepcopy__)."""
    seen = set() if seen is None else seen
    if id(original) in seen:
        return []
    seen.add(id(original))
    if type(original) is not type(copy):
        return [f"{type(original).__name__} became {type(copy).__name__}"]
    if isinstance(original, maps.Features):
        return []
    if isinstance(original, (alt.SchemaBase, list, dict)) and original is copy:
        return [type(original).__name__]
    if isinstance(original, alt.SchemaBase):
        original, copy = (original._args, original._kwds), (copy._args, copy._kwds)
        return _shared(original[0], copy[0], seen) + _shared(original[1], copy[1], seen)
    if isinstance(original, (list, tuple)):
        return [p for a, b in zip(original, copy, strict=True) for p in _shared(a, b, seen)]
    if isinstance(original, dict):
        assert list(original) == list(copy)
        return [p for k in original for p in _shared(original[k], copy[k], seen)]
    return []


@pytest.mark.filterwarnings("ignore:Automatically deduplicated selection parameter")
def test_a_deep_copy_shares_no_part_and_is_the_chart_altair_copies(monkeypatch):
    """Our deep copy (charts._deep_copy) takes atoms as they are and sets Altair's check switch
    once: every mutable part is copied, and the copy is the chart Altair's own copy makes, for
    charts of parts, a map (its features shared) and parts copied with some kept by reference."""
    assert alt.utils.schemapi._deep_copy is charts._deep_copy
    source_id = data.sources().index[0]
    places = maps.places().head(6)
    chosen = [
        *_compound_charts(),
        maps.compose(maps.base_map(), maps.points(places, tooltip=["label:N"])),
        alt.Chart(pd.DataFrame({"a": [1]})).mark_bar(color="#123456").encode(x="a:Q"),
    ]
    for chart in chosen:
        finished = charts.finish(chart, title="T", description="D", sources=source_id)
        for part, ignore in ((chart, None), (finished, None), (chart, ["data"])):
            with alt.utils.schemapi.debug_mode(True):  # as Altair has it without charts.setup
                ours = part.copy(ignore=ignore)
                assert alt.utils.schemapi.DEBUG_MODE  # switched back on after the copy
            assert not [s for s in _shared(part, ours) if ignore is None], _shared(part, ours)
            with monkeypatch.context() as m:
                m.setattr(alt.utils.schemapi, "_deep_copy", charts._altair_deep_copy)
                theirs = part.copy(ignore=ignore)
            assert json.dumps(ours.to_dict(validate=False)) == json.dumps(
                theirs.to_dict(validate=False)
            )


def test_an_event_is_the_row_of_the_events_with_its_id():
    events = data.load("events")
    for event_id in events["event_id"].iloc[[0, len(events) // 2, -1]]:
        row = text.event(event_id)
        expected = events[events["event_id"] == event_id].set_index("event_id").iloc[0]
        pd.testing.assert_series_equal(row, expected)
    assert text.event(event_id) is not text.event(event_id)  # each caller gets its own row


def _written(transformer, frame):
    """A transformer's rows for a frame as JSON with each value's type (the same text and the
    same Python types), or the error it raises."""
    try:
        rows = transformer(frame)["values"]
    except ValueError as error:
        return str(error)
    return json.dumps(rows), [[type(v).__name__ for v in row.values()] for row in rows]


def test_chart_rows_are_the_rows_altair_writes():
    """charts._rows writes a frame's rows column by column; they must be Altair's, type for type:
    every column type it takes, with missing values, NaN and infinities, dates of every unit and
    time zone, every dataset of the book; a frame it does not take is left to Altair."""
    from altair.vegalite.data import default_data_transformer

    assert alt.data_transformers.active == charts.RENDERER

    def altair_writes(frame):
        return default_data_transformer(frame, max_rows=None)

    dates = pd.Series(
        pd.to_datetime(["2023-09-19", None, "2024-02-29 13:45:10.5"], format="ISO8601")
    )
    taken = pd.DataFrame(
        {
            "int": [1, -2, 3],
            "int32": np.array([1, 2, 3], dtype="int32"),
            "float": [1.5, np.nan, np.inf],
            "negative": [-np.inf, 0.0, -0.0],
            "bool": [True, False, True],
            "Int64": pd.array([1, None, 3], dtype="Int64"),
            "Float64": pd.array([0.5, None, 2.0], dtype="Float64"),
            "boolean": pd.array([True, None, False], dtype="boolean"),
            "string": pd.array(["a", None, "c"], dtype="string"),
            "str": pd.Series(["a", None, "é"], dtype="str"),
            "seconds": dates.astype("datetime64[s]"),
            "micro": dates.astype("datetime64[us]"),
            "nano": dates.astype("datetime64[ns]"),
            "utc": dates.dt.tz_localize("UTC"),
        }
    ).set_axis([5, 3, 9])  # rows are written in order, whatever the index
    frames = [taken, taken.iloc[:0]]
    frames += [data.load(name) for name in data.names()]
    for frame in frames:
        if frame is taken:
            assert charts._rows(frame) is not None  # written by ours, not handed to Altair
        assert _written(charts._to_values, frame) == _written(altair_writes, frame)
    left = [
        pd.DataFrame({"c": pd.Categorical(["a", None])}),
        pd.DataFrame({"o": [1, "a"]}),
        pd.DataFrame({"text": pd.Series(["x", None, np.nan], dtype=object)}),  # NaN, not None
        pd.DataFrame({"o": [np.array([1, 2]), None]}),
        pd.DataFrame({"t": pd.to_timedelta([1, 2], unit="D")}),
        pd.DataFrame([[1, 2]]),  # columns not named
        pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([(1, 2)])),
        pd.DataFrame([[1, 2]], columns=["a", "a"]),
        pd.DataFrame(index=[0, 1]),
    ]
    for frame in left:
        assert charts._rows(frame) is None
        assert _written(charts._to_values, frame) == _written(altair_writes, frame)


def test_a_kept_map_layer_is_the_layer_read_and_spares_the_next_kernel_reading(
    monkeypatch, tmp_path
):
    """The first kernel keeps each map layer it reads; the next reads it back instead of reading
    the GeoJSON through GDAL again, and gets the same layer (columns, geometry, CRS)."""
    monkeypatch.setattr(maps, "LAYERS_CACHE", tmp_path)
    read = []
    real = maps._read
    monkeypatch.setattr(maps, "_read", lambda path: (read.append(path), real(path))[1])
    for name in ("south_caucasus", "world_110m", "nagorno_karabakh_1994_2020"):
        path = data.geo_path(name)
        stat = path.stat()
        maps._read_layer.cache_clear()
        first = maps._read_layer(path, stat.st_mtime_ns, stat.st_size)
        maps._read_layer.cache_clear()
        again = maps._read_layer(path, stat.st_mtime_ns, stat.st_size)
        assert read == [path] and again is not first
        read.clear()
        assert list(again.columns) == list(first.columns) and again.crs == first.crs
        pd.testing.assert_frame_equal(
            again.drop(columns="geometry"), first.drop(columns="geometry")
        )
        assert again.geometry.geom_equals_exact(first.geometry, tolerance=0).all()
    maps._read_layer.cache_clear()
    assert len(list(tmp_path.iterdir())) == 3


def test_the_search_index_stems_a_word_as_sphinx_does_after_remembering_it():
    """The build remembers each word's stem for Sphinx's search index (a cost of the serial end
    of the build): a word met again, in any case, gets the stem Sphinx's own stemmer gives."""
    from sphinx.search.en import SearchEnglish

    from afterkarabakh.book import sphinxext

    original = SearchEnglish.stem
    language = SearchEnglish({})
    words = ["Running", "running", "RUNNING", "peacekeepers", "Peacekeepers", "relations", "a"]
    expected = [original(language, word) for word in words]
    try:
        sphinxext._stem_each_word_once(None)
        sphinxext._stem_each_word_once(None)  # a second build in the same process: no second layer
        assert SearchEnglish.stem is not original and SearchEnglish.stem.remembers
        assert [SearchEnglish.stem(language, word) for word in words * 2] == expected * 2
    finally:
        SearchEnglish.stem = original


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="the machine's CPU time is Linux's")
def test_the_bench_counts_the_cpu_of_processes_nobody_waits_for(tmp_path, monkeypatch):
    """A browser's renderers and a killed kernel end without their parent waiting for them, so
    the operating system's count of a command's children leaves their CPU time out; the bench
    counts the machine's (here: a process that spends a second and is never waited for)."""
    from afterkarabakh.book import bench

    monkeypatch.setattr(bench, "LOGS", tmp_path)
    monkeypatch.setattr(bench, "CPU", {})
    orphan = """import os, time
pid = os.fork()
if pid == 0:
    start = time.process_time()
    while time.process_time() - start < 1.0:
        pass
    os._exit(0)
while open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.02)
"""  # the parent sees its child finished, and leaves without collecting it
    bench._seconds([sys.executable, "-c", orphan, "orphan"], cwd=tmp_path)
    assert bench.cpu("orphan", tmp_path) >= 0.9
