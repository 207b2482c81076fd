"""Shared fixtures: a scratch copy of the data package that a test may break on purpose, and
headless Chromium with the network cut off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from afterkarabakh import paths
from afterkarabakh.book import bench


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
