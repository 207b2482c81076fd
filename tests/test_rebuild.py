"""Never stale, still fast: what each page depends on, and what a rebuild executes.

The rebuilds run on a copy of the run's build (its pages and Sphinx's and myst-nb's working
files), so the pages other tests read at the same time are never rewritten under them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from afterkarabakh import data, paths
from afterkarabakh.book import build


@pytest.fixture(scope="module")
def build_copy(built_book, tmp_path_factory) -> Path:
    """A copy of the run's build, pages and working files, for rebuilds; returns its pages' folder."""
    target = tmp_path_factory.mktemp("rebuild") / built_book.parent.name
    shutil.copytree(
        built_book.parent,
        target,
        ignore=shutil.ignore_patterns(".build.lock", ".build-session.json", "*.tmp"),
    )
    return target / built_book.name


def _rebuild(pages: Path) -> str:
    result = build.run(pages, capture_output=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def test_rebuild_without_changes_executes_nothing(build_copy):
    log = _rebuild(build_copy)
    assert "Executing notebook" not in log, "a no-change rebuild re-executed notebooks"


def _dependencies(pages: Path) -> dict[str, set[Path]]:
    """What Sphinx recorded each page as depending on (it re-reads, so re-executes, on a change)."""
    import pickle

    with open(pages.parent / ".doctrees" / "environment.pickle", "rb") as file:
        env = pickle.load(file)
    return {doc: {Path(d).resolve() for d in deps} for doc, deps in env.dependencies.items()}


def _notebooks() -> list[str]:
    return sorted(
        f"chapters/{p.stem}" for p in paths.CHAPTERS.glob("*.ipynb") if not p.name.startswith("_")
    )


def test_each_notebook_depends_on_the_data_it_loads_and_the_shared_code(built_book):
    from afterkarabakh.book import sphinxext

    recorded = _dependencies(built_book)
    every_data_file = {p.resolve() for p in paths.DATA.rglob("*") if p.is_file()}
    shared = {p.resolve() for p in sphinxext.dependency_files()}
    narrower = []
    for doc in _notebooks():
        deps = recorded.get(doc, set())
        source = (paths.ROOT / f"{doc}.ipynb").read_text(encoding="utf-8")
        loaded = {
            (paths.DATA / data.resource(n).path).resolve()
            for n in re.findall(r'data\.load\(\\"(\w+)\\"\)', source)
        }
        assert shared <= deps, f"{doc}: not re-executed when {sorted(shared - deps)[:3]} change"
        assert loaded <= deps, f"{doc}: loads {sorted(loaded - deps)} but does not depend on it"
        modules = set(re.findall(r"from afterkarabakh\.chapters import (\w+)", source))
        for module in modules:
            assert (paths.PACKAGE / "chapters" / f"{module}.py").resolve() in deps, (
                f"{doc}: {module}.py"
            )
        if (deps & every_data_file) < every_data_file:
            narrower.append(doc)
    # The kernels' lists of files read are in use: a page that reads few datasets depends on few.
    assert len(narrower) >= len(_notebooks()) // 2, (
        f"only {narrower} depend on less than all the data"
    )


def test_changed_data_file_re_executes_exactly_the_notebooks_that_read_it(build_copy):
    """jupyter-cache alone would keep stale charts: a data change re-runs every page that read it."""
    import time

    recorded = _dependencies(build_copy)
    readers = {}
    for path in sorted(paths.DATA.glob("*.csv")):
        readers[path] = {doc for doc in _notebooks() if path.resolve() in recorded.get(doc, set())}
    changed, expected = min(
        ((p, r) for p, r in readers.items() if r), key=lambda item: len(item[1])
    )
    assert len(expected) < len(_notebooks()), f"every page reads {changed.name}: nothing to test"
    later = time.time() + 2
    # The copy's pages are built from the repository's sources: the data file itself is touched
    # (its date only; the next `make book` re-executes the pages that read it, nothing else).
    os.utime(changed, (later, later))
    log = _rebuild(build_copy)
    executed = {
        f"chapters/{Path(m).stem}" for m in re.findall(r"(\S+\.ipynb): Executing notebook", log)
    }
    assert executed == expected, (
        f"after touching {changed.name}: executed {sorted(executed)}, expected {sorted(expected)}"
    )
