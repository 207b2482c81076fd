"""Charts of the ICC chapter: the map of hosts and states parties, the count of parties, trips by year."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts, data, maps, theme

#: Fill of states on the world map, and the host's standing on the day of a visit (from the theme).
STATE_CATEGORIES = theme.ICC_STATE_COLOURS
HOST_COLOURS = theme.ICC_HOST_COLOURS


def host_scale(title: str = "Host's standing", legend: alt.Legend | None = None) -> alt.Color:
    return alt.Color(
        "host_status:N",
        title=title,
        legend=legend or alt.Legend(),
        scale=alt.Scale(domain=list(HOST_COLOURS), range=list(HOST_COLOURS.values())),
    )


def state_categories(states: pd.DataFrame, trips: pd.DataFrame) -> pd.DataFrame:
    """One category per state for the map: every state party or former party by its status, and non-party hosts."""
    labels = {
        "party": "State party",
        "withdrawn": "Withdrawn",
        "withdrawal announced": "Withdrawal announced",
    }
    rows = states.assign(iso3=states["state_iso3"], category=states["status_2026"].map(labels))
    # A withdrawal's own source, where the state's standing comes from it.
    rows["source_id"] = (
        rows["withdrawal_source_id"]
        .where(rows["status_2026"] != "party", rows["source_id"])
        .fillna(rows["source_id"])
    )
    rows = rows[["iso3", "category", "source_id"]]
    rows.loc[rows["iso3"] == "ARM", "category"] = "Armenia (state party from 2024)"
    hosts = trips.loc[trips["host_status"] == "not a party", ["host_iso3", "source_id"]]
    hosts = hosts.drop_duplicates("host_iso3").rename(columns={"host_iso3": "iso3"})
    rows = pd.concat([rows, hosts.assign(category="Not a party, hosted Putin")])
    return rows.drop_duplicates("iso3")


def trips_map(
    states: pd.DataFrame, trips: pd.DataFrame, summits: pd.DataFrame, places: pd.DataFrame
):
    """World map: states by standing, a point per host capital sized by the number of visits."""
    base = maps.world_map(
        state_categories(states, trips),
        field="category",
        fallback=list(STATE_CATEGORIES)[-1],
        scale=alt.Scale(domain=list(STATE_CATEGORIES), range=list(STATE_CATEGORIES.values())),
        title="State",
    )
    coords = places.set_index("place_id")[["lon", "lat", "label"]]
    # One row per visit (each with its source, so the map's data table lists them all), carrying
    # its capital's count and dates: a capital's circles are drawn on top of each other as one.
    per_place = trips.groupby("place_id")["date_start"]
    visits = trips.assign(
        visits=per_place.transform("count"),
        dates=per_place.transform("min").dt.strftime("%b %Y")
        + " – "
        + per_place.transform("max").dt.strftime("%b %Y"),
    ).join(coords, on="place_id")
    # Channels are given as objects (alt.Longitude(...)), not shorthand strings, which Altair
    # matches against its whole schema, some milliseconds each (see maps._channels).
    points = (
        alt.Chart(visits)
        .mark_circle(opacity=0.9, stroke="white", strokeWidth=0.8)
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            color=host_scale(
                "Putin's visits: host's standing",
                alt.Legend(orient="top", direction="horizontal", titleLimit=400),
            ),
            size=alt.Size(
                "visits:Q", title="Visits", scale=alt.Scale(range=[40, 260]), legend=None
            ),
            tooltip=[
                alt.Tooltip("host:N", title="Host"),
                alt.Tooltip("label:N", title="Capital"),
                alt.Tooltip("visits:Q", title="Visits since the warrant"),
                alt.Tooltip("dates:N", title="First and last"),
                alt.Tooltip("host_status:N", title="Host's standing"),
            ],
        )
    )
    remote = summits.join(coords, on="place_id")
    missed = (
        alt.Chart(remote)
        .mark_point(shape="diamond", size=90, strokeWidth=2, filled=False)
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            color=alt.ColorValue(theme.ACTOR_COLOURS["Russia"]),
            tooltip=[
                alt.Tooltip("summit:N", title="Summit not attended in person"),
                alt.Tooltip("attendance:N", title="Russia took part"),
                alt.Tooltip("host_status:N", title="Host's standing"),
            ],
        )
    )
    armenia = coords.loc[["yerevan"]].assign(name="ARMENIA")
    label = (
        alt.Chart(armenia)
        .mark_text(
            align="right",
            dx=-7,
            dy=-8,
            fontSize=11,
            fontWeight=700,
            color=theme.ACTOR_COLOURS["Armenia"],
        )
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            text=alt.Text("name:N"),
        )
    )
    ring = (
        alt.Chart(armenia)
        .mark_point(size=160, strokeWidth=2, color=theme.ACTOR_COLOURS["Armenia"])
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            tooltip=[alt.Tooltip("label:N", title="Armenia's capital")],
        )
    )
    return maps.compose(base, points, missed, ring, label, extent=maps.WORLD_EXTENT)


def party_count_chart(counts: pd.DataFrame, states: pd.DataFrame):
    """States parties at dated points, with withdrawals (solid: in effect; dashed: announced) marked."""
    counts = counts.assign(
        kind=counts["basis"].map({"stated": "stated by a source", "derived": "derived by the book"})
    )
    y = alt.Y("count:Q", title="States parties (number)", scale=alt.Scale(domain=[115, 127]))
    domain = [pd.Timestamp("2011-01-01"), data.as_of()]
    x = alt.X("date:T", title="Date", axis=alt.Axis(format="%Y"), scale=alt.Scale(domain=domain))
    line = (
        alt.Chart(counts)
        .mark_line(interpolate="step-after", color=theme.THEME_COLOURS["icc"], strokeWidth=2)
        .encode(x=x, y=y)
    )
    dots = (
        alt.Chart(counts)
        .mark_point(size=70, filled=True, color=theme.INK)
        .encode(
            x=x,
            y=y,
            shape=alt.Shape(
                "kind:N",
                title="Count",
                scale=alt.Scale(
                    domain=["stated by a source", "derived by the book"],
                    range=["circle", "triangle-down"],
                ),
            ),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("count:Q", title="States parties"),
                alt.Tooltip("note:N", title="What it marks"),
                alt.Tooltip("kind:N", title="Count"),
            ],
        )
    )
    marks = withdrawal_marks(states)
    rules = (
        alt.Chart(marks)
        .mark_rule(color=STATE_CATEGORIES["Withdrawn"], strokeWidth=1.5)
        .encode(
            x="date:T",
            strokeDash=alt.StrokeDash(
                "event:N",
                title="Withdrawal",
                scale=alt.Scale(domain=["in effect", "announced"], range=[[1, 0], [4, 3]]),
            ),
            tooltip=[
                alt.Tooltip("label:N", title="Withdrawal"),
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
            ],
        )
    )
    names = withdrawal_labels(marks, domain, theme.WIDTH)
    text = alt.Chart(names).transform_filter(charts.WIDTH_FILTER)
    label = dict(angle=270, align="right", baseline="middle", fontSize=10)
    layers = [
        # A short leader from the line to a label moved aside to keep clear of its neighbours.
        text.transform_filter("abs(datum.shift) > 1")
        .mark_rule(color=theme.MUTED_INK, strokeWidth=0.8)
        .encode(x="date:T", x2="label_date:T", y=alt.value(0), y2=alt.value(LABEL_TOP - 3)),
        text.mark_text(
            **label, color="white", stroke="white", strokeWidth=3, strokeJoin="round"
        ).encode(x="label_date:T", y=alt.value(LABEL_TOP), text="short:N"),
        text.mark_text(**label, color=theme.MUTED_INK).encode(
            x="label_date:T", y=alt.value(LABEL_TOP), text="short:N"
        ),
    ]
    return (
        alt.layer(line, rules, *layers, dots)
        .properties(height=280)
        .resolve_scale(shape="independent")
    )


#: Where the withdrawal labels start, in px below the top of the plot (room for their leaders).
LABEL_TOP = 14


def withdrawal_labels(marks: pd.DataFrame, domain, width: float) -> pd.DataFrame:
    """The withdrawals' labels for every width the chart may be drawn at: set upright beside their
    lines, each moved as little as keeps it clear of its neighbours (a line of 10 px text needs
    13 px), with the date it is drawn at (``label_date``) and how far it moved (``shift``)."""
    start, end = (pd.Timestamp(d) for d in domain)
    span = (end - start) / pd.Timedelta(days=1)
    sets = []
    for _, drawn, wmin, wmax in charts.drawn_widths(width):
        x = [(d - start) / pd.Timedelta(days=1) / span * drawn for d in marks["date"]]
        # Beside its line, to the right (the last ones are pushed left of theirs at the edge).
        beside = [p + 7 for p in x]
        placed = charts.spread(beside, room=13, low=7, high=drawn - 7)
        sets.append(
            marks.assign(
                label_date=[start + pd.Timedelta(days=p / drawn * span) for p in placed],
                shift=[p - q for p, q in zip(placed, beside)],
                ak_wmin=wmin,
                ak_wmax=wmax,
            )
        )
    return pd.concat(sets, ignore_index=True)[
        ["date", "label_date", "short", "shift", "ak_wmin", "ak_wmax"]
    ]


def withdrawal_marks(states: pd.DataFrame) -> pd.DataFrame:
    """One row per withdrawal date (announced or in effect) of the states in ``states``."""
    rows = []
    for kind, column in (
        ("in effect", "withdrawal_effective"),
        ("announced", "withdrawal_announced"),
    ):
        dated = states.dropna(subset=[column])
        for date, group in dated.groupby(column):
            names = ", ".join(group["state"])
            rows.append(
                {
                    "date": date,
                    "event": kind,
                    "label": f"{names}: withdrawal {kind}",
                    "short": f"{names} ({kind})",
                    "source_id": group["withdrawal_source_id"].iloc[0],
                }
            )
    return pd.DataFrame(rows)


def trips_by_year_chart(trips: pd.DataFrame):
    """Visits per year, stacked by the host's standing."""
    frame = trips.assign(year=trips["date_start"].dt.year)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count():Q", title="Foreign visits (number)"),
            color=host_scale(),
            order=alt.Order("host_status:N", sort="descending"),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("host_status:N", title="Host's standing"),
                alt.Tooltip("count():Q", title="Visits"),
                alt.Tooltip("distinct(host):Q", title="Host states"),
            ],
        )
        .properties(width=theme.WIDTH - 200, height=240)
    )


def path_timeline(path: pd.DataFrame):
    """Armenia's path to the court, one lane per actor, through the shared timeline."""
    lanes = ["Armenia", "Azerbaijan", "Russia", "Courts and monitors"]
    colours = [
        theme.ACTOR_COLOURS["Armenia"],
        theme.ACTOR_COLOURS["Azerbaijan"],
        theme.ACTOR_COLOURS["Russia"],
        theme.ACTOR_COLOURS["Others"],
    ]
    frame = path.rename(columns={"step": "title"}).assign(lane=path["actor"])
    return charts.timeline(
        frame, row="lane", colour=alt.Scale(domain=lanes, range=colours), order=lanes, height=170
    )


def parties_on(states: pd.DataFrame, date, *, counting: str = "in force") -> pd.DataFrame:
    """The rows of ``states`` that were parties on ``date``.

    ``counting="in force"``: the Statute had entered into force for the state by that day (the deposit date
    where no entry into force is given); ``counting="deposit"``: the instrument had been deposited, the way
    the court and the press often count a new member at once. Either way a withdrawal in effect by that day
    removes the state.
    """
    date = pd.Timestamp(date)
    start = (
        states["joined"] if counting == "deposit" else states["in_force"].fillna(states["joined"])
    )
    gone = states["withdrawal_effective"] <= date
    return states[(start <= date) & ~gone]


def off_map(states: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``states`` with no polygon in the 1:110m world layer (small island and micro-states)."""
    return states[~states["state_iso3"].isin(set(maps.world()["iso_a3"]))]


#: Steps of Armenia's path whose dates the prose cites (glued as d_<id with underscores>).
PATH_STEPS_IN_PROSE = [
    "1999-10-01-signature",
    "2004-08-13-concourt-incompatible",
    "2022-09-13-azerbaijani-attack",
    "2022-10-14-pow-execution-video",
    "2022-12-29-government-launches",
    "2023-03-17-icc-warrants",
    "2023-03-24-concourt-compatible",
    "2023-09-01-bill-to-parliament",
    "2023-10-03-parliament-ratifies",
    "2023-10-13-president-signs",
    "2023-11-14-instrument-deposited",
    "2024-02-01-entry-into-force",
    "2021-05-10-jurisdiction-accepted-from",
]


def places_drawn() -> set[str]:
    """The capitals the map of Putin's trips marks: his hosts' and the summits he stayed away
    from (for the gazetteer's "Used in")."""
    trips, summits = data.load("putin_trips_since_warrant"), data.load("putin_summits_not_attended")
    return set(trips["place_id"].dropna()) | set(summits["place_id"].dropna())
