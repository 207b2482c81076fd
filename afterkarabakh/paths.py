"""Where things live, so no notebook types a path."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GEO = DATA / "geo"
DATAPACKAGE = DATA / "datapackage.json"
CHAPTERS = ROOT / "chapters"
PACKAGE = Path(__file__).resolve().parent

#: Set by the book build (afterkarabakh.book.sphinxext) to a folder where each kernel lists the data
#: files it reads, in a file named after the process that started the kernel (the Sphinx reader).
#: The build re-executes a page when, and only when, a file it used has changed.
DATA_USES_ENV = "AFTERKARABAKH_DATA_USES"

#: Cache (``_build/.cache``) and served (``_static/vendor``) name of the Vega bundle: the versions that
#: make it, and the book's own wrapping of it (bumped when charts.javascript_bundle changes it).
_BUNDLE_WRAPPING = "w2"


def vega_bundle_name() -> str:
    from importlib.metadata import version

    return (
        f"vega-bundle-altair-{version('altair')}-vl-convert-{version('vl-convert-python')}"
        f"-{_BUNDLE_WRAPPING}.js"
    )
