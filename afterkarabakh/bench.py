"""``make bench``: how long the book takes to build and how heavy its pages are.

Writes ``_build/bench.md`` and prints it. Targets (2-core machine; a benchmark,
not a test): clean build within 10 s + 5 s per notebook, no-change rebuild
within 3 s, every page under 500 KB (the shared Vega bundle aside). It also reports
the share of data rows that rest on a relay or reference source (target: at most 10%).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import appendix, build, paths

BUILD = paths.ROOT / "_build"
HTML = BUILD / "html"
PAGE_LIMIT_KB = 500


def _build() -> float:
    start = time.perf_counter()
    build.run(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _make_book() -> float:
    start = time.perf_counter()
    subprocess.run(["make", "--no-print-directory", "book"], check=True, cwd=paths.ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _notebook_seconds(path: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def _kb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1024
    return path.stat().st_size / 1024


def main() -> int:
    notebooks = sorted(paths.CHAPTERS.glob("*.ipynb"))
    print("bench: clean build ...", file=sys.stderr, flush=True)
    shutil.rmtree(BUILD, ignore_errors=True)
    clean = _make_book()
    print("bench: no-change rebuilds ...", file=sys.stderr, flush=True)
    rebuild = _make_book()
    sphinx_rebuild = _build()
    per_notebook = {}
    for path in notebooks:
        print(f"bench: executing {path.name} ...", file=sys.stderr, flush=True)
        per_notebook[path.name] = _notebook_seconds(path)

    clean_target = 10 + 5 * len(notebooks)
    vendor = HTML / "_static" / "vendor"
    bundles = sorted(vendor.glob("vega-*.js"))
    pages = sorted(p for p in HTML.rglob("*.html") if not p.relative_to(HTML).parts[0].startswith("_"))

    def verdict(ok: bool) -> str:
        return "ok" if ok else "OVER TARGET"

    lines = [
        "# Benchmark", "",
        f"Machine: {shutil.os.cpu_count()} cores. Notebooks: {len(notebooks)}.", "",
        "| measure | seconds | target | |", "|---|---:|---:|---|",
        f"| clean build (`make book`) | {clean:.1f} | {clean_target} | {verdict(clean <= clean_target)} |",
        f"| no-change rebuild (`make book`) | {rebuild:.1f} | 3 | {verdict(rebuild <= 3)} |",
        f"| no-change rebuild (`jupyter-book build`, Sphinx finds nothing to do) | {sphinx_rebuild:.1f} | 3 "
        f"| {verdict(sphinx_rebuild <= 3)} |",
    ]
    lines += [f"| execute {name} | {sec:.1f} | 5 | {verdict(sec <= 5)} |" for name, sec in per_notebook.items()]
    lines += ["", "| page | KB | target | |", "|---|---:|---:|---|"]
    lines += [f"| {p.relative_to(HTML)} | {_kb(p):.0f} | {PAGE_LIMIT_KB} | {verdict(_kb(p) < PAGE_LIMIT_KB)} |"
              for p in pages]
    shared = _kb(HTML / "_static")
    bundle_kb = sum(_kb(b) for b in bundles)
    lines += ["", "| shared assets | KB |", "|---|---:|",
              f"| _static (all) | {shared:.0f} |",
              f"| of which the Vega bundle ({', '.join(b.name for b in bundles)}) | {bundle_kb:.0f} |",
              f"| data files served for download | {_kb(HTML / 'data'):.0f} |"]
    lines += ["", f"Data rows resting on a relay or reference source: {100 * appendix.relay_share():.1f}% (target: at most 10%)."]
    report = "\n".join(lines) + "\n"
    (BUILD / "bench.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
