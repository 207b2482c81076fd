"""The reader's apparatus: gazetteer, glossary and one order for disputed names, all computed."""

from __future__ import annotations

import pytest

from afterkarabakh import apparatus, data, paths


def test_gazetteer_lists_every_place_once_with_both_names_in_order():
    places = data.load("places")
    shown = apparatus.gazetteer_frame().set_index("place_id")
    assert sorted(shown.index) == sorted(places["place_id"])
    for _, place in places.dropna(subset=["alt_name"]).iterrows():
        assert shown.loc[place["place_id"], "Place"] == f"{place['name']}/{place['alt_name']}"
    assert apparatus.gazetteer_html().count("<tr>") == len(places) + 1


def test_gazetteer_finds_the_chapters_from_names_and_from_data_rows():
    shown = apparatus.gazetteer_frame().set_index("place_id")["chapters"]
    assert "military" in shown["gyumri"]  # written in the prose
    assert "peacekeeping" in shown["kornidzor"]  # a row of corridor_route, which the chapter loads
    assert "ukraine" not in shown["voskepar"]  # neither named nor referred to there
    referenced = apparatus.place_references()
    assert "corridor_route" in referenced["kornidzor"]


def test_glossary_has_every_term_with_a_definition_and_source():
    terms = data.load("glossary")
    shown = apparatus.glossary_frame()
    assert len(shown) == len(terms) and shown["Definition"].str.len().min() > 20
    assert apparatus.glossary_html().count("<tr>") == len(terms) + 1
    assert "ukraine" in shown.set_index("Term").loc["TIV", "chapters"]


@pytest.mark.parametrize(
    "path",
    sorted(paths.CHAPTERS.glob("*.ipynb"))
    + sorted(paths.CHAPTERS.glob("*.md"))
    + [paths.DATA / "glossary.csv", paths.DATA / "verdicts.csv"],
    ids=lambda p: p.name,
)
def test_disputed_places_are_written_in_the_gazetteer_order(path):
    wrong = apparatus.reversed_names(path.read_text(encoding="utf-8"))
    assert not wrong, (
        f"{path.relative_to(paths.ROOT)} writes {wrong}: the gazetteer (data/places.csv) puts the names the other way round"
    )


def test_reversed_names_are_caught():
    assert apparatus.reversed_names("a fuel depot near Khankendi/Stepanakert") == [
        "Khankendi/Stepanakert"
    ]
    assert apparatus.reversed_names("Stepanakert/Khankendi") == []
