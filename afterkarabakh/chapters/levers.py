"""Tables and charts of the chapter "What Moscow still holds" (chapters/levers.ipynb).

The chapter measures Russia's economic levers in Armenia (gas, railway, nuclear plant, power
grid, money and market) from 2013 to the end of the data, and :func:`assessment` returns the
lever-by-lever judgment of what weakened after the commentary of October 2023, so any page
(the conclusion, the military, trade and aftermath chapters) can show it.
"""

from __future__ import annotations

import html

import altair as alt
import pandas as pd

from .. import charts, data, maps, tables, text, theme, verdicts
from . import aftermath, trade

#: The levers in the order the chapter takes them, with their names in prose.
LEVERS = {
    "gas": "Gas",
    "rail": "Railway",
    "nuclear": "Nuclear plant",
    "grid": "Power grid",
    "money": "Money",
    "market": "Market",
    "troops": "Base and border guards",
}

#: The levers as prose names them ("the railway and the nuclear plant").
IN_PROSE = {
    "gas": "gas",
    "rail": "the railway",
    "nuclear": "the nuclear plant",
    "grid": "the power grid",
    "money": "money",
    "market": "the market",
    "troops": "the military presence",
}

#: The three assessments, in the order a table lists them.
ASSESSMENTS = ["weakened since October 2023", "not weakened", "used by Russia as pressure"]

#: The commentary's publication (read from the source registry): the "since then" period starts here.
COMMENTARY = verdicts.commentary_date()
#: The dashboard's time frame: from Armenia's turn to the EAEU to the end of the data.
START = pd.Timestamp("2013-01-01")

#: Holder kinds that count as Russian for the ownership and control series.
RUSSIAN_KINDS = {"Russian state company", "Russia-based private owner"}


def when(day, precision: str = "day") -> str:
    """A date as precisely as it is known: '17 September 2015', 'April 2017' or '2006'."""
    day = pd.Timestamp(day)
    if precision == "year":
        return f"{day:%Y}"
    if precision == "month":
        return f"{day:%B %Y}"
    return text.date(day)


def words(n: int) -> str:
    """A small count as a writer writes it ('seven', 'no'); :func:`afterkarabakh.text.words`."""
    return text.words(n, zero="no")


def sentence_case(phrase: str) -> str:
    """The first letter upper-case, the rest untouched ('Used by Russia as pressure')."""
    return phrase[:1].upper() + phrase[1:]


def midpoint(start, end) -> pd.Timestamp:
    """The middle day of a period (where a chart places a yearly or half-yearly figure)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    return (start + (end - start) / 2).normalize()


# --- gas ------------------------------------------------------------------------------------------


def gas_shares(imports: pd.DataFrame) -> pd.DataFrame:
    """Russia's share of Armenia's natural gas imports by weight, per year (ArmStat rows).

    ``months`` is the number of months a year holds (2023 has nine), and ``weight_russia_kt``
    and ``weight_all_kt`` are in thousand tonnes. Rows from areas not specified count in
    the total, so the share is never flattered by leaving gas out.
    """
    frame = imports.assign(weight=imports["netweight_kg"].astype(float))
    annual = frame.groupby("year").agg(
        months=("month", "nunique"),
        weight_all=("weight", "sum"),
        source_id=("source_id", "first"),
    )
    russia = frame[frame["partner_iso"] == "RUS"].groupby("year")["weight"].sum()
    annual["weight_russia"] = russia
    annual["share_pct"] = 100 * annual["weight_russia"] / annual["weight_all"]
    annual[["weight_all_kt", "weight_russia_kt"]] = (
        annual[["weight_all", "weight_russia"]].to_numpy() / 1e6
    )
    annual = annual.drop(columns=["weight_all", "weight_russia"]).reset_index()
    annual["year"] = annual["year"].astype(int)
    annual["complete"] = annual["months"] == 12
    return annual


def reported_gas_shares(reported: pd.DataFrame) -> pd.DataFrame:
    """Russia's share of gas imports where one claimant gives both suppliers for one period.

    A claimant's total ("all suppliers") is used where it gives one; otherwise Russia and Iran
    are added. Periods with only one supplier's volume give no share.
    """
    rows = []
    for (start, end, claimant), group in reported.groupby(
        ["period_start", "period_end", "claimant"]
    ):
        by = group.set_index("supplier")["volume_mcm"].astype(float)
        if "Russia" not in by:
            continue
        total = by.get("all suppliers")
        if total is None or pd.isna(total):
            if "Iran" not in by:
                continue
            total = by["Russia"] + by["Iran"]
        rows.append(
            {
                "period_start": start,
                "period_end": end,
                "claimant": claimant,
                "russia_mcm": by["Russia"],
                "total_mcm": total,
                "share_pct": 100 * by["Russia"] / total,
                "source_id": group["source_id"].iloc[0],
            }
        )
    return pd.DataFrame(rows).sort_values("period_start").reset_index(drop=True)


def price_series(prices: pd.DataFrame, end=None) -> pd.DataFrame:
    """The border price as a step series: one row per reported price, and one at ``end``.

    The last row repeats the latest price at the end of the data, marked as carried forward,
    so a chart can draw it to the end without claiming a new report.
    """
    frame = prices.sort_values("date").reset_index(drop=True)
    frame["price"] = frame["price_usd_per_1000m3"].astype(float)
    frame["carried"] = False
    end = pd.Timestamp(end) if end is not None else data.as_of()
    last = frame.iloc[[-1]].assign(date=end, carried=True)
    return pd.concat([frame, last], ignore_index=True)


# --- ownership and control ------------------------------------------------------------------------


def russian_held(stakes: pd.DataFrame) -> pd.DataFrame:
    """The share of each asset held or run by a Russian or Russia-based holder, at each change.

    A row held by the Armenian state counts as 0% Russian-held from its date (the state took
    over management, so the Russian-based owner no longer runs the asset, whatever it still
    owns); a Russian holder's row counts its own share.
    """
    frame = stakes.sort_values(["asset", "date"]).copy()
    frame["russian_pct"] = [
        float(s) if kind in RUSSIAN_KINDS else 100.0 - float(s)
        for s, kind in zip(frame["share_pct"], frame["holder_kind"])
    ]
    return frame.reset_index(drop=True)


def held_on(stakes: pd.DataFrame, asset: str, day) -> float:
    """The Russian-held share of one asset on a given day (NaN before the first observation)."""
    frame = russian_held(stakes)
    frame = frame[(frame["asset"] == asset) & (frame["date"] <= pd.Timestamp(day))]
    return float(frame["russian_pct"].iloc[-1]) if len(frame) else float("nan")


# --- money and market -----------------------------------------------------------------------------


def transfer_shares(transfers: pd.DataFrame) -> pd.DataFrame:
    """Russia's share of transfers wherever one report gives both the total and Russia's part."""
    frame = transfers.dropna(subset=["inflow_total_usd_m", "inflow_russia_usd_m"]).copy()
    frame["share_pct"] = (
        100 * frame["inflow_russia_usd_m"].astype(float) / frame["inflow_total_usd_m"].astype(float)
    )
    frame["months"] = (
        (frame["period_end"].dt.year - frame["period_start"].dt.year) * 12
        + frame["period_end"].dt.month
        - frame["period_start"].dt.month
        + 1
    )
    return frame.sort_values(["period_start", "obs_id"]).reset_index(drop=True)


def trade_shares(monthly: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """Russia's share of Armenia's goods trade per complete year (imports by origin, ArmStat).

    Trade with Russia is summed from the monthly rows; totals are the December 12-month
    totals. Years without twelve months of trade with Russia are left out.
    """
    russia = trade.annual_trade_with_russia(monthly)
    russia = russia[russia["complete"]]
    totals = totals.assign(year=totals["period"].dt.year)
    frame = russia.merge(totals, on="year")
    frame["total_usd_m"] = (frame["M"].astype(float) + frame["X"].astype(float)) / 1e6
    frame["russia_usd_m"] = frame["exports"] + frame["imports_origin"]
    frame["share_pct"] = 100 * frame["russia_usd_m"] / frame["total_usd_m"]
    return frame[["year", "russia_usd_m", "total_usd_m", "share_pct", "source_id"]]


def export_shares(regions: pd.DataFrame, keep=("EAEU", "EU")) -> pd.DataFrame:
    """Each partner region's share of Armenia's exports per year, from 2013 (ArmStat)."""
    frame = regions.assign(value=regions["trade_value_us"].astype(float))
    frame["share_pct"] = 100 * frame["value"] / frame.groupby("year")["value"].transform("sum")
    frame = frame[frame["partner_region"].isin(keep) & (frame["year"] >= START.year)]
    return frame.sort_values(["partner_region", "year"]).reset_index(drop=True)


# --- the dashboard --------------------------------------------------------------------------------

#: Dashboard panels (one per lever) and the series they hold, with their short names.
PANELS = {
    "gas": "Gas",
    "nuclear": "Nuclear plant",
    "rail": "Railway",
    "grid": "Power grid",
    "money": "Money",
    "market": "Market",
}


def _point(panel, series, actor, day, share, source_id, low=None, basis="computed", label=""):
    return {
        "panel": PANELS[panel],
        "series": series,
        "actor": actor,
        "date": pd.Timestamp(day),
        "share_pct": float(share),
        "share_low": float(low) if low is not None and not pd.isna(low) else float(share),
        "basis": basis,
        "period": label,
        "source_id": source_id,
    }


def _steps(stakes: pd.DataFrame, asset: str, panel: str, series: str, end) -> list[dict]:
    """A stake series clipped to the dashboard's frame: the share in force at START, each
    change after it, and the share at ``end``."""
    held = russian_held(stakes)
    held = held[held["asset"] == asset]
    before = held[held["date"] <= START]
    rows = []
    if len(before):
        first = before.iloc[-1]
        rows.append(
            _point(
                panel,
                series,
                "Russia",
                START,
                first["russian_pct"],
                first["source_id"],
                label=f"in force since {when(first['date'], first['date_precision'])}",
            )
        )
    for r in held[held["date"] > START].itertuples():
        rows.append(
            _point(
                panel,
                series,
                "Russia",
                r.date,
                r.russian_pct,
                r.source_id,
                label=f"from {when(r.date, r.date_precision)}",
            )
        )
    last = held.iloc[-1]
    rows.append(
        _point(
            panel,
            series,
            "Russia",
            end,
            last["russian_pct"],
            last["source_id"],
            label="end of the data",
        )
    )
    return rows


def dashboard_frame(
    gas_imports,
    gas_reported,
    stakes,
    shares_reported,
    transfers,
    monthly,
    totals,
    regions,
    end=None,
) -> pd.DataFrame:
    """Every share the dashboard draws, one row per observation, 0–100 on one scale.

    ``basis`` says whether the book computed the share from volumes or values in the data
    ("computed") or a source stated it ("reported"); a reported range keeps its lower end in
    ``share_low``.

    Kept for the data and the frames it is drawn from (:func:`data.kept`: 30-40 ms of pandas).
    """
    arguments = (gas_imports, gas_reported, stakes, shares_reported, transfers, monthly, totals)
    arguments += (regions, end)
    return data.kept(
        "levers-dashboard",
        lambda: _dashboard_frame(*arguments),
        arguments=arguments,
    )


def _dashboard_frame(
    gas_imports, gas_reported, stakes, shares_reported, transfers, monthly, totals, regions, end
) -> pd.DataFrame:
    end = pd.Timestamp(end) if end is not None else data.as_of()
    rows = []
    for r in gas_shares(gas_imports).itertuples():
        label = str(r.year) if r.complete else f"{r.year} (January–September)"
        day = midpoint(f"{r.year}-01-01", f"{r.year}-{r.months:02d}-28")
        rows.append(
            _point(
                "gas",
                "Gas imports from Russia",
                "Russia",
                day,
                r.share_pct,
                r.source_id,
                label=label,
            )
        )
    for r in reported_gas_shares(gas_reported).itertuples():
        rows.append(
            _point(
                "gas",
                "Gas imports from Russia",
                "Russia",
                midpoint(r.period_start, r.period_end),
                r.share_pct,
                r.source_id,
                basis="reported",
                label=f"{r.claimant} (volumes)",
            )
        )
    rows += _steps(stakes, "gas importer and network", "gas", "Gazprom's stake in the network", end)
    for r in shares_reported.itertuples():
        series = {
            "Russia's share of gas imports": ("gas", "Gas imports from Russia"),
            "Nuclear plant's share of electricity generated": ("nuclear", "Plant's share of power"),
            "Russia's share of nuclear fuel supplied": ("nuclear", "Fuel from Russia"),
            "Russia's share of Armenia's goods trade": ("market", "Trade with Russia"),
            "Russia's share of wheat imports": ("market", "Wheat from Russia"),
        }.get(r.indicator)
        if series is None:
            continue
        rows.append(
            _point(
                series[0],
                series[1],
                "Russia",
                midpoint(r.period_start, r.period_end),
                r.share_high,
                r.source_id,
                low=r.share_low,
                basis="reported",
                label=f"{r.claimant}",
            )
        )
    rows += _steps(stakes, "railway network", "rail", "Run by the Russian concessionaire", end)
    rows += _steps(
        stakes,
        "electricity distribution network",
        "grid",
        "Run by a Russian or Russia-based owner",
        end,
    )
    money = transfer_shares(transfers)
    money = money[money["basis"] == "all transfers of individuals through banks"]
    for r in money.itertuples():
        rows.append(
            _point(
                "money",
                "Transfers from Russia",
                "Russia",
                midpoint(r.period_start, r.period_end),
                r.share_pct,
                r.source_id,
                label=f"{text.date_span(r.period_start, r.period_end)} ({r.claimant})",
            )
        )
    for r in trade_shares(monthly, totals).itertuples():
        rows.append(
            _point(
                "market",
                "Trade with Russia",
                "Russia",
                midpoint(f"{r.year}-01-01", f"{r.year}-12-31"),
                r.share_pct,
                r.source_id,
                label=str(r.year),
            )
        )
    for r in export_shares(regions).itertuples():
        actor = "Russia" if r.partner_region == "EAEU" else "EU and the West"
        rows.append(
            _point(
                "market",
                f"Exports to the {r.partner_region}",
                actor,
                midpoint(f"{r.year}-01-01", f"{r.year}-12-31"),
                r.share_pct,
                r.source_id,
                label=str(r.year),
            )
        )
    frame = pd.DataFrame(rows)
    frame = frame[frame["date"] >= START].sort_values(["panel", "series", "date"])
    return frame.assign(segment=_segments(frame)).reset_index(drop=True)


#: A computed series is broken where two observations are further apart than this, so a line
#: never bridges years the data do not hold.
MAX_GAP = pd.Timedelta(days=550)


def _segments(frame: pd.DataFrame) -> list[str]:
    """A segment name per row: the series, numbered anew after each gap in a computed series.

    Holdings (drawn as steps) are never broken: a share holds until the next change.
    """
    names, last, count = [], {}, {}
    for series, day, basis in zip(frame["series"], frame["date"], frame["basis"]):
        gap = series in last and day - last[series] > MAX_GAP
        if basis == "computed" and series not in STEP_SERIES and gap:
            count[series] = count.get(series, 0) + 1
        if basis == "computed":
            last[series] = day
        names.append(f"{series} {count.get(series, 0)}")
    return names


#: The dashboard's series, in legend order, and the mark each is drawn with.
SERIES_SHAPES = {
    "Gas imports from Russia": "circle",
    "Gazprom's stake in the network": "square",
    "Plant's share of power": "diamond",
    "Fuel from Russia": "triangle-up",
    "Run by the Russian concessionaire": "square",
    "Run by a Russian or Russia-based owner": "square",
    "Transfers from Russia": "circle",
    "Trade with Russia": "circle",
    "Exports to the EAEU": "triangle-up",
    "Exports to the EU": "triangle-down",
    "Wheat from Russia": "diamond",
}
#: Series that are holdings, drawn as steps (a share holds until the next change).
STEP_SERIES = {
    "Gazprom's stake in the network",
    "Run by the Russian concessionaire",
    "Run by a Russian or Russia-based owner",
}


def dashboard_chart(frame: pd.DataFrame, columns: int = 2) -> alt.FacetChart:
    """Small multiples, one panel per lever, every share on the same 0–100% scale.

    Computed yearly shares are joined by lines, holdings by steps (a share holds until the
    next change); reported claims are points, a reported range a bar between its ends.
    """
    series = [s for s in SERIES_SHAPES if s in set(frame["series"])]
    frame = frame.assign(
        draw=[
            "step" if s in STEP_SERIES else "line" if b == "computed" else "claim"
            for s, b in zip(frame["series"], frame["basis"])
        ]
    )
    x = alt.X(
        "date:T",
        title=None,
        axis=alt.Axis(format="%Y", tickCount=5, labelAngle=0),
        scale=alt.Scale(domain=[START.isoformat(), frame["date"].max().isoformat()]),
    )
    y = alt.Y(
        "share_pct:Q",
        title="Share (%)",
        scale=alt.Scale(domain=[0, 100]),
        axis=alt.Axis(values=[0, 25, 50, 75, 100]),
    )
    # One colour per actor (Russia, the EU) without a legend of its own: the series legend names
    # each series, and the EU's is the only one not Russia's.
    colour = alt.Color("actor:N", scale=theme.actor_scale(frame["actor"]), legend=None)
    shape = alt.Shape(
        "series:N",
        scale=alt.Scale(domain=series, range=[SERIES_SHAPES[s] for s in series]),
        title="Series",
        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=300),
    )
    tooltip = [
        alt.Tooltip("series:N", title="Series"),
        alt.Tooltip("period:N", title="Period or claimant"),
        alt.Tooltip("share_low:Q", title="Share, low end (%)", format=".0f"),
        alt.Tooltip("share_pct:Q", title="Share (%)", format=".0f"),
        alt.Tooltip("basis:N", title="Computed or reported"),
    ]
    base = alt.Chart().encode(x=x, y=y, color=colour, detail="segment:N")
    lines = base.transform_filter(alt.datum.draw == "line").mark_line(strokeWidth=1.8)
    steps = base.transform_filter(alt.datum.draw == "step").mark_line(
        strokeWidth=2.2, interpolate="step-after"
    )
    ranges = (
        base.transform_filter(alt.datum.share_low < alt.datum.share_pct)
        .mark_rule(strokeWidth=3, opacity=0.5)
        .encode(y2="share_low:Q")
    )
    points = (
        base.transform_filter(alt.datum.period != "end of the data")
        .mark_point(filled=True, size=45, opacity=0.95)
        .encode(shape=shape, tooltip=tooltip)
    )
    panel = alt.layer(lines, steps, ranges, points).properties(
        width=theme.WIDTH / 2 - 40, height=130
    )
    return panel.facet(
        facet=alt.Facet(
            "panel:N",
            title=None,
            sort=list(PANELS.values()),
            header=alt.Header(
                labelFontWeight=600, labelFontSize=12, labelAnchor="start", labelColor=theme.INK
            ),
        ),
        columns=columns,
        data=frame,
        spacing={"row": 16, "column": 14},
    )


# --- the gas price --------------------------------------------------------------------------------


def price_chart(series: pd.DataFrame) -> alt.LayerChart:
    """The border price as steps, a point at each reported price (none at the carried end)."""
    colour = theme.ACTOR_COLOURS["Russia"]
    base = alt.Chart(series).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount=8)),
        y=alt.Y(
            "price:Q",
            title="US$ per 1,000 m³ at the border",
            scale=alt.Scale(domain=[0, 220]),
        ),
    )
    tooltip = [
        alt.Tooltip("date:T", title="Date", format="%B %Y"),
        alt.Tooltip("price:Q", title="US$ per 1,000 m³"),
        alt.Tooltip("observation:N", title="Set from, or in force"),
        alt.Tooltip("claimant:N", title="Reported by"),
    ]
    return alt.layer(
        base.mark_line(interpolate="step-after", color=colour, strokeWidth=2.5),
        base.transform_filter(~alt.datum.carried)
        .mark_point(filled=True, size=70, color=colour)
        .encode(tooltip=tooltip),
        base.transform_filter(~alt.datum.carried)
        # Set to the right of each point, so the first price clears the axis's labels.
        .mark_text(dy=-10, dx=-2, align="left", fontSize=11, color=theme.INK)
        .encode(text=alt.Text("price:Q", format="$,.0f")),
    ).properties(width=theme.WIDTH, height=220)


# --- money ----------------------------------------------------------------------------------------


def transfers_long(transfers: pd.DataFrame) -> pd.DataFrame:
    """Whole-year transfers on the broad basis, total and from Russia, one row per year and flow."""
    frame = transfer_shares(transfers)
    frame = frame[
        (frame["months"] == 12) & (frame["basis"] == "all transfers of individuals through banks")
    ].copy()
    frame["year"] = frame["period_start"].dt.year.astype(str)
    long = frame.melt(
        id_vars=["year", "source_id", "claimant", "share_pct"],
        value_vars=["inflow_total_usd_m", "inflow_russia_usd_m"],
        var_name="flow",
        value_name="usd_m",
    )
    long["flow"] = long["flow"].map(
        {"inflow_total_usd_m": "From all countries", "inflow_russia_usd_m": "From Russia"}
    )
    long["actor"] = long["flow"].map({"From all countries": "Others", "From Russia": "Russia"})
    long["usd_bn"] = long["usd_m"].astype(float) / 1000
    return long.sort_values(["year", "flow"]).reset_index(drop=True)


def transfers_chart(long: pd.DataFrame) -> alt.Chart:
    """Bars per year: all transfers and those from Russia, side by side."""
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("flow:N", sort=["From all countries", "From Russia"]),
            y=alt.Y("usd_bn:Q", title="Transfers into Armenia (US$ billion)"),
            color=alt.Color(
                "actor:N",
                scale=theme.actor_scale(long["actor"]),
                title=None,
                legend=alt.Legend(
                    labelExpr="datum.label == 'Russia' ? 'From Russia' : 'From all countries'"
                ),
            ),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("flow:N", title="Transfers"),
                alt.Tooltip("usd_bn:Q", title="US$ billion", format=".2f"),
                alt.Tooltip("share_pct:Q", title="Russia's share (%)", format=".0f"),
                alt.Tooltip("claimant:N", title="Figures of"),
            ],
        )
        .properties(width=theme.WIDTH, height=240)
    )


#: Relocant measures that count people, with the short names the chart gives them (the
#: registrations of companies are in the prose).
PEOPLE = {
    "Russian citizens counted arriving in Armenia": "Arrivals counted",
    "Russian citizens who moved to Armenia and stayed": "Came and stayed",
    "Residence permit requests from citizens of Russia and other EAEU states": "Asked for residence",
}


def relocant_claims(relocants: pd.DataFrame) -> pd.DataFrame:
    """The estimates that count people, with the claimant and period written for the chart."""
    frame = relocants[relocants["measure"].isin(list(PEOPLE))].copy()
    frame["who"] = [
        f"{c.split(' (')[0]}, {e:%Y}" for c, e in zip(frame["claimant"], frame["period_end"])
    ]
    frame["counted"] = pd.Categorical(
        frame["measure"].map(PEOPLE), list(PEOPLE.values()), ordered=True
    )
    frame[["value_low", "value_high"]] = frame[["value_low", "value_high"]].astype(float)
    return frame.sort_values("counted").assign(counted=lambda f: f["counted"].astype(str))


# --- the timeline of steps ------------------------------------------------------------------------

#: Steps on the market lever that the book's events dataset already holds (not repeated).
MARKET_EVENTS = [
    "2024-06-25-overchuk-eu-eaeu-incompatible",
    "2025-03-26-eu-accession-law",
    "2025-06-03-russian-flower-curbs-warning",
    "2026-05-22-russian-flower-import-ban",
    "2026-05-29-eaeu-pressure-on-armenia",
]


def steps_frame(steps: pd.DataFrame, events: pd.DataFrame, since=START) -> pd.DataFrame:
    """The dated steps from ``since``, with the market events of the events dataset added."""
    chosen = events.set_index("event_id").loc[MARKET_EVENTS].reset_index()
    chosen = chosen.assign(lever="market", step_id=chosen["event_id"])
    columns = ["step_id", "lever", "date", "title", "description", "source_id"]
    frame = pd.concat([steps[columns], chosen[columns]], ignore_index=True)
    frame = frame[frame["date"] >= pd.Timestamp(since)]
    return frame.sort_values("date").reset_index(drop=True)


def steps_timeline(frame: pd.DataFrame, height: int = 230):
    """One lane per lever (not actors: colours from the book's series palette)."""
    labels = {k: v for k, v in LEVERS.items() if k in set(frame["lever"])}
    lanes = list(labels.values())
    scale = alt.Scale(domain=lanes, range=theme.SERIES_COLOURS[: len(lanes)])
    return charts.timeline(
        frame, row="lever", row_labels=labels, colour=scale, order=lanes, height=height
    )


# --- the map --------------------------------------------------------------------------------------

#: The map frame: Armenia, with Georgia up to the crossing from Russia.
MAP_EXTENT = (43.2, 38.7, 47.0, 42.95)
HELD = "Held by Russia or a Russian company"
TAKEN = "Taken over by the Armenian state (2025)"
ENDED = "Russian presence ended (2024–2025)"


def map_points(sites: pd.DataFrame, deployments: pd.DataFrame, gazetteer) -> pd.DataFrame:
    """One point per place and status: the levers' sites and the Russian military sites."""
    levers_ = sites.merge(gazetteer[["place_id", "label", "lon", "lat"]], on="place_id")
    levers_["status"] = levers_["holder_actor"].map({"Russia": HELD, "Armenia": TAKEN})
    military = aftermath.presence_places(deployments, gazetteer)
    military["status"] = military["status"].map({aftermath.PRESENT: HELD, aftermath.ENDED: ENDED})
    frame = pd.concat(
        [
            levers_[["place_id", "label", "lon", "lat", "status", "what", "source_id"]],
            military[["place_id", "label", "lon", "lat", "status", "what", "source_id"]],
        ]
    )
    west, south, east, north = MAP_EXTENT
    frame = frame[frame["lon"].between(west, east) & frame["lat"].between(south, north)]
    points = (
        frame.groupby(["place_id", "status"], sort=False)
        .agg(
            label=("label", "first"),
            lon=("lon", "first"),
            lat=("lat", "first"),
            what=("what", "; ".join),
            source_id=("source_id", "first"),
        )
        .reset_index()
    )
    return points


def map_lines(routes: pd.DataFrame, gazetteer) -> pd.DataFrame:
    """The schematic gas and rail lines as ordered points with coordinates."""
    frame = routes.merge(gazetteer[["place_id", "label", "lon", "lat"]], on="place_id")
    frame["line"] = frame["route_id"].map(
        {
            "gas-via-georgia": "Russian gas through Georgia (schematic)",
            "rail-via-georgia": "Railway to Georgia, the one open rail border (schematic)",
            "rail-to-yeraskh": "Railway to Yeraskh, closed beyond (schematic)",
        }
    )
    return frame.rename(columns={"route_id": "line_id"}).sort_values(["line_id", "order"])


def infrastructure_map(points: pd.DataFrame, lines: pd.DataFrame) -> alt.LayerChart:
    """Russian-held infrastructure in Armenia: lines for gas and rail, a point per site."""
    russia = theme.ACTOR_COLOURS["Russia"]
    scale = alt.Scale(
        domain=[HELD, TAKEN, ENDED],
        range=[russia, theme.ACTOR_COLOURS["Armenia"], theme.ACTOR_COLOURS["Others"]],
    )
    status = alt.Color(
        "status:N",
        scale=scale,
        title="Sites",
        legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=320),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Place"),
        alt.Tooltip("status:N", title="Status at the end of the data"),
        alt.Tooltip("what:N", title="What is there"),
    ]
    line_tip = [alt.Tooltip("line:N", title="Line"), alt.Tooltip("label:N", title="Place")]
    held = points["status"] == HELD
    # Sites that are no longer Russian-held are drawn larger and underneath, so a place with
    # both (Yerevan) shows a ring around the Russian point; only one of the two is labelled.
    under = points[~held].assign(
        label=lambda f: f["label"].where(~f["place_id"].isin(points.loc[held, "place_id"]), "")
    )
    gas = lines[lines["lever"] == "gas"]
    rail = lines[lines["lever"] == "rail"]
    return maps.compose(
        maps.base_map(extent=MAP_EXTENT, height=520),
        maps.lines(gas, colour=russia, tooltip=line_tip),
        maps.lines(rail, colour=theme.INK, dash=[5, 3], tooltip=line_tip),
        maps.points(
            under,
            colour=alt.Color("status:N", scale=scale, legend=None),
            size=230,
            tooltip=tooltip,
        ),
        maps.points(points[held], colour=status, size=90, tooltip=tooltip),
        extent=MAP_EXTENT,
    )


# --- the assessment -------------------------------------------------------------------------------


def _evidence(dataset: str, key: str, field: str) -> str:
    """One field of one row of a dataset (the row named by its primary key), as prose writes it:
    a date as precisely as the row knows it, a number with its unit from the schema."""
    row, resource = verdicts.dataset_row(dataset, key)  # keys unique: the loader checks them
    value = row[field]
    if isinstance(value, pd.Timestamp):
        precision = row.get(f"{field}_precision", row.get("date_precision", "day"))
        return when(value, precision if isinstance(precision, str) else "day")
    unit = resource.schema.get_field(field).custom.get("unit")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
        return f"{number} {unit}" if unit else number
    return str(value)


def assessment(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The lever-by-lever assessment, each row with the value of the evidence it rests on.

    Rows come from ``data/lever_assessment.csv`` (or ``frame``); ``evidence`` is the value
    of the cited field in words (a date, or a number with its unit), so a page can show the
    figure or date the judgment rests on. Raises
    if a lever of :data:`LEVERS` has no row, so no page can show a partial assessment.
    """
    frame = data.load("lever_assessment") if frame is None else frame.copy()
    missing = [lever for lever in LEVERS if lever not in set(frame["lever"])]
    if missing:
        raise ValueError(f"data/lever_assessment.csv has no row for the levers {missing}")
    frame["evidence"] = [
        _evidence(d, k, f)
        for d, k, f in zip(
            frame["evidence_dataset"], frame["evidence_key"], frame["evidence_field"]
        )
    ]
    order = {lever: i for i, lever in enumerate(LEVERS)}
    frame["_order"] = frame["lever"].map(order) * 10 + frame["assessment"].map(
        {a: i for i, a in enumerate(ASSESSMENTS)}
    )
    return frame.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def assessed(frame: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """The levers under each assessment, as prose names them, in the chapter's order."""
    frame = assessment(frame)
    return {
        a: [IN_PROSE[x] for x in frame.loc[frame["assessment"] == a, "lever"]] for a in ASSESSMENTS
    }


def in_prose(frame: pd.DataFrame | None = None) -> dict[str, str]:
    """The lever-by-lever judgment in words, for the sentences of other chapters that point to
    this one: how many levers ('seven') and economic levers ('six'), those that left Russian
    hands ('the power grid'), those that weakened since October 2023 and those that did not
    (troops apart), and what the assessment says of the market."""
    frame = assessment(frame)
    economic = frame[frame["lever"] != "troops"]
    holders = economic.drop_duplicates("lever")
    by = assessed(frame)
    troops = IN_PROSE["troops"]
    return {
        "n_levers": text.words(len(LEVERS)),
        "n_economic": text.words(len(LEVERS) - 1),
        "changed_hands": text.listing(
            [IN_PROSE[x] for x in holders.loc[holders["holder_actor"] != "Russia", "lever"]]
        ),
        "weakened": text.listing([x for x in by[ASSESSMENTS[0]] if x != troops]),
        "not_weakened": text.listing([x for x in by[ASSESSMENTS[1]] if x != troops]),
        "market": text.listing(list(economic.loc[economic["lever"] == "market", "assessment"])),
    }


def holdings_html(frame: pd.DataFrame | None = None) -> str:
    """The lever-by-lever table as HTML (see :func:`holdings_table`), kept for the data it is
    made from (:func:`data.kept`: two pages show it, 10-15 ms each)."""
    return data.kept(
        "levers-holdings",
        lambda: _holdings_html(frame),
        arguments=(frame,),
    )


def _holdings_html(frame: pd.DataFrame | None = None) -> str:
    """The table "lever, who holds it, since when, what changed since October 2023", as HTML.

    One row per lever; a lever with two assessments lists both, each with the source of the
    evidence it rests on.
    """
    frame = assessment(frame)
    rows = []
    for _, group in frame.groupby("lever", sort=False):
        first = group.iloc[0]
        since = (
            when(first["since"], first["since_precision"])
            if not pd.isna(first["since"])
            else "not dated in the data"
        )
        judged = "<br>".join(
            f"<strong>{html.escape(sentence_case(r.assessment))}</strong> "
            f"({html.escape(r.evidence)}; {tables.citation_html(r.source_id)})"
            for r in group.itertuples()
        )
        changed = " ".join(dict.fromkeys(group["what_changed"]))
        rows.append(
            f'<tr><th scope="row">{html.escape(first["lever_label"])}</th>'
            f"<td>{html.escape(first['holder'])}</td><td>{html.escape(since)}</td>"
            f"<td>{html.escape(changed)}</td><td>{judged}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{h}</th>'
        for h in (
            "Lever",
            "Who holds it",
            "Since",
            "What changed since October 2023",
            "Assessment (evidence)",
        )
    )
    return (
        '<div class="ak-table-wrap"><table class="table ak-table ak-levers">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def holdings_table(frame: pd.DataFrame | None = None):
    """The holdings table, displayed as the last expression of a notebook cell."""
    from IPython.display import HTML

    return HTML(holdings_html(frame))


# --- the railway ----------------------------------------------------------------------------------


def concession_terms(terms: pd.DataFrame, start) -> dict:
    """The concession's term, its end year counted from ``start``, and the extension each
    generation of reports gives (the sources of 2008 against the later ones).

    Raises if the sources disagree on the term itself, which the chapter states as agreed.
    """
    term = terms["term_years"].astype(int).unique()
    if len(term) != 1:
        raise ValueError(f"sources disagree on the concession's term: {sorted(term)}")
    early = terms[terms["reported"].dt.year == pd.Timestamp(start).year]
    late = terms[terms["reported"].dt.year > pd.Timestamp(start).year]
    return {
        "term": int(term[0]),
        "end": pd.Timestamp(start).year + int(term[0]),
        "extension_early": sorted(int(x) for x in early["extension_years"].unique()),
        "extension_late": sorted(int(x) for x in late["extension_years"].unique()),
        "late_first": late["reported"].min(),
    }


def dashboard_description(frame: pd.DataFrame) -> str:
    """The dashboard in words: each panel's series with its first and last share.

    Computed series are described by their own points; series that only sources state
    (the plant's share of power, wheat) by the claims.
    """
    parts = []
    for panel in PANELS.values():
        rows = frame[(frame["panel"] == panel) & (frame["period"] != "end of the data")]
        said = []
        for series, group in rows.groupby("series", sort=False):
            computed = group[group["basis"] == "computed"]
            group = (computed if len(computed) else group).sort_values("date")
            first, last = group.iloc[0], group.iloc[-1]
            if len(group) == 1:
                said.append(f"{series} {last['share_pct']:.0f}% ({last['date']:%Y})")
            else:
                said.append(
                    f"{series} from {first['share_pct']:.0f}% ({first['date']:%Y}) "
                    f"to {last['share_pct']:.0f}% ({last['date']:%Y})"
                )
        parts.append(f"{panel}: " + "; ".join(said))
    return "Six small charts, one per lever, shares from 0 to 100%. " + ". ".join(parts) + "."


def _pct(value) -> str:
    return f"{value:.0f}%"


def headline() -> dict[str, str]:
    """The chapter's key figures as prose writes them, read from the data; the levers chapter's
    findings and the conclusion's answer both state them, so they are computed once, here, and
    kept for the data they come from (:func:`data.kept`: 20-30 ms of pandas a page)."""
    return data.kept("levers-headline", _headline)


def _headline() -> dict[str, str]:
    gas = gas_shares(data.load("armstat_natural_gas_imports"))
    full_gas, last_gas = gas[gas["complete"]], gas.iloc[-1]
    step = data.load("lever_steps").set_index("step_id")
    rail = concession_terms(
        data.load("rail_concession_terms"), step.loc["rail-2008-06-01-operations", "date"]
    )
    money = transfer_shares(data.load("personal_transfers_armenia"))
    last_money = money[money["basis"] == "all transfers of individuals through banks"].iloc[-1]
    trade = trade_shares(
        data.load("armstat_trade_russia_monthly"), data.load("armstat_trade_totals_december")
    )
    exports = export_shares(data.load("armstat_exports_by_partner_region")).set_index(
        ["partner_region", "year"]
    )["share_pct"]
    last_year = int(exports.index.get_level_values("year").max())
    return {
        "gas_share_first": _pct(gas["share_pct"].iloc[0]),
        "gas_first_year": str(gas["year"].iloc[0]),
        "gas_share_last": _pct(last_gas["share_pct"]),
        "gas_last_period": f"January–September {last_gas['year']}",
        "gas_share_min": _pct(full_gas["share_pct"].min()),
        "gas_share_max": _pct(full_gas["share_pct"].max()),
        "gas_full_date": text.date(step.loc["gas-2014-01-16-full-control", "date"]),
        "grid_manager": text.date(step.loc["grid-2025-07-18-temporary-manager", "date"]),
        "rail_end": str(rail["end"]),
        "npp_horizon": str(step.loc["nuclear-2023-03-extension-2036", "horizon_year"]),
        "money_share_last": _pct(last_money["share_pct"]),
        "money_last_period": f"the first half of {last_money['period_start']:%Y}",
        "trade_share_last": _pct(trade["share_pct"].iloc[-1]),
        "trade_last_year": str(trade["year"].iloc[-1]),
        "eu_exports_last": _pct(exports[("EU", last_year)]),
        "eaeu_exports_last": _pct(exports[("EAEU", last_year)]),
        "exports_last_year": str(last_year),
        "eu_exports_first": _pct(exports[("EU", START.year)]),
        "eaeu_exports_first": _pct(exports[("EAEU", START.year)]),
        "exports_first_year": str(START.year),
        # the economic levers: every lever but the troops, which the military chapter measures
        "n_levers": words(len(LEVERS) - 1),
    }


def places_drawn() -> set[str]:
    """The places the map of Russian-held infrastructure marks: its sites, the military
    presence and the towns its schematic lines join (for the gazetteer's "Used in")."""
    gazetteer = maps.places()
    points = map_points(
        data.load("lever_sites"), data.load("russian_deployments_armenia"), gazetteer
    )
    lines = map_lines(data.load("lever_routes_schematic"), gazetteer)
    return set(points["place_id"]) | set(lines["place_id"])
