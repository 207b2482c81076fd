"""Notebook hygiene: committed without outputs, except the key figures nbval compares.

nbval itself runs every chapter (``--nbval-lax`` in pytest.ini): cells marked
``# NBVAL_CHECK_OUTPUT`` must reproduce their stored output exactly.
"""
from __future__ import annotations

import shutil

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


def test_a_chapter_started_from_the_template_runs_and_is_lean(tmp_path):
    """`make chapter NAME=...` gives a chapter that is listed, executes, and passes the hygiene rules."""
    from nbclient import NotebookClient

    (tmp_path / "chapters").mkdir()
    shutil.copy(notebooks.TEMPLATE, tmp_path / "chapters")
    shutil.copy(paths.ROOT / "_toc.yml", tmp_path)
    path = notebooks.new_chapter("demo_chapter", root=tmp_path)
    assert "- file: chapters/demo_chapter" in (tmp_path / "_toc.yml").read_text(encoding="utf-8")
    notebook = nbformat.read(path, as_version=4)
    ids = [cell["id"] for cell in notebook.cells]
    assert len(set(ids)) == len(ids) and all(i.startswith("demo-chapter-") for i in ids)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(paths.CHAPTERS)}}).execute()
    notebooks.strip(notebook)
    nbformat.write(notebook, path)
    assert notebooks.problems(path) == []
    with pytest.raises(FileExistsError):
        notebooks.new_chapter("demo_chapter", root=tmp_path)
