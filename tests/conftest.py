"""Shared fixtures: a scratch copy of the data package that a test may break on purpose, the
book built once for the whole run (and served: see :mod:`one_build`), and headless Chromium with
the network cut off."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import uuid
from pathlib import Path

import one_build
import pytest
from one_build import SESSION_ENV

from afterkarabakh import paths
from afterkarabakh.book import bench, build


def pytest_addoption(parser):
    parser.addoption(
        "--one-build",
        action="store_true",
        help="build the book once, from the start of the run, and check each chapter's outputs "
        "on the notebook that build executed (nbval's comparison) instead of executing it again",
    )


def pytest_configure(config):
    os.environ.setdefault(SESSION_ENV, uuid.uuid4().hex)
    if config.getoption("--one-build"):
        one_build.start(config)


#: Under ``--one-build``, the order in which xdist hands out modules (``--no-loadscope-reorder``):
#: the browser tests (the longest once the book is built) wait for the build on one worker while
#: the data and package tests, which need no book, run beside the build on the other. The modules
#: that mostly wait (for kernels to start and die, for JupyterLab, for a rebuild, for pip, for
#: slow test servers) come next, while the browser tests keep the cores busy; left to the end, two
#: of them at once left a core idle for most of the run's last 25 s. The many short modules fill in
#: last.
LONGEST_FIRST = (
    "test_browser.py",
    "test_data.py",
    "test_package.py",
    "test_kernels.py",
    "test_print.py",
    "test_lab.py",
    "test_rebuild.py",
    "test_install.py",
    "test_linkcheck.py",
)


def pytest_collection_modifyitems(config, items):
    if config.getoption("--one-build"):
        rank = {name: number for number, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_unconfigure(config):
    one_build.finish(config)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The book built exactly as `make book` builds it (warnings are errors, notebook errors
    raise), once for the whole run: every test module, in every worker, reads that one build."""
    returncode, log = build.shared(os.environ[SESSION_ENV])
    assert returncode == 0, f"strict book build failed:\n{log}"
    return build.OUTPUT


def book_pages(html: Path) -> list[str]:
    """Every page of the built book (its address from the book's root), but Sphinx's own files."""
    pages = sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if not p.relative_to(html).parts[0].startswith("_")
    )
    assert "chapters/introduction.html" in pages
    return pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(built_book):
    """The built book served on localhost, as a reader's browser would fetch it."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A full copy of data/ in a temporary folder; returns the copied datapackage.json."""
    target = tmp_path / "data"
    shutil.copytree(paths.DATA, target)
    return target / "datapackage.json"


# --- headless Chromium with every outside host blocked (browser tests) ---------------------------

CHROMIUM = bench.CHROMIUM
# Without the background-networking flags Chromium keeps trying to reach Google's hosts (the
# bench's Lighthouse runs use the same flags).
CHROMIUM_ARGS = bench.CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


#: Where a browser context sends every request for a host other than the book's server: a proxy
#: that is not there, so that the request fails (and the network is never reached).
UNREACHABLE_PROXY = {"server": "http://127.0.0.1:1", "bypass": "127.0.0.1"}


def offline_context(browser, allowed_prefixes: tuple, **options):
    """A browser context that reaches only the book's server (on 127.0.0.1) and records every
    request for a URL not starting with ``allowed_prefixes``.

    Returns the context and the list that collects those requests' URLs. Requests to any other
    host go to a proxy that does not exist, and fail. The requests are recorded as they start,
    not intercepted: an interception makes every request of every page wait for the test's
    Python (4 CPU-seconds over the browser tests).
    """
    context = browser.new_context(proxy=UNREACHABLE_PROXY, **options)
    outside: list[str] = []

    def note(request):
        if not request.url.startswith(("data:", "blob:", *allowed_prefixes)):
            outside.append(request.url)

    context.on("request", note)
    return context, outside
