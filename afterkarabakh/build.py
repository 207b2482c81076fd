"""The one way the book is built, shared by `make book`'s tests and `make bench`."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from . import paths

#: Warnings are errors (-W), with missing references reported too (-n); --keep-going lists them all.
STRICT = ["--builder", "html", "-W", "-n", "--keep-going"]


def command() -> list[str]:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return [str(jupyter_book), "build", str(paths.ROOT), *STRICT]


def run(**kwargs) -> subprocess.CompletedProcess:
    """Build into _build/html the way the Makefile does."""
    return subprocess.run(command(), cwd=paths.ROOT, text=True, **kwargs)


if __name__ == "__main__":
    sys.exit(run().returncode)
