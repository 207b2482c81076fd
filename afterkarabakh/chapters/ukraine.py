"""Tables and charts of the Ukraine chapter (chapters/ukraine.ipynb)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts, theme


def exports_chart(russia_exports: pd.DataFrame, changes: pd.DataFrame):
    """Russia's annual arms deliveries over the five-year change in each SIPRI release."""
    annual = (
        alt.Chart(russia_exports)
        .mark_bar(color=theme.ACTOR_COLOURS["Russia"])
        .encode(
            x=alt.X(
                "year:O",
                title="Year of delivery",
                axis=alt.Axis(labelAngle=-90, values=list(range(1992, 2022, 2))),
            ),
            y=alt.Y("tiv_millions:Q", title="Deliveries (million TIV, not US$)"),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("tiv_millions:Q", title="Million TIV", format=","),
            ],
        )
        .properties(height=220)
    )
    change_chart = (
        alt.Chart(changes)
        .mark_bar(color=theme.ACTOR_COLOURS["Russia"], opacity=0.7)
        .encode(
            x=alt.X(
                "label:N",
                sort=list(changes.sort_values("release_year")["label"]),
                title="Five-year window, compared with the five years before (one SIPRI release each)",
                # Upright like the years above: eight windows side by side run together on a phone.
                axis=alt.Axis(labelAngle=-90),
            ),
            y=alt.Y("value:Q", title="Change in volume (%)"),
            tooltip=[
                alt.Tooltip("release_year:Q", title="SIPRI release", format="d"),
                alt.Tooltip("window_b:N", title="Window"),
                alt.Tooltip("window_a:N", title="Compared with"),
                alt.Tooltip("value:Q", title="Change (%)"),
            ],
        )
        .properties(height=160, width=theme.WIDTH)
    )
    return alt.vconcat(annual, change_chart)


def imports_chart(transfers: pd.DataFrame):
    """Armenia's and Azerbaijan's arms imports by supplier and year, side by side."""
    by_supplier = transfers.assign(
        supplier=transfers["supplier_iso3"].map(theme.actor_of),
        recipient=transfers["recipient_iso3"].map({"ARM": "Armenia", "AZE": "Azerbaijan"}),
    )
    return (
        alt.Chart(by_supplier)
        .mark_bar()
        .encode(
            x=alt.X(
                "year:O",
                title="Year of delivery",
                axis=alt.Axis(labelAngle=-90, values=list(range(1992, 2022, 4))),
            ),
            y=alt.Y("sum(tiv_millions):Q", title="Imports (million TIV, not US$)"),
            color=alt.Color(
                "supplier:N", scale=theme.actor_scale(by_supplier["supplier"]), title="Supplier"
            ),
            order=alt.Order("supplier:N"),
            tooltip=[
                alt.Tooltip("recipient:N", title="Recipient"),
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("supplier:N", title="Supplier"),
                alt.Tooltip("sum(tiv_millions):Q", title="Million TIV", format=","),
            ],
        )
        .properties(width=theme.WIDTH / 2 - 30, height=240)
        .facet(column=alt.Column("recipient:N", title=None))
    )


def contracts_frame(contracts: pd.DataFrame) -> pd.DataFrame:
    """Single deals Armenia was reported to sign, with supplier, value and whether a price was published."""
    return contracts[contracts["scope"] == "single"].assign(
        supplier=lambda f: f["supplier_iso3"].map(theme.actor_of),
        value=lambda f: f["value_usd_m_low"].astype(float),
        price=lambda f: f["value_usd_m_low"].map(
            lambda v: "no price published" if pd.isna(v) else "price reported"
        ),
    )


def contracts_chart(contract_view: pd.DataFrame):
    return (
        alt.Chart(contract_view)
        .mark_point(size=260, strokeWidth=2)
        .encode(
            x=alt.X(
                "date_reported:T",
                title="Date the deal was reported",
                axis=alt.Axis(format="%b %Y"),
                # Room for the rings at both ends: the first one no longer covers the row's name.
                scale=alt.Scale(padding=12),
            ),
            y=alt.Y(
                "supplier:N", title=None, sort=theme.actor_scale(contract_view["supplier"]).domain
            ),
            color=alt.Color(
                "supplier:N", scale=theme.actor_scale(contract_view["supplier"]), legend=None
            ),
            fill=alt.Fill(
                "price:N",
                scale=alt.Scale(
                    domain=["price reported", "no price published"],
                    range=[theme.MUTED_INK, "white"],
                ),
                title=None,
                # The legend draws the marks: rings of the same size and stroke, filled or hollow.
                legend=alt.Legend(
                    symbolType="circle",
                    symbolSize=180,
                    symbolStrokeWidth=2,
                    symbolStrokeColor=theme.MUTED_INK,
                ),
            ),
            tooltip=[
                alt.Tooltip("supplier:N", title="Supplier"),
                alt.Tooltip("item:N", title="What"),
                alt.Tooltip("value:Q", title="US$ million (as reported)"),
                alt.Tooltip("claimant:N", title="Reported by"),
                alt.Tooltip("date_reported:T", title="Reported", format="%b %Y"),
            ],
        )
        .properties(height=110)
    )


def claims_chart(claims: pd.DataFrame):
    """Each side's dated casualty claims, one point per claim, coloured by claimant."""
    return charts.persons_claimed(claims, category="category", note="description")


def spending_chart(milex: pd.DataFrame) -> alt.Chart:
    """Military spending as a share of GDP, one line per state."""
    return (
        alt.Chart(milex)
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(
            x=alt.X("year:Q", title="Year", axis=alt.Axis(format="d")),
            y=alt.Y("pct_gdp:Q", title="Military spending (% of GDP)"),
            color=alt.Color("state:N", scale=theme.actor_scale(milex["state"]), title=None),
            tooltip=[
                alt.Tooltip("state:N", title="State"),
                alt.Tooltip("year:Q", title="Year", format="d"),
                alt.Tooltip("pct_gdp:Q", title="% of GDP", format=".2f"),
            ],
        )
        .properties(height=260)
    )
