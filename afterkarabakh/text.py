"""Small helpers that turn data into the words of the prose (dates, lists), so no figure is typed."""

from __future__ import annotations

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
    events = data.load("events").set_index("event_id")
    if event_id not in events.index:
        raise KeyError(f"event {event_id!r} is not in data/events.csv")
    return events.loc[event_id]


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
