"""``make linkcheck``: are the sources' pages still there, and does a public archive hold a copy?

A maintainer's command: it needs the network, and neither CI, the tests nor the build runs it.
For every address in the source registry it

1. asks the page (HEAD, then GET where HEAD fails or is refused), following redirects, with a
   timeout, a few pages at a time;
2. asks the Wayback Machine's availability API
   (``https://archive.org/wayback/available?url=...&timestamp=YYYYMMDD``) whether it holds a copy,
   and which one is nearest the day the page was read;
3. with ``--save``, asks the archive to capture each live page it holds no copy of
   (``https://web.archive.org/save/<url>``), one at a time with a pause, as the archive asks of
   anonymous callers;
4. with ``--dates``, reads each live page the registry holds no publication date for and reports
   the date its own metadata states (``article:published_time``, ``datePublished`` and the like),
   for a maintainer to check and enter: the registry is never written to;

and writes ``_build/linkcheck.md``: dead links, redirects, pages without an archived copy, dates
found, counts.

Every address it calls is an option, so the tests run it against local servers, never the network::

    python -m afterkarabakh.book.linkcheck [--save] [--dates] [--only ID,ID] [--jobs 8] [--timeout 20]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .. import archive, paths

WAYBACK_API = "https://archive.org/wayback/available"
SAVE_ENDPOINT = "https://web.archive.org/save/"
REPORT = paths.ROOT / "_build" / "linkcheck.md"
USER_AGENT = "AfterKarabakh-linkcheck/1 (checks the sources a book cites; one request per page)"
#: HEAD answers that often mean "ask with GET" rather than "gone".
HEAD_REFUSED = {400, 403, 404, 405, 406, 429, 500, 501, 502, 503}


@dataclass
class Source:
    id: str
    url: str
    accessed: str  # YYYY-MM-DD
    published: str = ""  # YYYY-MM-DD, empty when the registry holds no date


@dataclass
class Result:
    source: Source
    status: int | None = None  # the page's final HTTP status; None when it did not answer
    final_url: str = ""
    error: str = ""
    method: str = ""
    archived: bool | None = None  # None: the archive could not be asked
    snapshot: str = ""
    snapshot_time: str = ""
    archive_error: str = ""
    saved: bool | None = None  # None: no capture requested
    save_error: str = ""
    stated_date: str = ""  # the publication date the page's metadata states (with --dates)
    stated_where: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def alive(self) -> bool:
        return self.status is not None and self.status < 400

    @property
    def redirected(self) -> bool:
        return self.alive and self.final_url.rstrip("/") != self.source.url.rstrip("/")


def _request(url: str, method: str, timeout: float):
    request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) only: validated)


def check_page(source: Source, timeout: float) -> Result:
    """The page's answer: HEAD first, GET when HEAD fails; redirects followed."""
    result = Result(source)
    for method in ("HEAD", "GET"):
        result.method = method
        try:
            with _request(source.url, method, timeout) as response:
                if method == "GET":
                    response.read(1024)
                result.status, result.final_url, result.error = (
                    response.status,
                    response.geturl(),
                    "",
                )
                return result
        except urllib.error.HTTPError as error:
            result.status, result.final_url, result.error = error.code, error.geturl() or "", ""
            if method == "HEAD" and error.code in HEAD_REFUSED:
                continue
            return result
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            result.status, result.error = None, f"no answer ({reason})"
    return result


#: Where pages state their publication date in their markup, most specific first: meta tags
#: (Open Graph and article, Dublin Core, Highwire/Google Scholar, plain names), JSON-LD, <time>.
_DATE_PATTERNS = [
    (
        "meta " + name,
        re.compile(
            r"<meta\b[^>]*(?:property|name|itemprop)=[\"']" + re.escape(name) + r"[\"'][^>]*>", re.I
        ),
    )
    for name in (
        "article:published_time",
        "datePublished",
        "citation_publication_date",
        "DC.date.issued",
        "dcterms.created",
        "pubdate",
        "publish-date",
        "date",
    )
] + [
    ("JSON-LD datePublished", re.compile(r"\"datePublished\"\s*:\s*\"([^\"]+)\"")),
    ("time datetime", re.compile(r"<time\b[^>]*datetime=[\"']([^\"']+)[\"']", re.I)),
]
_CONTENT = re.compile(r"content=[\"']([^\"']+)[\"']", re.I)
_DAY = re.compile(r"((?:19|20)\d\d)[-/.](\d\d)[-/.](\d\d)")


def stated_date(markup: str) -> tuple[str, str]:
    """The publication date a page's markup states, as YYYY-MM-DD, and where it was found;
    ("", "") when it states none that reads as a full day."""
    for where, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(markup):
            value = match.group(1) if pattern.groups else (_CONTENT.search(match.group(0)) or [""])
            value = value if isinstance(value, str) else (value.group(1) if value else "")
            day = _DAY.search(value)
            if day:
                return "-".join(day.groups()), where
    return "", ""


def read_stated_date(result: Result, timeout: float, limit: int = 400_000) -> Result:
    """Read the page and note the publication date its markup states (first ``limit`` bytes)."""
    try:
        with _request(result.final_url or result.source.url, "GET", timeout) as response:
            markup = response.read(limit).decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        result.notes.append(f"page not read for its date ({error})")
        return result
    result.stated_date, result.stated_where = stated_date(markup)
    return result


def check_archive(result: Result, api: str, timeout: float) -> Result:
    """Ask the availability API for the copy nearest the day the page was read."""
    source = result.source
    query = urllib.parse.urlencode(
        {"url": source.url, "timestamp": archive.version_date(source.accessed).strftime("%Y%m%d")}
    )
    try:
        with _request(f"{api}?{query}", "GET", timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        result.archived, result.archive_error = None, f"archive not reached ({error})"
        return result
    closest = (answer.get("archived_snapshots") or {}).get("closest") or {}
    result.archived = bool(closest.get("available"))
    result.snapshot = closest.get("url", "") if result.archived else ""
    stamp = closest.get("timestamp", "")
    result.snapshot_time = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}" if len(stamp) >= 8 else ""
    return result


def request_capture(result: Result, endpoint: str, timeout: float) -> Result:
    """Ask the archive to capture the page now (Save Page Now)."""
    try:
        with _request(f"{endpoint}{result.source.url}", "GET", timeout) as response:
            response.read(1024)
            result.saved = response.status < 400
    except urllib.error.HTTPError as error:
        result.saved, result.save_error = False, f"HTTP {error.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        result.saved, result.save_error = False, f"archive not reached ({error})"
    return result


def run(
    sources: list[Source],
    *,
    wayback_api: str = WAYBACK_API,
    save_endpoint: str = SAVE_ENDPOINT,
    save: bool = False,
    dates: bool = False,
    jobs: int = 8,
    timeout: float = 20.0,
    save_pause: float = 10.0,
    progress=None,
) -> list[Result]:
    """Check every source's page and archive copy (``jobs`` at a time); with ``save``, request a
    capture of each live page without a copy, one after the other, ``save_pause`` seconds apart;
    with ``dates``, read the publication date that each live, undated source's page states."""

    def check(source: Source) -> Result:
        result = check_archive(check_page(source, timeout), wayback_api, timeout)
        if dates and result.alive and not source.published:
            read_stated_date(result, timeout)
        if progress:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(check, sources))
    if save:
        wanted = [r for r in results if r.alive and r.archived is False]
        for index, result in enumerate(wanted):
            if index and save_pause:
                time.sleep(save_pause)
            request_capture(result, save_endpoint, timeout)
    return results


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def report(results: list[Result], when: str, saved_requested: bool, dates: bool = False) -> str:
    """The Markdown report: counts, then each list a maintainer acts on."""
    dead = [r for r in results if not r.alive]
    moved = [r for r in results if r.redirected]
    unarchived = [r for r in results if r.archived is False]
    unasked = [r for r in results if r.archived is None]
    lines = [
        f"# Link check, {when}",
        "",
        f"- sources checked: {len(results)}",
        f"- answering: {len(results) - len(dead)} (of which redirected: {len(moved)})",
        f"- dead or not answering: {len(dead)}",
        f"- archived copy found: {sum(r.archived is True for r in results)}",
        f"- no archived copy: {len(unarchived)}",
        f"- archive could not be asked: {len(unasked)}",
    ]
    if dates:
        lines.append(
            f"- undated sources whose page states a date: {sum(bool(r.stated_date) for r in results)} "
            f"of {sum(not r.source.published for r in results)}"
        )
    if saved_requested:
        lines.append(
            f"- captures requested: {sum(r.saved is not None for r in results)} "
            f"(accepted: {sum(r.saved is True for r in results)})"
        )
    sections = [
        (
            "Dead or not answering",
            ["source", "address", "answer", "archived copy"],
            [
                [
                    r.source.id,
                    r.source.url,
                    r.error or f"HTTP {r.status}",
                    r.snapshot or ("none" if r.archived is False else "not asked"),
                ]
                for r in dead
            ],
        ),
        (
            "Redirected",
            ["source", "address", "now at"],
            [[r.source.id, r.source.url, r.final_url] for r in moved],
        ),
        (
            "No archived copy",
            ["source", "address", "read on", "page answers", "capture"],
            [
                [
                    r.source.id,
                    r.source.url,
                    r.source.accessed,
                    "yes" if r.alive else "no",
                    "requested"
                    if r.saved
                    else (f"refused ({r.save_error})" if r.saved is False else "not requested"),
                ]
                for r in unarchived
            ],
        ),
        (
            "Dates the pages state (undated in the registry: check each, then enter it)",
            ["source", "address", "date stated", "where"],
            [
                [r.source.id, r.source.url, r.stated_date, r.stated_where]
                for r in results
                if r.stated_date
            ],
        ),
        (
            "Archive not reached",
            ["source", "address", "error"],
            [[r.source.id, r.source.url, r.archive_error] for r in unasked],
        ),
    ]
    for title, header, rows in sections:
        if rows:
            lines += ["", f"## {title} ({len(rows)})", "", _table(header, rows)]
    return "\n".join(lines) + "\n"


def registry_sources(only: list[str] | None = None) -> list[Source]:
    """The registry's addresses (validated: http or https only), or the ids named in ``only``."""
    from .. import data

    registry = data.sources()
    if only:
        unknown = sorted(set(only) - set(registry.index))
        if unknown:
            raise SystemExit(f"not in data/sources.csv: {', '.join(unknown)}")
        registry = registry.loc[only]
    return [
        Source(
            str(i),
            str(row["url"]),
            f"{row['date_accessed']:%Y-%m-%d}",
            ""
            if row["date_published"] != row["date_published"]
            else f"{row['date_published']:%Y-%m-%d}",
        )
        for i, row in registry.iterrows()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make linkcheck", description=__doc__.split("\n\n")[0].strip("`: ")
    )
    parser.add_argument(
        "--save",
        action="store_true",
        help="ask the archive to capture live pages it holds no copy of",
    )
    parser.add_argument(
        "--dates",
        action="store_true",
        help="report the publication date each undated source's page states in its markup",
    )
    parser.add_argument("--only", help="comma-separated source ids (default: the whole registry)")
    parser.add_argument("--jobs", type=int, default=8, help="pages asked at a time (8)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request (20)")
    parser.add_argument(
        "--save-pause", type=float, default=10.0, help="seconds between capture requests (10)"
    )
    parser.add_argument("--wayback-api", default=WAYBACK_API, help=f"({WAYBACK_API})")
    parser.add_argument("--save-endpoint", default=SAVE_ENDPOINT, help=f"({SAVE_ENDPOINT})")
    parser.add_argument("--report", type=Path, default=REPORT, help="where to write the report")
    args = parser.parse_args(argv)
    sources = registry_sources(args.only.split(",") if args.only else None)
    done = []

    def progress(result: Result) -> None:
        done.append(result)
        mark = "ok " if result.alive else "DEAD"
        print(f"[{len(done)}/{len(sources)}] {mark} {result.source.id}", file=sys.stderr)

    results = run(
        sources,
        wayback_api=args.wayback_api,
        save_endpoint=args.save_endpoint,
        save=args.save,
        dates=args.dates,
        jobs=args.jobs,
        timeout=args.timeout,
        save_pause=args.save_pause,
        progress=progress,
    )
    text = report(
        results, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), args.save, args.dates
    )
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(text)
    print(f"report written to {args.report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
