"""A chapter runs wherever a reader downloads it: the package installs from the checkout with its
data, and a notebook copied alone into an empty folder runs top to bottom on it; without the
package, its first cell says how to get it.

Offline: the fresh environment sees .venv's dependencies (a path line, so .venv's own .pth files,
among them the one that puts this checkout on the path, are not read) and installs only the
package, without build isolation, from a copy of the repository as its archive would unpack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from afterkarabakh import paths

GUARD = "try:  # a chapter downloaded alone needs the book's package and its data"
NOTEBOOKS = sorted(paths.CHAPTERS.glob("*.ipynb"))
#: The chapter run alone: a map, charts, verdicts (which read the table of contents) and glue.
ALONE = "military"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_first_code_cell_says_how_to_get_the_package(path):
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert first.source.startswith(GUARD), f"{path.name}: the preamble must start with the guard"
    assert "make lab" in first.source and "pip install" in first.source


def _venv(folder: Path) -> Path:
    """A fresh environment on .venv's base Python that sees .venv's packages but not this checkout."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(folder)],
        check=True,
    )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "book-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(python), "-m", "ipykernel", "install", "--prefix", str(folder), "--name", "fresh"],
        check=True,
        capture_output=True,
    )
    return python


def _run(python: Path, notebook: Path, env: dict) -> subprocess.CompletedProcess:
    """Execute the notebook in its own folder on the fresh environment's kernel (nbclient)."""
    code = (
        "import sys, nbformat\nfrom nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=600, kernel_name='fresh',"
        " resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
    )
    return subprocess.run(
        [str(python), "-c", code, str(notebook), str(notebook.parent)],
        capture_output=True,
        text=True,
        env=env,
        cwd=notebook.parent,
        timeout=900,
    )


def test_a_notebook_alone_runs_on_the_package_installed_from_the_checkout(tmp_path):
    python = _venv(tmp_path / "venv")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AFTERKARABAKH_", "PYTHONPATH", "JUPYTER_"))
    }
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # the installed package keeps its stamps here
    alone = tmp_path / "download"
    alone.mkdir()
    notebook = shutil.copy(paths.CHAPTERS / f"{ALONE}.ipynb", alone)

    # Without the package, the first cell says how to get it.
    result = _run(python, Path(notebook), env)
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "ModuleNotFoundError" in said and "No module named" not in said, said[-3000:]
    assert "This notebook runs on the After Karabakh package and its data" in said

    # Installed from a copy of the checkout (what its archive holds), the notebook runs.
    source = tmp_path / "checkout"
    shutil.copytree(
        paths.ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv*", "_build", "build", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", str(source)],
        check=True,
        capture_output=True,
        env=env,
    )  # fmt: skip
    shutil.rmtree(source)  # nothing left to read but the installed copy
    result = _run(python, Path(notebook), env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    where = subprocess.run(
        [str(python), "-c", "from afterkarabakh import paths; print(paths.INSTALLED, paths.DATA)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=alone,
        check=True,
    ).stdout.split()
    assert where[0] == "True" and Path(where[1]).is_relative_to(tmp_path / "venv"), where
