"""Where things live, so no notebook types a path.

In a checkout (and with the Makefile's set-up, which puts the checkout on the path) the book's
files are at the repository root. Installed with ``pip install`` from a checkout or its archive,
the package carries its own copy of them (the data package, the chapters and the table of
contents the apparatus pages read) in ``afterkarabakh/_book``, so a chapter downloaded alone
runs against the data it was written for.
"""

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
#: The copy of the book's files an installed package carries (see pyproject.toml).
SHIPPED = PACKAGE / "_book"
#: True when the package runs from its installed copy rather than from a checkout.
INSTALLED = not (PACKAGE.parent / "data" / "datapackage.json").is_file()
ROOT = SHIPPED if INSTALLED else PACKAGE.parent
DATA = ROOT / "data"
GEO = DATA / "geo"
DATAPACKAGE = DATA / "datapackage.json"
CHAPTERS = ROOT / "chapters"

#: What the package computes once and keeps between kernels (the data-validated stamps, the Vega
#: bundle): under _build in a checkout; in the user's cache folder when installed.
CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "afterkarabakh"
    if INSTALLED
    else ROOT / "_build" / ".cache"
)

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


def vega_bundle_cached() -> Path:
    """Where the Vega bundle is kept once made (:func:`afterkarabakh.charts.javascript_bundle`)."""
    return CACHE / vega_bundle_name()


def write_stamp(stamp: Path, text: str | bytes = "") -> None:
    """Remember that something was checked, or what was computed (a file under :data:`CACHE`):
    written whole or not at all, so parallel kernels never see half of one; on a read-only
    install nothing is kept and the work is simply done again next time."""
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        partial = stamp.with_suffix(f".{os.getpid()}.tmp")
        if isinstance(text, bytes):
            partial.write_bytes(text)
        else:
            partial.write_text(text, encoding="utf-8")
        partial.replace(stamp)
    except OSError:
        pass


def kept(folder: Path, name: str, key: str, compute):
    """What ``compute()`` returns, kept between kernels as ``<folder>/<name>-<key>.pickle``: read
    back when a kernel has kept it under this key (the key must change whenever the result
    would), else computed, kept (:func:`write_stamp`: whole or not at all) and returned; the
    kept results of ``name`` under other keys are removed."""
    import glob
    import pickle

    path = folder / f"{name}-{key}.pickle"
    try:
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:  # never kept, or removed by a kernel keeping a newer key meanwhile
        pass
    result = compute()
    write_stamp(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    for stale in folder.glob(f"{glob.escape(name)}-{'?' * len(key)}.pickle"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return result
