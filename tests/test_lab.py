"""Charts render in JupyterLab too, with every host but the local server blocked.

JupyterLab renders Vega-Lite 5 natively but not the version 6 that Altair 6
writes; the book's renderer ships its own Vega bundle to the page instead. This
opens the introduction in a real JupyterLab, runs it, and counts drawn charts.
It starts the lab the way `make lab` does: JupyterLab from its own environment
(.venv-lab), the notebook on the book's kernel (.venv), found through JUPYTER_PATH.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import offline_context

from afterkarabakh import paths

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lab")
    shutil.copy(
        paths.CHAPTERS / "introduction.ipynb", workdir
    )  # never touch the committed notebook
    port = _free_port()
    jupyter = paths.ROOT / ".venv-lab" / "bin" / "jupyter"
    if not jupyter.exists():
        pytest.fail(
            "JupyterLab's environment is missing: `make test` sets up .venv-lab (requirements-lab.txt)"
        )
    kernels = Path(sys.prefix) / "share" / "jupyter"
    assert (kernels / "kernels" / "python3" / "kernel.json").exists(), (
        "the book's kernel is not installed in .venv"
    )
    server = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--allow-root",
            "--ServerApp.token=",
            "--ServerApp.password=",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            f"--ServerApp.root_dir={workdir}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_PATH": str(kernels)},
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}", workdir
    server.terminate()
    server.wait(timeout=30)


def test_introduction_charts_render_in_jupyterlab_offline(lab, browser):
    lab, lab_dir = lab
    websocket = lab.replace("http://", "ws://")
    context, outside = offline_context(
        browser, (lab, websocket), viewport={"width": 1400, "height": 1000}
    )
    page = context.new_page()
    page.goto(f"{lab}/lab/tree/introduction.ipynb")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90000)
    # Wait for the kernel before running everything (the status bar says "Idle").
    page.wait_for_selector("text=| Idle", timeout=90000)
    page.locator("text=Run").first.click()
    page.get_by_text("Run All Cells", exact=True).first.click()
    try:
        page.wait_for_function(
            "document.querySelectorAll('.ak-chart svg.marks').length >= 2", timeout=120000
        )
    finally:
        page.screenshot(path=str(Path(lab_dir) / "lab.png"))
    drawn = page.locator(".ak-chart svg.marks").count()
    context.close()
    assert drawn >= 2
    assert not outside, f"JupyterLab page requested outside hosts: {outside[:5]}"
