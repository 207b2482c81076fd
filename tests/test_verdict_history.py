"""When did each claim become clear: the verdict history is complete, ends at the book's verdicts,
never rests on evidence from its future, and is drawn a row per proposition."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from afterkarabakh import data, history, tables, theme, verdicts


def test_every_proposition_has_a_verdict_at_each_checkpoint():
    rows = history.load()
    dates = {pd.Timestamp(c) for c in history.checkpoints()}
    assert len(dates) == 5 and min(dates) == verdicts.commentary_date()
    assert max(dates) == pd.Timestamp(data.as_of()).normalize()
    for p in range(1, 21):
        assert set(rows.loc[rows["proposition"] == p, "checkpoint"]) == dates, f"proposition {p}"


def test_the_last_checkpoint_is_the_books_verdict():
    rows = history.load()
    last = rows[rows["checkpoint"] == rows["checkpoint"].max()].set_index("proposition")["verdict"]
    book = verdicts.load().set_index("proposition")["verdict"]
    assert last.sort_index().to_dict() == book.sort_index().to_dict()


def test_each_entry_is_dated_no_earlier_than_its_evidence_and_cites_its_source():
    rows = history.load()
    for _, r in rows.iterrows():
        frame = data.load(r["evidence_dataset"])
        key = data.resource(r["evidence_dataset"]).schema.primary_key
        found = frame[frame[key].astype(str).agg("|".join, axis=1) == r["evidence_key"]].iloc[0]
        where = f"proposition {r['proposition']} at {r['checkpoint']:%Y-%m-%d}"
        assert pd.Timestamp(found[r["evidence_field"]]) <= r["checkpoint"], where
        assert found["source_id"] == r["source_id"], f"{where}: the evidence row's own source"
        assert len(r["reason"].split()) < 45, f"{where}: reason over 45 words"


def _history_row(data_copy: Path, proposition: str, checkpoint: str, **values) -> int:
    path = data_copy.parent / "verdict_history.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    index = next(
        i
        for i, r in enumerate(rows)
        if r["proposition"] == proposition and r["checkpoint"] == checkpoint
    )
    rows[index].update(values)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return index + 2


@pytest.mark.parametrize(
    "change, field, words",
    [
        (
            # Mongolia's failure was found on 24 October 2024: no verdict can rest on it in June.
            dict(
                evidence_dataset="icc_noncompliance",
                evidence_key="mongolia-2024",
                evidence_field="finding_date",
            ),
            "checkpoint",
            "is earlier than its evidence: icc_noncompliance row 'mongolia-2024' has "
            "finding_date 2024-10-24",
        ),
        (
            dict(evidence_field="description"),
            "evidence_field",
            "'description' of events is not a date",
        ),
        (dict(evidence_key="no-such-event"), "evidence_key", "is not a row of events"),
    ],
    ids=["evidence-after-checkpoint", "not-a-date", "unknown-row"],
)
def test_an_entry_that_does_not_rest_on_earlier_evidence_is_refused(
    data_copy, change, field, words
):
    base = {"evidence_dataset": "events", "evidence_key": "2023-09-30-karabakh-exodus"}
    line = _history_row(
        data_copy, "1", "2024-06-30", **{**base, "evidence_field": "date", **change}
    )
    with pytest.raises(data.DataError) as caught:
        data.validate(data_copy)
    message = str(caught.value)
    assert re.search(rf"verdict_history\.csv, row {line}, field '{field}'", message), message
    assert words in message


def test_the_history_groups_claims_by_how_their_verdicts_moved():
    assert history.trajectory(["supported"] * 5) == "held from the start"
    assert history.trajectory(["cannot be tested with these data"] + ["partly supported"] * 4) == (
        "held only later"
    )
    assert history.trajectory(["supported", "contradicted"]) == "held, then failed"
    assert history.trajectory(["contradicted", "cannot be tested with these data"]) == "never held"
    found = history.groups()
    assert sorted(p for numbers in found.values() for p in numbers) == list(range(1, 21))


def test_the_history_chart_has_a_mark_per_proposition_and_date_coloured_by_verdict(monkeypatch):
    from afterkarabakh import charts

    monkeypatch.setenv(charts.BOOK_BUILD_ENV, "1")
    charts.setup()
    spec = history.chart(title="The twenty claims over time", name="fig-x-history").to_dict()
    assert spec["usermeta"]["afterkarabakh"]["datasets"] == ["verdict_history"]
    rows = [row for rows in spec["datasets"].values() for row in rows]
    assert len(rows) == 100 and {r["proposition"] for r in rows} == set(range(1, 21))
    colours = {}
    for node in tables.spec_nodes(spec):
        colour = node.get("encoding", {}).get("color", {})
        if isinstance(colour, dict) and colour.get("field") == "verdict":
            colours.update(zip(colour["scale"]["domain"], colour["scale"]["range"]))
    assert colours == theme.VERDICT_COLOURS
    assert "Held only later" in str(spec) and "Never held" in str(spec)
    # The description says what the chart shows: each group with its propositions.
    for group, numbers in history.groups().items():
        if numbers:
            listed = ", ".join(str(n) for n in numbers)
            assert f"{group}: {len(numbers)} ({listed})" in spec["description"]


def _figure_by_filter(dataset: str, key: str, field: str) -> pd.Series:
    """The row a deciding figure names, found as the book first found it: by joining the key
    fields of every row and filtering (the reference for the indexed reader)."""
    frame = data.load(dataset)
    primary = data.resource(dataset).schema.primary_key
    keys = frame[primary].astype(str).agg("|".join, axis=1)
    return frame.loc[keys == key].iloc[0]


def test_deciding_figures_name_the_same_rows_as_a_filter_over_the_whole_dataset():
    rows = history.load()
    figures = verdicts.deciding_figures(rows, prefix="evidence")
    assert len(figures) == len(rows) and all(figures)
    for (_, row), figure in zip(rows.iterrows(), figures):
        record = _figure_by_filter(
            row["evidence_dataset"], row["evidence_key"], row["evidence_field"]
        )
        label = verdicts._row_label(record)
        assert f"“{label}”" in figure if label else "“" not in figure, (row.to_dict(), figure)
        assert figure == verdicts.deciding_figure(
            pd.Series(
                {
                    "figure_dataset": row["evidence_dataset"],
                    "figure_key": row["evidence_key"],
                    "figure_field": row["evidence_field"],
                }
            )
        )


def test_a_deciding_figure_is_read_again_when_its_file_changes(data_copy):
    path = data_copy.resolve()
    key = "2023-09-30-karabakh-exodus"
    before = verdicts._figure_words("events", key, "date", path, data._fingerprint(path))
    assert "Over 100,000 people flee Karabakh for Armenia" in before
    events = path.parent / "events.csv"
    events.write_text(
        events.read_text(encoding="utf-8").replace(
            "Over 100,000 people flee Karabakh for Armenia", "More than 100,000 people leave"
        ),
        encoding="utf-8",
    )
    after = verdicts._figure_words("events", key, "date", path, data._fingerprint(path))
    assert "More than 100,000 people leave" in after and before != after
    with pytest.raises(KeyError, match="no row with the key 'no-such-event'"):
        verdicts._figure_words("events", "no-such-event", "date", path, data._fingerprint(path))


def test_every_row_is_found_by_its_key_as_a_row_wise_join_writes_it():
    """verdicts._keyed joins the key fields column by column: the keys must be those pandas'
    row-wise join writes (every dataset with a primary key), each naming its first row."""
    path, fingerprint = data.version()
    for name in data.names():
        key_fields = data.resource(name).schema.primary_key
        if not key_fields:
            continue
        frame, rows, _ = verdicts._keyed(name, path, fingerprint)
        joined = frame[key_fields].astype(str).agg("|".join, axis=1).tolist()
        assert rows == {k: joined.index(k) for k in joined}, name
