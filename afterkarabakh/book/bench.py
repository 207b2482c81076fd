"""``make bench``: how long the book takes to build and test, and how heavy its pages are.

Writes ``_build/bench.md`` and prints it. Targets (a benchmark, not a test; 2-core machine), all
against the **floor**, a kernel that starts, imports the package and loads one dataset
(``FLOOR_CELL``), which every chapter pays:

- each notebook executes (as the book build executes it) within 1.5 times the floor;
- the clean build of N notebooks within 0.8 x (N x floor), although two run at once;
- ``make test`` from no built book (environment set up) within 2.5 times the clean build;
- ``make test-fast`` (data, package, hygiene, one chapter under nbval) within a minute;
- a no-change rebuild with bare ``jupyter-book build`` within 3 s;
- every page under 500 KB (the shared Vega bundle aside).

The machine may be shared, so the floor and the notebooks run interleaved, ``BENCH_REPEAT``
times (default 2), and each takes its fastest run (wall clock; the kernel's own CPU seconds are
shown beside it, steadier when others work). ``make bench BEFORE=path`` times another checkout
(with its own ``.venv``, e.g. a worktree of main) in the same run, alternately with this one:
its clean build, floor and notebooks (and its ``make test`` with ``BEFORE_TEST=1``).
``BENCH_LIGHTHOUSE=0`` leaves Lighthouse out (the quarter of an hour it takes).
It also reports the share of data rows that rest on relay or reference sources alone and the share
of sources that show no publication date (targets: at most 10% each).
In the browser, every page at most 1.5 MB transferred (everything it loads, uncompressed) with all
its charts drawn within 1.2 s of navigation.
Lighthouse (pinned; mobile profile: a mid-range phone, simulated slow 4G and CPU), on every chapter
and appendix page: performance at least 0.9, largest contentful paint at most 2.5 s, total blocking time at most
200 ms, accessibility and best practices 1.0, SEO at least 0.95 (``make lighthouse`` runs it alone).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .. import appendix, paths
from . import build

BUILD = paths.ROOT / "_build"
#: Debian's chromium, which `make test` installs: the browser tests, the bench and the PDF use it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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
                executable_path=CHROMIUM,
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
            env={**os.environ, "CHROME_PATH": CHROMIUM},
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


#: Test runs that failed (a failing test still gives a time, but the report says so), with the
#: failures their log names.
FAILED: dict[str, list[str]] = {}
#: CPU seconds by command, beside the wall clock: on a shared machine the wall clock grows with
#: the others' work, the CPU time hardly. On Linux it is the whole machine's busy time while the
#: command ran (so the bench wants a quiet machine): the usage of the processes a command starts,
#: as the operating system reports it for its children, leaves out every process that is not
#: waited for by its parent: a browser's renderers, a killed kernel's, about 80 of `make test`'s
#: 230 CPU-seconds. Elsewhere it is that lower count.
CPU: dict[str, float] = {}


def _machine_busy_seconds() -> float | None:
    """CPU seconds the machine has spent busy since it started (every core; Linux's /proc/stat),
    or None where that is not known."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


LOGS = paths.ROOT / ".bench-logs"


def _seconds(command: list[str], cwd: Path = paths.ROOT, check: bool = True) -> float:
    import resource

    LOGS.mkdir(exist_ok=True)
    log = LOGS / f"{len(CPU) + 1:02d}-{cwd.name}-{command[-1].replace('/', '-')}.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = _machine_busy_seconds()
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(command, check=check, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    busy_after = _machine_busy_seconds()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # The first run of a target in a tree is the one reported (the clean build, not the rebuild).
    CPU.setdefault(
        f"{command[-1]} in {cwd}",
        children if busy_before is None or busy_after is None else busy_after - busy_before,
    )
    if done.returncode:
        failures = re.findall(r"^(?:FAILED|ERROR) (\S+)", log.read_text(errors="replace"), re.M)
        FAILED[f"{command[-1]} in {cwd}"] = failures
    return wall


def cpu(target: str, tree: Path) -> float:
    return CPU.get(f"{target} in {tree}", float("nan"))


def _make(target: str, tree: Path = paths.ROOT, check: bool = True) -> float:
    return _seconds(["make", "--no-print-directory", "-C", str(tree), target], tree, check)


#: Executes notebooks in the tree's own environment (so a checkout's code is the one timed), one
#: after another, as the book build executes them (the book's environment variable set), and
#: prints, per notebook, wall seconds and the kernel's own CPU seconds.
_TIMER = r"""
import json, os, sys, time
import nbformat
from nbclient import NotebookClient
os.environ["AFTERKARABAKH_BOOK_BUILD"] = "1"
chapters, floor_cell, names = sys.argv[1], sys.argv[2], sys.argv[3:]
out = {}
for name in names:
    if name == "(floor)":
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(floor_cell)])
    else:
        nb = nbformat.read(os.path.join(chapters, name), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import time as _t\nprint(_t.process_time())"))
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": chapters}}).execute()
    out[name] = [time.perf_counter() - start, float(nb.cells[-1].outputs[0]["text"])]
print(json.dumps(out))
"""
FLOOR = "(floor)"


def notebook_times(trees: dict[str, Path], repeat: int) -> dict[str, dict[str, list]]:
    """For each tree, each notebook's and the floor's best (wall, kernel CPU) seconds over
    ``repeat`` interleaved runs: floor, then the notebooks, tree after tree, in turn."""
    runs: dict[str, dict[str, list]] = {label: {} for label in trees}
    for round_ in range(repeat):
        order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
        for label, tree in order:
            chapters = tree / "chapters"
            names = [FLOOR] + sorted(
                p.name for p in chapters.glob("*.ipynb") if not p.name.startswith("_")
            )
            result = subprocess.run(
                [str(tree / ".venv" / "bin" / "python"), "-c", _TIMER, str(chapters), FLOOR_CELL, *names],
                check=True, capture_output=True, text=True, cwd=tree,
            )  # fmt: skip
            for name, seconds in json.loads(result.stdout.strip().splitlines()[-1]).items():
                runs[label].setdefault(name, []).append(seconds)
    return {
        label: {name: [min(w for w, _ in s), min(c for _, c in s)] for name, s in by_name.items()}
        for label, by_name in runs.items()
    }


def floor_seconds() -> float:
    """A kernel that starts, imports the package and loads one dataset: what every chapter pays."""
    return notebook_times({"this": paths.ROOT}, 1)["this"][FLOOR][0]


def clean_build(tree: Path) -> float:
    shutil.rmtree(tree / "_build", ignore_errors=True)
    return _make("book", tree)


def test_run(tree: Path, target: str = "test") -> float:
    """``make test`` as on a fresh clone (environment set up, no built book); or another target."""
    if target == "test":
        shutil.rmtree(tree / "_build", ignore_errors=True)
    return _make(target, tree, check=False)


def timing_tables(
    times: dict[str, dict[str, list]],
    clean: dict[str, float],
    tests: dict[str, float],
    trees: dict[str, Path] | None = None,
) -> list[str]:
    """Each notebook as a multiple of its tree's floor; the clean build against 0.8 x N x floor;
    ``make test`` against 2.5 x the clean build; side by side when a second tree was timed."""
    labels = list(times)
    head = " | ".join(labels)
    lines = [
        f"| notebook | {' | '.join(f'{lab}: s (kernel CPU s)' for lab in labels)} | "
        f"{' | '.join(f'{lab}: x floor' for lab in labels)} | target | |",
        "|---|" + "---:|" * (2 * len(labels) + 1) + "---|",
    ]
    names = sorted({n for t in times.values() for n in t if n != FLOOR})
    floors = {lab: times[lab][FLOOR][0] for lab in labels}
    lines.append(
        f"| floor | {' | '.join(f'{times[lab][FLOOR][0]:.2f} ({times[lab][FLOOR][1]:.2f})' for lab in labels)} | "
        f"{' | '.join('1.00' for _ in labels)} | | |"
    )
    for name in names:
        cells = [
            f"{times[lab][name][0]:.2f} ({times[lab][name][1]:.2f})" if name in times[lab] else ""
            for lab in labels
        ]
        ratios = [
            times[lab][name][0] / floors[lab] if name in times[lab] else None for lab in labels
        ]
        ok = ratios[0] is not None and ratios[0] <= 1.5
        lines.append(
            f"| {name} | {' | '.join(cells)} | "
            f"{' | '.join(f'{r:.2f}' if r is not None else '' for r in ratios)} | 1.5 | {_verdict(ok)} |"
        )
    lines += [
        "",
        f"| measure | {head} | target ({labels[0]}) | |",
        "|---|" + "---:|" * len(labels) + "---:|---|",
    ]
    n = {lab: sum(1 for k in times[lab] if k != FLOOR) for lab in labels}
    target = 0.8 * n[labels[0]] * floors[labels[0]]
    lines.append(
        f"| clean build (`make book`), s | {' | '.join(f'{clean[lab]:.1f}' for lab in labels)} | "
        f"{target:.1f} | {_verdict(clean[labels[0]] <= target)} |"
    )
    lines.append(
        f"| clean build / (N x floor) | {' | '.join(f'{clean[lab] / (n[lab] * floors[lab]):.2f}' for lab in labels)} | "
        f"0.80 | {_verdict(clean[labels[0]] <= target)} |"
    )
    if trees:
        shown = [f"{cpu('book', trees[lab]):.1f}" for lab in labels]
        lines.append(
            f"| clean build, CPU s (the machine's, while it ran; wall >= CPU / cores) | {' | '.join(shown)} | | |"
        )
    lines.append(
        f"| sum of the notebooks alone / clean build (parallel speed-up) | "
        f"{' | '.join(f'{sum(v[0] for k, v in times[lab].items() if k != FLOOR) / clean[lab]:.2f}' for lab in labels)} | | |"
    )
    if "test" in tests:
        shown = [f"{tests[f'test:{lab}']:.1f}" if f"test:{lab}" in tests else "" for lab in labels]
        ratio = [
            f"{tests[f'test:{lab}'] / clean[lab]:.2f}" if f"test:{lab}" in tests else ""
            for lab in labels
        ]
        ok = _verdict(tests["test"] <= 2.5 * clean[labels[0]])
        lines.append(
            f"| `make test` from no built book, s | {' | '.join(shown)} | "
            f"{2.5 * clean[labels[0]]:.0f} | {ok} |"
        )
        lines.append(f"| `make test` / clean build | {' | '.join(ratio)} | 2.50 | {ok} |")
        if trees:
            shown = [
                f"{cpu('test', trees[lab]):.0f}" if f"test:{lab}" in tests else "" for lab in labels
            ]
            lines.append(
                f"| `make test`, CPU s (the machine's, while it ran) | {' | '.join(shown)} | | |"
            )
    if "test-fast" in tests:
        lines.append(
            f"| `make test-fast`, s | {tests['test-fast']:.1f}{' | ' * (len(labels) - 1)} | 60 | "
            f"{_verdict(tests['test-fast'] <= 60)} |"
        )
        if trees:
            lines.append(
                f"| `make test-fast`, CPU s | {cpu('test-fast', trees[labels[0]]):.0f}"
                f"{' | ' * (len(labels) - 1)} | | |"
            )
    return lines


def _kb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024
    return path.stat().st_size / 1024


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def main() -> int:
    here = paths.ROOT
    trees = {"this checkout": here}
    before = os.environ.get("BEFORE")
    if before:
        trees["before"] = Path(before).resolve()
    repeat = int(os.environ.get("BENCH_REPEAT") or 2)
    clean = {}
    for label, tree in trees.items():
        print(f"bench: clean build ({label}) ...", file=sys.stderr, flush=True)
        clean[label] = clean_build(tree)
    print("bench: no-change rebuilds ...", file=sys.stderr, flush=True)
    rebuild = _make("book")
    bare_rebuild = _seconds(build.bare_command())
    print(
        f"bench: the floor and each notebook, {repeat} x interleaved ...",
        file=sys.stderr,
        flush=True,
    )
    times = notebook_times(trees, repeat)
    tests = {}
    print("bench: make test-fast ...", file=sys.stderr, flush=True)
    tests["test-fast"] = test_run(here, "test-fast")
    if before and os.environ.get("BEFORE_TEST"):
        print("bench: make test (before), from no built book ...", file=sys.stderr, flush=True)
        tests["test:before"] = test_run(trees["before"])
    print(
        "bench: make test, from no built book (as on a fresh clone) ...",
        file=sys.stderr,
        flush=True,
    )
    tests["test"] = tests["test:this checkout"] = test_run(here)
    if not HTML.exists():  # make test builds the book; a failed run may leave none
        _make("book")

    lines = [
        "# Benchmark",
        "",
        f"Machine: {shutil.os.cpu_count()} cores; the build reads pages on {build.jobs()}. "
        f"Best of {repeat} interleaved runs per notebook.",
        "",
        *timing_tables(times, clean, tests, trees),
        "",
        *(
            [
                f"Failed, timed all the same: {run} ({', '.join(f[:8]) or 'see .bench-logs'})."
                for run, f in sorted(FAILED.items())
            ]
            + [""]
        ),
        "| measure | seconds | target | |",
        "|---|---:|---:|---|",
        f"| no-change rebuild (`make book`) | {rebuild:.1f} | 3 | {_verdict(rebuild <= 3)} |",
        f"| no-change rebuild (bare `jupyter-book build`) | {bare_rebuild:.1f} | 3 | {_verdict(bare_rebuild <= 3)} |",
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
    if os.environ.get("BENCH_LIGHTHOUSE", "1") != "0":
        print("bench: Lighthouse on every chapter page ...", file=sys.stderr, flush=True)
        lines += ["", *lighthouse_report(chapter_pages())]
    else:
        lines += ["", "Lighthouse not run (BENCH_LIGHTHOUSE=0); `make lighthouse` runs it alone."]
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


def lighthouse_only() -> int:
    """``make lighthouse``: the Lighthouse section alone, on the book as built."""
    report = "\n".join(["# Lighthouse", "", *lighthouse_report(chapter_pages())]) + "\n"
    (BUILD / "lighthouse.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(lighthouse_only() if sys.argv[1:] == ["lighthouse"] else main())
