"""The trade chapter's derived tables: sums that a reader can rerun, and conversions that say what they do."""

from __future__ import annotations

import pytest

from afterkarabakh import data
from afterkarabakh.chapters import trade


@pytest.fixture(scope="module")
def annual():
    return trade.annual_trade_with_russia(data.load("armstat_trade_russia_monthly")).set_index(
        "year"
    )


def test_raw_monthly_file_is_complete_for_every_year_it_covers(annual):
    assert list(annual.index) == list(range(2017, 2025))
    assert annual.loc[2017:2023, "months"].eq(12).all(), (
        "a full year of the raw ArmStat file lacks a month"
    )
    assert annual.loc[2024, "months"] == 3 and not annual.loc[2024, "complete"]


def test_annual_sums_agree_with_armstat_totals_quoted_in_the_press(annual):
    """The monthly rows, summed, must give the annual ArmStat figures the press quotes (to the US$0.1bn they give)."""
    reported = data.load("armenia_russia_trade_reported").set_index("claim_id")
    for year in (2022, 2023):
        quoted = reported.loc[f"armstat-{year}-exports", "value_usd_bn"] * 1000
        assert abs(annual.loc[year, "exports"] - quoted) < 100, (
            f"{year}: summed {annual.loc[year, 'exports']:.0f}m vs quoted {quoted:.0f}m"
        )


def test_origin_and_consignment_bases_are_not_mixed(annual):
    # Consignment counts goods shipped from Russia whatever their origin, so it is the larger basis here.
    assert (annual["imports_consignment"] >= annual["imports_origin"]).all()
    assert annual["balance_origin"].equals(annual["exports"] - annual["imports_origin"])


def test_wine_bottles_are_converted_to_litres_and_shares_computed_only_from_one_unit():
    wine = data.load("wine_exports")
    volumes, shares = trade.wine_series(wine)
    georgia_2005 = wine[
        (wine["country_iso3"] == "GEO")
        & (wine["year"] == 2005)
        & (wine["measure"] == "total exports")
    ]
    assert georgia_2005["unit"].iloc[0] == "million bottles"
    converted = volumes[(volumes["country_iso3"] == "GEO") & (volumes["year"] == 2005)][
        "million_litres"
    ].iloc[0]
    assert converted == pytest.approx(
        float(georgia_2005["value"].iloc[0]) * trade.LITRES_PER_BOTTLE
    )
    computed = shares[shares["share_basis"] != "as reported"].set_index(["country_iso3", "year"])[
        "share_pct"
    ]
    assert computed.loc[("GEO", 2023)] == pytest.approx(62.2 / 89.5 * 100)
    assert shares.set_index(["country_iso3", "year"]).index.is_unique, (
        "a year has both a reported and a computed share"
    )
    assert shares["share_pct"].between(0, 100).all()


def test_every_measure_ends_after_it_starts_and_names_its_end_source():
    measures = data.load("russian_trade_measures")
    ended = measures.dropna(subset=["date_end"])
    assert (ended["date_end"] >= ended["date_start"]).all()
    assert ended["end_source_id"].notna().all(), "an end date without the source that gives it"
    assert measures.loc[measures["date_end"].isna(), "date_end_precision"].isna().all()
