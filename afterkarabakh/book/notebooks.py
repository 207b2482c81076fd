"""Keep committed notebooks lean: no outputs except the checked key figures.

``python -m afterkarabakh.book.notebooks refresh chapters/*.ipynb`` executes each
notebook (in its own folder, as the book does) and keeps only the outputs of
cells that start with ``# NBVAL_CHECK_OUTPUT``: the figures nbval compares, so a
silent change in the data fails a test. ``check`` reports notebooks that break
the rule (used by the hygiene test); ``strip`` enforces it without executing
anything (the pre-commit hook). ``new SLUG`` starts a chapter from
``chapters/_template.ipynb`` (``make chapter NAME=slug``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from .. import paths

CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"


def is_check_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARKER)


def strip(notebook) -> None:
    """Drop outputs, counts and run metadata from every cell but the check cells."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if is_check_cell(cell):
            # A count, or nbval skips the cell as unrun; always 1, so a refresh changes no count.
            cell.execution_count = 1
            for output in cell.outputs:
                if "execution_count" in output:
                    output["execution_count"] = 1
        else:
            cell.outputs = []
            cell.execution_count = None


def strip_files(paths: list[Path]) -> int:
    """Strip committed notebooks in place; 1 if any changed (so pre-commit shows the fix)."""
    changed = 0
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        before = nbformat.writes(notebook)
        strip(notebook)
        if nbformat.writes(notebook) != before:
            nbformat.write(notebook, path)
            print(f"stripped outputs from {path}", file=sys.stderr)
            changed += 1
    return 1 if changed else 0


def problems(path: Path) -> list[str]:
    """Why a committed notebook is not lean: outputs outside check cells, or check cells without output."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        if is_check_cell(cell):
            if not cell.outputs:
                found.append(
                    f"{path.name}, cell {index}: {CHECK_MARKER} cell has no stored output to compare"
                )
        elif cell.outputs:
            found.append(
                f"{path.name}, cell {index}: output committed outside a {CHECK_MARKER} cell"
            )
        if cell.execution_count is not None and not is_check_cell(cell):
            found.append(f"{path.name}, cell {index}: execution count committed")
    return found


def refresh(path: Path) -> None:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    print(f"executing {path} ...", file=sys.stderr, flush=True)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    strip(notebook)
    nbformat.write(notebook, path)
    print(
        f"  kept {sum(is_check_cell(c) for c in notebook.cells)} checked output(s)", file=sys.stderr
    )


TEMPLATE = paths.CHAPTERS / "_template.ipynb"


def new_chapter(slug: str, root: Path = paths.ROOT) -> Path:
    """Copy the template to ``chapters/SLUG.ipynb`` with fresh cell ids, and list it in ``_toc.yml``.

    The chapter goes at the end of the "Chapters" part, so it is built and tested at once.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", slug):
        raise ValueError(f"chapter name {slug!r}: use lower-case letters, digits and underscores")
    target = root / "chapters" / f"{slug}.ipynb"
    if target.exists():
        raise FileExistsError(f"{target} exists already")
    notebook = nbformat.read(root / "chapters" / TEMPLATE.name, as_version=4)
    prefix = slug.replace("_", "-")
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"{prefix}-{index:02d}"
        # Figure names are labels across the whole book: the copy's are its own.
        cell.source = cell.source.replace("fig-template-", f"fig-{prefix}-")
    nbformat.write(notebook, target)
    toc = root / "_toc.yml"
    lines = toc.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- caption: Chapters")
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].strip().startswith("- caption:")),
        len(lines),
    )
    last_chapter = max(
        i for i in range(start, end) if lines[i].strip().startswith("- file: chapters/")
    )
    indent = lines[last_chapter][: len(lines[last_chapter]) - len(lines[last_chapter].lstrip())]
    lines.insert(last_chapter + 1, f"{indent}- file: chapters/{slug}")
    toc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "new":
        print(f"created {new_chapter(argv[1]).relative_to(paths.ROOT)} and listed it in _toc.yml")
        return 0
    if len(argv) < 2 or argv[0] not in {"refresh", "check", "strip"}:
        print(
            "usage: python -m afterkarabakh.book.notebooks refresh|check|strip NOTEBOOK... | new SLUG",
            file=sys.stderr,
        )
        return 2
    command, files = argv[0], [Path(a) for a in argv[1:]]
    if command == "refresh":
        for path in files:
            refresh(path)
        return 0
    if command == "strip":
        return strip_files(files)
    issues = [p for path in files for p in problems(path)]
    print("\n".join(issues) or "all notebooks lean")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
