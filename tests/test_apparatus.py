"""The reader's apparatus: gazetteer, glossary and one order for disputed names, all computed.

* **Glossary links.** In every chapter, the first use of each glossary term (the term or what it
  stands for, in the prose, headings and other links apart) is a link to its entry on the
  Glossary page (``apparatus.term_link``).
* **"Used in" is right.** The gazetteer lists a chapter for a place exactly when the chapter's
  prose or chart text names the place (a name inside a glossary term, such as "Minsk Group",
  does not count) or one of its maps draws it; the names are found here independently of
  ``apparatus``, from the notebooks' markdown and string constants.

Each check is shown failing on a planted error.
"""

from __future__ import annotations

import ast
import re
import warnings

import nbformat
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


# --- the first use of a glossary term links to its entry ------------------------------------------

READING = apparatus.reading_chapters()
GLOSSARY_LINK = re.compile(r'<a class="ak-term" href="glossary\.html#([a-z0-9-]+)">(.*?)</a>', re.S)
#: Spans a reader does not read as a use of a term: MyST roles, code, headings, other links.
NOT_A_USE = re.compile(
    r"\{[a-z:]+\}`[^`]*`|`[^`]*`|^#.*$|\[[^\]]*\]\([^)]*\)"
    r"|<a (?![^>]*ak-term)[^>]*>[\s\S]*?</a>|<[^>]+>",
    re.M,
)


def _masked(markdown: str) -> str:
    """The markdown with every span that is not a use blanked out, positions kept."""
    return NOT_A_USE.sub(lambda m: " " * len(m.group(0)), markdown)


def term_uses(markdown: str, terms) -> dict[str, int]:
    """For each (term, expansion), the position of its first use: the term or its expansion as a
    whole word, not inside a longer use of another term ("International Criminal Court" in
    "Rome Statute of the International Criminal Court")."""
    body = _masked(markdown)
    spans = []
    for term, expansion in terms:
        for name in (n for n in (term, expansion) if isinstance(n, str) and n):
            flags = 0 if name.isupper() else re.I
            pattern = r"\s+".join(re.escape(w) for w in name.split())
            spans += [
                (m.start(), m.end(), term)
                for m in re.finditer(rf"(?<![\w-]){pattern}(?![\w-])", body, flags)
            ]
    kept = [
        a
        for a in spans
        if not any(b[0] <= a[0] and a[1] <= b[1] and b != a and b[2] != a[2] for b in spans)
    ]
    first: dict[str, int] = {}
    for start, _, term in sorted(kept):
        first.setdefault(term, start)
    return first


def unlinked_terms(markdown: str, terms) -> list[str]:
    """Terms whose first use is not inside a link to their own glossary entry."""
    links = [(m.start(2), m.end(2), m.group(1)) for m in GLOSSARY_LINK.finditer(markdown)]
    wrong = []
    for term, position in term_uses(markdown, terms).items():
        anchor = apparatus.term_anchor(term)
        if not any(a <= position < b and target == anchor for a, b, target in links):
            context = " ".join(markdown[max(0, position - 50) : position + 50].split())
            wrong.append(f"{term!r} (first used in …{context}…)")
    return wrong


def glossary_terms():
    terms = data.load("glossary")
    return list(zip(terms["term"], terms["expansion"]))


def chapter_markdown(stem: str) -> str:
    notebook = nbformat.read(paths.CHAPTERS / f"{stem}.ipynb", as_version=4)
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("stem", READING)
def test_first_use_of_each_glossary_term_links_to_its_entry(stem):
    wrong = unlinked_terms(chapter_markdown(stem), glossary_terms())
    assert not wrong, f"{stem}: first uses not linked to the glossary: " + "; ".join(wrong)


def test_every_glossary_link_points_to_an_entry():
    anchors = {apparatus.term_anchor(t) for t, _ in glossary_terms()}
    html = apparatus.glossary_html()
    for stem in READING:
        for match in GLOSSARY_LINK.finditer(chapter_markdown(stem)):
            assert match.group(1) in anchors and f'id="{match.group(1)}"' in html, (
                f"{stem}: a glossary link to #{match.group(1)}, which no entry has"
            )


def test_the_glossary_check_catches_planted_errors():
    terms = [
        ("CSTO", "Collective Security Treaty Organization"),
        ("ICC", "International Criminal Court"),
        ("Rome Statute", "Rome Statute of the International Criminal Court"),
    ]
    link = apparatus.term_link
    # The first use is plain, the link comes later.
    assert [
        w[:6] for w in unlinked_terms(f"Armenia left the CSTO. The {link('CSTO')}.", terms)
    ] == ["'CSTO'"]
    # The first use links to another term's entry.
    assert [w[:6] for w in unlinked_terms(f"The {link('ICC', 'CSTO')} froze.", terms)] == ["'CSTO'"]
    # Headings, chapter links and a term inside a longer term are not uses; the expansion is one.
    assert not unlinked_terms(
        f"# The CSTO\n\nThe {link('CSTO', 'Collective Security Treaty Organization')} (CSTO) met; "
        f"the {link('Rome Statute', 'Rome Statute of the International Criminal Court')} binds; "
        f"the {link('ICC')} sits. The [CSTO chapter](csto.ipynb) and the CSTO again.",
        terms,
    )


# --- the gazetteer's "Used in" lists exactly the chapters that name or map a place ---------------


def written_for_readers(stem: str) -> str:
    """A chapter's markdown and the string constants of its code that are not identifiers."""
    notebook = nbformat.read(paths.CHAPTERS / f"{stem}.ipynb", as_version=4)
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(cell.source)
        parts += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and not re.fullmatch(r"[a-z0-9_.%:-]*", node.value)
        ]
    return "\n".join(parts)


def _said(name: str, body: str) -> bool:
    flags = 0 if name.isupper() else re.I
    words = r"\s+".join(re.escape(w) for w in name.split())
    return re.search(rf"(?<![\w-]){words}(?![\w-])", body, flags) is not None


def expected_used_in() -> dict[str, set[str]]:
    """Place id -> chapters that name it (outside a glossary term) or whose maps draw it."""
    places = data.load("places")
    phrases = [p for t, e in glossary_terms() for p in (t, e) if isinstance(p, str)]
    texts = {stem: written_for_readers(stem) for stem in READING}
    drawn = {stem: apparatus.places_drawn(stem) for stem in READING}
    expected = {}
    for _, place in places.iterrows():
        names = [n for n in (place["name"], place["alt_name"]) if isinstance(n, str)]
        names += [
            place["name"].rsplit(" ", n)[0]
            for n, suffix in ((2, " International Airport"), (2, " Air Base"))
            if place["name"].endswith(suffix)
        ]
        found = set()
        for stem, body in texts.items():
            for phrase in phrases:
                if phrase not in names and any(_said(n, phrase) for n in names):
                    body = re.sub(re.escape(phrase), " ", body, flags=re.I)
            if place["place_id"] in drawn[stem] or any(_said(n, body) for n in names):
                found.add(stem)
        expected[place["place_id"]] = found
    return expected


def used_in_problems(listed: dict[str, list], expected: dict[str, set]) -> list[str]:
    return [
        f"{place}: listed in {sorted(listed.get(place, []))}, named or mapped in {sorted(chapters)}"
        for place, chapters in expected.items()
        if set(listed.get(place, [])) != chapters
    ]


def test_used_in_lists_exactly_the_chapters_that_name_or_map_each_place():
    listed = apparatus.gazetteer_frame().set_index("place_id")["chapters"].to_dict()
    problems = used_in_problems(listed, expected_used_in())
    assert not problems, "the gazetteer's Used in is wrong:\n" + "\n".join(problems)


def test_could_name_folds_every_character_a_case_blind_search_takes_for_ascii():
    """apparatus.could_name tests a name's words against the chapter's text folded to lower case,
    which is sound only if every character that a case-blind pattern matches to an ASCII
    character folds to that character's lower case."""
    ascii_class = re.compile(r"[\x00-\x7f]", re.I)
    for code in range(0x80, 0x110000):
        char = chr(code)
        if not ascii_class.fullmatch(char):
            continue
        for letter in map(chr, range(0x80)):
            if re.fullmatch(re.escape(letter), char, re.I):
                assert char.translate(apparatus._AS_ASCII).lower() == letter.lower(), hex(code)
    # Found by the search, so could be named; absent words cannot be.
    stem, body = "military", apparatus.chapter_text("military")
    for name in ["Gyumri", "gyumri", "Line of contact", "Zangezur corridor", "Ulaanbaatar"]:
        assert apparatus.could_name(stem, [name]) or not apparatus.name_pattern(name).search(body)
    assert apparatus.could_name(stem, ["GYUMRI"]) and not apparatus.could_name(
        stem, ["Ulaanbaatar"]
    )


def test_used_in_check_catches_planted_errors():
    expected = expected_used_in()
    listed = {place: sorted(chapters) for place, chapters in expected.items()}
    assert not used_in_problems(listed, expected)
    assert "syunik" in expected and {"military", "aftermath"} <= expected["syunik"]
    assert "peacekeeping" not in expected["minsk"]  # "Minsk Group" names the format, not the city
    planted = dict(listed, syunik=[c for c in listed["syunik"] if c != "military"])
    assert used_in_problems(planted, expected)[0].startswith("syunik")
    planted = dict(listed, ulaanbaatar=[*listed["ulaanbaatar"], "introduction"])
    assert used_in_problems(planted, expected)[0].startswith("ulaanbaatar")
