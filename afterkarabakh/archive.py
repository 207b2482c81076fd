"""Citations that outlive their links: every source is cited as a Robust Link.

A citation links to the page as it was read, and says when: the link carries
``data-versiondate`` (the day the page was read) and ``data-versionurl``, an address that asks
the Internet Archive's Wayback Machine for its copy nearest that day
(``https://web.archive.org/web/YYYYMMDD/<url>``). A second link, to that address, carries
``data-originalurl``. The attributes follow the Robust Links convention
(https://robustlinks.mementoweb.org/spec/).

The archive address is built from the URL and the date alone: the archive answers it with its
capture nearest that day where it holds one, so it promises no copy. ``make linkcheck``
(:mod:`afterkarabakh.book.linkcheck`) asks the archive which pages it holds and requests copies of
the others.

Every page, table and file of the book builds these links here, and nowhere else.
"""

from __future__ import annotations

import html
import unicodedata
import urllib.parse
from datetime import date, datetime
from functools import lru_cache

#: The Wayback Machine's address for a page's capture nearest a day: ``WAYBACK + YYYYMMDD/ + url``.
WAYBACK = "https://web.archive.org/web/"
#: What the archive link says: the archive's name (where to look), not a promise of a copy.
ARCHIVE_TEXT = "Wayback Machine"
#: The archive link's tooltip, in plain words.
ARCHIVE_TITLE = (
    "The Internet Archive's copy of this page nearest the day it was read, where it holds one"
)
#: Characters no address may hold unencoded (RFC 3986 leaves them out; each can break the markup
#: or the BibTeX the address is written into).
UNSAFE = set('"<>\\^`{|}')
#: Invisible characters that reverse or hide text (bidirectional controls, zero-width marks).
INVISIBLE = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0xFEFF)}


def url_problem(url) -> str | None:
    """Why ``url`` cannot be cited (a sentence), or None for a public web address (http or https).

    Refused: any other scheme (``javascript:``, ``data:``, ``file:``, ``ftp:``), a relative
    address, spaces, control or invisible characters, characters an address never holds
    unencoded, a user name or password before the host (``https://un.org@example.com/`` goes to
    example.com), and a host that is not a public name (no dot).
    """
    if not isinstance(url, str) or not url:
        return "is empty"
    return _address_problem(url)


@lru_cache(maxsize=4096)
def _address_problem(url: str) -> str | None:
    """:func:`url_problem` for a text, once per address (a citation asks three times, and a
    chapter cites up to 150 sources: 20 ms for the 654 addresses of the registry read thrice)."""
    for char in url:
        if char.isspace() or unicodedata.category(char) in ("Cc", "Cf") or char in INVISIBLE:
            return f"holds a space or an invisible character (U+{ord(char):04X})"
        if char in UNSAFE:
            return f"holds {char!r}, which an address never holds unencoded"
    scheme = url.split(":", 1)[0] if ":" in url.split("/", 1)[0] else ""
    if not url.startswith(("http://", "https://")):
        kind = f"a '{scheme}:' address" if scheme else "a relative address"
        return f"is {kind}, not a web address starting with http:// or https://"
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        return "names a user or password before the host, which hides the host it goes to"
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return "has a port that is not a number"
    host = parts.hostname or ""
    if "." not in host.strip("."):
        return f"has no public host name ('{host}')"
    return None


def version_date(accessed) -> date:
    """The day a page was read, from a date, a datetime (a pandas Timestamp) or 'YYYY-MM-DD'."""
    if isinstance(accessed, datetime):
        if accessed != accessed:  # pandas' NaT
            raise ValueError("a citation needs the day its page was read")
        return accessed.date()
    if isinstance(accessed, date):
        return accessed
    if isinstance(accessed, str) and accessed.strip():
        return date.fromisoformat(accessed.strip()[:10])
    raise ValueError(f"a citation needs the day its page was read, not {accessed!r}")


def _citable(url: str) -> str:
    problem = url_problem(url)
    if problem:
        raise ValueError(f"cannot cite {url!r}: it {problem}")
    return url


def archive_url(url: str, accessed) -> str:
    """The Wayback Machine's address for its copy of ``url`` nearest the day it was read."""
    return f"{WAYBACK}{version_date(accessed):%Y%m%d}/{_citable(url)}"


def accessed_words(accessed) -> str:
    """'accessed 3 Dec 2026'."""
    return f"accessed {version_date(accessed):%-d %b %Y}"


def original_link(url: str, accessed, text: str) -> str:
    """``text`` linked to the page as read, with the day read and the archive's address."""
    day = version_date(accessed)
    return (
        f'<a href="{html.escape(_citable(url))}" data-versiondate="{day:%Y-%m-%d}" '
        f'data-versionurl="{html.escape(archive_url(url, day))}">{html.escape(text)}</a>'
    )


def archive_link(url: str, accessed, text: str = ARCHIVE_TEXT) -> str:
    """A link asking the archive for its copy of ``url`` nearest the day it was read."""
    day = version_date(accessed)
    return (
        f'<a class="ak-archive" href="{html.escape(archive_url(url, day))}" '
        f'data-originalurl="{html.escape(url)}" data-versiondate="{day:%Y-%m-%d}" '
        f'title="{html.escape(ARCHIVE_TITLE)}">{html.escape(text)}</a>'
    )


def citation_html(url: str, accessed, text: str, *, dated: bool = True) -> str:
    """``text`` linked to the original, then "(accessed 3 Dec 2026; Wayback Machine)", the
    last linked to the archive; ``dated=False`` leaves out the date (where the citation says it)."""
    when = f"{accessed_words(accessed)}; " if dated else ""
    return (
        f"{original_link(url, accessed, text)} "
        f'<span class="ak-archived">({when}{archive_link(url, accessed)})</span>'
    )


def citation_text(url: str, accessed) -> str:
    """The same in plain text (tooltips): "url (accessed 3 Dec 2026; archived: <archive address>)"."""
    return f"{_citable(url)} ({accessed_words(accessed)}; archived: {archive_url(url, accessed)})"
