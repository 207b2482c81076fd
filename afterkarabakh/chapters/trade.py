"""Trade pressure: the sums and charts of the chapter on Russia's economic weapon.

The annual tables are derived here from the raw ArmStat rows in ``data/raw/`` so a
reader can rerun every sum; the charts are built here so the notebook cells stay short.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import text, theme

#: Litres in one bottle, the unit Georgia's National Wine Agency counts in (a standard 0.75 l bottle).
LITRES_PER_BOTTLE = 0.75

COUNTRY_NAMES = {"ARM": "Armenia", "GEO": "Georgia", "MDA": "Moldova", "UKR": "Ukraine"}
#: Lanes of the timeline, west to east.
LANES = ["Moldova", "Ukraine", "Georgia", "Armenia"]
#: The re-export boom: exports to Russia took off from April 2022 (see the chapter for the source).
REEXPORT_START = pd.Timestamp("2022-04-01")


def annual_trade_with_russia(monthly: pd.DataFrame) -> pd.DataFrame:
    """Armenia's trade with Russia by year, in US$ million, summed from the monthly ArmStat rows.

    ``months`` says how many months a year holds (2024 has only January–March), so a partial
    year is never read as a full one.
    """
    frame = monthly.assign(
        **{c: monthly[c].astype(float) for c in ("export", "import_origin", "import_consignment")}
    )
    annual = frame.groupby("year").agg(
        months=("month", "nunique"),
        exports=("export", "sum"),
        imports_origin=("import_origin", "sum"),
        imports_consignment=("import_consignment", "sum"),
    )
    annual[["exports", "imports_origin", "imports_consignment"]] /= 1000  # thousand -> million US$
    annual["balance_origin"] = annual["exports"] - annual["imports_origin"]
    annual["complete"] = annual["months"] == 12
    return annual.reset_index()


def monthly_long(monthly: pd.DataFrame) -> pd.DataFrame:
    """Exports and imports (by origin) per month in US$ million, one row per month and flow."""
    rows = monthly.melt(
        id_vars=["date", "source_id"],
        value_vars=["export", "import_origin"],
        var_name="flow",
        value_name="thousand_usd",
    )
    rows["usd_m"] = rows["thousand_usd"].astype(float) / 1000
    rows["flow"] = rows["flow"].map(
        {"export": "Exports to Russia", "import_origin": "Imports from Russia (origin)"}
    )
    return rows.sort_values(["flow", "date"])


def exports_by_region(regions: pd.DataFrame, keep=("EAEU", "EU")) -> pd.DataFrame:
    """Armenia's exports to the chosen partner regions by year, in US$ million."""
    frame = regions[regions["partner_region"].isin(keep)].copy()
    frame["usd_m"] = frame["trade_value_us"].astype(float) / 1e6
    return frame.sort_values(["partner_region", "year"])


def wine_series(wine: pd.DataFrame) -> pd.DataFrame:
    """Wine exports in million litres (bottles converted at 0.75 l) and Russia's share in percent.

    Shares are taken as reported; where a year has total and Russian volumes but no reported
    share, the share is computed from the two (same unit, same year). ``share_basis`` says which.
    """
    frame = wine.copy()
    frame["value"] = frame["value"].astype(float)
    bottles = frame["unit"] == "million bottles"
    frame.loc[bottles, "value"] = frame.loc[bottles, "value"] * LITRES_PER_BOTTLE
    frame.loc[bottles, "unit"] = "million litres"
    frame["country"] = frame["country_iso3"].map(COUNTRY_NAMES)
    volumes = frame[frame["measure"] == "total exports"].rename(columns={"value": "million_litres"})
    shares = frame[frame["measure"] == "share to Russia"].rename(columns={"value": "share_pct"})
    shares = shares.assign(share_basis="as reported")
    pivot = (
        frame[frame["unit"] == "million litres"]
        .pivot_table(index=["country_iso3", "country", "year"], columns="measure", values="value")
        .reset_index()
    )
    computed = pivot.dropna(subset=["total exports", "exports to Russia"])
    computed = computed[
        ~computed.set_index(["country_iso3", "year"]).index.isin(
            shares.set_index(["country_iso3", "year"]).index
        )
    ]
    computed = computed.assign(
        share_pct=computed["exports to Russia"] / computed["total exports"] * 100,
        share_basis="computed from the two volumes",
    )
    sources = frame[frame["measure"] == "exports to Russia"][["country_iso3", "year", "source_id"]]
    computed = computed.merge(sources, on=["country_iso3", "year"])
    columns = ["country_iso3", "country", "year", "share_pct", "share_basis", "source_id"]
    share_rows = pd.concat([shares[columns], computed[columns]]).sort_values(["country", "year"])
    volume_rows = volumes[
        ["country_iso3", "country", "year", "million_litres", "source_id"]
    ].sort_values(["country", "year"])
    return volume_rows.reset_index(drop=True), share_rows.reset_index(drop=True)


def _lane(frame: pd.DataFrame) -> pd.Series:
    return frame["country_iso3"].map(COUNTRY_NAMES)


#: A legend symbol shaped like a bar with its start mark (Vega symbol path, unit square).
BAR_SYMBOL = "M-1,-0.3H1V0.3H-1Z M-1,-0.8H-0.6V0.8H-1Z"


def pressure_timeline(
    measures: pd.DataFrame, milestones: pd.DataFrame, today: pd.Timestamp
) -> alt.LayerChart:
    """Russian trade measures (bars, or a start mark where no end is known) and EU milestones (diamonds)."""
    bans = measures.assign(country=_lane(measures), kind="Russian trade measure")
    bans["end_shown"] = bans["date_end"].fillna(bans["date_start"])
    bans["end_text"] = (
        bans["date_end"].dt.strftime("%-d %b %Y").fillna("no lifting found in the sources")
    )
    bans["start_text"] = (
        bans["date_start"]
        .dt.strftime("%-d %b %Y")
        .where(bans["date_start_precision"] == "day", bans["date_start"].dt.strftime("%b %Y"))
    )
    eu = milestones.assign(country=_lane(milestones), kind="EU milestone")
    colour = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(
            domain=["Russian trade measure", "EU milestone"],
            range=[theme.ACTOR_COLOURS["Russia"], theme.ACTOR_COLOURS["EU and the West"]],
        ),
    )
    # The legend draws each kind as its marks are drawn: a bar for a measure, a diamond for a milestone.
    shape = alt.Shape(
        "kind:N",
        title=None,
        scale=alt.Scale(
            domain=["Russian trade measure", "EU milestone"], range=[BAR_SYMBOL, "diamond"]
        ),
        legend=alt.Legend(symbolSize=220, symbolStrokeWidth=0),
    )
    x = alt.X(
        "date_start:T",
        title="Year",
        scale=alt.Scale(domain=[pd.Timestamp("2005-07-01"), today]),
        axis=alt.Axis(format="%Y", tickCount=10),
    )
    y = alt.Y("country:N", sort=LANES, title=None)
    offset = alt.YOffset("kind:N", sort=["Russian trade measure", "EU milestone"])
    ban_tip = [
        alt.Tooltip("country:N", title="Country"),
        alt.Tooltip("product:N", title="Product"),
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("agency:N", title="Agency"),
        alt.Tooltip("start_text:N", title="From"),
        alt.Tooltip("end_text:N", title="Until"),
        alt.Tooltip("stated_reason:N", title="Stated reason"),
        alt.Tooltip("political_context:N", title="Political context"),
    ]
    base = alt.Chart(bans).encode(y=y, yOffset=offset, color=colour, tooltip=ban_tip)
    bars = base.mark_bar(height=8, opacity=0.75).encode(x=x, x2="end_shown:T")
    starts = base.mark_tick(thickness=3, size=16).encode(x=x)
    marks = (
        alt.Chart(eu)
        .mark_point(shape="diamond", filled=True, size=110, opacity=0.95, stroke="white")
        .encode(
            x=alt.X("date:T"),
            y=y,
            yOffset=offset,
            color=colour,
            shape=shape,
            tooltip=[
                alt.Tooltip("country:N", title="Country"),
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("milestone:N", title="Milestone"),
                alt.Tooltip("description:N", title="What happened"),
            ],
        )
    )
    return alt.layer(bars, starts, marks).properties(width=theme.WIDTH - 60, height=alt.Step(22))


def trade_chart(long: pd.DataFrame, reexport_end: pd.Timestamp) -> alt.LayerChart:
    """Monthly exports to and imports from Russia, with the re-export period shaded."""
    band = pd.DataFrame(
        {
            "start": [REEXPORT_START],
            "end": [reexport_end],
            "label": ["Re-export boom"],
            "period": ["Re-export boom, from April 2022"],
        }
    )
    colour = alt.Color(
        "flow:N",
        title=None,
        scale=alt.Scale(
            domain=["Exports to Russia", "Imports from Russia (origin)"],
            range=[theme.ACTOR_COLOURS["Armenia"], theme.ACTOR_COLOURS["Russia"]],
        ),
    )
    shade = (
        alt.Chart(band)
        .mark_rect(color=theme.SHADE)
        .encode(x="start:T", x2="end:T", tooltip=[alt.Tooltip("period:N", title="Period")])
    )
    label = (
        alt.Chart(band)
        .mark_text(align="left", dx=4, dy=8, baseline="top", color=theme.MUTED_INK, fontSize=10)
        .encode(x="start:T", y=alt.value(0), text="label:N")
    )
    lines = (
        alt.Chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=14))
        .encode(
            x=alt.X("date:T", title="Month", axis=alt.Axis(format="%Y")),
            y=alt.Y("usd_m:Q", title="US$ million per month"),
            color=colour,
            tooltip=[
                alt.Tooltip("date:T", title="Month", format="%b %Y"),
                alt.Tooltip("flow:N", title="Flow"),
                alt.Tooltip("usd_m:Q", title="US$ million", format=",.1f"),
            ],
        )
    )
    return alt.layer(shade, label, lines).properties(height=280)


def wine_chart(
    volumes: pd.DataFrame, shares: pd.DataFrame, measures: pd.DataFrame
) -> alt.VConcatChart:
    """Two panels over the same years: total wine exports, and Russia's share, with each wine ban
    shaded from its start to its lifting. A ban whose lifting no source dates is drawn as a vertical
    line at its start only: the chart does not run a ban past the evidence for it."""
    wine_bans = measures[measures["product"].str.startswith("Wine")].assign(country=_lane)
    wine_bans = wine_bans.assign(
        label="Russian wine ban: " + wine_bans["country"],
        ban_country=wine_bans["country"],
        until=wine_bans["date_end"]
        .dt.strftime("%b %Y")
        .where(
            wine_bans["date_end_precision"] == "day", wine_bans["date_end"].dt.strftime("late %Y")
        )
        .fillna("no lifting found in the sources"),
    )
    lifted = wine_bans[wine_bans["date_end"].notna()]
    open_ended = wine_bans[wine_bans["date_end"].isna()]
    colour = alt.Color("country:N", title=None, scale=theme.actor_scale(volumes["country"]))
    x = alt.X(
        "year_date:T",
        title="Year",
        axis=alt.Axis(format="%Y"),
        scale=alt.Scale(domain=[pd.Timestamp("2004-07-01"), pd.Timestamp("2024-06-30")]),
    )
    tip = [
        alt.Tooltip("label:N", title="Ban"),
        alt.Tooltip("date_start:T", title="From", format="%b %Y"),
        alt.Tooltip("until:N", title="Until"),
    ]

    def shade():
        return alt.layer(
            *[
                alt.Chart(lifted[lifted["country"] == name])
                .mark_rect(opacity=0.12, color=theme.ACTOR_COLOURS[name])
                .encode(x=alt.X("date_start:T"), x2="date_end:T", tooltip=tip)
                for name in sorted(lifted["country"].unique())
            ],
            *[
                alt.Chart(open_ended[open_ended["country"] == name])
                .mark_rule(strokeWidth=3, opacity=0.5, color=theme.ACTOR_COLOURS[name])
                .encode(x=alt.X("date_start:T"), tooltip=tip)
                for name in sorted(open_ended["country"].unique())
            ],
        )

    vol = volumes.assign(year_date=pd.to_datetime(volumes["year"].astype(str) + "-07-01"))
    shr = shares.assign(year_date=pd.to_datetime(shares["year"].astype(str) + "-07-01"))
    top = alt.layer(
        shade(),
        alt.Chart(vol)
        .mark_line(point=alt.OverlayMarkDef(size=60), strokeDash=[4, 3])
        .encode(
            x=x,
            y=alt.Y("million_litres:Q", title="Wine exports (million litres)"),
            color=colour,
            tooltip=[
                alt.Tooltip("country:N", title="Country"),
                alt.Tooltip("year:Q", title="Year", format="d"),
                alt.Tooltip("million_litres:Q", title="Million litres", format=",.1f"),
            ],
        ),
    ).properties(height=170)
    bottom = alt.layer(
        shade(),
        alt.Chart(shr)
        .mark_line(point=alt.OverlayMarkDef(size=60), strokeDash=[4, 3])
        .encode(
            x=x,
            y=alt.Y(
                "share_pct:Q", title="Share going to Russia (%)", scale=alt.Scale(domain=[0, 100])
            ),
            color=colour,
            tooltip=[
                alt.Tooltip("country:N", title="Country"),
                alt.Tooltip("year:Q", title="Year", format="d"),
                alt.Tooltip("share_pct:Q", title="Share to Russia (%)", format=".0f"),
                alt.Tooltip("share_basis:N", title="Share"),
            ],
        ),
    ).properties(height=170)
    return alt.vconcat(top, bottom, spacing=10)


def region_chart(regions: pd.DataFrame) -> alt.LayerChart:
    """Armenia's exports to the EAEU and to the EU by year, with Armenia's accession to the EAEU marked."""
    colour = alt.Color(
        "partner_region:N",
        title=None,
        scale=alt.Scale(
            domain=["EAEU", "EU"],
            range=[theme.ACTOR_COLOURS["Russia"], theme.ACTOR_COLOURS["EU and the West"]],
        ),
    )
    lines = (
        alt.Chart(regions)
        .mark_line(point=alt.OverlayMarkDef(size=30))
        .encode(
            x=alt.X(
                "year:Q",
                title="Year",
                axis=alt.Axis(format="d", tickMinStep=1),
                scale=alt.Scale(domain=[2011, 2023]),
            ),
            y=alt.Y("usd_m:Q", title="Armenia's exports (US$ million)"),
            color=colour,
            tooltip=[
                alt.Tooltip("partner_region:N", title="Partner"),
                alt.Tooltip("year:Q", title="Year", format="d"),
                alt.Tooltip("usd_m:Q", title="US$ million", format=",.0f"),
            ],
        )
    )
    joined = pd.DataFrame({"year": [2015], "label": ["Armenia joins the EAEU"]})
    rule = alt.Chart(joined).mark_rule(strokeDash=[4, 3], color=theme.MUTED_INK).encode(x="year:Q")
    text = (
        alt.Chart(joined)
        .mark_text(align="left", dx=4, y=8, color=theme.MUTED_INK, fontSize=10)
        .encode(x="year:Q", text="label:N")
    )
    return alt.layer(lines, rule, text).properties(width=theme.WIDTH, height=260)


#: Measures whose start date the prose cites (glued as start_<id>), and those whose end it cites.
MEASURES_DATED_IN_PROSE = [
    "geo-2006-wine",
    "mda-2006-wine",
    "mda-2013-wine",
    "mda-2014-fruit",
    "ukr-2013-roshen",
    "ukr-2013-customs",
    "arm-2023-dairy",
    "arm-2023-brandy",
    "arm-2024-jermuk",
    "arm-2025-flowers",
    "arm-2026-flowers",
    "geo-2006-borjomi",
]
MEASURES_ENDED_IN_PROSE = ["geo-2006-wine", "mda-2014-fruit", "geo-2006-borjomi", "arm-2024-jermuk"]


def start_dates(measures: pd.DataFrame) -> dict:
    """Each cited measure's start, as the prose writes it: the day where known, else the month."""
    m = measures.set_index("measure_id")
    return {
        key: text.date(m.loc[key, "date_start"])
        if m.loc[key, "date_start_precision"] == "day"
        else m.loc[key, "date_start"].strftime("%B %Y")
        for key in MEASURES_DATED_IN_PROSE
    }


def levers_in_prose() -> dict[str, str]:
    """What the levers chapter finds, in words, for the sentence that points to it
    (:func:`afterkarabakh.chapters.levers.in_prose`)."""
    from . import levers  # here, not at the top: the levers module imports chapter modules

    return levers.in_prose()
