"""Tables and charts of the CSTO chapter (chapters/csto.ipynb)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts, data, theme

#: Membership statuses, in the order legends list them, and their colours (from the theme).
STATUS_COLOURS = theme.CSTO_STATUS_COLOURS
#: Partners drawn in the bloc colour where the state has no book colour of its own.
PARTNER_ACTOR = {"USA": "EU and the West", "GRC": "EU and the West"}


def status_scale(statuses) -> alt.Scale:
    shown = [s for s in STATUS_COLOURS if s in set(statuses)]
    return alt.Scale(domain=shown, range=[STATUS_COLOURS[s] for s in shown])


def status_2026(membership: pd.DataFrame) -> pd.DataFrame:
    """One row per state: its status on the day the data stop (its last step) and the step that set it."""
    rows = []
    for iso, steps in membership.sort_values("date").groupby("state_iso3"):
        last = steps.iloc[-1]
        status = {
            "participation frozen": "Participation frozen",
            "suspension": "Membership suspended (2012)",
            "exit": "Left (1999)",
        }.get(last["step"], "Member")
        rows.append(
            {
                "state_iso3": iso,
                "state": last["state"],
                "status": status,
                "since": last["date"].strftime("%-d %B %Y") if status != "Member" else "",
                "joined": steps[steps["step"] == "signature"]["date"].min().strftime("%Y"),
                "source_id": last["source_id"],
            }
        )
    return pd.DataFrame(rows)


def membership_spans(membership: pd.DataFrame) -> pd.DataFrame:
    """Bars for the Gantt chart: each state's periods as signatory, member and frozen member."""
    spans = []
    for iso, steps in membership.sort_values("date").groupby("state_iso3"):

        def when(step, steps=steps):
            return steps.loc[steps["step"] == step, "date"]

        state, signed, in_force = (
            steps["state"].iloc[0],
            when("signature").min(),
            when("entry into force").min(),
        )
        spans.append((state, signed, in_force, "Signatory (treaty not yet in force)"))
        ends = [
            d
            for d in [
                when("exit").min(),
                when("suspension requested").min(),
                when("participation frozen").min(),
            ]
            if pd.notna(d)
        ]
        first_end = min(ends) if ends else pd.NaT
        if iso == "UZB":
            spans.append((state, in_force, when("exit").min(), "Member"))
            spans.append(
                (state, when("return").min(), when("suspension requested").min(), "Member")
            )
        else:
            spans.append((state, in_force, first_end, "Member"))
        if iso == "ARM":
            spans.append(
                (state, when("participation frozen").min(), pd.NaT, "Participation frozen")
            )
    frame = pd.DataFrame(spans, columns=["state", "start", "end", "status"])
    source = membership.groupby("state")["source_id"].first()
    return frame.assign(
        source_id=frame["state"].map(source),
        period=frame["start"].dt.strftime("%-d %b %Y")
        + " – "
        + frame["end"].dt.strftime("%-d %b %Y").fillna("still running"),
    )


def answers_timeline(requests: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """Each answer step with the days since its request (day-precise steps only)."""
    frame = answers.merge(
        requests[["request_id", "requester", "requester_iso3", "request_date"]], on="request_id"
    )
    frame = frame[frame["date_precision"] != "month"].copy()
    frame["days"] = (frame["date"] - frame["request_date"]).dt.days
    frame["request"] = frame["requester"] + ", " + frame["request_date"].dt.strftime("%b %Y")
    frame["actor"] = frame["requester_iso3"].map(theme.actor_of)
    frame["personnel"] = frame["personnel_low"].astype("Float64")
    return frame


def requests_chart(frame: pd.DataFrame) -> alt.LayerChart:
    order = list(dict.fromkeys(frame.sort_values("request_date")["request"]))
    y = alt.Y("request:N", sort=order, title=None)
    base = alt.Chart(frame)
    tooltip = [
        alt.Tooltip("request:N", title="Request"),
        alt.Tooltip("days:Q", title="Days after request"),
        alt.Tooltip("answer_kind:N", title="Answer"),
        alt.Tooltip("personnel:Q", title="Personnel (as claimed)"),
        alt.Tooltip("personnel_claimant:N", title="Figure from"),
        alt.Tooltip("description:N", title="What happened"),
    ]
    span = base.mark_rule(strokeWidth=2, opacity=0.4, color=theme.MUTED_INK).encode(
        x="min(days):Q", x2="max(days):Q", y=y
    )
    points = base.mark_point(size=120, filled=True, opacity=0.85, stroke="white").encode(
        x=alt.X("days:Q", title="Days after the request", scale=alt.Scale(domain=[-2, 75])),
        y=y,
        color=alt.Color(
            "actor:N", scale=theme.actor_scale(frame["actor"]), title="Requester", legend=None
        ),
        shape=alt.Shape(
            "answer_kind:N",
            title="Answer",
            legend=alt.Legend(columns=2, labelLimit=180),
            sort=[
                "statement",
                "refusal",
                "consultations",
                "decision",
                "assessment mission",
                "troops deployed",
                "troops withdrawn",
                "offer declined by requester",
            ],
        ),
        tooltip=tooltip,
    )
    start = (
        alt.Chart(pd.DataFrame({"days": [0]}))
        .mark_rule(strokeDash=[4, 3], color=theme.MUTED_INK)
        .encode(x="days:Q")
    )
    return alt.layer(start, span, points).properties(height=alt.Step(46), width=theme.WIDTH - 230)


def partners_frame(withdrawal, requests, answers, missions, contracts, cooperation) -> dict:
    """The three lanes of the security-partners chart, each a tidy frame with a source_id."""
    arm = answers.merge(requests[["request_id", "requester_iso3"]], on="request_id")
    arm = arm[arm["requester_iso3"] == "ARM"]
    csto = pd.concat(
        [
            requests[requests["requester_iso3"] == "ARM"].assign(
                date=lambda f: f["request_date"],
                what="Armenia asks for help",
                label=lambda f: f["description"],
            ),
            arm.assign(
                what="CSTO answer", label=lambda f: f["answer_kind"] + ": " + f["description"]
            ),
            withdrawal.assign(
                what="Armenia steps away", label=lambda f: f["kind"] + ": " + f["description"]
            ),
        ]
    )[["date", "what", "label", "source_id"]]
    strength = missions.dropna(subset=["personnel"]).assign(
        personnel=lambda f: f["personnel"].astype(float),
        label=lambda f: f["mission"] + ": " + f["personnel_kind"],
    )
    single = contracts[contracts["scope"] == "single"]
    partners = pd.concat(
        [
            single.assign(
                date=single["date_reported"],
                partner=single["supplier_iso3"].map(theme.actor_of),
                what="arms deal",
                label=single["item"],
            ),
            cooperation.assign(
                partner=cooperation["partner_iso3"].map(PARTNER_ACTOR).fillna("Others"),
                what=cooperation["kind"],
                label=cooperation["partner"] + ": " + cooperation["description"],
            ),
        ]
    )[["date", "partner", "what", "label", "source_id"]]
    return {"csto": csto, "strength": strength, "partners": partners}


def partners_chart(lanes: dict) -> alt.VConcatChart:
    x_scale = alt.Scale(domain=[pd.Timestamp("2021-01-01").isoformat(), data.as_of().isoformat()])
    x = alt.X("date:T", title=None, scale=x_scale, axis=alt.Axis(format="%Y", tickCount="year"))
    width = theme.WIDTH - 160
    csto = (
        alt.Chart(lanes["csto"])
        .mark_point(size=90, filled=True, opacity=0.8)
        .encode(
            x=x,
            y=alt.Y(
                "what:N",
                title=None,
                sort=["Armenia asks for help", "CSTO answer", "Armenia steps away"],
            ),
            color=alt.value(theme.THEME_COLOURS["csto"]),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("label:N", title="What happened"),
            ],
        )
        .properties(width=width, height=90, title="Armenia and the CSTO")
    )
    strength = (
        alt.Chart(lanes["strength"])
        .mark_line(
            interpolate="step-after",
            point=alt.OverlayMarkDef(size=60),
            color=theme.ACTOR_COLOURS["EU and the West"],
        )
        .encode(
            x=x,
            y=alt.Y("personnel:Q", title="Personnel (persons)"),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("label:N", title="Figure"),
                alt.Tooltip("personnel:Q", title="Personnel"),
            ],
        )
        .properties(width=width, height=120, title="EU monitors in Armenia")
    )
    partners = (
        alt.Chart(lanes["partners"])
        .mark_point(size=110, filled=True, opacity=0.85)
        .encode(
            x=alt.X(
                "date:T", title="Date", scale=x_scale, axis=alt.Axis(format="%Y", tickCount="year")
            ),
            y=alt.Y(
                "partner:N", title=None, sort=theme.actor_scale(lanes["partners"]["partner"]).domain
            ),
            color=alt.Color(
                "partner:N", scale=theme.actor_scale(lanes["partners"]["partner"]), legend=None
            ),
            shape=alt.Shape("what:N", title="Kind"),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("partner:N", title="Partner"),
                alt.Tooltip("what:N", title="Kind"),
                alt.Tooltip("label:N", title="What"),
            ],
        )
        .properties(width=width, height=90, title="New arms and training partners")
    )
    return alt.vconcat(csto, strength, partners, spacing=14)


def meetings_chart(meetings: pd.DataFrame) -> alt.Chart:
    frame = meetings.assign(year=meetings["date"].dt.year)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("count():Q", title="Meetings hosted (number)", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "host_actor:N", scale=theme.actor_scale(frame["host_actor"]), title="Host"
            ),
            tooltip=[
                alt.Tooltip("year:O", title="Year"),
                alt.Tooltip("host_actor:N", title="Host"),
                alt.Tooltip("count():Q", title="Meetings"),
            ],
        )
        .properties(height=220, width=theme.WIDTH - 160)
    )


def membership_gantt(spans: pd.DataFrame) -> alt.Chart:
    """Each state's periods as signatory, member and frozen member, an arrow where one runs on."""
    return charts.gantt(
        spans,
        start="start",
        end="end",
        row="state",
        colour=alt.Color(
            "status:N",
            scale=status_scale(spans["status"]),
            title="Status",
            legend=alt.Legend(labelLimit=300, columns=2),
        ),
        tooltip=[
            alt.Tooltip("state:N", title="State"),
            alt.Tooltip("status:N", title="Status"),
            alt.Tooltip("period:N", title="Period"),
        ],
    )


def membership_description(spans: pd.DataFrame) -> str:
    """What the membership Gantt chart shows, in words, read from its bars."""
    from .. import text

    members = spans[spans["status"] == "Member"]
    first_exit = members["end"].min()
    left = members[members["end"] == first_exit]["state"]
    returned = (
        members[members["state"].duplicated(keep=False)].sort_values("start").groupby("state")
    )
    frozen = spans[spans["status"] == "Participation frozen"]
    running = members["end"].isna().sum()
    parts = [f"{text.listing(left)} end in {first_exit:%B %Y}"]
    for state, bars in returned:
        back = bars.iloc[-1]
        parts.append(f"{state} returns from {back['start']:%B %Y} to {back['end']:%B %Y}")
    for _, bar in frozen.iterrows():
        parts.append(f"{bar['state']}'s bar changes to frozen on {text.date(bar['start'])}")
    return "; ".join(parts) + f"; {running} member bars run on."


def status_description(status: pd.DataFrame) -> str:
    """The map's states by status, with the dates their status began."""
    from .. import text

    def since(label: str) -> tuple[list[str], str]:
        rows = status[status["status"] == label]
        return list(rows["state"]), (rows["since"].iloc[0] if len(rows) else "")

    frozen, frozen_since = since("Participation frozen")
    suspended = status[status["status"].str.startswith("Membership suspended")]
    left = status[status["status"].str.startswith("Left")]
    return (
        f"{text.listing(status.loc[status['status'] == 'Member', 'state'])} as members; "
        f"{text.listing(frozen)}, outlined, with its participation frozen since {frozen_since}; "
        f"{text.listing(suspended['state'])} suspended since {suspended['since'].iloc[0]}; "
        f"{text.listing(left['state'])} out since {left['since'].iloc[0]}. "
        "Crimea is drawn apart from Russia and Ukraine, as disputed (annexed by Russia in 2014)."
    )
