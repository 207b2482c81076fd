"""The book builds strictly, and every page works in a browser with the network cut off.

One module on purpose: pytest-xdist's ``--dist loadfile`` keeps these tests on one
worker, so the build runs once and the browser tests read what it produced.
"""
from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest
import yaml

from afterkarabakh import build, paths

from conftest import offline_context

HTML = paths.ROOT / "_build" / "html"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((paths.ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    files += [chapter["file"] for chapter in toc.get("chapters", [])]
    return files


@pytest.fixture(scope="module")
def built_book() -> Path:
    """Build the book exactly as `make book` does: warnings are errors, notebook errors raise."""
    result = build.run(capture_output=True, timeout=1800)
    assert result.returncode == 0, f"strict book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return HTML


def test_every_toc_entry_is_a_built_page(built_book):
    for file in _toc_files():
        assert (built_book / f"{file}.html").is_file(), f"{file} is in _toc.yml but was not built"


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(_toc_files())
    for path in paths.CHAPTERS.iterdir():
        if path.suffix in {".ipynb", ".md"} and not path.name.startswith("_"):  # _template: not a page
            assert f"chapters/{path.stem}" in listed, f"{path.name} is not in _toc.yml, so it would never be built"


def test_no_placeholder_title_in_the_built_book(built_book):
    """The bibliography and every page show real titles, never wording about how a page was read."""
    import re

    placeholder = re.compile(r"headline not shown|stored cop|copy shown|not shown in", re.I)
    found = [f"{page.relative_to(built_book)}: {match.group(0)!r}"
             for page in built_book.rglob("*.html") for match in placeholder.finditer(page.read_text(encoding="utf-8"))]
    assert not found, "placeholder wording in the built book:\n" + "\n".join(found[:20])


def test_no_page_loads_anything_from_another_host(built_book):
    """Static check before the browser one: no script, stylesheet, font or image from outside."""
    import re

    pattern = re.compile(r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)=\"(https?:)?//[^\"]+\"", re.I)
    for page in built_book.rglob("*.html"):
        for match in pattern.finditer(page.read_text(encoding="utf-8")):
            tag = match.group(0)
            if match.group(1).lower() == "link" and "stylesheet" not in tag and "preload" not in tag:
                continue  # rel="canonical" and the like are not requests
            pytest.fail(f"{page.relative_to(built_book)} loads from outside: {tag}")


def test_data_files_are_downloadable_from_the_book(built_book):
    for csv in paths.DATA.glob("*.csv"):
        assert (built_book / "data" / csv.name).read_bytes() == csv.read_bytes()


# --- in a real browser ----------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(built_book):
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _pages(built_book: Path) -> list[str]:
    pages = sorted(str(p.relative_to(built_book)) for p in built_book.rglob("*.html")
                   if not p.relative_to(built_book).parts[0].startswith("_"))
    assert "chapters/introduction.html" in pages
    return pages


@pytest.mark.browser
def test_every_page_renders_offline(built_book, server, browser):
    failures = []
    charts_seen = 0
    for page_path in _pages(built_book):
        context, outside = offline_context(browser, (server,))
        console_errors = []
        page = context.new_page()
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: console_errors.append(str(exc)))
        page.goto(f"{server}/{page_path}", wait_until="load")
        if 'http-equiv="refresh"' in (built_book / page_path).read_text(encoding="utf-8").lower():
            page.wait_for_url("**/chapters/*.html", timeout=10000)  # index.html forwards to the first chapter
            page.wait_for_load_state("load")
        expected = page.locator("div.ak-chart").count()
        if expected:
            try:
                page.wait_for_function(
                    "n => document.querySelectorAll('div.ak-chart svg.marks').length >= n", arg=expected,
                    timeout=30000)
            except Exception:  # noqa: BLE001 - reported below with what was drawn
                pass
        drawn = page.locator("div.ak-chart svg.marks").count()
        # Vega puts the chart's description on its container, which screen readers announce.
        described = page.eval_on_selector_all(
            "div.ak-chart", "els => els.filter(e => e.querySelector('svg.marks') && "
            "(e.getAttribute('aria-label') || '').length > 20).length")
        charts_seen += drawn
        if drawn != expected:
            failures.append(f"{page_path}: {drawn} of {expected} charts drawn "
                            f"({page.locator('div.ak-chart').first.inner_text()[:200] if expected else ''})")
        if described != drawn:
            failures.append(f"{page_path}: {drawn - described} chart(s) without a text description")
        if outside:
            failures.append(f"{page_path}: requests left the book: {outside[:5]}")
        if console_errors:
            failures.append(f"{page_path}: console errors: {console_errors[:5]}")
        context.close()
    assert not failures, "\n".join(failures)
    assert charts_seen >= 2, "the introduction's map and timeline were not found"


@pytest.mark.browser
def test_tooltips_work(built_book, server, browser):
    """Hovering a timeline point shows the Vega tooltip with the event and its source."""
    page = browser.new_page()
    page.goto(f"{server}/chapters/introduction.html", wait_until="load")
    page.wait_for_selector("div.ak-chart svg.marks", timeout=30000)
    point = page.locator("div.ak-chart path[role='graphics-symbol']").last
    point.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=10000)
    assert "Source" in tooltip.inner_text()
    page.close()


# --- never stale, still fast ------------------------------------------------------------------

def _rebuild() -> str:
    result = build.run(capture_output=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def test_rebuild_without_changes_executes_nothing(built_book):
    log = _rebuild()
    assert "Executing notebook" not in log, "a no-change rebuild re-executed notebooks"


def test_changed_data_file_re_executes_the_notebooks(built_book):
    """jupyter-cache alone would keep stale charts: a data change must re-run the chapters."""
    import os
    import time

    events = paths.DATA / "events.csv"
    later = time.time() + 2
    os.utime(events, (later, later))
    log = _rebuild()
    executed = log.count("Executing notebook")
    notebooks = len([p for p in paths.CHAPTERS.glob("*.ipynb") if not p.name.startswith("_")])
    assert executed == notebooks, f"{executed} of {notebooks} notebooks re-executed after a data change"
