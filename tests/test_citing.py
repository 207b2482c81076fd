"""A book a reader can cite: CITATION.cff agrees with _config.yml, and each chapter says how to cite it."""

from __future__ import annotations

import re

import pytest
import yaml

from afterkarabakh import edition, paths
from afterkarabakh.book import citing

CONFIG = yaml.safe_load((paths.ROOT / "_config.yml").read_text(encoding="utf-8"))
CFF = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))

# CFF 1.2.0: the keys a file may have at the top level, and those it must have.
CFF_KEYS = {
    "abstract",
    "authors",
    "cff-version",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "message",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "title",
    "type",
    "url",
    "version",
}


def test_citation_file_is_cff_1_2_0():
    assert CFF["cff-version"] == "1.2.0"
    assert {"authors", "cff-version", "message", "title"} <= set(CFF) <= CFF_KEYS
    for author in CFF["authors"] + CFF["preferred-citation"]["authors"]:
        assert author.get("name") or author.get("family-names"), "an author needs a name"
    assert CFF.get("type", "software") in {"software", "dataset"}
    assert set(CFF["license"]) == {"CC-BY-4.0", "MIT"}
    assert {"type", "title", "authors"} <= set(CFF["preferred-citation"])


def test_citation_file_matches_the_book():
    assert CFF["title"] == CONFIG["title"] == CFF["preferred-citation"]["title"]
    assert (str(CFF["version"]), str(CFF["date-released"])) == (edition.VERSION, edition.DATE)
    assert [a["name"] for a in CFF["authors"]] == [CONFIG["author"]]
    assert str(CFF["preferred-citation"]["year"]) == citing.year_of(str(CONFIG["copyright"]))


def test_licence_files_exist_and_are_named_in_the_readme():
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert "Permission is hereby granted" in (paths.ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Attribution 4.0 International Public License" in (
        paths.ROOT / "LICENSE-CC-BY-4.0.md"
    ).read_text(encoding="utf-8")
    assert "(LICENSE)" in readme and "(LICENSE-CC-BY-4.0.md)" in readme and "CITATION.cff" in readme


def test_chapter_citation_names_authors_year_title_and_address():
    line = citing.citation_text(
        book="After Karabakh",
        authors="The After Karabakh authors",
        year="2026",
        chapter="Ukraine's impact",
        url=citing.page_url("chapters/ukraine"),
    )
    assert (
        line
        == "The After Karabakh authors (2026). “Ukraine's impact”. In After Karabakh. chapters/ukraine.html"
    )
    block = citing.citation_html(
        book="After Karabakh",
        authors="A & B",
        year="2026",
        chapter=None,
        url=citing.page_url("chapters/introduction", "https://example.org/book/"),
    )
    assert "How to cite this book" in block and "A &amp; B" in block
    assert 'href="https://example.org/book/chapters/introduction.html"' in block


@pytest.mark.parametrize("text, year", [("2026", "2026"), ("2024–2026, the authors", "2026")])
def test_year_is_the_latest_in_the_copyright(text, year):
    assert citing.year_of(text) == year


def test_the_build_adds_the_block_to_chapters_only():
    class Config:
        project, author, copyright, root_doc, html_baseurl = (
            "After Karabakh",
            "The authors",
            "2026",
            "chapters/introduction",
            "",
        )

    class Title:
        def astext(self):
            return "Russia's military presence"

    class App:
        config = Config()
        env = type("Env", (), {"titles": {"chapters/military": Title()}})()

    for page, expected in [
        ("chapters/military", "How to cite this chapter"),
        ("chapters/glossary", None),
        ("genindex", None),
        ("chapters/introduction", "How to cite this book"),
    ]:
        context = {"body": "<p>text</p>"}
        citing._on_page_context(App(), page, "page.html", context, doctree=object())
        found = re.search(r"How to cite this \w+", context["body"])
        assert (found.group(0) if found else None) == expected
    context = {"body": ""}
    citing._on_page_context(App(), "chapters/military", "page.html", context, doctree=object())
    assert 'href="military.html"' in context["body"], (
        "the link must work from the chapter's own page"
    )
    assert f"In <em>{CONFIG['title']}</em>, edition {edition.VERSION}" in context["body"]
    assert f"({edition.date_words()})" in context["body"], "the block names the edition's date"


def test_citation_names_the_edition_read_from_the_one_place():
    line = citing.citation_text(
        book="After Karabakh",
        authors="The After Karabakh authors",
        year="2027",
        chapter="Ukraine's impact",
        url="chapters/ukraine.html",
        version="2.1.0",
        day="2027-01-02",
    )
    assert line == (
        "The After Karabakh authors (2027). “Ukraine's impact”. In After Karabakh, edition 2.1.0 "
        "(2 January 2027). chapters/ukraine.html"
    )


def test_a_figure_is_cited_by_number_title_edition_date_and_anchor():
    kwargs = dict(
        book="After Karabakh",
        authors="The After Karabakh authors",
        year="2027",
        number="3.2",
        title="Russia's arms exports fell by half & more_",
        url="chapters/ukraine.html#fig-ukraine-exports",
        version="2.1.0",
        day="2027-01-02",
    )
    assert citing.figure_citation_text(**kwargs) == (
        "The After Karabakh authors (2027). “Figure 3.2: Russia's arms exports fell by half & "
        "more_”. In After Karabakh, edition 2.1.0 (2 January 2027). "
        "chapters/ukraine.html#fig-ukraine-exports"
    )
    bibtex = citing.figure_bibtex(**kwargs)
    assert bibtex.startswith("@misc{afterkarabakh-2.1.0-fig-3-2,\n")
    assert "title = {{Figure 3.2: Russia's arms exports fell by half \\& more\\_}}" in bibtex
    assert "version = {2.1.0}" in bibtex and "date = {2027-01-02}" in bibtex
    assert "url = {chapters/ukraine.html#fig-ukraine-exports}" in bibtex
    assert bibtex.count("{") == bibtex.count("}"), "balanced braces"
    block = citing.figure_citation_html(**{**kwargs, "title": "<b>bold</b>"})
    assert "<summary>Cite this figure</summary>" in block and "<b>" not in block
