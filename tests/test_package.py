"""The shared package's promises: charts carry credits, colours are fixed, maps draw for Vega."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest
from shapely.geometry import shape

from afterkarabakh import charts, data, maps, text, theme


@pytest.fixture(autouse=True)
def _book_setup():
    charts.setup()


def _bar():
    return alt.Chart(pd.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q")


def test_finish_adds_title_description_and_registry_source_line():
    source_id = data.sources().index[0]
    spec = charts.finish(_bar(), title="T", subtitle="S", description="A bar chart of two values.",
                         sources=source_id).to_dict()
    assert spec["title"]["text"] == ["T"] and spec["title"]["subtitle"] == ["S"]
    assert spec["description"] == "A bar chart of two values."
    footer = " ".join(spec["vconcat"][0]["title"]["text"])
    assert spec["vconcat"][0]["title"]["orient"] == "bottom"
    assert footer.startswith("Source: " + data.sources().loc[source_id, "publisher"][:20])


@pytest.mark.parametrize("kwargs, error", [
    (dict(title="", description="d", sources="x"), ValueError),
    (dict(title="t", description="", sources="x"), ValueError),
    (dict(title="t", description="d", sources="no-such-source"), KeyError),
    (dict(title="t", description="d", sources=[]), ValueError),
])
def test_finish_refuses_a_chart_without_credits(kwargs, error):
    with pytest.raises(error):
        charts.finish(_bar(), **kwargs)


def test_long_source_lists_point_to_the_appendix():
    line = charts.source_line(list(data.sources().index))
    assert "Data and sources appendix" in line


def test_actor_colours_are_distinct_and_complete():
    colours = list(theme.ACTOR_COLOURS.values())
    assert len(set(colours)) == len(colours)
    for actor in ["Russia", "Armenia", "Azerbaijan", "Turkey", "Iran", "Georgia", "EU and the West", "Israel",
                  "India", "France", "Ukraine", "Others"]:
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
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("year:O", title="Year"), y=alt.Y("count:Q", title="Count (units)"),
        tooltip=[alt.Tooltip("count:Q", title="Units counted")])
    html = charts.render(charts.finish(chart, title="Two years", description="Bars for two years.",
                                       sources=frame).to_dict())["text/html"]
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


def test_book_serves_the_bundle_under_a_versioned_name():
    from importlib.metadata import version

    from afterkarabakh import sphinxext

    assert version("altair") in sphinxext._vendor_js_name()


def test_map_layers_reach_vega_with_clockwise_rings():
    values = maps.to_altair_data(maps.nagorno_karabakh_1994_2020()).values
    ring = shape(values[0]["geometry"]).exterior
    assert not ring.is_ccw, "Vega fills the whole frame for counter-clockwise outer rings"


def test_base_map_is_one_projection_and_labels_both_names():
    spec = maps.compose(maps.base_map(), maps.points(maps.places(["stepanakert"]), tooltip=["label:N"])).to_dict()
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


@pytest.mark.parametrize("claimant, actor", [
    ("Armenian Security Council", "Armenia"),
    ("Nagorno-Karabakh human rights ombudsman", "Armenia"),
    ("Azerbaijani Ministry of Defence", "Azerbaijan"),
    ("Margarita Simonyan (RT editor-in-chief), no source given", "Russia"),
    ("Massis Post (no source named)", "Others"),
])
def test_claims_are_coloured_by_the_side_that_makes_them(claimant, actor):
    assert theme.actor_of_claimant(claimant) == actor
