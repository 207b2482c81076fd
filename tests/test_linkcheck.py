"""`make linkcheck`, offline: local servers stand in for the sources' sites and the web archive.

The command itself needs the network and is never run by the tests; here every address it calls
(the pages, the availability API, the capture endpoint) is a local http.server.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.parse

import pytest

from afterkarabakh.book import linkcheck

#: Pages the stand-in archive holds a copy of (by path).
ARCHIVED = {"/alive", "/moved", "/gone"}
#: Pages that state their publication date in their markup, each in a different way.
DATED = {
    "/og": '<html><head><meta property="article:published_time" content="2023-10-13T09:30:00+04:00">',
    "/jsonld": '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-05-08"}</script>',
    "/time": '<p>Posted <time class="x" datetime="2022/09/13">13 Sept</time></p>',
    "/undated": "<html><body>No date anywhere, only 2023 in the text.</body></html>",
}


class _Site(http.server.BaseHTTPRequestHandler):
    """A source site and a web archive in one server."""

    asked: list[tuple[str, str]] = []  # (method, path) of every request
    archive_asked: list[dict] = []
    captures: list[str] = []

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, code: int, body: bytes = b"page", headers: dict | None = None):
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self):
        type(self).asked.append((self.command, self.path))
        path, _, query = self.path.partition("?")
        if path == "/wayback/available":
            asked = dict(urllib.parse.parse_qsl(query))
            type(self).archive_asked.append(asked)
            page = urllib.parse.urlsplit(asked["url"]).path
            closest = (
                {
                    "closest": {
                        "available": True,
                        "url": f"http://archive.test/web/20261201000000/{asked['url']}",
                        "timestamp": "20261201000000",
                        "status": "200",
                    }
                }
                if page in ARCHIVED
                else {}
            )
            return self._answer(200, json.dumps({"archived_snapshots": closest}).encode())
        if path.startswith("/save/"):
            type(self).captures.append(self.path[len("/save/") :])
            return self._answer(200, b"capture started")
        if path == "/alive" or path == "/fresh":
            return self._answer(200)
        if path in DATED:
            return self._answer(200, DATED[path].encode())
        if path == "/head-refused":
            return self._answer(405 if self.command == "HEAD" else 200)
        if path == "/moved":
            return self._answer(301, b"", {"Location": "/alive"})
        if path == "/slow":
            time.sleep(2)
            return self._answer(200)
        return self._answer(404, b"not found")  # /gone and anything else

    do_GET = do_HEAD = _route


@pytest.fixture
def site():
    _Site.asked, _Site.archive_asked, _Site.captures = [], [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _sources(site, *paths):
    return [linkcheck.Source(p.strip("/"), f"{site}{p}", "2026-11-26") for p in paths]


def _run(site, sources, **options):
    return {
        r.source.id: r
        for r in linkcheck.run(
            sources,
            wayback_api=f"{site}/wayback/available",
            save_endpoint=f"{site}/save/",
            timeout=1.0,
            save_pause=0,
            **options,
        )
    }


def test_live_dead_redirected_and_slow_pages_are_told_apart(site):
    results = _run(site, _sources(site, "/alive", "/gone", "/moved", "/head-refused", "/slow"))
    assert results["alive"].alive and results["alive"].method == "HEAD"
    assert not results["alive"].redirected
    assert not results["gone"].alive and results["gone"].status == 404
    assert results["moved"].alive and results["moved"].redirected
    assert results["moved"].final_url == f"{site}/alive"
    refused = results["head-refused"]  # HEAD refused, GET answers: alive
    assert refused.alive and refused.method == "GET" and ("GET", "/head-refused") in _Site.asked
    assert results["slow"].status is None and results["slow"].error.startswith("no answer")


def test_the_archive_is_asked_for_the_copy_nearest_the_day_read(site):
    results = _run(site, _sources(site, "/alive", "/fresh"))
    assert results["alive"].archived and results["alive"].snapshot_time == "2026-12-01"
    assert results["fresh"].archived is False and not results["fresh"].snapshot
    assert {a["timestamp"] for a in _Site.archive_asked} == {"20261126"}
    assert {a["url"] for a in _Site.archive_asked} == {f"{site}/alive", f"{site}/fresh"}


def test_save_requests_captures_only_of_live_pages_without_a_copy(site):
    sources = _sources(site, "/alive", "/fresh", "/head-refused", "/nowhere")
    results = _run(site, sources)
    assert not _Site.captures and all(r.saved is None for r in results.values())
    results = _run(site, sources, save=True)
    # /fresh and /head-refused answer and have no copy; /nowhere is dead; /alive is archived.
    assert sorted(_Site.captures) == sorted([f"{site}/fresh", f"{site}/head-refused"])
    assert results["fresh"].saved is True and results["nowhere"].saved is None


def test_an_archive_that_does_not_answer_is_reported_not_taken_for_no_copy(site):
    sources = _sources(site, "/alive")
    result = linkcheck.run(sources, wayback_api="http://127.0.0.1:9/none", timeout=1.0)[0]
    assert (
        result.alive and result.archived is None and "archive not reached" in result.archive_error
    )


def test_the_report_lists_dead_links_redirects_and_pages_without_a_copy(
    site, tmp_path, monkeypatch
):
    sources = _sources(site, "/alive", "/gone", "/moved", "/fresh")
    monkeypatch.setattr(linkcheck, "registry_sources", lambda only=None: sources)
    report = tmp_path / "linkcheck.md"
    linkcheck.main(
        [
            "--save",
            "--save-pause=0",
            "--timeout=1",
            f"--wayback-api={site}/wayback/available",
            f"--save-endpoint={site}/save/",
            f"--report={report}",
        ]
    )
    text = report.read_text(encoding="utf-8")
    assert "- sources checked: 4" in text and "- dead or not answering: 1" in text
    assert "- no archived copy: 1" in text and "captures requested: 1 (accepted: 1)" in text
    dead = text.split("## Dead or not answering (1)")[1].split("##")[0]
    assert f"| gone | {site}/gone | HTTP 404 |" in dead
    moved = text.split("## Redirected (1)")[1].split("##")[0]
    assert f"| moved | {site}/moved | {site}/alive |" in moved
    unarchived = text.split("## No archived copy (1)")[1]
    assert f"| fresh | {site}/fresh | 2026-11-26 | yes | requested |" in unarchived


def test_the_registry_is_what_the_command_checks():
    sources = linkcheck.registry_sources()
    from afterkarabakh import data

    assert len(sources) == len(data.sources())
    assert all(s.url.startswith(("http://", "https://")) for s in sources)
    with pytest.raises(SystemExit, match="not in data/sources.csv: nope"):
        linkcheck.registry_sources(["nope"])


@pytest.mark.parametrize(
    "markup, day, where",
    [
        (DATED["/og"], "2023-10-13", "meta article:published_time"),
        (DATED["/jsonld"], "2024-05-08", "JSON-LD datePublished"),
        (DATED["/time"], "2022-09-13", "time datetime"),
        ('<meta content="2021-06-04" name="date">', "2021-06-04", "meta date"),
        (DATED["/undated"], "", ""),
        ('<meta name="date" content="June 2021">', "", ""),
    ],
)
def test_a_page_states_its_date_in_its_markup_or_not(markup, day, where):
    assert linkcheck.stated_date(markup) == (day, where)


def test_dates_are_read_only_for_undated_sources_and_reported_not_written(
    site, tmp_path, monkeypatch
):
    sources = _sources(site, "/og", "/jsonld", "/undated")
    sources.append(linkcheck.Source("time", f"{site}/time", "2026-11-26", published="2022-09-13"))
    monkeypatch.setattr(linkcheck, "registry_sources", lambda only=None: sources)
    report = tmp_path / "linkcheck.md"
    linkcheck.main(
        ["--dates", "--timeout=1", f"--wayback-api={site}/wayback/available", f"--report={report}"]
    )
    text = report.read_text(encoding="utf-8")
    assert "- undated sources whose page states a date: 2 of 3" in text
    found = text.split("## Dates the pages state")[1].split("##")[0]
    assert f"| og | {site}/og | 2023-10-13 | meta article:published_time |" in found
    assert f"| jsonld | {site}/jsonld | 2024-05-08 | JSON-LD datePublished |" in found
    assert "undated" not in found.split("\n", 1)[1] and "| time |" not in found
    assert ("GET", "/time") not in _Site.asked  # a dated source's page is not read for its date
