"""The book built once per test run, and each chapter checked on that build (a pytest plugin,
started by ``conftest.py``).

``--one-build`` (``make test``) starts the book's build as the run starts, beside the tests that
need no book, so that the build is off the run's critical path; every test that reads the book,
in every worker, reads that one build (the ``built_book`` fixture of ``conftest.py``).

It also checks the chapters on that build. The build executes every chapter, strictly (an error
in any cell fails it); nbval would execute each one again to compare the outputs of its checked
cells (``# NBVAL_CHECK_OUTPUT``) with those committed in the notebook. Here the comparison is
nbval's own, cell by cell, with its lax mode's rules, on the outputs the build produced: a chapter
is executed once per run. ``make test-fast`` and a plain ``pytest chapters/x.ipynb`` still execute
the chapter under nbval.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import (
    IPyNbCell,
    IPyNbFile,
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
)

from afterkarabakh import paths
from afterkarabakh.book import build

#: One id per test run, shared by its workers (they inherit the environment of the process that
#: starts them): the build made for the run is recorded under it.
SESSION_ENV = "AFTERKARABAKH_TEST_SESSION"


def start(config) -> None:
    """Under ``--one-build``: check the chapters on the build (this module's hook, registered as
    a plugin, so that it sees the chapters folder too) and, in the process that starts the run,
    start the build now, while the tests that need no book run beside it."""
    config.pluginmanager.register(ChapterHook(), "one_build_chapters")
    if not hasattr(config, "workerinput"):
        config.early_build = threading.Thread(
            target=build.shared, args=(os.environ[SESSION_ENV],), daemon=True
        )
        config.early_build.start()


def finish(config) -> None:
    early = getattr(config, "early_build", None)
    if early is not None:
        early.join()


# --- each chapter's checked outputs, from the one build ----------------------------------------


def _executed_by_the_build(notebook: Path) -> Path | None:
    """Where the build keeps a chapter as it executed it; None for a notebook it does not build."""
    try:
        relative = notebook.resolve().relative_to(paths.ROOT)
    except ValueError:
        return None
    if relative.parent != Path("chapters") or notebook.name.startswith("_"):
        return None
    return build.OUTPUT.parent / "jupyter_execute" / relative


class ChapterHook:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_collect_file(self, file_path, parent):
        """A chapter the build executes is checked on that build, in place of nbval's kernel."""
        outcome = yield
        if file_path.suffix != ".ipynb" or not parent.config.option.nbval_lax:
            return
        if _executed_by_the_build(file_path) is not None:
            outcome.force_result([BuiltNotebook.from_parent(parent, path=file_path)])


class BuiltNotebook(IPyNbFile):
    """A chapter whose cells are checked against the build's execution of it (no kernel)."""

    executed = None

    def setup(self):
        returncode, log = build.shared(os.environ[SESSION_ENV])
        if returncode != 0:
            pytest.fail(f"the book's build failed, so no chapter ran:\n{log}", pytrace=False)
        path = _executed_by_the_build(self.path)
        if not path.exists():
            pytest.fail(f"the build did not execute {self.path.name} ({path} is missing)")
        executed = nbformat.read(path, as_version=4)
        cells = [c for c in executed.cells if c.cell_type == "code"]
        source = [c for c in self.nb.cells if c.cell_type == "code"]
        if [c.source for c in cells] != [c.source for c in source]:
            pytest.fail(
                f"{path} is not the build of {self.path}: their code cells differ", pytrace=False
            )
        self.executed = cells
        self.setup_sanitize_files()

    def collect(self):
        # nbval's collection, with each code cell checked by BuiltCell.
        self.nb = nbformat.read(str(self.fspath), as_version=4)
        code = [cell for cell in self.nb.cells if cell.cell_type == "code"]
        for number, cell in enumerate(code):
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", self.compare_outputs)
            yield BuiltCell.from_parent(
                self, name=f"Cell {number}", cell_num=number, cell=cell, options=options
            )


class BuiltCell(IPyNbCell):
    """nbval's end of a cell's test (run or not, outputs compared when checked), on the outputs
    the build's execution of this cell left."""

    def runtest(self):
        if self.options["skip"]:
            pytest.skip()
        outputs = coalesce_streams(list(self.parent.executed[self.cell_num].outputs))
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if errors:
            self.raise_cell_error("Cell execution caused an exception", errors[0].get("evalue"))
        unrun = self.cell.execution_count is None
        if unrun and self.cell.outputs:
            self.raise_cell_error("Unrun reference cell has outputs")
        if self.options["check"] and not unrun:
            if not self.compare_outputs(outputs, coalesce_streams(self.cell.outputs)):
                self.raise_cell_error("Cell outputs differ", "\n".join(self.comparison_traceback))
