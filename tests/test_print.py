"""The book on paper: each chapter printed whole, and the PDF of the whole book (`make pdf`)
with every chapter and every figure, each on one page with its number, title and source line.
"""

from __future__ import annotations

import concurrent.futures
import html
import html.parser
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import CHROMIUM, offline_context
from test_browser import _wait_for_charts

PRINTED = ("military", "peacekeeping", "appendix_data")
#: The smallest text a chart may print at (pt).
MIN_PRINTED_PT = 7.0


def _printed_words(pdf: Path) -> list[tuple[int, float, str]]:
    """(page, height in pt, word) of every word of a PDF, from pdftotext's word boxes."""
    markup = subprocess.run(
        [shutil.which("pdftotext"), "-bbox", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    words = []
    for number, page in enumerate(markup.split("<page ")[1:], 1):
        for y0, y1, word in re.findall(
            r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
            page,
        ):
            words.append((number, float(y1) - float(y0), html.unescape(word)))
    return words


@pytest.mark.browser
@pytest.mark.parametrize("name", PRINTED)
def test_a_chapter_prints_whole(built_book, server, browser, tmp_path, name):
    """Printed to PDF: no empty page; each chart's title and source line on one and the same page,
    its text at 7 pt or more; no heading alone at the foot of a page; no page left half empty
    before a long table."""
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        pytest.fail("pdftotext is missing: `make test` installs Debian's poppler-utils")
    context, _ = offline_context(browser, (server,), viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/chapters/{name}.html", wait_until="load")
    charts = _wait_for_charts(page)
    # The first line of each chart's title and the last line of its source line, as drawn.
    ends = page.evaluate("""() => Array.from(document.querySelectorAll('div.ak-chart svg')).map(svg => {
      const lines = Array.from(svg.querySelectorAll('.role-title-text')).flatMap(t =>
        t.querySelectorAll('tspan').length ? Array.from(t.querySelectorAll('tspan')).map(s => s.textContent)
                                           : [t.textContent]);
      return [lines[0], lines[lines.length - 1]];
    })""")
    # Every word the charts draw, and the size the body text prints at (to read pdftotext's boxes).
    chart_words = set(
        page.evaluate(
            "() => Array.from(document.querySelectorAll('div.ak-chart svg text'))"
            ".flatMap(t => t.textContent.split(/\\s+/)).filter(w => w.length > 2)"
        )
    )
    page.emulate_media(media="print")
    body_pt = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('article p')).fontSize) * 0.75"
    )
    headings = page.evaluate(
        "() => Array.from(document.querySelectorAll('article h1, article h2, article h3'))"
        ".filter(h => h.offsetParent).map(h => h.innerText.replace(/#$/, '').trim())"
    )
    pdf = tmp_path / f"{name}.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    context.close()
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    page_lines = [
        [" ".join(line.split()) for line in p.splitlines() if line.strip()]
        for p in text.split("\f")
    ]
    if page_lines and not page_lines[-1]:
        page_lines = page_lines[:-1]  # pdftotext ends with a form feed
    pages = [" ".join(lines) for lines in page_lines]
    assert pages, "nothing printed"
    empty = [n for n, p in enumerate(pages, 1) if len(p) < 20]
    assert not empty, f"{name}: empty printed pages: {empty} of {len(pages)}"
    assert len(ends) == charts

    def page_of(line: str, after: int = 1) -> int | None:
        words = " ".join(line.split()[:4])
        hits = [n for n, p in enumerate(pages, 1) if n >= after and words and words in p]
        return hits[0] if hits else None

    for first, last in ends:
        start = page_of(first)
        end = page_of(last, after=start or 1)
        assert start is not None, f"chart '{first}' not found in the printed chapter"
        assert end == start, f"chart '{first}' is split across printed pages {start} and {end}"

    # Text size: pdftotext's word boxes are the font's full height; the body text (most words)
    # gives their ratio to the size in points.
    words = _printed_words(pdf)
    heights = sorted(h for _, h, _ in words)
    ratio = max(set(heights), key=heights.count) / body_pt
    small = sorted(
        (round(h / ratio, 1), n, w)
        for n, h, w in words
        if w in chart_words and h / ratio < MIN_PRINTED_PT
    )
    assert not small, (
        f"{name}: chart text printed below {MIN_PRINTED_PT} pt (pt, page, word): {small[:8]}"
    )

    # A heading alone at the foot of a page (its text the page's last line, or last but one).
    orphans = []
    for heading in headings:
        key = " ".join(heading.split()[:5])[:40]
        for number, lines in enumerate(page_lines[:-1], 1):
            if key and any(line.startswith(key) for line in lines[-2:]):
                if lines[-1].startswith(key) or len(lines[-1]) < 40:
                    orphans.append(f"'{heading[:50]}' on page {number}")
    assert not orphans, f"{name}: headings left at the foot of a page: {orphans}"

    # No page but the last less than a third full when no chart follows (a chart is kept whole).
    full = sorted(len(lines) for lines in page_lines)[len(page_lines) // 2]
    starts = {page_of(first) for first, _ in ends}
    short = [
        number
        for number, lines in enumerate(page_lines[:-1], 1)
        if len(lines) < full / 3 and number + 1 not in starts
    ]
    assert not short, f"{name}: pages left short before what follows: {short} ({full} lines a page)"


def _title_after_label(text: str, label: str, words: str) -> int:
    """Where a figure's title starts after its number on a printed page (-1 if it does not)."""
    text = text.replace("’", "'")
    for found in re.finditer(rf"{re.escape(label)}(?!\.?\d)", text):
        at = text.find(words, found.end())
        if at >= 0:
            return at
    return -1


@pytest.fixture(scope="module")
def book_pdf(built_book, tmp_path_factory) -> tuple[Path, list[str], list[str]]:
    """The PDF `make pdf` makes, printed once for this module from the shared build, and its
    text per page (words, and lines as laid out)."""
    from afterkarabakh.book import pdf

    if not Path(CHROMIUM).exists() or not shutil.which("pdftotext"):
        pytest.fail("chromium or pdftotext is missing: `make test` installs them")
    # In a thread of its own: this module's other browser tests keep a Playwright session (and its
    # event loop) open in the main thread, and the synchronous API refuses to nest in one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        made = worker.submit(
            pdf.build, built_book, tmp_path_factory.mktemp("pdf"), publish=False
        ).result()
    text = subprocess.run(
        ["pdftotext", "-layout", str(made), "-"], capture_output=True, text=True, check=True
    ).stdout
    raw = text.split("\f")
    raw = raw[:-1] if raw and not raw[-1].strip() else raw
    return made, [" ".join(p.split()) for p in raw], raw


@pytest.mark.browser
def test_the_pdf_has_every_chapter_and_every_figure_whole(built_book, book_pdf):
    """Every page's title, in its place in the contents; every figure's number and title on one
    page with its source line; page numbers through the whole book."""
    from afterkarabakh.book import pdf

    made, pages, raw = book_pdf
    assert not [n for n, p in enumerate(pages, 1) if len(p) < 20], "empty printed pages"
    # The PDF a reader gets is the last print, tagged (for screen readers) and with an outline,
    # not the draft printed to find the page numbers.
    info = subprocess.run(["pdfinfo", str(made)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes$", info.stdout, re.M), "the PDF is not tagged"
    assert b"/Outlines" in made.read_bytes(), "the PDF has no outline"
    assert all(p.endswith(f"{n} / {len(pages)}") for n, p in enumerate(pages, 1)), (
        "page numbers run through the book"
    )
    starts = pdf.destinations(made)
    contents = [" ".join(line.split()) for line in raw[1].splitlines() if line.strip()]
    for _, docs in pdf.toc_parts():
        for docname in docs:
            stem = docname.rsplit("/", 1)[-1]
            built = (built_book / f"{docname}.html").read_text(encoding="utf-8")
            title = pdf.article(built, docname, set())[0]
            first = starts[f"page-{stem}"]
            words = " ".join(title.split()[:5])
            assert words in pages[first - 1], f"{title!r} does not open page {first}"
            line = next((line for line in contents if line.startswith(words)), None) or next(
                (line for line in contents if words in line), ""
            )
            assert line.endswith(f" {first}"), f"the contents give {line!r}, not page {first}"
    listed = json.loads((built_book / "figures.json").read_text(encoding="utf-8"))
    after = 1
    for figure in listed:
        label = f"Figure {figure['number']}"
        words = " ".join(figure["title"].replace("’", "'").split()[:4])
        # The caption's number and the chart's drawn title on one page (the prose that refers to
        # the figure names its number too, but not its title).
        # The title is looked for after the number: a key finding may open with the same words.
        hits = [
            n
            for n, p in enumerate(pages, 1)
            if n >= after and _title_after_label(p, label, words) >= 0
        ]
        assert hits, (
            f"{label} ({figure['title']!r}) is not on one page with its number: cut or missing"
        )
        page = pages[hits[0] - 1].replace("’", "'")
        at = _title_after_label(pages[hits[0] - 1], label, words)
        assert re.search(r"\bSources?:", page[at:]), (
            f"{label} ({figure['title']!r}) is cut across pages {hits[0]} and {hits[0] + 1}"
        )
        after = hits[0]
