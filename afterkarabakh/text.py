"""Small helpers that turn data into the words of the prose (dates, lists), so no figure is typed."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from . import data


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
