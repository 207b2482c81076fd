"""Shared fixtures: the one strict build of the book, a scratch copy of the data package that a
test may break on purpose, and headless Chromium with the network cut off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from afterkarabakh import build, paths

#: Test modules that read the built book. They share one build: pytest-xdist sends them to one
#: worker (the "built-book" group), where the session-scoped ``built_book`` runs once.
BOOK_MODULES = {"test_book.py", "test_consistency.py"}


def pytest_collection_modifyitems(config, items):
    """One xdist group per file, as ``--dist loadfile`` would make (nbval runs a notebook's cells
    in order on one kernel), except that the modules reading the built book form one group."""
    for item in items:
        group = "built-book" if item.path.name in BOOK_MODULES else str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book exactly as `make book` does: warnings are errors, notebook errors raise."""
    result = build.run(capture_output=True, timeout=1800)
    assert result.returncode == 0, (
        f"strict book build failed:\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    )
    return paths.ROOT / "_build" / "html"


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A full copy of data/ in a temporary folder; returns the copied datapackage.json."""
    target = tmp_path / "data"
    shutil.copytree(paths.DATA, target)
    return target / "datapackage.json"


# --- headless Chromium with every outside host blocked (browser tests) ---------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


def offline_context(browser, allowed_prefixes: tuple, **options):
    """A browser context that lets through only URLs starting with ``allowed_prefixes``.

    Returns the context and the list that collects every blocked request.
    """
    context = browser.new_context(**options)
    blocked: list[str] = []

    def guard(route, request):
        if request.url.startswith(("data:", "blob:", *allowed_prefixes)):
            route.continue_()
        else:
            blocked.append(request.url)
            route.abort()

    context.route("**/*", guard)
    return context, blocked
