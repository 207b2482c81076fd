"""Checked key figures stay checked, and out of the reader's sight.

Each notebook's ``# NBVAL_CHECK_OUTPUT`` cell prints the figures its prose states, so that nbval
fails when the data change them. Readers should never see that print-out: the cell is tagged
``remove-cell`` (the book drops it; nbval still runs and compares it), and no sentence points at
it ("the cell below prints them").
"""

from __future__ import annotations

import re

import nbformat
import pytest

from afterkarabakh import paths
from afterkarabakh.book import notebooks

CHAPTERS = sorted(paths.CHAPTERS.glob("*.ipynb"))

#: Sentences that send a reader to a cell of the notebook.
POINTERS = re.compile(
    r"\bcells? (?:below|above)\b|\bthe (?:next|following|last) cell\b|\bprinted below\b"
    r"|\bprints? (?:them|the (?:key )?figures)\b",
    re.IGNORECASE,
)


def shown_to_readers(cell) -> bool:
    """Whether the built page shows any part of a code cell (its code or its output)."""
    tags = set(cell.metadata.get("tags", []))
    return not ("remove-cell" in tags or {"remove-input", "remove-output"} <= tags)


def problems(notebook, name: str) -> list[str]:
    found = []
    for index, cell in enumerate(notebook.cells, start=1):
        if notebooks.is_check_cell(cell) and shown_to_readers(cell):
            found.append(
                f"{name}, cell {index}: the checked figures are shown to readers; tag it remove-cell"
            )
        if cell.cell_type == "markdown":
            found += [
                f"{name}, cell {index}: points readers at a cell: {m.group(0)!r}"
                for m in POINTERS.finditer(cell.source)
            ]
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_checked_figures_are_hidden_from_readers(path):
    found = problems(nbformat.read(path, as_version=4), path.name)
    assert not found, "\n".join(found)


def test_the_check_catches_a_visible_check_cell_and_a_pointer():
    check = nbformat.v4.new_code_cell(f"{notebooks.CHECK_MARKER}\nprint(1)")
    check.metadata["tags"] = ["remove-input"]  # the output, a print-out, would show
    text = nbformat.v4.new_markdown_cell("The cell below prints them.")
    notebook = nbformat.v4.new_notebook(cells=[text, check])
    found = problems(notebook, "planted.ipynb")
    assert [f.split(":")[0] for f in found] == ["planted.ipynb, cell 1"] * 2 + [
        "planted.ipynb, cell 2"
    ]
    assert "'cell below'" in found[0] and "shown to readers" in found[2]
    check.metadata["tags"] = ["remove-cell"]
    text.source = "The figures are recomputed at every build."
    assert problems(notebook, "planted.ipynb") == []
