"""The levers chapter's computations (afterkarabakh/chapters/levers.py), checked against its data."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from afterkarabakh import data, maps, paths
from afterkarabakh.chapters import levers


@pytest.fixture(scope="module")
def dashboard():
    load = data.load
    return levers.dashboard_frame(
        load("armstat_natural_gas_imports"),
        load("gas_imports_reported"),
        load("russian_stakes_armenia"),
        load("lever_shares_reported"),
        load("personal_transfers_armenia"),
        load("armstat_trade_russia_monthly"),
        load("armstat_trade_totals_december"),
        load("armstat_exports_by_partner_region"),
    )


# --- gas ------------------------------------------------------------------------------------------


def test_gas_shares_are_shares_and_partial_years_are_flagged():
    shares = levers.gas_shares(data.load("armstat_natural_gas_imports"))
    assert shares["share_pct"].between(0, 100).all()
    assert (shares["weight_russia_kt"] <= shares["weight_all_kt"]).all()
    assert list(shares["year"]) == sorted(shares["year"])
    partial = shares[~shares["complete"]]
    assert (partial["months"] < 12).all()
    assert (shares.loc[shares["complete"], "months"] == 12).all()


def test_gas_share_matches_the_raw_rows():
    """Recomputed with the csv module from the file itself, not through the loader."""
    with open(paths.DATA / "raw" / "armstat_natural_gas_imports.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["year"] == "2022"]
    russia = sum(float(r["netweight_kg"]) for r in rows if r["partner_iso"] == "RUS")
    total = sum(float(r["netweight_kg"]) for r in rows)
    shares = levers.gas_shares(data.load("armstat_natural_gas_imports")).set_index("year")
    assert shares.loc[2022, "share_pct"] == pytest.approx(100 * russia / total)


def test_reported_gas_shares_use_a_claimants_total_or_both_suppliers():
    frame = pd.DataFrame(
        {
            "period_start": pd.to_datetime(
                ["2020-01-01"] * 3 + ["2021-01-01"] * 2 + ["2022-01-01"]
            ),
            "period_end": pd.to_datetime(["2020-12-31"] * 3 + ["2021-12-31"] * 2 + ["2022-12-31"]),
            "supplier": ["Russia", "Iran", "all suppliers", "Russia", "Iran", "Russia"],
            "volume_mcm": [80.0, 10.0, 100.0, 60.0, 40.0, 50.0],
            "claimant": ["A", "A", "A", "B", "B", "C"],
            "source_id": ["s"] * 6,
        }
    )
    shares = levers.reported_gas_shares(frame).set_index("claimant")["share_pct"]
    assert shares["A"] == pytest.approx(80.0)  # the claimant's own total, not 80 + 10
    assert shares["B"] == pytest.approx(60.0)
    assert "C" not in shares  # one supplier alone gives no share


def test_price_series_carries_the_last_price_to_the_end_without_a_new_report():
    prices = data.load("gas_border_price")
    series = levers.price_series(prices, end="2026-12-31")
    assert series["carried"].sum() == 1 and bool(series["carried"].iloc[-1])
    assert series["price"].iloc[-1] == series["price"].iloc[-2]
    assert series["date"].iloc[-1] == pd.Timestamp("2026-12-31")
    assert len(series) == len(prices) + 1


# --- ownership and control ------------------------------------------------------------------------


def test_gazprom_ownership_reaches_full_ownership():
    stakes = data.load("russian_stakes_armenia")
    held = levers.russian_held(stakes)
    gas = held[held["asset"] == "gas importer and network"]
    assert gas["russian_pct"].is_monotonic_increasing
    assert gas["russian_pct"].iloc[-1] == 100
    full = gas.loc[gas["russian_pct"] == 100, "date"].min()
    assert levers.held_on(stakes, "gas importer and network", full) == 100
    assert levers.held_on(stakes, "gas importer and network", full - pd.Timedelta(days=1)) < 100


def test_state_takeover_ends_russian_control_of_the_grid():
    stakes = data.load("russian_stakes_armenia")
    grid = stakes[stakes["asset"] == "electricity distribution network"]
    takeover = grid.loc[grid["holder_kind"] == "Armenian state", "date"].min()
    assert levers.held_on(stakes, "electricity distribution network", takeover) == 0
    day_before = takeover - pd.Timedelta(days=1)
    assert levers.held_on(stakes, "electricity distribution network", day_before) == 100
    assert pd.isna(levers.held_on(stakes, "electricity distribution network", "1990-01-01"))


def test_concession_terms_count_from_the_start_and_keep_both_extensions():
    terms = data.load("rail_concession_terms")
    summary = levers.concession_terms(terms, "2008-06-01")
    assert summary["end"] == 2008 + summary["term"]
    assert summary["extension_early"] and summary["extension_late"]
    assert summary["extension_early"] != summary["extension_late"]
    disagreeing = terms.assign(term_years=[30, 25] + [30] * (len(terms) - 2))
    with pytest.raises(ValueError, match="disagree"):
        levers.concession_terms(disagreeing, "2008-06-01")


# --- money and market -----------------------------------------------------------------------------


def test_transfer_shares_divide_russia_by_the_total_of_the_same_report():
    transfers = data.load("personal_transfers_armenia")
    shares = levers.transfer_shares(transfers)
    assert shares["share_pct"].between(0, 100).all()
    assert shares[["inflow_total_usd_m", "inflow_russia_usd_m"]].notna().all().all()
    row = shares.iloc[0]
    assert row["share_pct"] == pytest.approx(
        100 * row["inflow_russia_usd_m"] / row["inflow_total_usd_m"]
    )
    half = shares[shares["period_end"].dt.month == 6]
    assert (half["months"] == 6).all()


def test_trade_shares_use_complete_years_only():
    monthly = data.load("armstat_trade_russia_monthly")
    shares = levers.trade_shares(monthly, data.load("armstat_trade_totals_december"))
    assert shares["share_pct"].between(0, 100).all()
    months = monthly.groupby("year")["month"].nunique()
    assert set(shares["year"]) <= set(months[months == 12].index)


# --- the dashboard --------------------------------------------------------------------------------


def test_dashboard_has_every_panel_on_one_0_to_100_scale(dashboard):
    assert set(dashboard["panel"]) == set(levers.PANELS.values())
    assert dashboard["share_pct"].between(0, 100).all()
    assert (dashboard["share_low"] <= dashboard["share_pct"]).all()
    assert (dashboard["date"] >= levers.START).all()
    assert set(dashboard["source_id"]) <= set(data.sources().index)
    assert set(dashboard["series"]) <= set(levers.SERIES_SHAPES)


def test_segments_break_a_computed_series_at_a_gap():
    frame = pd.DataFrame(
        {
            "series": ["s"] * 4,
            "date": pd.to_datetime(["2013-07-01", "2014-07-01", "2022-07-01", "2023-07-01"]),
            "basis": ["computed"] * 4,
        }
    )
    assert levers._segments(frame) == ["s 0", "s 0", "s 1", "s 1"]
    holding = frame.assign(series="Run by the Russian concessionaire")
    assert len(set(levers._segments(holding))) == 1


# --- the map --------------------------------------------------------------------------------------


def test_map_points_stay_in_the_frame_and_show_the_recovered_grid():
    points = levers.map_points(
        data.load("lever_sites"), data.load("russian_deployments_armenia"), maps.places()
    )
    west, south, east, north = levers.MAP_EXTENT
    assert points["lon"].between(west, east).all() and points["lat"].between(south, north).all()
    yerevan = set(points.loc[points["place_id"] == "yerevan", "status"])
    assert {levers.HELD, levers.TAKEN} <= yerevan
    assert not points.duplicated(["place_id", "status"]).any()


# --- the assessment -------------------------------------------------------------------------------


def test_assessment_covers_every_lever_with_evidence():
    frame = levers.assessment()
    assert set(frame["lever"]) == set(levers.LEVERS)
    assert set(frame["assessment"]) <= set(levers.ASSESSMENTS)
    assert frame["evidence"].str.len().gt(0).all()
    assert set(frame["source_id"]) <= set(data.sources().index)


def test_changes_rest_on_evidence_dated_after_the_commentary():
    """A lever judged weakened, or used as pressure, must rest on a step after October 2023."""
    frame = data.load("lever_assessment")
    moved = frame[frame["assessment"] != "not weakened"]
    for row in moved.itertuples():
        rows = data.load(row.evidence_dataset)
        key = data.resource(row.evidence_dataset).schema.primary_key
        match = rows[rows[key].astype(str).agg("|".join, axis=1) == row.evidence_key]
        value = match[row.evidence_field].iloc[0]
        assert isinstance(value, pd.Timestamp), f"{row.lever}: evidence is not a date"
        assert value >= levers.COMMENTARY, f"{row.lever}: evidence dated {value:%Y-%m-%d}"


def test_assessment_refuses_a_lever_without_a_row():
    frame = data.load("lever_assessment")
    with pytest.raises(ValueError, match="money"):
        levers.assessment(frame[frame["lever"] != "money"])


def test_evidence_refuses_an_unknown_row():
    with pytest.raises(KeyError, match="no-such-row"):
        levers._evidence("lever_steps", "no-such-row", "date")


def test_holdings_table_has_one_row_per_lever():
    markup = levers.holdings_html()
    frame = data.load("lever_assessment")
    assert markup.count('<tr><th scope="row">') == frame["lever"].nunique()
    for label in frame["lever_label"].unique():
        assert label.replace("'", "&#x27;") in markup
    assert markup.count("<strong>") == len(frame)


def test_words_and_sentence_case():
    assert levers.words(7) == "seven" and levers.words(27) == "27"
    assert levers.sentence_case("used by Russia as pressure") == "Used by Russia as pressure"
