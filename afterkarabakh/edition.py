"""The book's edition: its version and date, stated here and nowhere else.

The two lines below are the one place the edition is written. ``make release VERSION=x.y.z``
(:mod:`afterkarabakh.book.release`) rewrites them and stamps the same values into
``CITATION.cff`` and ``data/datapackage.json``, where tests hold them equal to these. Everything
else reads them from here: the introduction's edition line, every page's footer and "How to
cite" block, each figure's citation, the PDF's cover and file name, the data download's name.

A packaging tool reads the version without importing anything: setuptools with
``version = {attr = "afterkarabakh.edition.VERSION"}`` (a literal, so read statically), or any
tool that matches the pattern ``VERSION = "(?P<version>[^"]+)"`` in this file.
"""

from __future__ import annotations

import datetime as _dt
import re

VERSION = "1.0.0"
DATE = "2026-12-03"

#: The version as release tags name it (``v1.2.3``).
TAG_PREFIX = "v"
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


def date() -> _dt.date:
    """The edition's date as a date."""
    return _dt.date.fromisoformat(DATE)


def date_words(day: _dt.date | str | None = None) -> str:
    """'3 December 2026'."""
    day = date() if day is None else day
    day = _dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.day} {day:%B %Y}"


def label(version: str = VERSION, day: str = DATE) -> str:
    """How a reader sees the edition: 'edition 1.2.3 of 4 May 2027'."""
    return f"edition {version} of {date_words(day)}"


def key(version: str) -> tuple[int, int, int]:
    """A version as numbers, for ordering ('1.10.0' after '1.9.2'); raises on a malformed one."""
    match = SEMVER.fullmatch(version)
    if not match:
        raise ValueError(f"{version!r} is not a version of the form major.minor.patch (e.g. 1.2.3)")
    return tuple(int(part) for part in match.groups())


def tag(version: str = VERSION) -> str:
    return f"{TAG_PREFIX}{version}"


def pdf_name(version: str = VERSION) -> str:
    """The PDF's file name: after-karabakh-1.2.3.pdf."""
    return f"after-karabakh-{version}.pdf"


def data_zip_name(version: str = VERSION) -> str:
    """The data download's file name: after-karabakh-data-1.2.3.zip."""
    return f"after-karabakh-data-{version}.zip"
