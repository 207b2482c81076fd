"""``make bench``: how long the book takes to build and test, and how heavy its pages are.

Writes ``_build/bench.md`` and prints it. Targets (a benchmark, not a test; 2-core machine):
clean build within 10 s + 3 s per notebook; each notebook's execution within twice the floor
(a kernel that only imports the package and loads one dataset); a no-change rebuild with bare
``jupyter-book build`` within 3 s; ``make test`` (set-up excluded) within twice the clean build;
every page under 500 KB (the shared Vega bundle aside).
It also reports the share of data rows that rest on a relay or reference source (target: at most 10%).
In the browser, every page at most 1.5 MB transferred (everything it loads, uncompressed) with all
its charts drawn within 1.2 s of navigation.
Lighthouse (pinned; mobile profile: a mid-range phone, simulated slow 4G and CPU), on every chapter
and appendix page: performance at least 0.9, largest contentful paint at most 2.5 s, total blocking time at most
200 ms, accessibility and best practices 1.0, SEO at least 0.95 (``make lighthouse`` runs it alone).
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
#: Headless Chromium without the background requests it would otherwise send to Google's hosts
#: (the browser tests use the same flags).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
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
#: The renderer draws a chart when it comes near the screen; this asks it to draw them all now.
DRAW_ALL = "() => { if (window.akCharts) { window.akCharts.drawAll(); } }"


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


def chapter_pages(html_dir: Path = HTML) -> list[str]:
    """The book's own pages (chapters and appendices), not Sphinx's index and search pages."""
    return [p for p in content_pages(html_dir) if p.startswith("chapters/")]


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
        page.evaluate(DRAW_ALL)
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
                args=CHROMIUM_ARGS,
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


#: Lighthouse, installed by the Makefile (pinned, from npm) into .venv/lighthouse.
LIGHTHOUSE = paths.ROOT / ".venv" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
#: Category scores each content page must reach, and the two timings the issue names.
LIGHTHOUSE_TARGETS = {"performance": 0.9, "accessibility": 1.0, "best-practices": 1.0, "seo": 0.95}
LCP_LIMIT_S, TBT_LIMIT_MS = 2.5, 200
#: Runs per page; the median run (by performance score) is reported, as Lighthouse's own guidance
#: advises: one run's timings vary with what else the machine does.
LIGHTHOUSE_RUNS = 3
_COMPRESSED = (".html", ".css", ".js", ".svg", ".json", ".csv", ".txt")


def compressing_server(directory: Path):
    """The built book on localhost, served as a web host serves it: text files gzip-compressed for
    a browser that accepts it (Lighthouse's simulated network counts the bytes that travel).
    Returns the running server and its base URL."""
    import functools
    import gzip
    import http.server
    import threading

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def send_head(self):
            path = Path(self.translate_path(self.path))
            accepts = "gzip" in self.headers.get("Accept-Encoding", "")
            if not (accepts and path.is_file() and path.suffix in _COMPRESSED):
                return super().send_head()
            import io

            body = gzip.compress(path.read_bytes(), compresslevel=6)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600")
            self.end_headers()
            return io.BytesIO(body)

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(directory))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def lighthouse_page(url: str) -> dict:
    """One Lighthouse run (mobile profile, the four categories) on Debian's chromium, headless."""
    import json
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--output=json",
                f"--output-path={report}",
                "--only-categories=performance,accessibility,best-practices,seo",
                "--chrome-flags=--headless=new " + " ".join(CHROMIUM_ARGS),
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": shutil.which("chromium") or "/usr/bin/chromium"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        result = json.loads(report.read_text(encoding="utf-8"))
    audits = result["audits"]
    scores = {key: category["score"] for key, category in result["categories"].items()}
    failing = sorted(
        audit_ref["id"]
        for key, category in result["categories"].items()
        if key != "performance"
        for audit_ref in category["auditRefs"]
        if audit_ref["weight"] > 0
        and (audits[audit_ref["id"]].get("score") or 0) < 1
        and audits[audit_ref["id"]].get("scoreDisplayMode") in ("binary", "numeric")
    )
    return {
        "scores": scores,
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "failing": failing,
    }


def lighthouse_ok(r: dict) -> bool:
    return (
        all((r["scores"].get(k) or 0) >= v for k, v in LIGHTHOUSE_TARGETS.items())
        and r["lcp_s"] <= LCP_LIMIT_S
        and r["tbt_ms"] <= TBT_LIMIT_MS
    )


def lighthouse_report(pages: list[str]) -> list[str]:
    """Lighthouse on each page of the built book, served compressed on localhost; a Markdown table."""
    if not LIGHTHOUSE.exists():
        return [f"Lighthouse is missing at {LIGHTHOUSE}: `make bench` installs it (npm)."]
    httpd, base = compressing_server(HTML)
    rows = []
    try:
        for page in pages:
            print(f"bench: Lighthouse on {page} ...", file=sys.stderr, flush=True)
            runs = sorted(
                (lighthouse_page(f"{base}/{page}") for _ in range(LIGHTHOUSE_RUNS)),
                key=lambda r: r["scores"]["performance"] or 0,
            )
            median = runs[len(runs) // 2]
            median["range"] = (runs[0]["scores"]["performance"], runs[-1]["scores"]["performance"])
            rows.append((page, median))
    finally:
        httpd.shutdown()
    targets = LIGHTHOUSE_TARGETS
    lines = [
        "Lighthouse "
        + _lighthouse_version()
        + ", mobile profile (simulated slow 4G, 4x CPU slowdown), Debian's chromium, headless, "
        f"the built book served compressed on localhost; the median of {LIGHTHOUSE_RUNS} runs per "
        "page (by performance; the range of its performance scores in brackets). Targets: performance "
        f"{targets['performance']}, LCP {LCP_LIMIT_S} s, TBT {TBT_LIMIT_MS} ms, accessibility "
        f"{targets['accessibility']}, best practices {targets['best-practices']}, SEO {targets['seo']}.",
        "",
        "| page | performance | FCP (s) | LCP (s) | TBT (ms) | CLS | accessibility | best practices "
        "| SEO | | failing audits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for page, r in rows:
        s = r["scores"]
        lines.append(
            f"| {page} | {s['performance']:.2f} ({r['range'][0]:.2f}–{r['range'][1]:.2f}) "
            f"| {r['fcp_s']:.1f} | {r['lcp_s']:.1f} "
            f"| {r['tbt_ms']:.0f} | {r['cls']:.3f} | {s['accessibility']:.2f} "
            f"| {s['best-practices']:.2f} | {s['seo']:.2f} | {_verdict(lighthouse_ok(r))} "
            f"| {', '.join(r['failing'])} |"
        )
    return lines


def _lighthouse_version() -> str:
    import json

    package = LIGHTHOUSE.parent.parent / "lighthouse" / "package.json"
    try:
        return json.loads(package.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return "(version unknown)"


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
    print("bench: Lighthouse on every chapter page ...", file=sys.stderr, flush=True)
    lines += ["", *lighthouse_report(chapter_pages())]
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
        f"Data rows resting on a relay or reference source: {100 * appendix.relay_share():.1f}% (target: at most 10%).",
    ]
    report = "\n".join(lines) + "\n"
    (BUILD / "bench.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


def lighthouse_only() -> int:
    """``make lighthouse``: the Lighthouse section alone, on the book as built."""
    report = "\n".join(["# Lighthouse", "", *lighthouse_report(chapter_pages())]) + "\n"
    (BUILD / "lighthouse.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(lighthouse_only() if sys.argv[1:] == ["lighthouse"] else main())
