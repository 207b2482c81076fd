"""The book's verdicts on the twenty propositions, read from ``data/verdicts.csv``.

Every table of propositions in the book (a chapter's "Assessment of the propositions",
the introduction's list, the conclusion) is rendered from this one dataset, so no two
pages can disagree. The loader has already checked that each verdict's deciding figure
is a real row and field of another dataset; :func:`deciding_figure` reads it.
"""
from __future__ import annotations

import pandas as pd

from . import data

VERDICTS = ["supported", "partly supported", "contradicted", "overtaken by events",
            "cannot be tested with these data"]


def load() -> pd.DataFrame:
    return data.load("verdicts")


def deciding_figure(row: pd.Series) -> str:
    """The value that decides a verdict, with the dataset row it comes from."""
    if pd.isna(row["figure_dataset"]):
        return ""
    frame = data.load(row["figure_dataset"])
    key_fields = data.resource(row["figure_dataset"]).schema.primary_key
    keys = frame[key_fields].astype(str).agg("|".join, axis=1)
    value = frame.loc[keys == row["figure_key"], row["figure_field"]].iloc[0]
    if isinstance(value, pd.Timestamp):
        value = value.strftime("%-d %B %Y")
    elif isinstance(value, float) and value.is_integer():
        value = f"{value:,.0f}"
    elif isinstance(value, (int,)) and not isinstance(value, bool):
        value = f"{value:,}"
    title = data.resource(row["figure_dataset"]).title or row["figure_dataset"]
    return f"{value} ({title}: {row['figure_field'].replace('_', ' ')}, row {row['figure_key']})"


def frame(chapter: str | None = None, propositions=None) -> pd.DataFrame:
    """The verdict rows of one chapter (or the given propositions), ready to show."""
    rows = load()
    if chapter is not None:
        rows = rows[rows["chapter"] == chapter]
    if propositions is not None:
        missing = set(propositions) - set(rows["proposition"])
        if missing:
            raise KeyError(f"propositions {sorted(missing)} have no row in data/verdicts.csv")
        rows = rows[rows["proposition"].isin(propositions)]
    pending = rows[rows["verdict"].isna()]
    if chapter is not None and chapter != "conclusion" and len(pending):
        raise ValueError(f"chapter {chapter!r} shows propositions {list(pending['proposition'])} "
                         "without a verdict in data/verdicts.csv")
    return pd.DataFrame({
        "#": rows["proposition"].astype(int),
        "Proposition": rows["wording"],
        "Verdict": rows["verdict"].fillna("not yet assessed").str.capitalize(),
        "Why": rows["reason"].fillna(""),
        "Deciding figure": rows.apply(deciding_figure, axis=1),
    }).sort_values("#")


def table(chapter: str | None = None, propositions=None):
    """The assessment table as a styled HTML table (no index), for a chapter's page."""
    shown = frame(chapter, propositions)
    return shown.style.hide(axis="index").set_table_attributes('class="ak-verdicts"')
