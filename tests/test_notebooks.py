"""Notebook hygiene: committed without outputs, except the key figures nbval compares.

nbval itself runs every chapter (``--nbval-lax`` in pytest.ini): cells marked
``# NBVAL_CHECK_OUTPUT`` must reproduce their stored output exactly.
"""
from __future__ import annotations

import nbformat
import pytest

from afterkarabakh import notebooks, paths

CHAPTERS = sorted(paths.CHAPTERS.glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_is_committed_lean(path):
    assert notebooks.problems(path) == [], "run `make outputs` to re-execute and strip"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_states_checked_figures(path):
    notebook = nbformat.read(path, as_version=4)
    assert any(notebooks.is_check_cell(c) for c in notebook.cells), \
        f"{path.name} has no {notebooks.CHECK_MARKER} cell, so a change in its figures would go unnoticed"


def test_strip_keeps_only_checked_outputs():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")], execution_count=1),
        nbformat.v4.new_code_cell(f"{notebooks.CHECK_MARKER}\nprint(2)",
                                  outputs=[nbformat.v4.new_output("stream", text="2\n")], execution_count=2),
    ])
    notebooks.strip(notebook)
    assert notebook.cells[0].outputs == [] and notebook.cells[0].execution_count is None
    assert notebook.cells[1].outputs[0]["text"] == "2\n"
