"""The data package validates, every source resolves, and bad data is refused precisely.

Each "broken copy" test damages one cell of a real file in a scratch copy of
data/ and checks that loading fails with a message naming the file, the row
(the line number in the CSV, header = 1) and the field.
"""

from __future__ import annotations

import csv
import json
import re
import uuid
from pathlib import Path

import pandas as pd
import pytest

from afterkarabakh import data, paths


def test_package_validates():
    data.validate()


def test_every_table_cites_registered_sources():
    registry = set(data.sources().index)
    for name in data.names():
        frame = data.load(name)
        if name == "sources":
            continue
        assert "source_id" in frame, f"{name} has no source_id column"
        if name == "verdicts":  # a proposition not yet assessed states nothing, so cites nothing
            frame = frame[frame["verdict"].notna()]
        unknown = set(frame["source_id"]) - registry
        assert not unknown, f"{name}: unknown source ids {unknown}"
        assert frame["source_id"].notna().all(), f"{name}: rows without a source"


def test_every_registered_source_is_used():
    """No orphan in the registry: each source backs a data row, a map layer or a citation in prose."""
    used = set()
    for name in data.names():
        frame = data.load(name)
        if "source_id" in frame and name != "sources":
            used |= set(frame["source_id"].dropna())
    for resource in data.package().resources:
        used |= set(resource.custom.get("source_ids", []))
    for notebook in paths.CHAPTERS.glob("*.ipynb"):
        used |= set(re.findall(r"\{cite[a-z:]*\}`([^`]+)`", notebook.read_text(encoding="utf-8")))
        used = {part.strip() for item in used for part in item.split(",")}
    orphans = set(data.sources().index) - used
    assert not orphans, f"sources in data/sources.csv that nothing cites: {sorted(orphans)}"


def test_sources_have_full_citations():
    registry = data.sources()
    assert registry["publisher"].str.len().min() > 1
    assert registry["title"].str.len().min() > 1
    assert registry["url"].str.match(r"https?://").all()
    dated = registry.dropna(subset=["date_published"])
    assert (dated["date_accessed"] >= dated["date_published"]).all(), (
        "a source read before it was published"
    )


#: Words that describe how a page was looked up rather than what it is; no source may carry them.
PLACEHOLDER = re.compile(r"headline not shown|stored cop|copy shown|not shown in", re.IGNORECASE)


def test_no_placeholder_titles_or_lookup_words():
    """Every source has its real headline or a [bracketed description]; no cell of any data file
    speaks of how a page was read."""
    found = []
    for csv_path in sorted(paths.DATA.glob("*.csv")):
        with csv_path.open(newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                found += [
                    f"{csv_path.name}, row {line}, field '{field}': {value!r}"
                    for field, value in row.items()
                    if value and PLACEHOLDER.search(value)
                ]
    assert not found, "placeholder or look-up wording:\n" + "\n".join(found)


#: The most data rows that may rest on relay or reference sources alone (issue 21).
RELAY_SHARE_TARGET = 0.10


def test_at_most_a_tenth_of_data_rows_rest_on_relays_alone():
    from afterkarabakh import appendix

    share = appendix.relay_share()
    weak = appendix.weak_rows()
    worst = weak.groupby(["dataset", "source_id"]).size().sort_values(ascending=False).head(5)
    assert share <= RELAY_SHARE_TARGET, (
        f"{share:.1%} of data rows rest on relay or reference sources alone "
        f"(target: at most {RELAY_SHARE_TARGET:.0%}); the largest blocks:\n{worst.to_string()}"
    )


def test_a_row_rests_on_weak_sources_alone_only_when_every_source_it_cites_is_weak(data_copy):
    """The relay-only share counts a row when its source_id and every other *source_id field
    (here the end date's source) name relay or reference sources; one original lifts it out."""
    from afterkarabakh import appendix

    registry = data.sources(data_copy)
    weak = registry.index[registry["kind"] == "reference"][0]
    strong = registry.index[registry["kind"] == "official"][0]
    table = data_copy.parent / "russian_trade_measures.csv"

    def counted(source, end_source):
        _edit(table, 0, "source_id", source)
        line = _edit(table, 0, "end_source_id", end_source)
        rows = appendix.data_rows(data_copy)
        row = rows[(rows["dataset"] == "russian_trade_measures") & (rows["row"] == line)]
        assert len(row) == 1, f"russian_trade_measures.csv, row {line} is not among the data rows"
        return bool(row["weak_only"].iloc[0]), appendix.relay_share(data_copy), len(rows)

    both_weak, share_weak, n = counted(weak, weak)
    assert both_weak
    assert not counted(weak, strong)[0], "an original end-date source leaves the row counted"
    assert not counted(strong, weak)[0], "an original main source leaves the row counted"
    assert counted(weak, "")[0], "a row with one weak source and no other is not counted"
    assert counted(strong, weak)[1] == pytest.approx(share_weak - 1 / n)


def test_source_mix_counts_every_kind():
    from afterkarabakh import appendix

    mix = appendix.source_mix()
    assert list(mix.columns[2:8]) == appendix.kinds()
    registry = mix[mix[""] == "Whole registry (sources)"].iloc[0]
    assert registry["total"] == len(data.sources())
    rows = mix[mix[""] == "All data tables (rows)"].iloc[0]
    assert rows["total"] == len(appendix.data_rows())
    assert len(mix) >= 4, "each chapter with sources gets a row"


def test_load_gives_typed_frames():
    events = data.load("events")
    assert pd.api.types.is_datetime64_any_dtype(events["date"])
    assert events["places"].map(lambda v: v is None or isinstance(v, list)).all()
    places = data.load("places")
    assert pd.api.types.is_float_dtype(places["lat"])
    assert events.attrs["dataset"] == "events" and events.attrs["source_ids"]


@pytest.mark.parametrize("name", data.names())
def test_fast_reader_gives_the_frames_frictionless_gives(name):
    """After validation, load() types the CSV with pandas from the schema; the frame must be the
    one reading the rows through Frictionless gives: values, dtypes, missing values, lists, attrs."""
    path, fingerprint = data._checked_path(None)
    descriptor = data._descriptor_resource(name, path, fingerprint)
    assert data._fast_readable(descriptor), f"{name} falls back to the slow reader"
    fast = data._fast_frame(descriptor, path)
    slow = data._frictionless_frame(name, path)
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert fast.attrs == slow.attrs
    for field in data.fields(name):
        if field["type"] == "list":  # lists of strings (None where empty), not joined text
            assert fast[field["name"]].map(lambda v: v is None or isinstance(v, list)).all()
            assert fast[field["name"]].tolist() == slow[field["name"]].tolist()


def test_a_resource_reads_as_frictionless_reads_it():
    """data.resource() reads datapackage.json without Frictionless: every attribute the book uses
    is the one Frictionless gives, for every resource and every field."""
    for expected in data.package().resources:
        got = data.resource(expected.name)
        for attribute in ("name", "title", "description", "path", "format", "type", "custom"):
            assert getattr(got, attribute) == getattr(expected, attribute), (
                expected.name,
                attribute,
            )
        assert got.licenses == expected.licenses and got.sources == expected.sources
        if expected.type != "table":
            continue
        assert got.schema.primary_key == expected.schema.primary_key
        assert got.schema.field_names == expected.schema.field_names
        assert got.schema.foreign_keys == expected.schema.foreign_keys
        for mine, theirs in zip(got.schema.fields, expected.schema.fields, strict=True):
            for attribute in (
                "name",
                "type",
                "format",
                "title",
                "description",
                "constraints",
                "custom",
            ):
                assert getattr(mine, attribute) == getattr(theirs, attribute), (
                    f"{expected.name}.{theirs.name}: {attribute}"
                )
        name = expected.schema.field_names[-1]
        assert got.schema.get_field(name).name == name


def test_a_validated_load_reads_no_row_through_frictionless(monkeypatch, tmp_path):
    """The fast path is the one taken, and a dataset is typed once per kernel, not once per load."""
    data.validate()
    data._typed_frame.cache_clear()
    monkeypatch.setattr(data, "FRAMES_CACHE", tmp_path)  # no frame kept by an earlier kernel
    slow = []
    monkeypatch.setattr(data, "_frictionless_frame", lambda *a: slow.append(a))
    fast = []
    real = data._fast_frame
    monkeypatch.setattr(data, "_fast_frame", lambda *a: (fast.append(a[0]["name"]), real(*a))[1])
    for name in data.names():
        data.load(name)
        data.load(name)
    assert slow == [] and sorted(fast) == sorted(data.names())
    data._typed_frame.cache_clear()


def test_a_kept_frame_is_the_frame_typed_and_spares_the_next_kernel_typing(monkeypatch, tmp_path):
    """The first kernel keeps each typed frame on disk; the next reads it back instead of typing
    the CSV again, and gets the same frame (values, dtypes, attrs); another content of the
    package (here, the loader's code changed) types anew and leaves one kept frame per dataset."""
    path, fingerprint = data.version()
    monkeypatch.setattr(data, "FRAMES_CACHE", tmp_path)
    data._typed_frame.cache_clear()
    typed = {name: data._typed_frame(name, path, fingerprint) for name in data.names()}
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == sorted(data.names())
    data._typed_frame.cache_clear()
    real = data._fast_frame
    fast = []
    monkeypatch.setattr(data, "_fast_frame", lambda *a: (fast.append(a[0]["name"]), real(*a))[1])
    for name, frame in typed.items():
        kept = data._typed_frame(name, path, fingerprint)
        pd.testing.assert_frame_equal(kept, frame, check_exact=True)
        assert list(kept.dtypes) == list(frame.dtypes) and kept.attrs == frame.attrs
    assert fast == []
    data._typed_frame.cache_clear()
    monkeypatch.setattr(data, "_content_key", lambda *a: "another content")
    data._typed_frame(name, path, fingerprint)
    assert fast == [name]
    assert len(list(tmp_path.glob(f"{name}-*"))) == 1
    data._typed_frame.cache_clear()


def test_a_changed_frame_never_reaches_the_next_load():
    """Loads share one typed frame per kernel; what a chapter does to its copy stays in it."""
    first = data.load("events")
    title = first.loc[0, "title"]
    first.loc[0, "title"] = "changed"
    first["date"] = pd.NaT
    first.attrs["source_ids"].append("changed")
    registry = data.sources()
    registry.loc[registry.index[0], "publisher"] = "changed"
    again = data.load("events")
    assert again.loc[0, "title"] == title and again["date"].notna().all()
    assert "changed" not in again.attrs["source_ids"]
    assert data.sources()["publisher"].iloc[0] != "changed"


def test_a_kernel_that_loads_validated_data_never_imports_frictionless():
    import subprocess
    import sys

    data.validate()  # the stamp a build's first step leaves for every kernel
    code = (
        "import sys\nfrom afterkarabakh import data\n"
        "frame = data.load('events'); data.sources(); data.citation(frame['source_id'][0])\n"
        "data.resource('events').schema.primary_key; data.names(); data.fields('places')\n"
        "assert 'frictionless' not in sys.modules, 'frictionless imported'\nprint(len(frame))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) == len(data.load("events"))


def test_a_file_edited_after_a_load_is_refused_on_the_next(data_copy):
    """The fast reader never serves a content that has not validated."""
    data.load("places", data_copy)
    line = _edit(data_copy.parent / "places.csv", 2, "lat", "forty")
    with pytest.raises(data.DataError, match=rf"data/places.csv, row {line}, field 'lat'"):
        data.load("places", data_copy)


def test_a_kept_result_is_read_back_with_the_files_it_read_and_computed_anew_after_an_edit(
    data_copy, tmp_path, monkeypatch
):
    monkeypatch.setattr(data, "RESULTS_CACHE", tmp_path / "kept")
    noted, computed = [], []
    note = data._note_use
    monkeypatch.setattr(data, "_note_use", lambda f: noted.append(f.name) or note(f))

    def places_north():
        computed.append(1)
        return int((data.load("places", data_copy)["lat"] > 40).sum())

    first = data.kept("north", places_north, datapackage=data_copy)
    assert computed == [1] and "places.csv" in noted
    noted.clear()
    assert data.kept("north", places_north, datapackage=data_copy) == first
    assert computed == [1] and noted == ["places.csv"]  # read back, its file noted as read
    south = data.load("places", data_copy)["lat"] <= 40
    _edit(data_copy.parent / "places.csv", int(south.idxmax()), "lat", "41.5")
    assert data.kept("north", places_north, datapackage=data_copy) == first + 1
    assert computed == [1, 1] and len(list((tmp_path / "kept").iterdir())) == 1
    # An edit to any module of the package (its source is in the key) computes it anew too.
    monkeypatch.setattr(data, "package_code", lambda: "a module edited")
    assert data.kept("north", places_north, datapackage=data_copy) == first + 1
    assert computed == [1, 1, 1]


def test_the_levers_figures_kept_are_the_figures_computed(tmp_path, monkeypatch):
    from afterkarabakh.chapters import levers

    monkeypatch.setattr(data, "RESULTS_CACHE", tmp_path)

    assert levers.headline() == levers._headline()
    assert levers.holdings_html() == levers._holdings_html()
    names = ["armstat_natural_gas_imports", "gas_imports_reported", "russian_stakes_armenia"]
    names += ["lever_shares_reported", "personal_transfers_armenia", "armstat_trade_russia_monthly"]
    names += ["armstat_trade_totals_december", "armstat_exports_by_partner_region"]
    frames = [data.load(n) for n in names]
    kept, computed = levers.dashboard_frame(*frames), levers._dashboard_frame(*frames, None)
    pd.testing.assert_frame_equal(kept, computed)
    assert kept.attrs == computed.attrs
    changed = frames[3].assign(share_high=frames[3]["share_high"] / 2)
    assert not levers.dashboard_frame(*frames[:3], changed, *frames[4:]).equals(kept)


def test_in_a_kernel_the_fingerprint_is_taken_once_per_cell_and_an_edit_seen_by_the_next(
    data_copy, monkeypatch
):
    """Within one run of a cell the package's fingerprint is taken once; a file edited before the
    next run is refused there; outside a kernel it is taken on every load."""
    assert data._kernel_request() is None  # pytest is no kernel
    taken = []
    fingerprint = data._fingerprint
    monkeypatch.setattr(data, "_fingerprint", lambda p: taken.append(p) or fingerprint(p))
    data.load("places", data_copy)
    data.load("places", data_copy)
    assert len(taken) == 2
    request = ["cell-1"]
    monkeypatch.setattr(data, "_kernel_request", lambda: request[0])
    taken.clear()
    for _ in range(3):
        data.load("places", data_copy)
    assert len(taken) == 1
    line = _edit(data_copy.parent / "places.csv", 2, "lat", "forty")
    request[0] = "cell-2"
    with pytest.raises(data.DataError, match=rf"data/places.csv, row {line}, field 'lat'"):
        data.load("places", data_copy)


def test_timeline_covers_1988_to_2026_with_enough_events():
    events = data.load("events")
    assert len(events) >= 25
    assert events["date"].min().year <= 1988 and events["date"].max().year >= 2025
    assert events["theme"].nunique() >= 6


def test_unknown_dataset_is_named():
    with pytest.raises(KeyError, match="no dataset called 'nope'"):
        data.load("nope")


# --- deliberately broken copies -------------------------------------------------------------


def _edit(csv_path: Path, row_index: int, field: str, value: str) -> int:
    """Set one cell (row_index counts data rows from 0); returns the CSV line number of that row."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[row_index][field] = value
    _write(csv_path, rows, list(rows[0]))
    return row_index + 2


def _write(csv_path: Path, rows: list[dict], fields: list[str]) -> None:
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=fields, lineterminator="\n", extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)


def _rejected(datapackage: Path, file: str, line: int | None, field: str) -> str:
    with pytest.raises(data.DataError) as caught:
        data.load("events", datapackage)
    message = str(caught.value)
    where = f"row {line}" if line and line > 1 else "header"
    expected = re.compile(rf"{re.escape(file)}, {where}, field '{re.escape(field)}'")
    assert expected.search(message), f"message does not name {file}/{where}/{field}:\n{message}"
    return message


@pytest.mark.parametrize(
    "file, field, value, row_index, words",
    [
        ("places.csv", "lat", "forty", 3, "type-error"),  # wrong type
        ("events.csv", "source_id", "", 4, "constraint-error"),  # missing source
        ("events.csv", "source_id", "no-such-source", 5, "foreign-key"),  # unknown source id
        ("events.csv", "date", "2023-02-30", 6, "type-error"),  # bad date
        ("places.csv", "lon", "200", 2, "constraint-error"),  # value out of range
        ("events.csv", "theme", "gossip", 1, "constraint-error"),  # not in the enum
        (
            "events.csv",
            "places",
            "yerevan;atlantis",
            0,
            "not a place_id",
        ),  # unknown place in a list
        ("sources.csv", "kind", "gossip", 3, "constraint-error"),  # a source's kind not in the enum
    ],
    ids=[
        "wrong-type",
        "missing-source",
        "unknown-source",
        "bad-date",
        "out-of-range",
        "bad-enum",
        "unknown-place",
        "bad-source-kind",
    ],
)
def test_broken_copy_is_rejected(data_copy, file, field, value, row_index, words):
    line = _edit(data_copy.parent / file, row_index, field, value)
    message = _rejected(data_copy, file, line, field)
    assert words in message


def test_undated_source_without_note_is_rejected(data_copy):
    """A source with no publication date must say why in its note."""
    path = data_copy.parent / "sources.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    index = next(i for i, r in enumerate(rows) if r["date_published"] and not r["note"])
    rows[index]["date_published"] = ""
    _write(path, rows, list(rows[0]))
    message = _rejected(data_copy, "sources.csv", index + 2, "note")
    assert "required when 'date_published' is empty" in message
    # The same undated row with a reason in its note is accepted.
    rows[index]["note"] = "A reference page; it shows no publication date."
    _write(path, rows, list(rows[0]))
    data.validate(data_copy)


def test_duplicate_key_is_rejected(data_copy):
    path = data_copy.parent / "places.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows.append(dict(rows[0]))
    _write(path, rows, list(rows[0]))
    message = _rejected(data_copy, "places.csv", len(rows) + 1, "place_id")
    assert "primary-key" in message


def test_missing_column_is_rejected(data_copy):
    path = data_copy.parent / "events.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = [f for f in rows[0] if f != "theme"]
    _write(path, rows, fields)
    message = _rejected(data_copy, "events.csv", 1, "theme")
    assert "missing-label" in message


def test_a_row_with_a_cell_beyond_the_header_is_rejected_with_its_row(data_copy):
    """A stray comma gives a row more cells than the header has fields: a validation error naming
    the file and the row, not a crash in the book's own checks (which read each cell by field)."""
    path = data_copy.parent / "events.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].rstrip("\n") + ",surplus\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(data.DataError) as caught:
        data.load("events", data_copy)
    assert re.search(r"events\.csv, row 4: extra-cell", str(caught.value)), str(caught.value)


def test_map_layer_with_unknown_source_is_rejected(data_copy):
    text = data_copy.read_text(encoding="utf-8").replace(
        '"naturalearth-world-atlas-2.0.2"', '"nobody"', 1
    )
    data_copy.write_text(text, encoding="utf-8")
    with pytest.raises(
        data.DataError, match=r"south_caucasus\.geojson, whole file, field 'source_ids': 'nobody'"
    ):
        data.validate(data_copy)


# --- verdicts: a verdict can never cite a figure the data lack --------------------------------


def _verdict(data_copy, **values) -> int:
    path = data_copy.parent / "verdicts.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # A pending row if there is one; once all twenty are assessed, the last row is overwritten.
    index = next((i for i, r in enumerate(rows) if not r["verdict"]), len(rows) - 1)
    rows[index].update(values)
    _write(path, rows, list(rows[0]))
    return index + 2


def _a_real_figure() -> dict:
    events = data.load("events")
    return dict(
        figure_dataset="events",
        figure_key=events["event_id"].iloc[0],
        figure_field="date",
        source_id=events["source_id"].iloc[0],
    )


def test_every_proposition_has_one_row():
    verdicts = data.load("verdicts")
    assert sorted(verdicts["proposition"]) == list(range(1, 21))


def test_a_resolving_verdict_is_accepted(data_copy):
    _verdict(data_copy, verdict="supported", reason="r", section="s", **_a_real_figure())
    data.validate(data_copy)


@pytest.mark.parametrize(
    "change, field, words",
    [
        (dict(figure_key="no-such-event"), "figure_key", "is not a row of events"),
        (dict(figure_field="no_such_field"), "figure_field", "is not a field of events"),
        (dict(figure_dataset="no_such_dataset"), "figure_dataset", "is not a dataset"),
        (dict(reason=""), "reason", "required when 'verdict' is given"),
    ],
    ids=["unknown-row", "unknown-field", "unknown-dataset", "no-reason"],
)
def test_a_verdict_whose_figure_does_not_resolve_is_rejected(data_copy, change, field, words):
    line = _verdict(
        data_copy,
        **{"verdict": "supported", "reason": "r", "section": "s", **_a_real_figure(), **change},
    )
    message = _rejected(data_copy, "verdicts.csv", line, field)
    assert words in message


# --- bad input refused where it enters: the registry's addresses, words, dates and keys -------------


def _rows(csv_path: Path) -> list[dict]:
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    "url, words",
    [
        ("javascript:alert(document.cookie)", "a 'javascript:' address"),
        ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "a 'data:' address"),
        ("file:///etc/passwd", "a 'file:' address"),
        ("ftp://ftp.example.org/report.pdf", "a 'ftp:' address"),
        ("www.example.org/report", "a relative address"),
        ("/chapters/report.html", "a relative address"),
        ("https://example.org/annual report.pdf", "a space or an invisible character (U+0020)"),
        ("https://example.org/re\u0007port", "U+0007"),
        ("https://example.org/\u202efdp.exe", "U+202E"),
        ("https://example.org/<script>", "holds '<'"),
        ("https://www.un.org@example.com/report", "a user or password before the host"),
        ("https://intranet/report", "no public host name"),
    ],
    ids=[
        "javascript",
        "data",
        "file",
        "ftp",
        "relative",
        "root-relative",
        "space",
        "control",
        "bidi-override",
        "markup",
        "user-before-host",
        "no-public-host",
    ],
)
def test_a_source_address_that_is_not_a_web_page_is_refused(data_copy, url, words):
    line = _edit(data_copy.parent / "sources.csv", 3, "url", url)
    message = _rejected(data_copy, "sources.csv", line, "url")
    assert words in message


def test_a_licence_address_that_is_not_a_web_page_is_refused(data_copy):
    """The Data appendix links every licence: a script there would run in a reader's browser."""
    text = data_copy.read_text(encoding="utf-8")
    licence = '"path": "https://creativecommons.org/licenses/by/4.0/"'
    assert licence in text
    data_copy.write_text(text.replace(licence, '"path": "javascript:alert(1)"', 1), "utf-8")
    with pytest.raises(
        data.DataError,
        match=r"datapackage\.json, whole file, field 'licenses\.path': package: "
        r"'javascript:alert\(1\)' is a 'javascript:' address",
    ):
        data.validate(data_copy)


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("title", "   ", "is only spaces"),
        ("publisher", " \u00a0 ", "is only spaces"),
        ("title", "[ — ]", "has no letter or digit"),
        ("title", " Leading space", "begins or ends with a space"),
        ("title", '<img src=x onerror="alert(1)">', "holds markup"),
        ("note", "<script>alert(1)</script>", "holds markup"),
        ("publisher", "Reuters\u202e", "U+202E"),
        ("title", "Two\nlines", "U+000A"),
    ],
    ids=[
        "blank-title",
        "blank-publisher",
        "punctuation-title",
        "stray-space",
        "markup-title",
        "markup-note",
        "bidi-publisher",
        "line-break",
    ],
)
def test_a_source_whose_words_say_nothing_or_hide_something_is_refused(
    data_copy, field, value, words
):
    line = _edit(data_copy.parent / "sources.csv", 4, field, value)
    message = _rejected(data_copy, "sources.csv", line, field)
    assert words in message


def _a_dated_source(data_copy) -> int:
    """Index of a registry row with a publication date."""
    return next(
        i for i, r in enumerate(_rows(data_copy.parent / "sources.csv")) if r["date_published"]
    )


@pytest.mark.parametrize("field", ["date_published", "date_accessed"])
def test_a_source_dated_after_today_is_refused(data_copy, field):
    tomorrow = (pd.Timestamp.today().normalize() + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    line = _edit(data_copy.parent / "sources.csv", _a_dated_source(data_copy), field, tomorrow)
    message = _rejected(data_copy, "sources.csv", line, field)
    assert f"{tomorrow} is after today" in message


def test_a_source_read_today_is_accepted(data_copy):
    today = pd.Timestamp.today().strftime("%Y-%m-%d")
    _edit(data_copy.parent / "sources.csv", _a_dated_source(data_copy), "date_accessed", today)
    data.validate(data_copy)


def test_a_source_read_before_it_was_published_is_refused(data_copy):
    index = _a_dated_source(data_copy)
    published = _rows(data_copy.parent / "sources.csv")[index]["date_published"]
    day_before = (pd.Timestamp(published) - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    line = _edit(data_copy.parent / "sources.csv", index, "date_accessed", day_before)
    message = _rejected(data_copy, "sources.csv", line, "date_accessed")
    assert f"before it was published ({published})" in message


def test_other_datasets_may_hold_dates_after_today(data_copy):
    """A mandate's planned end or a lease's last year is ahead by nature: only the registry's
    dates (when a page was published and read) are held to today."""
    path = data_copy.parent / "eu_missions_armenia.csv"
    resources = json.loads(data_copy.read_text(encoding="utf-8"))["resources"]
    schema = next(r for r in resources if r["path"] == path.name)["schema"]
    latest = next(f for f in schema["fields"] if f["name"] == "mandate_end")["constraints"][
        "maximum"
    ]
    assert pd.Timestamp(latest) > pd.Timestamp.today(), "pick a dataset whose dates may run later"
    index = next(i for i, r in enumerate(_rows(path)) if r["mandate_end"])
    _edit(path, index, "mandate_end", latest)
    data.validate(data_copy)


@pytest.mark.parametrize(
    "file, change",
    [
        ("sources.csv", {"id": str.upper}),
        ("glossary.csv", {"term": str.swapcase}),
        ("wine_exports.csv", {"measure": str.upper}),  # one part of a composite key
    ],
    ids=["source-id", "glossary-term", "composite-key"],
)
def test_a_key_that_differs_from_another_only_in_case_is_refused(data_copy, file, change):
    path = data_copy.parent / file
    rows = _rows(path)
    twin = dict(rows[0])
    for field, how in change.items():
        twin[field] = how(twin[field])
    _write(path, [*rows, twin], list(rows[0]))
    resources = json.loads(data_copy.read_text(encoding="utf-8"))["resources"]
    key = ", ".join(next(r for r in resources if r["path"] == file)["schema"]["primaryKey"])
    message = _rejected(data_copy, file, len(rows) + 2, key)
    assert "differs only in case from row 2" in message


def test_a_cell_that_hides_or_reverses_text_is_refused(data_copy):
    line = _edit(data_copy.parent / "events.csv", 2, "title", "Ceasefire \u202eagreed")
    message = _rejected(data_copy, "events.csv", line, "title")
    assert "U+202E" in message


def test_every_check_reports_in_one_error(data_copy):
    """A contribution with several faults hears of all of them at once, the schema's too."""
    path = data_copy.parent / "sources.csv"
    _edit(path, 3, "url", "javascript:alert(1)")
    _edit(path, 4, "title", "  ")
    _edit(path, 5, "kind", "gossip")
    with pytest.raises(data.DataError) as caught:
        data.validate(data_copy)
    fields = {(p.row, p.field) for p in caught.value.problems}
    assert {(5, "url"), (6, "title"), (7, "kind")} <= fields


def test_a_validated_package_is_not_validated_again_until_its_content_changes(
    data_copy, monkeypatch
):
    """Each chapter's kernel loads data; only the first to see this exact content pays for validation."""
    calls = []
    real = data._raise_problems
    monkeypatch.setattr(data, "_raise_problems", lambda *a: (calls.append(1), real(*a)))
    # A content no earlier run has seen (a unique description), so no stamp exists for it yet.
    data_copy.write_text(
        data_copy.read_text(encoding="utf-8").replace(
            '"description": "', f'"description": "{uuid.uuid4()} ', 1
        ),
        encoding="utf-8",
    )
    data.validate(data_copy)
    data._checked.cache_clear()  # as a new kernel would start
    data.validate(data_copy)
    assert len(calls) == 1, "the same content was validated twice"
    _edit(data_copy.parent / "places.csv", 0, "lat", "forty")
    with pytest.raises(data.DataError, match="places.csv, row 2, field 'lat'"):
        data.validate(data_copy)
    assert len(calls) == 2


def test_a_reference_to_an_unknown_row_of_another_dataset_is_refused(data_copy):
    """Foreign keys between datasets (not only to the registry): a site on no known place."""
    line = _edit(data_copy.parent / "lever_sites.csv", 0, "place_id", "atlantis")
    message = _rejected(data_copy, "lever_sites.csv", line, "place_id")
    assert "foreign-key" in message and "'atlantis'" in message and "places" in message


def test_an_edit_has_frictionless_check_again_only_the_file_edited(data_copy, monkeypatch):
    """A chapter author who edits one file waits for that file's check, not the whole package's;
    the foreign keys into and out of it are still checked (by the book's own pass)."""
    from frictionless import Resource

    checked = []
    real = Resource.validate
    monkeypatch.setattr(
        Resource,
        "validate",
        lambda self, *a, **k: (checked.append(self.name), real(self, *a, **k))[1],
    )
    # A package description no earlier run has seen: every resource is checked once.
    data_copy.write_text(
        data_copy.read_text(encoding="utf-8").replace(
            '"description": "', f'"description": "{uuid.uuid4()} ', 1
        ),
        encoding="utf-8",
    )
    data.validate(data_copy)
    assert len(checked) == len(data.names(data_copy)) + 3  # the tables and the three map files
    checked.clear()
    data._checked.cache_clear()
    _edit(data_copy.parent / "places.csv", 0, "lat", "40.1")
    data.validate(data_copy)
    assert checked == ["places"]
    checked.clear()
    data._checked.cache_clear()
    sources = data_copy.parent / "sources.csv"
    rows = list(csv.DictReader(sources.open(newline="", encoding="utf-8")))
    used = rows[0]["id"]
    _edit(sources, 0, "id", used + "-renamed")  # rows citing the old id now point at nothing
    with pytest.raises(data.DataError, match="foreign-key"):
        data.validate(data_copy)
    assert checked == ["sources"]


# --- verdicts as the book shows them: a published chapter never shows a pending verdict ------


def test_every_published_chapter_has_a_verdict_on_each_of_its_propositions():
    from afterkarabakh import verdicts

    rows = data.load("verdicts")
    for chapter in verdicts.published_chapters():
        missing = rows.loc[
            (rows["chapter"] == chapter) & rows["verdict"].isna(), "proposition"
        ].tolist()
        assert not missing, (
            f"chapters/{chapter} is in _toc.yml, but propositions {missing} have no verdict "
            "in data/verdicts.csv"
        )


def test_each_verdict_names_a_real_section_of_its_chapter():
    from afterkarabakh import verdicts

    rows = data.load("verdicts")
    for _, row in rows[
        rows["verdict"].notna() & rows["chapter"].isin(verdicts.published_chapters())
    ].iterrows():
        notebook = (paths.CHAPTERS / f"{row['chapter']}.ipynb").read_text(encoding="utf-8")
        assert f"## {row['section']}" in notebook, (
            f"data/verdicts.csv, proposition {row['proposition']}: chapters/{row['chapter']}.ipynb has no "
            f"section headed '{row['section']}'"
        )


def test_introduction_lists_all_twenty_propositions(monkeypatch):
    from afterkarabakh import verdicts

    monkeypatch.delenv("AFTERKARABAKH_BOOK_BUILD", raising=False)  # links as Jupyter shows them
    shown = verdicts.introduction_frame()
    assert shown["#"].tolist() == list(range(1, 21))
    assert verdicts.introduction_html().count("<tr>") == 21  # header and twenty rows
    published = shown[shown["published"]]
    assert published["Verdict"].isin(verdicts.VERDICTS).all()
    assert (shown.loc[~shown["published"], "Verdict"] == "to come").all()
    for chapter in published["chapter"]:
        assert f'href="{chapter}.ipynb' in verdicts.introduction_html()
        assert (paths.CHAPTERS / f"{chapter}.ipynb").exists()


def test_introduction_refuses_a_published_chapter_without_verdicts(monkeypatch):
    from afterkarabakh import verdicts

    # A published chapter whose verdict is withdrawn: the introduction must refuse to render.
    real_load = data.load
    withdrawn = real_load("verdicts")
    withdrawn.loc[withdrawn.index[0], "verdict"] = pd.NA

    def load(name, *args, **kwargs):
        return withdrawn.copy() if name == "verdicts" else real_load(name, *args, **kwargs)

    monkeypatch.setattr(data, "load", load)
    with pytest.raises(ValueError, match="no verdict"):
        verdicts.introduction_frame()


def test_propositions_pending_are_listed_in_words():
    from afterkarabakh.verdicts import _number_list

    assert _number_list([3, 4, 14, 15, 16, 17, 18, 19, 20]) == "3, 4 and 14–20"
    assert _number_list([3]) == "3" and _number_list([14, 15]) == "14 and 15"
    assert _number_list([5, 12, 14, 16, 17]) == "5, 12, 14, 16 and 17"


# --- the states parties to the Rome Statute: the table reproduces the court's own count ------------

#: The court's own figure the table must reproduce: its ceremony for Ukraine, 17 July 2025.
COURT_COUNT_DATE = "2025-07-17"


def _icc_tables(datapackage: Path | None = None):
    return data.load("icc_states_parties", datapackage), data.load("icc_party_count", datapackage)


def court_count_problem(datapackage: Path | None = None) -> str | None:
    """None if the states parties on COURT_COUNT_DATE number what the court said; else what differs."""
    from afterkarabakh.chapters import icc

    states, counts = _icc_tables(datapackage)
    stated = counts[(counts["date"] == COURT_COUNT_DATE) & (counts["basis"] == "stated")]
    assert len(stated) == 1, f"icc_party_count.csv: no single stated count dated {COURT_COUNT_DATE}"
    stated = stated.iloc[0]
    parties = icc.parties_on(states, stated["date"])
    if len(parties) == stated["count"]:
        return None
    near = states[(states["joined"].dt.year >= 2023) | states["withdrawal_effective"].notna()]
    return (
        f"icc_states_parties.csv gives {len(parties)} states parties on {COURT_COUNT_DATE} (Statute in force, or "
        f"instrument deposited where no entry into force is given, and no withdrawal in effect); "
        f"icc_party_count.csv (source {stated['source_id']}) states {int(stated['count'])}: "
        f"{len(parties) - int(stated['count']):+d}. Rows that joined or left recently: "
        + ", ".join(
            f"{r.state_iso3} (joined {r.joined:%Y-%m-%d}, left {r.withdrawal_effective})"
            for r in near.itertuples()
        )
    )


def test_states_parties_match_the_courts_count():
    problem = court_count_problem()
    assert problem is None, problem


def test_a_missing_state_party_is_caught(data_copy):
    path = data_copy.parent / "icc_states_parties.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    _write(path, [r for r in rows if r["state_iso3"] != "KIR"], list(rows[0]))
    problem = court_count_problem(data_copy)
    assert problem and "gives 124" in problem and "states 125: -1" in problem


def test_every_stated_count_is_reproduced_by_the_table():
    """Sources count a new member from its deposit or from entry into force: each stated figure must equal
    the table's count on one of the two readings (a count 'as of' a month is read at the month's end)."""
    from afterkarabakh.chapters import icc

    states, counts = _icc_tables()
    wrong = []
    for line, point in enumerate(counts.itertuples(), start=2):
        day = point.date + pd.offsets.MonthEnd(0) if point.date_precision == "month" else point.date
        readings = {
            how: len(icc.parties_on(states, day, counting=how)) for how in ("in force", "deposit")
        }
        if point.count not in readings.values():
            wrong.append(
                f"icc_party_count.csv, row {line}, field 'count': {point.count} on {day:%Y-%m-%d}, "
                f"but the table gives {readings['in force']} in force and {readings['deposit']} deposited"
            )
    assert not wrong, "\n".join(wrong)


def test_count_after_hungary_is_derived_from_the_table_not_typed():
    from afterkarabakh.chapters import icc

    states, counts = _icc_tables()
    derived = counts[counts["basis"] == "derived"]
    assert len(derived), "icc_party_count.csv has no derived count"
    for point in derived.itertuples():
        assert point.count == len(icc.parties_on(states, point.date)), (
            f"icc_party_count.csv: the derived count for {point.date:%Y-%m-%d} is {point.count}, "
            f"the states table gives {len(icc.parties_on(states, point.date))}"
        )
    import nbformat

    notebook = nbformat.read(paths.CHAPTERS / "icc.ipynb", as_version=4)
    cells = [
        c.source
        for c in notebook.cells
        if c.cell_type == "code" and 'glue("count_derived"' in c.source
    ]
    assert len(cells) == 1, "icc.ipynb: count_derived is not glued in exactly one cell"
    glued = re.search(r'glue\("count_derived",\s*([^,]+),', cells[0]).group(1)
    assert "parties_on" in cells[0] and not re.fullmatch(r"\s*\d+\s*|.*\[\"count\"\].*", glued), (
        f"icc.ipynb: count_derived is glued from {glued!r}, not counted from the states table"
    )
