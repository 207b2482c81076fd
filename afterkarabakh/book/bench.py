"""``make bench``: how long the book takes to build and test, and how heavy its pages are.

Writes ``_build/bench.md`` and prints it. Targets (a benchmark, not a test; 2-core machine):
clean build within 10 s + 3 s per notebook; each notebook's execution within twice the floor
(a kernel that only imports the package and loads one dataset); a no-change rebuild with bare
``jupyter-book build`` within 3 s; ``make test`` (set-up excluded) within twice the clean build;
every page under 500 KB (the shared Vega bundle aside).
It also reports the share of data rows that rest on relay or reference sources alone and the share
of sources that show no publication date (targets: at most 10% each).
In the browser, every page at most 1.5 MB transferred (everything it loads, uncompressed) with all
its charts drawn within 1.2 s of navigation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import appendix, paths
from . import build

BUILD = paths.ROOT / "_build"
HTML = BUILD / "html"
PAGE_LIMIT_KB = 500
FLOOR_CELL = "from afterkarabakh import charts, data\ncharts.setup()\ndata.load('events')"
#: Browser targets per page: bytes transferred (uncompressed, all assets) and time until every chart is drawn.
TRANSFER_LIMIT_BYTES = 1_500_000
DRAWN_LIMIT_S = 1.2
ALL_CHARTS_DRAWN = (
    "n => document.querySelectorAll('div.ak-chart[data-ak-state=drawn],"
    " div.ak-chart[data-ak-state=failed]').length >= n"
)


def content_pages(html_dir: Path = HTML) -> list[str]:
    """The built pages a reader reads: not Sphinx's own folders, nor index.html, which only forwards
    (a meta refresh) to the first chapter and would be measured mid-navigation."""
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        relative = path.relative_to(html_dir)
        if (
            relative.parts[0].startswith("_")
            or 'http-equiv="refresh"' in path.read_text(encoding="utf-8").lower()
        ):
            continue
        pages.append(str(relative))
    return pages


def record_response_sizes(page) -> dict[str, int]:
    """Bytes of every response the page receives from now on, by URL (filled as they arrive)."""
    sizes: dict[str, int] = {}

    def on_response(response):
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            pass

    page.on("response", on_response)
    return sizes


def page_metrics(
    browser, base_url: str, page_path: str, width: int = 1280, **context_options
) -> dict:
    """Load one page in a fresh context: bytes of every response, and seconds until all its charts are drawn."""
    context = browser.new_context(viewport={"width": width, "height": 900}, **context_options)
    page = context.new_page()
    sizes = record_response_sizes(page)
    page.goto(f"{base_url}/{page_path}", wait_until="load")
    charts = page.locator("div.ak-chart").count()
    if charts:
        page.wait_for_function(ALL_CHARTS_DRAWN, arg=charts, timeout=60000)
    drawn = page.evaluate("performance.now()") / 1000
    page.wait_for_load_state("networkidle")
    context.close()
    return {
        "page": page_path,
        "bytes": sum(sizes.values()),
        "charts": charts,
        "drawn_s": drawn if charts else 0.0,
    }


def browser_metrics(pages: list[str]) -> list[dict]:
    """page_metrics for each built page, served locally, in headless Chromium."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(HTML))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu"],
            )
            results = [page_metrics(browser, base, p) for p in pages]
            browser.close()
    finally:
        httpd.shutdown()
    return results


def metrics_table(results: list[dict]) -> list[str]:
    lines = [
        "| page (1,280 px) | transferred (MB) | target | charts | all drawn (s) | target | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ok = r["bytes"] <= TRANSFER_LIMIT_BYTES and r["drawn_s"] <= DRAWN_LIMIT_S
        lines.append(
            f"| {r['page']} | {r['bytes'] / 1e6:.2f} | {TRANSFER_LIMIT_BYTES / 1e6:.1f} | {r['charts']} "
            f"| {r['drawn_s']:.2f} | {DRAWN_LIMIT_S} | {'ok' if ok else 'OVER TARGET'} |"
        )
    return lines


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, check=True, cwd=paths.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - start


def _make(target: str) -> float:
    return _seconds(["make", "--no-print-directory", target])


def _execute(notebook) -> float:
    from nbclient import NotebookClient

    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(paths.CHAPTERS)}},
    ).execute()
    return time.perf_counter() - start


def _notebook_seconds(path: Path) -> float:
    import nbformat

    return _execute(nbformat.read(path, as_version=4))


def floor_seconds() -> float:
    """A kernel that starts, imports the package and loads one dataset: what every chapter pays."""
    import nbformat

    return _execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_CELL)]))


def _kb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024
    return path.stat().st_size / 1024


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def main() -> int:
    notebooks = sorted(p for p in paths.CHAPTERS.glob("*.ipynb") if not p.name.startswith("_"))
    n = len(notebooks)
    print("bench: clean build ...", file=sys.stderr, flush=True)
    shutil.rmtree(BUILD, ignore_errors=True)
    clean = _make("book")
    print("bench: no-change rebuilds ...", file=sys.stderr, flush=True)
    rebuild = _make("book")
    bare_rebuild = _seconds(build.bare_command())
    print("bench: the floor, then each notebook alone ...", file=sys.stderr, flush=True)
    floor = min(floor_seconds() for _ in range(2))
    per_notebook = {}
    for path in notebooks:
        print(f"bench: executing {path.name} ...", file=sys.stderr, flush=True)
        per_notebook[path.name] = _notebook_seconds(path)
    executed = sum(per_notebook.values())
    print(
        "bench: make test, from no built book (as on a fresh clone) ...",
        file=sys.stderr,
        flush=True,
    )
    shutil.rmtree(BUILD, ignore_errors=True)
    tests = _make("test")

    clean_target = 10 + 3 * n
    lines = [
        "# Benchmark",
        "",
        f"Machine: {shutil.os.cpu_count()} cores; the build reads pages on {build.jobs()}. Notebooks: {n}.",
        "",
        "| measure | seconds | target | |",
        "|---|---:|---:|---|",
        f"| clean build (`make book`) | {clean:.1f} | {clean_target} | {_verdict(clean <= clean_target)} |",
        f"| sum of the notebooks' execution, one at a time | {executed:.1f} | | |",
        f"| parallel speed-up (that sum / clean build) | {executed / clean:.2f}x | | |",
        f"| floor: a kernel that imports the package and loads one dataset | {floor:.1f} | | |",
        f"| no-change rebuild (`make book`) | {rebuild:.1f} | 3 | {_verdict(rebuild <= 3)} |",
        f"| no-change rebuild (bare `jupyter-book build`) | {bare_rebuild:.1f} | 3 | {_verdict(bare_rebuild <= 3)} |",
        f"| `make test` (environment set up, no built book) | {tests:.1f} | {2 * clean:.0f} | {_verdict(tests <= 2 * clean)} |",
        "",
        "| notebook | seconds | target (2 x floor) | |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {name} | {sec:.1f} | {2 * floor:.1f} | {_verdict(sec <= 2 * floor)} |"
        for name, sec in per_notebook.items()
    ]
    vendor = HTML / "_static" / "vendor"
    bundles = sorted(vendor.glob("vega-*.js"))
    pages = sorted(
        p for p in HTML.rglob("*.html") if not p.relative_to(HTML).parts[0].startswith("_")
    )
    lines += ["", "| page | KB | target | |", "|---|---:|---:|---|"]
    lines += [
        f"| {p.relative_to(HTML)} | {_kb(p):.0f} | {PAGE_LIMIT_KB} | {_verdict(_kb(p) < PAGE_LIMIT_KB)} |"
        for p in pages
    ]
    print("bench: pages in the browser ...", file=sys.stderr, flush=True)
    lines += ["", *metrics_table(browser_metrics(content_pages()))]
    lines += [
        "",
        "| shared assets | KB |",
        "|---|---:|",
        f"| _static (all) | {_kb(HTML / '_static'):.0f} |",
        f"| of which the Vega bundle ({', '.join(b.name for b in bundles)}) | {sum(_kb(b) for b in bundles):.0f} |",
        f"| data files served for download | {_kb(HTML / 'data'):.0f} |",
    ]
    lines += [
        "",
        f"Data rows resting on relay or reference sources alone: {100 * appendix.relay_share():.1f}% (target: at most 10%).",
        f"Sources showing no publication date: {100 * appendix.undated_share():.1f}% (target: at most 10%).",
    ]
    report = "\n".join(lines) + "\n"
    (BUILD / "bench.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
