"""Notebook hygiene: committed without outputs, except the key figures nbval compares.

nbval itself runs every chapter (``--nbval-lax`` in pytest.ini): cells marked
``# NBVAL_CHECK_OUTPUT`` must reproduce their stored output exactly.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest

from afterkarabakh import paths
from afterkarabakh.book import notebooks

CHAPTERS = sorted(paths.CHAPTERS.glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_is_committed_lean(path):
    assert notebooks.problems(path) == [], "run `make outputs` to re-execute and strip"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_states_checked_figures(path):
    notebook = nbformat.read(path, as_version=4)
    assert any(notebooks.is_check_cell(c) for c in notebook.cells), (
        f"{path.name} has no {notebooks.CHECK_MARKER} cell, so a change in its figures would go unnoticed"
    )


def test_strip_keeps_only_checked_outputs():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "print(1)",
                outputs=[nbformat.v4.new_output("stream", text="1\n")],
                execution_count=1,
            ),
            nbformat.v4.new_code_cell(
                f"{notebooks.CHECK_MARKER}\nprint(2)",
                outputs=[nbformat.v4.new_output("stream", text="2\n")],
                execution_count=2,
            ),
        ]
    )
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
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(paths.CHAPTERS)}},
    ).execute()
    notebooks.strip(notebook)
    nbformat.write(notebook, path)
    assert notebooks.problems(path) == [] and short_cell_problems(path) == []
    with pytest.raises(FileExistsError):
        notebooks.new_chapter("demo_chapter", root=tmp_path)


MAX_CELL_LINES = 25
_IMPORT = re.compile(r"\s*(import\s+\w|from\s+[\w.]+\s+import\b)")


def short_cell_problems(path) -> list[str]:
    """Code cells over MAX_CELL_LINES lines, and imports outside the first code cell (the preamble)."""
    notebook = nbformat.read(path, as_version=4)
    found, first = [], True
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        name = f"{path.name}, cell {index} (id {cell.get('id')})"
        lines = len(cell.source.splitlines())
        if lines > MAX_CELL_LINES:
            found.append(
                f"{name}: {lines} lines, over {MAX_CELL_LINES}; move the chart code into a function "
                "in afterkarabakh (charts, maps or afterkarabakh/chapters/<slug>.py)"
            )
        if not first:
            found += [
                f"{name}: import outside the preamble: {line.strip()}"
                for line in cell.source.splitlines()
                if _IMPORT.match(line)
            ]
        first = False
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_notebook_cells_are_short_and_import_only_in_the_preamble(path):
    problems = short_cell_problems(path)
    assert problems == [], "\n".join(problems)


def test_short_cell_rule_names_the_notebook_and_the_cell(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("import pandas as pd"),
            nbformat.v4.new_markdown_cell("text"),
            nbformat.v4.new_code_cell("\n".join(f"x{i} = {i}" for i in range(MAX_CELL_LINES + 1))),
            nbformat.v4.new_code_cell("x = 1\nfrom shapely.geometry import box"),
        ]
    )
    path = tmp_path / "bad.ipynb"
    nbformat.write(notebook, path)
    problems = short_cell_problems(path)
    assert len(problems) == 2
    assert problems[0].startswith("bad.ipynb, cell 3") and "26 lines" in problems[0]
    assert (
        problems[1].startswith("bad.ipynb, cell 4")
        and "from shapely.geometry import box" in problems[1]
    )


def machinery_imports(source: str) -> list[str]:
    """Lines of ``source`` that import the book's machinery (``afterkarabakh.book``)."""
    pattern = re.compile(
        r"^\s*(from\s+afterkarabakh\.book\b|import\s+afterkarabakh\.book\b"
        r"|from\s+afterkarabakh\s+import\s+.*\bbook\b|from\s+\.+book\b|from\s+\.+\s+import\s+.*\bbook\b)"
    )
    return [line.strip() for line in source.splitlines() if pattern.match(line)]


def test_chapters_never_import_the_machinery():
    """The package's two halves: what a chapter uses never reaches into afterkarabakh.book."""
    found = []
    for path in sorted(paths.CHAPTERS.glob("*.ipynb")):
        code = "\n".join(
            c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
        )
        found += [f"{path.name}: {line}" for line in machinery_imports(code)]
    for path in sorted(paths.PACKAGE.rglob("*.py")):
        if "book" in path.relative_to(paths.PACKAGE).parts:
            continue
        found += [
            f"{path.relative_to(paths.ROOT)}: {line}"
            for line in machinery_imports(path.read_text(encoding="utf-8"))
        ]
    assert not found, "chapter code imports the book's machinery:\n" + "\n".join(found)
    assert machinery_imports("from afterkarabakh.book import sphinxext") and machinery_imports(
        "    from ..book import bench"
    ), "the check no longer recognises an import of the machinery"
