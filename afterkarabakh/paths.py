"""Where things live, so no notebook types a path."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GEO = DATA / "geo"
DATAPACKAGE = DATA / "datapackage.json"
CHAPTERS = ROOT / "chapters"
PACKAGE = Path(__file__).resolve().parent
#: What the package computes once and keeps between kernels (the data-validated stamps, the Vega bundle).
CACHE = ROOT / "_build" / ".cache"

#: Set by the book build (afterkarabakh.book.sphinxext) to a folder where each kernel lists the data
#: files it reads, in a file named after the process that started the kernel (the Sphinx reader).
#: The build re-executes a page when, and only when, a file it used has changed.
DATA_USES_ENV = "AFTERKARABAKH_DATA_USES"
