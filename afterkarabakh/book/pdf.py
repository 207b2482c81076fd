"""``make pdf``: the book as one PDF, printed offline from the built HTML book.

The built pages' articles, in the order of ``_toc.yml``, are assembled into one HTML document with
the book's own stylesheets and chart renderer, behind a cover (title, edition, date, how to cite)
and a table of contents; nothing is executed again. Debian's chromium, driven by Playwright with
every request outside the book's files refused, draws the charts (as SVG, so they print as vector
graphics) and prints the document once, so page numbers run through the whole book. The pages
each chapter starts on are read back from the PDF's named destinations (``pdfinfo``, from
poppler-utils) and written into the table of contents, and the document is printed again (the
numbers take no more room than the blanks they fill, so no page moves).

Each figure keeps its number, title, chart and source line, and is never cut across two pages;
its data table, too long for paper, is left out here and is in the HTML book and the data zip.
Links between pages become links within the PDF.

Output: ``_build/pdf/after-karabakh-<version>.pdf``, copied to the root of the built book, which
every page's footer links (:mod:`afterkarabakh.book.downloads`).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import edition, paths
from .bench import ALL_CHARTS_DRAWN, CHROMIUM, CHROMIUM_ARGS, DRAW_ALL

HTML_DIR = paths.ROOT / "_build" / "html"
PDF_DIR = paths.ROOT / "_build" / "pdf"
#: A4 with 16 mm side margins: a text column of 178 mm, 673 CSS pixels, the width charts are drawn at.
PAGE_MARGINS = {"top": "16mm", "bottom": "18mm", "left": "16mm", "right": "16mm"}
COLUMN_PX = 673
_CHART_ID = re.compile(r"^ak-chart-[0-9a-f]{12}")

PRINT_CSS = """
@page { size: A4; }
html, body { margin: 0; padding: 0; background: #fff; }
body { width: %(column)dpx; font-size: 10.5pt; line-height: 1.45; }
section.ak-pdf-page { break-before: page; }
section.ak-pdf-cover { height: 240mm; display: flex; flex-direction: column; justify-content: center; }
section.ak-pdf-cover h1 { font-size: 34pt; margin: 0 0 0.3em; }
section.ak-pdf-cover p.ak-pdf-edition { font-size: 15pt; margin: 0 0 2em; }
section.ak-pdf-cover p { max-width: 150mm; }
nav.ak-pdf-toc { break-before: page; }
nav.ak-pdf-toc h1 { font-size: 20pt; }
nav.ak-pdf-toc ol { list-style: none; padding: 0; margin: 0; }
nav.ak-pdf-toc li { margin: 0 0 0.45em; }
nav.ak-pdf-toc li.ak-pdf-part { margin-top: 1em; font-weight: 600; }
nav.ak-pdf-toc a { display: flex; color: inherit; text-decoration: none; }
nav.ak-pdf-toc .ak-pdf-title { flex: 1 1 auto; }
nav.ak-pdf-toc .ak-pdf-leader { flex: 1 1 auto; border-bottom: 1px dotted #999; margin: 0 0.4em 0.3em; }
nav.ak-pdf-toc .ak-pdf-number { flex: 0 0 3em; text-align: right; font-variant-numeric: tabular-nums; }
figure.ak-numbered-figure, div.ak-figure, div.cell_output { break-inside: avoid; page-break-inside: avoid; }
h1, h2, h3 { break-after: avoid; }
details.ak-data, details.ak-cite-figure, div.ak-tools, .cell_input, details.above-input,
details.below-input, .headerlink, button { display: none !important; }
a { color: #1a4d80; }
/* Tables fit the column: smaller type, words broken only where they must be, no scrolling box. */
table { font-size: 8pt; max-width: 100%%; }
table td, table th { overflow-wrap: break-word !important; word-break: normal !important; }
table th { hyphens: auto; }
div.ak-table-scroll, div.ak-table-wrap, div.pst-scrollable-table-container { overflow: visible !important; }
table.ak-fields { table-layout: fixed; width: 100%%; }
table.ak-fields th:nth-child(1) { width: 24%%; }
table.ak-fields th:nth-child(2), table.ak-fields th:nth-child(3) { width: 9%%; }
table.ak-fields th:nth-child(4) { width: 18%%; }
table.ak-fields td:first-child { overflow-wrap: anywhere !important; }
table.ak-source-mix { font-size: 7pt; }
"""

FOOTER = (
    '<div style="font-size:8px;width:100%%;padding:0 16mm;display:flex;justify-content:space-between;'
    'color:#555;font-family:sans-serif"><span>%(book)s, %(edition)s</span>'
    '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>'
)


def toc_parts() -> list[tuple[str | None, list[str]]]:
    """(part caption, docnames) in reading order: the root page first, then each part."""
    import yaml

    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    parts = [(None, [toc["root"]])]
    for part in toc.get("parts", []):
        parts.append((part.get("caption"), [c["file"] for c in part.get("chapters", [])]))
    return parts


def _stem(docname: str) -> str:
    return docname.rsplit("/", 1)[-1]


def article(page_html: str, docname: str, stems: set[str]):
    """The page's article, its ids made unique to the page and its links made internal to the
    PDF; returns (title, number or None, the article's HTML)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    body = soup.select_one("article.bd-article")
    if body is None:
        raise ValueError(f"{docname}: no article in the built page")
    stem = _stem(docname)
    for element in body.find_all(id=True):
        if not _CHART_ID.match(element["id"]):
            element["id"] = f"{stem}--{element['id']}"
    for link in body.find_all("a", href=True):
        href = link["href"]
        if href.startswith("#"):
            link["href"] = f"#{stem}--{href[1:]}" if len(href) > 1 else f"#page-{stem}"
            continue
        target = re.fullmatch(r"([\w-]+)\.html(?:#(.*))?", href)
        if target and target.group(1) in stems:
            page, fragment = target.groups()
            link["href"] = f"#{page}--{fragment}" if fragment else f"#page-{page}"
    heading = body.find("h1")
    number = heading.find("span", class_="section-number") if heading else None
    for anchor in heading.find_all("a", class_="headerlink") if heading else []:
        anchor.decompose()
    title = heading.get_text(" ", strip=True) if heading else stem
    numbered = number.get_text(strip=True).rstrip(".") if number else None
    if numbered:
        title = title[len(number.get_text(" ", strip=True)) :].strip()
    return title, numbered, body.decode_contents()


def head_links(page_html: str) -> str:
    """The stylesheets and the chart scripts of a built page, for the assembled document."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    links = [
        str(link) for link in soup.head.find_all("link") if "stylesheet" in link.get("rel", [])
    ]
    scripts = [
        str(script)
        for script in soup.head.find_all("script", src=True)
        if "vega-bundle" in script["src"] or "afterkarabakh-charts" in script["src"]
    ]
    return "\n".join(links + scripts)


def cover_html() -> str:
    import yaml

    from . import citing

    book = citing.book_config()
    cff = yaml.safe_load((paths.ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    cite = citing.citation_text(
        book=book["title"],
        authors=book["author"],
        year=citing.year_of(str(book["copyright"])),
        chapter=None,
        url=edition.pdf_name(),
        version=edition.VERSION,
        day=edition.DATE,
    )
    return (
        '<section class="ak-pdf-cover" id="ak-pdf-cover">'
        f"<h1>{html.escape(book['title'])}</h1>"
        f'<p class="ak-pdf-edition">{html.escape(edition.label()[:1].upper() + edition.label()[1:])}</p>'
        f"<p>{html.escape(' '.join(str(cff.get('abstract', '')).split()))}</p>"
        f"<p>{html.escape(book['author'])}.</p>"
        f"<p>How to cite this edition: {html.escape(cite)}</p>"
        "<p>Printed from the book's HTML edition. Each figure's data table, and every dataset "
        f"with its sources, are in the HTML edition and in the data download "
        f"{html.escape(edition.data_zip_name())}. Text and data: CC BY 4.0; code: MIT. Each "
        "source keeps its own terms.</p></section>"
    )


def toc_html(entries: list[tuple[str | None, list[tuple[str, str | None, str]]]], numbers) -> str:
    """The table of contents: per part, each page's number, title and first page (blank until
    known, in a box of fixed width so the layout does not change when it is filled)."""
    items = []
    for caption, pages in entries:
        if caption:
            items.append(f'<li class="ak-pdf-part">{html.escape(caption)}</li>')
        for stem, number, title in pages:
            label = f"{number}. {title}" if number else title
            page = numbers.get(f"page-{stem}", "") if numbers else ""
            items.append(
                f'<li><a href="#page-{stem}"><span class="ak-pdf-title">{html.escape(label)}</span>'
                f'<span class="ak-pdf-leader"></span><span class="ak-pdf-number">{page}</span></a></li>'
            )
    return (
        '<nav class="ak-pdf-toc" id="ak-pdf-toc"><h1>Contents</h1><ol>'
        + "".join(items)
        + "</ol></nav>"
    )


def assemble(html_dir: Path = HTML_DIR, numbers: dict | None = None) -> tuple[str, list]:
    """The whole book as one HTML document; returns it and the table of contents' entries."""
    parts = toc_parts()
    stems = {_stem(d) for _, docs in parts for d in docs}
    sections, entries, head = [], [], ""
    for caption, docs in parts:
        listed = []
        for docname in docs:
            page_html = (html_dir / f"{docname}.html").read_text(encoding="utf-8")
            if "vega-bundle" in page_html and not head:
                head = head_links(page_html)
            title, number, body = article(page_html, docname, stems)
            listed.append((_stem(docname), number, title))
            sections.append(
                f'<section class="ak-pdf-page" id="page-{_stem(docname)}">{body}</section>'
            )
        entries.append((caption, listed))
    base = (html_dir / "chapters").resolve().as_uri() + "/"
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<base href="{base}"><title>After Karabakh, {html.escape(edition.label())}</title>'
        f"{head}<style>{PRINT_CSS % {'column': COLUMN_PX}}</style></head>"
        '<body><main class="bd-article">'
        + cover_html()
        + toc_html(entries, numbers)
        + "".join(sections)
        + "</main></body></html>"
    )
    return document, entries


def destinations(pdf: Path) -> dict[str, int]:
    """Named destinations of a PDF and their pages (``pdfinfo -dests``, poppler-utils)."""
    pdfinfo = shutil.which("pdfinfo")
    if not pdfinfo:
        raise RuntimeError("pdfinfo is missing: `make pdf` installs Debian's poppler-utils")
    listing = subprocess.run(
        [pdfinfo, "-dests", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in listing.splitlines():
        match = re.match(r'\s*(\d+)\s+\[.*\]\s+"(.*)"\s*$', line)
        if match:
            found[match.group(2)] = int(match.group(1))
    return found


def open_document(document: Path, browser):
    """Open the assembled document offline and let every chart draw; returns the page."""
    context = browser.new_context(viewport={"width": COLUMN_PX, "height": 1000})
    blocked: list[str] = []

    def guard(route, request):
        if request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(document.resolve().as_uri(), wait_until="load")
    charts = page.locator("div.ak-chart").count()
    if charts:
        # The renderer draws a chart only when it nears the screen; a printout needs them all.
        page.evaluate(DRAW_ALL)
        page.wait_for_function(ALL_CHARTS_DRAWN, arg=charts, timeout=600_000)
    failed = page.locator("div.ak-chart[data-ak-state=failed]").count()
    if failed:
        raise RuntimeError(f"{failed} of {charts} charts failed to draw")
    if blocked:
        raise RuntimeError(f"the book asked for outside files: {blocked[:5]}")
    return page


#: Fills the contents' page numbers in the open document (their boxes have a fixed width, so
#: nothing else on any page moves).
FILL_NUMBERS_JS = """numbers => {
  for (const [anchor, number] of Object.entries(numbers)) {
    const link = document.querySelector(`#ak-pdf-toc a[href="#${anchor}"] .ak-pdf-number`);
    if (link) link.textContent = String(number);
  }
}"""


def print_page(page, pdf: Path, draft: bool = False) -> None:
    """Print the open document to ``pdf``: A4, page numbers in the footer, an outline, tagged.

    A ``draft``, printed only to learn where each page starts, has neither outline nor tags:
    they change no page's layout (every named destination falls on the same page) and cost
    a fifth of the printing time."""
    from . import citing

    footer = FOOTER % {
        "book": html.escape(citing.book_config()["title"]),
        "edition": html.escape(edition.label()),
    }
    page.pdf(
        path=str(pdf),
        format="A4",
        margin=PAGE_MARGINS,
        print_background=False,
        display_header_footer=True,
        header_template="<span></span>",
        footer_template=footer,
        outline=not draft,
        tagged=not draft,
    )


def build(html_dir: Path = HTML_DIR, out_dir: Path = PDF_DIR, publish: bool = True) -> Path:
    """Assemble, print, number the contents, print again; returns the PDF's path."""
    from playwright.sync_api import sync_playwright

    if not (html_dir / "chapters").is_dir():
        raise RuntimeError(f"no built book in {html_dir}: run `make book` first")
    if not Path(CHROMIUM).exists():
        raise RuntimeError("Debian's chromium is missing: `make pdf` installs it")
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / edition.pdf_name()
    document = out_dir / "book.html"
    started = time.monotonic()
    numbers: dict | None = None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            # Printed once to learn where each page starts, then again with the contents'
            # numbers filled in, in the same open document (no second load, no second drawing),
            # until the numbers hold (their fixed-width boxes make that the second print).
            text, entries = assemble(html_dir)
            document.write_text(text, encoding="utf-8")
            page = open_document(document, browser)
            for _ in range(3):
                print_page(page, pdf, draft=numbers is None)  # never the last print
                found = destinations(pdf)
                pages = {
                    f"page-{stem}": found.get(f"page-{stem}") for _, e in entries for stem, *_ in e
                }
                missing = [k for k, v in pages.items() if v is None]
                if missing:
                    raise RuntimeError(f"pages missing from the PDF: {missing}")
                if pages == numbers:
                    break
                numbers = pages
                page.evaluate(FILL_NUMBERS_JS, numbers)
            page.context.close()
        finally:
            browser.close()
    (out_dir / "contents.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    if publish:
        shutil.copy2(pdf, html_dir / pdf.name)
    print(
        f"{pdf.relative_to(paths.ROOT) if pdf.is_relative_to(paths.ROOT) else pdf}: "
        f"{_page_count(pdf)} pages, {pdf.stat().st_size / 1e6:.1f} MB "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return pdf


def _page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


if __name__ == "__main__":
    try:
        build()
    except RuntimeError as problem:
        print(f"make pdf: {problem}", file=sys.stderr)
        sys.exit(1)
