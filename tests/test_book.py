"""The book builds strictly, and what it wrote holds together: every page in the contents, nothing
loaded from another host, every citation with its archive link, every chart a still image, a
numbered figure and its data, one value per quantity across the chapters.

Every module that reads the book reads the one build of the run (``built_book``, in conftest.py);
the browser tests are in test_browser.py, the printed book in test_print.py, and what a rebuild
re-executes in test_rebuild.py.
"""

from __future__ import annotations

import html
import html.parser
import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import book_pages
from test_consistency import (
    CHAPTERS,
    GLUE_ROLE,
    INTERNAL_ID,
    Stated,
    chart_dates_after,
    digit_words,
    executed,
    ids_shown,
    quantity_problems,
    read_executed,
    rendered_prose,
)

from afterkarabakh import data, paths


def _toc_files() -> list[str]:
    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    files += [chapter["file"] for chapter in toc.get("chapters", [])]
    return files


def test_every_toc_entry_is_a_built_page(built_book):
    for file in _toc_files():
        assert (built_book / f"{file}.html").is_file(), f"{file} is in _toc.yml but was not built"


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(_toc_files())
    for path in paths.CHAPTERS.iterdir():
        if path.suffix in {".ipynb", ".md"} and not path.name.startswith(
            "_"
        ):  # _template: not a page
            assert f"chapters/{path.stem}" in listed, (
                f"{path.name} is not in _toc.yml, so it would never be built"
            )


def test_no_page_loads_anything_from_another_host(built_book):
    """Static check before the browser one: no script, stylesheet, font or image from outside."""
    import re

    pattern = re.compile(
        r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)=\"(https?:)?//[^\"]+\"", re.I
    )
    for page in built_book.rglob("*.html"):
        for match in pattern.finditer(page.read_text(encoding="utf-8")):
            tag = match.group(0)
            if (
                match.group(1).lower() == "link"
                and "stylesheet" not in tag
                and "preload" not in tag
            ):
                continue  # rel="canonical" and the like are not requests
            pytest.fail(f"{page.relative_to(built_book)} loads from outside: {tag}")


def test_data_files_are_downloadable_from_the_book(built_book):
    for csv in paths.DATA.glob("*.csv"):
        if csv.name != "sources.csv":
            assert (built_book / "data" / csv.name).read_bytes() == csv.read_bytes()


def test_served_registry_carries_each_sources_archive_address(built_book):
    """The registry a reader downloads is the repository's, plus the archive address made at build
    time; the served package still validates, its descriptor naming the new column."""
    import pandas as pd

    from afterkarabakh import archive, data

    served = pd.read_csv(built_book / "data" / "sources.csv", dtype=str, keep_default_na=False)
    original = pd.read_csv(paths.DATA / "sources.csv", dtype=str, keep_default_na=False)
    assert list(served.columns) == [*original.columns, "archive_url"]
    pd.testing.assert_frame_equal(served[original.columns], original)
    expected = [
        archive.archive_url(u, d) for u, d in zip(original["url"], original["date_accessed"])
    ]
    assert served["archive_url"].tolist() == expected
    assert "archive_url" not in original.columns, "the archive address is made, never typed"
    data.validate(built_book / "data" / "datapackage.json")


class _Anchors(html.parser.HTMLParser):
    """The <a> elements of a page outside scripts, in order, with attributes as a browser reads them."""

    def __init__(self, markup: str):
        super().__init__()
        self.anchors: list[dict] = []
        self.feed(re.sub(r"<script\b.*?</script>", " ", markup, flags=re.S | re.I))

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.anchors.append(dict(attrs))


def test_every_citation_has_its_archive_link(built_book):
    """Every link to a source the book shows (bibliography, chart data tables, Data appendix,
    glossary, gazetteer) is a Robust Link, followed by the archive's copy nearest the day read."""
    from afterkarabakh import archive, data

    registry = data.sources()
    by_url = {row.url: row for row in registry.itertuples()}
    failures, seen = [], {}
    for page in sorted(built_book.rglob("*.html")):
        if page.relative_to(built_book).parts[0].startswith("_"):
            continue
        anchors = _Anchors(page.read_text(encoding="utf-8")).anchors
        for index, anchor in enumerate(anchors):
            source = by_url.get(anchor.get("href"))
            if source is None:
                continue
            where = f"{page.relative_to(built_book)}: {anchor.get('href')}"
            seen[page.name] = seen.get(page.name, 0) + 1
            lookup = archive.archive_url(source.url, source.date_accessed)
            if anchor.get("data-versiondate") != f"{source.date_accessed:%Y-%m-%d}":
                failures.append(f"{where} has no data-versiondate (or the wrong one)")
            elif anchor.get("data-versionurl") != lookup:
                failures.append(f"{where} has no data-versionurl (or the wrong one)")
            following = anchors[index + 1] if index + 1 < len(anchors) else {}
            if not (
                following.get("href") == lookup
                and following.get("data-originalurl") == source.url
                and "ak-archive" in following.get("class", "")
            ):
                failures.append(f"{where} is not followed by its archive link")
    assert not failures, f"{len(failures)} citations without their archive link:\n" + "\n".join(
        failures[:20]
    )
    assert seen.get("appendix_sources.html", 0) >= len(registry), (
        "the bibliography lists every source"
    )
    chapters_with_tables = [
        p for p in seen if p not in ("appendix_sources.html", "appendix_data.html")
    ]
    assert {"glossary.html", "gazetteer.html", "appendix_data.html"} <= set(seen) and len(
        chapters_with_tables
    ) >= 5, f"citations found on {sorted(seen)}"


# --- in a real browser ----------------------------------------------------------------------


#: A still image of each chart, drawn at build time, in the HTML the server sends (no script needed).
_CHART_BOX = re.compile(
    r'<div class="ak-chart" id="(ak-chart-[0-9a-f]+)"[^>]*aria-label="([^"]*)"[^>]*>(.*?)</div>\n',
    re.S,
)
_STILL = re.compile(
    r'<img class="ak-static-(light|dark) dark-light" src="([^"]+)" width="(\d+)" height="(\d+)" alt=""'
)


def test_each_chart_is_a_still_image_before_any_script_runs(built_book):
    """Every chart's box holds, as served, its still images (light and dark page), sized like the
    drawing they stand for and carrying the chart's description; the Vega bundle is not in the
    page's HTML (the renderer fetches it, deferred, when a chart comes near the screen)."""
    failures, stills = [], 0
    for page in sorted(built_book.glob("chapters/*.html")):
        markup = page.read_text(encoding="utf-8")
        boxes = _CHART_BOX.findall(markup)
        if markup.count('class="ak-chart"') != len(boxes):
            failures.append(f"{page.name}: a chart box not as expected")
        if boxes and re.search(r'<script[^>]*\ssrc="[^"]*vega-bundle', markup):
            failures.append(f"{page.name}: the Vega bundle is loaded by the page's HTML")
        if boxes and not re.search(r'<script data-ak-bundle="[^"]+" defer="defer"', markup):
            failures.append(f"{page.name}: the renderer is not deferred or not told the bundle")
        for chart_id, description, inside in boxes:
            modes = {m: (src, int(w), int(h)) for m, src, w, h in _STILL.findall(inside)}
            if set(modes) != {"light", "dark"}:
                failures.append(f"{page.name} {chart_id}: still images {sorted(modes)}")
                continue
            for mode, (src, width, height) in modes.items():
                svg_path = (page.parent / src).resolve()
                if not svg_path.is_file():
                    failures.append(f"{page.name} {chart_id}: {src} missing")
                    continue
                svg = svg_path.read_text(encoding="utf-8")
                size = re.search(r'<svg[^>]* width="([\d.]+)" height="([\d.]+)"', svg)
                if not size or (round(float(size[1])), round(float(size[2]))) != (width, height):
                    failures.append(
                        f"{page.name} {chart_id} {mode}: drawn size is not {width}x{height}"
                    )
                if f'<desc id="d">{description}</desc>' not in svg:
                    failures.append(
                        f"{page.name} {chart_id} {mode}: the image lacks the description"
                    )
                stills += 1
    assert stills >= 60, f"only {stills} still images"
    assert not failures, "\n".join(failures[:20])


# --- never stale, still fast ------------------------------------------------------------------


# "stored" only as the book's sources would never use it (weapons may well be stored somewhere).
FORBIDDEN = re.compile(
    r"\b(stored (?:cop(?:y|ies)|pages?|sources?)|in stored|headline not shown|copy shown|"
    r"found in the index|lorem ipsum|placeholder|"
    r"todo|tbd|untitled|chart title|xxx)\b",
    re.I,
)


def _visible_text(markup: str) -> str:
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def test_no_placeholder_titles_or_words_about_tools(built_book):
    failures = []
    for page in sorted(built_book.rglob("*.html")):
        if page.relative_to(built_book).parts[0].startswith("_"):
            continue
        markup = page.read_text(encoding="utf-8")
        # Chart titles live in the chart specs (script tags): read them too.
        titles = " ".join(re.findall(r'"text":\s*(\[[^\]]*\]|"[^"]*")', markup))
        for match in FORBIDDEN.finditer(_visible_text(markup) + " " + titles):
            context = _visible_text(markup + titles)[max(0, match.start() - 60) : match.end() + 60]
            failures.append(
                f"{page.relative_to(built_book)}: '{match.group(0)}' in …{' '.join(context.split())}…"
            )
    assert not failures, "\n".join(failures[:20])


def test_every_chart_has_its_data_table_and_a_no_script_line(built_book):
    for page in built_book.glob("chapters/*.html"):
        markup = page.read_text(encoding="utf-8")
        charts = markup.count('class="ak-chart"')
        assert markup.count('<details class="ak-data">') == charts, (
            f"{page.name}: a chart without its data table"
        )
        assert markup.count('class="ak-nojs"') == charts, (
            f"{page.name}: a chart without its no-JavaScript line"
        )


@pytest.mark.parametrize(
    "page", sorted(p.stem for p in paths.CHAPTERS.glob("*.ipynb") if p.stem != "_template")
)
def test_no_chart_runs_past_the_day_the_data_stop(built_book, page):
    """A bar, line or axis drawn beyond data.as_of() shows what no source could have reported."""
    markup = (built_book / "chapters" / f"{page}.html").read_text(encoding="utf-8")
    specs = re.findall(
        r'<script type="application/json" id="ak-chart-[^"]+-spec">(.*?)</script>', markup, re.S
    )
    late = {}
    for spec in specs:
        chart = json.loads(spec)
        found = chart_dates_after(chart, data.as_of())
        if found:
            late[str(chart.get("title", {}).get("text", chart.get("title")))] = found[:5]
    assert not late, f"{page}: charts drawn past {data.as_of():%Y-%m-%d}: {late}"


_FIGURE = re.compile(
    r'<figure class="ak-numbered-figure[^"]*" id="([^"]+)">.*?'
    r'<span class="caption-number">Figure ([\d.]+)\s*</span>',
    re.S,
)
_NUMREF = re.compile(
    r'<a class="reference internal" href="([^"#]*)#([^"]+)"><span class="std std-numref">Figure ([\d.]+)</span>'
)


def test_every_chart_is_a_numbered_figure_and_references_resolve(built_book):
    """Each chart is "Figure <chapter>.<k>" in page order; every {numref} names the right figure."""
    numbers_by_id, failures = {}, []
    for file in _toc_files():
        page = built_book / f"{file}.html"
        markup = page.read_text(encoding="utf-8")
        figures = _FIGURE.findall(markup)
        charts = markup.count('class="ak-chart"')
        if len(figures) != charts:
            failures.append(f"{file}: {charts} charts but {len(figures)} numbered figures")
        chapter = re.search(r'<h1>\s*<span class="section-number">(\d+)\.', markup)
        expected = [
            f"{chapter.group(1)}.{k}" if chapter else str(k) for k in range(1, len(figures) + 1)
        ]
        if [number for _, number in figures] != expected:
            failures.append(
                f"{file}: figures numbered {[n for _, n in figures]}, expected {expected}"
            )
        numbers_by_id.update({(page.name, fid): number for fid, number in figures})
    for file in _toc_files():
        page = built_book / f"{file}.html"
        for target_page, fid, number in _NUMREF.findall(page.read_text(encoding="utf-8")):
            key = (Path(target_page).name if target_page else page.name, fid)
            if numbers_by_id.get(key) != number:
                failures.append(
                    f"{file}: 'Figure {number}' points to {key}, which is {numbers_by_id.get(key)}"
                )
    assert not failures, "\n".join(failures)
    assert any(
        _NUMREF.search((built_book / f"{f}.html").read_text(encoding="utf-8")) for f in _toc_files()
    ), "no page refers to a figure by its number"


@pytest.fixture(scope="module")
def book(built_book) -> dict[str, Stated]:
    """What the chapters state, read from the book build's executed notebooks (no second run)."""
    return {name: read_executed(executed(name)) for name in CHAPTERS}


def test_each_quantity_is_stated_with_one_value_the_datas(book):
    problems = quantity_problems(book)
    assert not problems, "\n".join(problems)


def test_glue_names_shared_by_chapters_carry_one_value(book):
    seen: dict[str, dict[str, str]] = {}
    for chapter, stated in book.items():
        for name, value in stated.glues.items():
            seen.setdefault(name, {})[chapter] = value
    clashes = {name: values for name, values in seen.items() if len(set(values.values())) > 1}
    assert not clashes, (
        f"the same glue name holds different values in different chapters: {clashes}"
    )


def test_prose_refers_only_to_glues_its_chapter_defines(book):
    missing = {
        chapter: sorted(set(GLUE_ROLE.findall(stated.markdown)) - set(stated.glues))
        for chapter, stated in book.items()
    }
    assert not any(missing.values()), f"glue roles without a glued value: {missing}"


# --- numbers and ids as a reader sees them, in the built book -------------------------------------

BUILT_PAGES = [p.stem for p in sorted(paths.CHAPTERS.glob("*.ipynb")) if p.stem != "_template"]


def test_counts_are_written_as_a_writer_writes_them(built_book):
    """No "within 1 day", "1 visit" or "4 of the 4" once the glued values are in the prose."""
    found = []
    for name in BUILT_PAGES:
        stated = read_executed(executed(name))
        found += [
            f"{name}: …{hit}" for hit in digit_words(rendered_prose(stated.markdown, stated.glues))
        ]
    assert not found, "counts in figures where prose writes words:\n" + "\n".join(found)


def test_no_internal_ids_in_tooltips_or_tables(built_book):
    """No chart's tooltip or data table, and no table on a page, shows an id the data use."""
    found = []
    for page in sorted(built_book.glob("chapters/*.html")):
        markup = page.read_text(encoding="utf-8")
        for spec in re.findall(
            r'<script type="application/json" id="ak-chart-[^"]+-spec">(.*?)</script>', markup, re.S
        ):
            found += [f"{page.name}: {hit}" for hit in ids_shown(json.loads(spec))]
        for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", markup, re.S):
            shown = html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            if INTERNAL_ID.match(shown):
                found.append(f"{page.name}: table cell {shown!r}")
    assert not found, "internal ids shown to readers:\n" + "\n".join(sorted(set(found)))


# --- editions: the edition on every page, each figure citable, the data and the book whole ------


def test_every_page_names_the_edition_and_links_the_pdf_and_the_data(built_book):
    from afterkarabakh import edition

    line = re.compile(
        rf'<p class="ak-edition">After Karabakh, {re.escape(edition.label())}\. '
        rf'<a href="(?P<pdf>[^"]*{re.escape(edition.pdf_name())})">[^<]+</a> · '
        rf'<a href="(?P<zip>[^"]*data/{re.escape(edition.data_zip_name())})" download>'
    )
    for page in book_pages(built_book):
        markup = (built_book / page).read_text(encoding="utf-8")
        if 'http-equiv="Refresh"' in markup[:500]:
            continue  # index.html only sends the reader on to the introduction
        found = line.search(markup)
        assert found, f"{page}: no edition line in the footer"
        where = (built_book / page).parent
        assert (where / found.group("zip")).resolve() == (
            built_book / "data" / edition.data_zip_name()
        ).resolve(), f"{page}: the zip link does not reach the book's data folder"
        assert (where / found.group("pdf")).resolve() == (
            built_book / edition.pdf_name()
        ).resolve(), f"{page}: the PDF link does not reach the book's root, where make pdf puts it"
    intro = (built_book / "chapters" / "introduction.html").read_text(encoding="utf-8")
    assert f"This is edition {edition.VERSION} of the book, dated {edition.date_words()}" in intro


_CITE = re.compile(
    r'<figure class="ak-numbered-figure[^"]*" id="(?P<id>[^"]+)">.*?'
    r'<p class="ak-cite-figure-text">(?P<text>[^<]*)</p>'
    r'<pre class="ak-cite-figure-bibtex"><code>(?P<bibtex>[^<]*)</code></pre>.*?'
    r'<span class="caption-number">Figure (?P<number>[\d.]+)\s*</span>'
    r'<span class="caption-text">(?P<title>.*?)</span>',
    re.S,
)


def test_every_figure_can_be_cited_by_number_title_edition_and_anchor(built_book):
    from afterkarabakh import edition

    cited = 0
    for file in _toc_files():
        markup = (built_book / f"{file}.html").read_text(encoding="utf-8")
        figures = markup.count('class="ak-numbered-figure')
        found = list(_CITE.finditer(markup))
        assert len(found) == figures, f"{file}: {figures} figures, {len(found)} citations"
        for match in found:
            text = html.unescape(match.group("text"))
            title = html.unescape(re.sub(r"<[^>]+>", "", match.group("title")))
            label = f"Figure {match.group('number')}: {title}"
            assert f"“{label}”" in text, f"{file}: {text}"
            assert f"edition {edition.VERSION} ({edition.date_words()})" in text
            assert text.endswith(f"{file}.html#{match.group('id')}"), text
            bibtex = html.unescape(match.group("bibtex"))
            assert f"url = {{{file}.html#{match.group('id')}}}" in bibtex
            assert f"version = {{{edition.VERSION}}}" in bibtex
            cited += 1
    assert cited >= 40, f"only {cited} figures cited"


def test_the_data_zip_holds_the_whole_package_and_validates(built_book, tmp_path):
    import zipfile

    from afterkarabakh import edition

    archive = built_book / "data" / edition.data_zip_name()
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tmp_path)
        names = set(zipped.namelist())
    folder = tmp_path / archive.stem
    csvs = {str(p.relative_to(paths.DATA)) for p in paths.DATA.rglob("*.csv")}
    assert {str(p.relative_to(folder)) for p in folder.rglob("*.csv")} == csvs
    for extra in ("datapackage.json", "README.md", "LICENSE-CC-BY-4.0.md", "figures.json"):
        assert f"{archive.stem}/{extra}" in names, extra
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert edition.label() in readme and "CC BY 4.0" in readme
    listed = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    assert listed == json.loads((built_book / "figures.json").read_text(encoding="utf-8"))
    data.validate(folder / "datapackage.json")


def test_the_list_of_figures_has_every_numbered_figure(built_book):
    listed = json.loads((built_book / "figures.json").read_text(encoding="utf-8"))
    by_page = {}
    for figure in listed:
        by_page.setdefault(figure["page"], []).append(figure)
    for file in _toc_files():
        markup = (built_book / f"{file}.html").read_text(encoding="utf-8")
        assert [(f["id"], f["number"]) for f in by_page.get(file, [])] == _FIGURE.findall(markup)
    assert sum(bool(f["datasets"]) for f in listed) >= len(listed) * 3 // 4, (
        "most figures name the datasets they draw on"
    )


# --- the book as one PDF (make pdf) ----------------------------------------------------------------


def test_the_front_door_sends_the_reader_to_the_first_page_and_names_its_icon(built_book):
    """index.html forwards to the introduction, in a page with a language, a title and a link
    for a reader whose browser does not follow the refresh; it names the book's icon, so no
    browser asks the server for a /favicon.ico that the book does not have."""
    markup = (built_book / "index.html").read_text(encoding="utf-8")
    assert re.search(
        r'<meta http-equiv="Refresh" content="0; url=chapters/introduction\.html">', markup
    )
    assert '<html lang="en">' in markup and "<title>After Karabakh</title>" in markup
    assert '<a href="chapters/introduction.html">' in markup
    icon = re.search(r'<link rel="icon" href="([^"]+)">', markup)
    assert icon, "the front door names no icon: browsers then ask for /favicon.ico"
    assert (built_book / icon.group(1)).is_file(), f"{icon.group(1)} is not in the built book"
