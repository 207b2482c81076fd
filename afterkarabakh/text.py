"""Small helpers that turn data into the words of the prose (dates, lists), so no figure is typed,
and the glue that hands those words to the prose."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from . import data

#: The prefix myst-nb's ``glue(..., display=False)`` gives a value's media types (read back by the build).
GLUE_PREFIX = "application/papermill.record/"
#: Values whose display is text alone (IPython's formatters give them nothing else).
_PLAIN = frozenset({str, int, float, bool})


def glue(name: str, value, display: bool = False) -> None:
    """myst-nb's ``glue``: the value kept under ``name`` for the prose's ``{glue:text}`` roles,
    the same output in the executed notebook, published in one message.

    myst-nb's glue runs every IPython formatter on the value and publishes it through the
    kernel's display publisher, which first flushes stdout and stderr, each a round trip to the
    kernel's I/O thread: about 1 ms a value, and a chapter glues a hundred. A text or number
    has only a plain-text display, so it is written by the plain-text formatter alone and sent
    as the publisher sends it (the same message: data, metadata, no transient data) without the
    flushes. A glue shows nothing on the page (the build removes its output), so a print not yet
    flushed that lands after it changes nothing a reader sees. Anything else, a value to display,
    or no kernel (a plain Python session), goes through myst-nb's own.
    """
    publisher = _kernel_publisher() if not display and type(value) in _PLAIN else None
    if publisher is None:
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=display)
        return
    shell, publisher = publisher
    plain = shell.display_formatter.formatters["text/plain"](value)
    content = {
        "data": {GLUE_PREFIX + "text/plain": plain},
        "metadata": {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}},
        "transient": {},
    }
    message = publisher.session.msg("display_data", content, parent=publisher.parent_header)
    publisher.session.send(publisher.pub_socket, message, ident=publisher.topic)


def _kernel_publisher():
    """The running kernel's shell and display publisher, or None outside an IPython kernel."""
    import sys

    kernel_shell = sys.modules.get("ipykernel.zmqshell")  # a kernel imports it; nothing else need
    if kernel_shell is None:
        return None
    shell = sys.modules["IPython"].get_ipython()
    publisher = getattr(shell, "display_pub", None)
    if type(publisher) is not kernel_shell.ZMQDisplayPublisher or getattr(
        publisher, "_hooks", None
    ):
        return None  # another publisher, or one whose messages a hook captures (an Output widget)
    return shell, publisher


def date(value) -> str:
    """'19 September 2023'."""
    return pd.Timestamp(value).strftime("%-d %B %Y")


def date_span(start, end=None) -> str:
    """'19–20 September 2023', '27 September – 10 November 2020', or one date."""
    start = pd.Timestamp(start)
    if end is None or pd.isna(end) or pd.Timestamp(end) == start:
        return date(start)
    end = pd.Timestamp(end)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end.strftime('%B %Y')}"
    if start.year == end.year:
        return f"{start.strftime('%-d %B')} – {date(end)}"
    return f"{date(start)} – {date(end)}"


def event(event_id: str) -> pd.Series:
    """One row of the events dataset, by id (raises KeyError naming the id)."""
    events = _events_by_id(*data.version())
    if event_id not in events.index:
        raise KeyError(f"event {event_id!r} is not in data/events.csv")
    return events.loc[event_id]


@lru_cache(maxsize=4)
def _events_by_id(path, fingerprint: tuple) -> pd.DataFrame:
    """The events indexed by id, once per version of the data (a page asks for dozens of dates)."""
    return data.load("events", path).set_index("event_id")


def event_dates(event_id: str) -> str:
    row = event(event_id)
    return date_span(row["date"], row["date_end"])


def country_name(iso3: str) -> str:
    """A state's common English name from its ISO 3166-1 alpha-3 code (pycountry)."""
    import pycountry

    country = pycountry.countries.get(alpha_3=iso3)
    if country is None:
        raise KeyError(f"{iso3!r} is not an ISO 3166-1 alpha-3 code")
    return getattr(country, "common_name", None) or country.name


def data_as_of() -> str:
    """The day the book's data stop: the latest day any registered source was read."""
    return date(data.as_of())


def listing(names) -> str:
    """Names as prose lists them: "A", "A and B", "A, B and C"."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- numbers as a writer writes them ---------------------------------------------------------------

#: Counts from one to ten are written in words; larger ones in figures ("14", "1,200").
_WORDS = "one two three four five six seven eight nine ten".split()


def words(n, zero: str = "none") -> str:
    """A count as prose writes it: 'three', 'ten', '14', '1,200'; ``zero`` for nought
    ('none' by default: "none overtaken"; pass 'no' before a noun: "no steps")."""
    n = int(n)
    if n == 0:
        return zero
    return _WORDS[n - 1] if 0 < n <= len(_WORDS) else f"{n:,}"


def count(n, noun: str, plural: str | None = None, one: str = "one") -> str:
    """A count with its noun: 'two days', '14 days', 'no days'; for one, ``one`` ('one day',
    or 'a day' with ``one="a"``)."""
    n = int(n)
    if n == 1:
        return f"{one} {noun}"
    return f"{words(n, zero='no')} {plural or noun + 's'}"


def all_of(k, n, noun: str, plural: str | None = None) -> str:
    """A part of a whole as prose writes it: 'all four missions', 'both missions',
    'three of the four missions', 'none of the four missions', 'the one mission'."""
    k, n = int(k), int(n)
    things = plural or noun + "s"
    if n == 1:
        return f"the one {noun}" if k == 1 else f"not the one {noun}"
    if k == n:
        return f"both {things}" if n == 2 else f"all {words(n)} {things}"
    return f"{words(k)} of the {words(n)} {things}"


def capitalised(phrase: str) -> str:
    """The first letter upper-case, the rest untouched ('Seven of the ...')."""
    return phrase[:1].upper() + phrase[1:]
