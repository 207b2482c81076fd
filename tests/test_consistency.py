"""The book says each thing one way: one value per quantity, one order per disputed name, no tool talk.

Three checks:

* **Stated quantities.** Every value the chapters ``glue`` into the prose is read from the
  notebooks as the book build executed them, with the text of their ``# NBVAL_CHECK_OUTPUT``
  key-figure cells; the tests that read them are in tests/test_book.py (the run's one build). ``QUANTITIES`` below names each quantity the
  book states in more than one place, by dataset and key, with every place that states it (a glue
  name, or a pattern in a key-figure cell). A test fails when two places give the quantity
  different values, or when a place gives a value that is not the data's (at the precision the
  place states it). Glue names shared by two chapters must carry one value, and every glue that
  the prose refers to must be defined in its chapter.
* **Disputed names** are written in the gazetteer's order (``data/places.csv``, name/alt_name)
  everywhere: chapter markdown and code strings, and every text field of the data.
* **No words about tools** ("stored", "copy shown", "search", ...) in the chapters, nor in the
  titles and descriptions of the data package (shown in the Data appendix).
"""

from __future__ import annotations

import ast
import csv
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
import pytest

from afterkarabakh import data, paths, text

CHAPTERS = ["introduction", "military", "peacekeeping", "ukraine"]
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`]+)`")


# --- what the chapters state ----------------------------------------------------------------------


@dataclass
class Stated:
    glues: dict = field(default_factory=dict)  # glue name -> value as the prose shows it
    checks: str = ""  # text printed by the key-figure cells
    markdown: str = ""  # all markdown of the chapter


def _glued_value(output) -> str | None:
    values = output.get("data", {})
    # In the notebook the value carries glue's prefix; in the build's .glue.json it does not.
    record = values.get("application/papermill.record/text/plain", values.get("text/plain"))
    if record is None:
        return None
    try:
        return str(ast.literal_eval(record))
    except (ValueError, SyntaxError):
        return record


def read_executed(notebook) -> Stated:
    stated = Stated()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            stated.markdown += cell.source + "\n\n"
            continue
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                stated.glues[name] = _glued_value(output)
            elif output.get("output_type") == "stream" and cell.source.lstrip().startswith(
                "# NBVAL_CHECK_OUTPUT"
            ):
                stated.checks += output.get("text", "")
            elif output.get("output_type") == "error":
                raise AssertionError(
                    f"{notebook.metadata.get('name')}: {output['ename']}: {output['evalue']}"
                )
    return stated


#: Where the book build leaves each executed notebook, its glued values beside it (myst-nb).
EXECUTED = paths.ROOT / "_build" / "jupyter_execute" / "chapters"


def executed(name: str):
    """A chapter as the book build executed it, with the values it glued put back as outputs."""
    notebook = nbformat.read(EXECUTED / f"{name}.ipynb", as_version=4)
    glued = EXECUTED / f"{name}.glue.json"
    if glued.exists():
        outputs = [
            nbformat.from_dict(o) for o in json.loads(glued.read_text(encoding="utf-8")).values()
        ]
        notebook.cells.append(nbformat.v4.new_code_cell("", outputs=outputs))
    notebook.metadata["name"] = f"{name}.ipynb"
    return notebook


# --- the registry of quantities stated more than once ---------------------------------------------


def row(dataset: str, key_field: str, key: str):
    frame = data.load(dataset)
    rows = frame[frame[key_field] == key]
    assert len(rows) == 1, f"{dataset}: no single row with {key_field} = {key!r}"
    return rows.iloc[0]


def step_date(step: str) -> str:
    steps = data.load("russia_armenia_agreement_steps")
    rows = steps[
        (steps["agreement_id"] == "ag-2020-trilateral-statement") & (steps["step"] == step)
    ]
    return text.date(rows["date"].iloc[0])


def deployments_in_armenia():
    frame = data.load("russian_deployments_armenia")
    return frame[frame["type"] != "peacekeepers"]


def announced_ends():
    events = data.load("russian_deployment_events").set_index("event_id")["status"]
    gone = deployments_in_armenia().query("status_2026 != 'active'")
    return int(gone["end_event_id"].map(events).eq("announced").sum())


def other_states_with_growth():
    frame = data.load("russian_presence_post_soviet")
    grew = frame[
        frame["change"].isin(["arrived", "grew"]) & frame["date"].dt.year.between(1992, 2021)
    ]
    return grew["country_iso3"].nunique()


def sipri_share(recipient: str, supplier: str, first: int, last: int) -> float:
    transfers = data.load("sipri_arms_transfers")
    rows = transfers[
        (transfers["recipient_iso3"] == recipient) & transfers["year"].between(first, last)
    ]
    return float(
        rows.loc[rows["supplier_iso3"] == supplier, "tiv_millions"].sum()
        / rows["tiv_millions"].sum()
        * 100
    )


def five_year(measure: str, window: str) -> float:
    frame = data.load("sipri_five_year_changes")
    rows = frame[
        (frame["country_iso3"] == "RUS")
        & (frame["measure"] == measure)
        & (frame["window_b"] == window)
    ]
    return float(rows["value"].iloc[0])


def milex(iso3: str, year: int) -> float:
    frame = data.load("military_spending_gdp")
    return float(
        frame[(frame["country_iso3"] == iso3) & (frame["year"] == year)]["pct_gdp"].iloc[0]
    )


def share(obs_id: str) -> float:
    return float(row("armenian_opinion_russia", "obs_id", obs_id)["share_pct"])


@dataclass
class Quantity:
    """One quantity (dataset and key), its value in the data, and every place the book states it.

    A place is ``(chapter, "glue", name)`` or ``(chapter, "check", regex)`` whose first group is
    the value in the key-figure cell's text, optionally with a function turning it into the value.
    """

    dataset: str
    key: str
    value: Callable[[], object]
    places: list


QUANTITIES = [
    Quantity(
        "events",
        "2024-06-12-peacekeeper-withdrawal-complete (dates)",
        lambda: text.event_dates("2024-06-12-peacekeeper-withdrawal-complete"),
        [
            ("introduction", "glue", "withdrawal_done"),
            ("peacekeeping", "glue", "withdrawal_complete"),
            ("introduction", "check", r"peacekeepers gone: (.+)$"),
        ],
    ),
    Quantity(
        "events",
        "2023-09-19-azerbaijani-offensive (dates)",
        lambda: text.event_dates("2023-09-19-azerbaijani-offensive"),
        [
            ("introduction", "glue", "offensive_dates"),
            ("introduction", "check", r"offensive: ([^;]+);"),
        ],
    ),
    Quantity(
        "events",
        "all rows (count)",
        lambda: len(data.load("events")),
        [
            ("introduction", "glue", "n_events"),
            ("introduction", "check", r"events on the timeline: (\d+)"),
        ],
    ),
    Quantity(
        "russia_armenia_agreement_steps",
        "ag-2020-trilateral-statement / signed (date)",
        lambda: step_date("signed"),
        [
            ("introduction", "glue", "statement_signed"),
            ("peacekeeping", "glue", "statement_signed"),
        ],
    ),
    Quantity(
        "russia_armenia_agreement_steps",
        "ag-2020-trilateral-statement / in-force (date)",
        lambda: step_date("in-force"),
        [
            ("introduction", "glue", "statement_in_force"),
            ("peacekeeping", "glue", "statement_in_force"),
        ],
    ),
    Quantity(
        "russian_deployments_armenia",
        "type != peacekeepers (count)",
        lambda: len(deployments_in_armenia()),
        [
            ("military", "glue", "n_installations"),
            ("military", "check", r"installations in Armenia: (\d+)"),
        ],
    ),
    Quantity(
        "russian_deployments_armenia",
        "all rows, the Karabakh contingent included (count)",
        lambda: len(data.load("russian_deployments_armenia")),
        [
            ("military", "glue", "n_with_karabakh"),
            ("military", "check", r"with the Karabakh contingent: (\d+)"),
        ],
    ),
    Quantity(
        "russian_deployments_armenia",
        "status_2026 = active (count)",
        lambda: int((deployments_in_armenia()["status_2026"] == "active").sum()),
        [("military", "glue", "n_active"), ("military", "check", r"present in 2026: (\d+)")],
    ),
    Quantity(
        "russian_deployments_armenia",
        "status_2026 != active (count)",
        lambda: int((deployments_in_armenia()["status_2026"] != "active").sum()),
        [("military", "glue", "n_gone"), ("military", "check", r"handed over or withdrawn: (\d+)")],
    ),
    Quantity(
        "russian_deployments_armenia",
        "active and status_2026_assumed (count)",
        lambda: int(
            (deployments_in_armenia().query("status_2026 == 'active'")["status_2026_assumed"]).sum()
        ),
        [("military", "glue", "n_active_assumed"), ("military", "check", r"\((\d+) assumed\)")],
    ),
    Quantity(
        "russian_deployments_armenia",
        "gone, end dated by an announcement (count)",
        announced_ends,
        [
            ("military", "glue", "n_gone_announced"),
            ("military", "check", r"\((\d+) dated by announcement\)"),
        ],
    ),
    Quantity(
        "russian_personnel_estimates",
        "deployment_id = ru-102nd-base-gyumri (count)",
        lambda: int(
            (
                data.load("russian_personnel_estimates")["deployment_id"] == "ru-102nd-base-gyumri"
            ).sum()
        ),
        [
            ("military", "glue", "base_n_estimates"),
            ("military", "check", r"base personnel estimates: (\d+)"),
            ("military", "check", r"base estimates: (\d+)"),
        ],
    ),
    Quantity(
        "russian_personnel_estimates",
        "deployment_id != ru-peacekeepers-karabakh (count)",
        lambda: int(
            (
                data.load("russian_personnel_estimates")["deployment_id"]
                != "ru-peacekeepers-karabakh"
            ).sum()
        ),
        [
            ("military", "glue", "n_estimates_armenia"),
            ("military", "check", r"all estimates in the table: (\d+)"),
        ],
    ),
    Quantity(
        "russian_personnel_estimates",
        "ru-102nd-base-gyumri (lowest personnel_low)",
        lambda: float(
            data.load("russian_personnel_estimates")
            .query("deployment_id == 'ru-102nd-base-gyumri'")["personnel_low"]
            .min()
        ),
        [
            ("military", "glue", "base_low"),
            ("military", "check", r"base personnel estimates: \d+, ([\d,]+)-"),
        ],
    ),
    Quantity(
        "russian_personnel_estimates",
        "ru-102nd-base-gyumri (highest personnel_high)",
        lambda: float(
            data.load("russian_personnel_estimates")
            .query("deployment_id == 'ru-102nd-base-gyumri'")["personnel_high"]
            .max()
        ),
        [
            ("military", "glue", "base_high"),
            ("military", "check", r"base personnel estimates: \d+, [\d,]+-([\d,]+)"),
        ],
    ),
    Quantity(
        "russian_presence_post_soviet",
        "states with arrivals or growth 1992-2021 (count)",
        other_states_with_growth,
        [
            ("military", "glue", "n_other_states_with_growth"),
            (
                "military",
                "check",
                r"states with Russian growth 1992-2021: (.+)$",
                lambda listed: str(len([s for s in listed.split(", ") if s != "Armenia"])),
            ),
        ],
    ),
    Quantity(
        "armenian_opinion_russia",
        "iri-2019-05-rel-good-russia (share_pct)",
        lambda: share("iri-2019-05-rel-good-russia"),
        [("military", "glue", "good_2019"), ("military", "check", r"IRI relations good: (\d+)%")],
    ),
    Quantity(
        "armenian_opinion_russia",
        "iri-2023-12-rel-good-russia (share_pct)",
        lambda: share("iri-2023-12-rel-good-russia"),
        [("military", "glue", "good_2023_12"), ("military", "check", r"-> (\d+)% \(Dec 2023\)")],
    ),
    Quantity(
        "armenian_opinion_russia",
        "iri-2025-06-rel-good-russia (share_pct): relations rated good, June 2025",
        lambda: share("iri-2025-06-rel-good-russia"),
        [("military", "glue", "good_2025_06")],
    ),
    Quantity(
        "armenian_opinion_russia",
        "iri-2026-02-pol-partner-russia (share_pct): a main political partner, February 2026",
        lambda: share("iri-2026-02-pol-partner-russia"),
        [("military", "glue", "partner_2026")],
    ),
    Quantity(
        "armenian_opinion_russia",
        "cb-2019-friend-russia (share_pct)",
        lambda: share("cb-2019-friend-russia"),
        [("military", "glue", "friend_2019"), ("military", "check", r"-> (\d+)% \(2019 wave")],
    ),
    Quantity(
        "casualties_2023_offensive",
        "az-moh-2023-09-27-killed-mil (value_low)",
        lambda: float(
            row("casualties_2023_offensive", "claim_id", "az-moh-2023-09-27-killed-mil")[
                "value_low"
            ]
        ),
        [
            ("peacekeeping", "glue", "az_killed_2023"),
            ("peacekeeping", "check", r"Azerbaijani military dead (\d+)"),
        ],
    ),
    Quantity(
        "casualties_2023_offensive",
        "az-mod-update-killed-mil (value_low)",
        lambda: float(
            row("casualties_2023_offensive", "claim_id", "az-mod-update-killed-mil")["value_low"]
        ),
        [("peacekeeping", "glue", "az_killed_update"), ("peacekeeping", "check", r"later (\d+);")],
    ),
    Quantity(
        "casualties_2023_offensive",
        "am-ic-2024-01-04-killed-all (value_low)",
        lambda: float(
            row("casualties_2023_offensive", "claim_id", "am-ic-2024-01-04-killed-all")["value_low"]
        ),
        [
            ("peacekeeping", "glue", "ka_killed_2023"),
            ("peacekeeping", "check", r"Karabakh Armenian dead (\d+)"),
        ],
    ),
    Quantity(
        "casualties_2023_offensive",
        "am-ic-2024-01-04-killed-mil (value_low)",
        lambda: float(
            row("casualties_2023_offensive", "claim_id", "am-ic-2024-01-04-killed-mil")["value_low"]
        ),
        [("peacekeeping", "glue", "ka_killed_mil"), ("peacekeeping", "check", r"\((\d+) soldiers")],
    ),
    Quantity(
        "casualties_2023_offensive",
        "am-ic-2024-01-04-killed-civ (value_low)",
        lambda: float(
            row("casualties_2023_offensive", "claim_id", "am-ic-2024-01-04-killed-civ")["value_low"]
        ),
        [
            ("peacekeeping", "glue", "ka_killed_civ"),
            ("peacekeeping", "check", r"(\d+) civilians\)"),
        ],
    ),
    Quantity(
        "ceasefire_2020_terms",
        "c03-strength-personnel (value)",
        lambda: float(row("ceasefire_2020_terms", "term_id", "c03-strength-personnel")["value"]),
        [
            ("peacekeeping", "glue", "pk_personnel"),
            ("peacekeeping", "check", r"2020 statement: ([\d,]+) personnel"),
        ],
    ),
    Quantity(
        "exodus_arrivals_2023",
        "latest report (cumulative_arrivals)",
        lambda: float(
            data.load("exodus_arrivals_2023")
            .sort_values(["reported_at", "cumulative_arrivals"])["cumulative_arrivals"]
            .iloc[-1]
        ),
        [("peacekeeping", "glue", "last_count"), ("peacekeeping", "check", r"exodus: ([\d,]+) by")],
    ),
    Quantity(
        "karabakh_population_2023",
        "pop-am-gov-2023-09 (value_low)",
        lambda: float(
            row("karabakh_population_2023", "estimate_id", "pop-am-gov-2023-09")["value_low"]
        ),
        [
            ("peacekeeping", "glue", "pop_before"),
            ("peacekeeping", "check", r"exodus: [\d,]+ by \S+ of ([\d,]+)"),
        ],
    ),
    Quantity(
        "russian_peacekeeping_missions",
        "all rows (count)",
        lambda: len(data.load("russian_peacekeeping_missions")),
        [("peacekeeping", "glue", "missions_n"), ("peacekeeping", "check", r"missions: (\d+),")],
    ),
    Quantity(
        "russian_peacekeeping_missions",
        "breakaway_territory (count)",
        lambda: int(data.load("russian_peacekeeping_missions")["breakaway_territory"].sum()),
        [
            ("peacekeeping", "glue", "missions_breakaway"),
            ("peacekeeping", "check", r"in breakaway territories: (\d+)"),
        ],
    ),
    Quantity(
        "russia_total_arms_exports",
        "peak year (tiv_millions)",
        lambda: float(data.load("russia_total_arms_exports")["tiv_millions"].max()),
        [("ukraine", "glue", "ru_peak_tiv"), ("ukraine", "check", r"peak ([\d,]+) million TIV")],
    ),
    Quantity(
        "russia_total_arms_exports",
        "2021 (tiv_millions)",
        lambda: float(row("russia_total_arms_exports", "year", 2021)["tiv_millions"]),
        [("ukraine", "glue", "ru_2021"), ("ukraine", "check", r"; ([\d,]+) in 2021")],
    ),
    Quantity(
        "sipri_five_year_changes",
        "RUS change_pct 2020-24 (absolute value)",
        lambda: abs(five_year("change_pct", "2020–24")),
        [
            ("ukraine", "glue", "ru_change_2020_24"),
            ("ukraine", "check", r"2020-24 vs 2015-19: -?([\d.]+)%"),
        ],
    ),
    Quantity(
        "sipri_five_year_changes",
        "RUS world_share_pct 2015-19",
        lambda: five_year("world_share_pct", "2015–19"),
        [
            ("ukraine", "glue", "ru_share_2015_19"),
            ("ukraine", "check", r"world share ([\d.]+)% \(2015-19\)"),
        ],
    ),
    Quantity(
        "sipri_five_year_changes",
        "RUS world_share_pct 2020-24",
        lambda: five_year("world_share_pct", "2020–24"),
        [
            ("ukraine", "glue", "ru_share_2020_24"),
            ("ukraine", "check", r"-> ([\d.]+)% \(2020-24\)"),
        ],
    ),
    Quantity(
        "sipri_five_year_changes",
        "RUS world_share_pct 2021-25",
        lambda: five_year("world_share_pct", "2021–25"),
        [
            ("ukraine", "glue", "ru_share_2021_25"),
            ("ukraine", "check", r"world share ([\d.]+)% \(2021-25\)"),
        ],
    ),
    Quantity(
        "sipri_arms_transfers",
        "ARM imports 2016-20, share from RUS (%)",
        lambda: sipri_share("ARM", "RUS", 2016, 2020),
        [
            ("ukraine", "glue", "arm_rus_share_16_20"),
            ("ukraine", "check", r"Russia ([\d.]+)% of imports"),
        ],
    ),
    Quantity(
        "military_spending_gdp",
        "RUS 2021 (pct_gdp)",
        lambda: milex("RUS", 2021),
        [
            ("ukraine", "glue", "rus_milex_2021"),
            ("ukraine", "check", r"spending: ([\d.]+)% of GDP \(2021\)"),
        ],
    ),
    Quantity(
        "military_spending_gdp",
        "RUS 2024 (pct_gdp)",
        lambda: milex("RUS", 2024),
        [("ukraine", "glue", "rus_milex_2024"), ("ukraine", "check", r"-> ([\d.]+)% \(2024\)")],
    ),
    Quantity(
        "september_2022_attack",
        "cas-arm-killed-missing-2022-09-19 (value_low)",
        lambda: float(
            row("september_2022_attack", "item_id", "cas-arm-killed-missing-2022-09-19")[
                "value_low"
            ]
        ),
        [
            ("ukraine", "glue", "arm_dead_missing_2022"),
            ("ukraine", "check", r"Armenian dead and missing (\d+)"),
        ],
    ),
    Quantity(
        "september_2022_attack",
        "cas-aze-killed-2022-09-19 (value_low)",
        lambda: float(
            row("september_2022_attack", "item_id", "cas-aze-killed-2022-09-19")["value_low"]
        ),
        [("ukraine", "glue", "aze_killed_2022"), ("ukraine", "check", r"Azerbaijani dead (\d+);")],
    ),
    Quantity(
        "arms_paid_not_delivered",
        "largest sum_usd_m_low",
        lambda: float(data.load("arms_paid_not_delivered")["sum_usd_m_low"].max()),
        [("ukraine", "glue", "undelivered_usd_m"), ("ukraine", "check", r"claimed: US\$(\d+)m")],
    ),
    Quantity(
        "armenia_arms_contracts",
        "ind-2022-2023-aggregate (value_usd_m_low)",
        lambda: float(
            row("armenia_arms_contracts", "contract_id", "ind-2022-2023-aggregate")[
                "value_usd_m_low"
            ]
        ),
        [("ukraine", "glue", "india_total"), ("ukraine", "check", r"at least US\$(\d+)m")],
    ),
]


def stated_at(book: dict[str, Stated], place) -> str:
    chapter, kind, where, *transform = place
    if kind == "glue":
        assert where in book[chapter].glues, (
            f"{chapter}: no glue called {where!r} (registry out of date?)"
        )
        found = book[chapter].glues[where]
    else:
        match = re.search(where, book[chapter].checks, flags=re.M)
        assert match, (
            f"{chapter}: the key-figure cell no longer prints /{where}/ (registry out of date?)"
        )
        found = match.group(1)
    return transform[0](found) if transform else found


#: Counts the prose writes in words ("five", "Five"), read back as numbers.
NUMBER_WORDS = {text.words(n): n for n in range(1, 11)}


def agrees(stated: str, value) -> bool:
    """Whether a stated value is the data's value at the precision it is stated with (a count
    written in words, "five", is read as 5)."""
    stated = str(NUMBER_WORDS.get(stated.strip().lower(), stated))
    cleaned = stated.strip().replace(",", "").rstrip("%")
    try:
        number = float(cleaned)
    except ValueError:
        return stated.strip() == str(value)
    decimals = len(cleaned.split(".")[1]) if "." in cleaned else 0
    return abs(number - float(value)) <= 0.5 * 10**-decimals + 1e-9


def quantity_problems(book: dict[str, Stated], quantities=QUANTITIES) -> list[str]:
    problems = []
    for quantity in quantities:
        value = quantity.value()
        stated = {f"{p[0]} {p[1]} {p[2]!r}": stated_at(book, p) for p in quantity.places}
        label = f"{quantity.dataset} [{quantity.key}]"
        if len({s.strip().replace(",", "") for s in stated.values()}) > 1 and not all(
            agrees(s, value) for s in stated.values()
        ):
            problems.append(f"{label} is stated with different values: {stated}")
        for where, said in stated.items():
            if not agrees(said, value):
                problems.append(f"{label}: {where} says {said!r}, the data say {value!r}")
    return problems


# --- counts typed into prose ------------------------------------------------------------------------

COUNTED = r"(?:estimates?|states|posts|installations|missions|events|people|servicemen|dead|soldiers|civilians|deals|contracts|claims|agreements)"
TYPED_COUNT = re.compile(
    rf"(?<![\w`.–-])(?<![Pp]roposition )(?!(?:19|20)\d\d\b)\d[\d,]*\s+(?:[a-z-]+\s+)?{COUNTED}\b"
)


def markdown_of(name: str) -> str:
    notebook = nbformat.read(paths.CHAPTERS / f"{name}.ipynb", as_version=4)
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def typed_counts(markdown: str) -> list[str]:
    prose = re.sub(r"\{[a-z:]+\}`[^`]*`", "", markdown)
    return TYPED_COUNT.findall(prose)


@pytest.mark.parametrize("name", CHAPTERS)
def test_no_count_is_typed_into_prose(name):
    found = typed_counts(markdown_of(name))
    assert not found, f"{name}: counts typed into the prose instead of glued from data: {found}"


# --- disputed place names in the gazetteer's order ------------------------------------------------


def disputed_pairs() -> list[tuple[str, str]]:
    places = data.load("places")
    pairs = places.dropna(subset=["alt_name"])
    return [(r["name"], r["alt_name"]) for _, r in pairs.iterrows() if r["alt_name"]]


def reversed_names(content: str, pairs) -> list[str]:
    found = []
    for name, alt in pairs:
        pattern = rf"\b{re.escape(alt)}\s*(?:/\s*|\(\s*){re.escape(name)}\b"
        found += [m.group(0) for m in re.finditer(pattern, content)]
    return found


def chapter_texts():
    for path in sorted(paths.CHAPTERS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells, start=1):
            yield f"{path.name}, cell {index}", cell.source
    for path in sorted(paths.CHAPTERS.glob("*.md")):
        yield path.name, path.read_text(encoding="utf-8")


def data_texts():
    for path in sorted(paths.DATA.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for line, record in enumerate(csv.DictReader(handle), start=2):
                for column, value in record.items():
                    if value and not value.replace(".", "").replace("-", "").isdigit():
                        yield f"{path.name}, line {line}, field {column}", value
    descriptor = json.loads((paths.DATA / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        for key in ("title", "description"):
            if resource.get(key):
                yield f"datapackage.json, {resource['name']}.{key}", resource[key]


def test_disputed_names_follow_the_gazetteer_everywhere():
    pairs = disputed_pairs()
    assert pairs, "the gazetteer lists no disputed names"
    wrong = [
        f"{where}: {hit!r}"
        for where, content in [*chapter_texts(), *data_texts()]
        for hit in reversed_names(content, pairs)
    ]
    assert not wrong, "disputed names in the reverse of the gazetteer's order:\n" + "\n".join(wrong)


# --- no words about how sources were looked up ----------------------------------------------------

TOOL_WORDS = re.compile(
    r"\bstored\b|copy shown|\bsearch(?:ed|es|ing)?\b|\btools?\b|found in the index|\blook-?ups?\b|\blooked up\b",
    re.IGNORECASE,
)


def prose_strings(notebook) -> list[str]:
    """Markdown cells, and every string constant in code cells (chart titles, notes, descriptions)."""
    strings = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            strings.append(cell.source)
        elif cell.cell_type == "code":
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tree = ast.parse(cell.source)
            except SyntaxError:
                strings.append(cell.source)
                continue
            strings += [
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            ]
    return strings


def tool_words(strings: list[str]) -> list[str]:
    return [m.group(0) for s in strings for m in TOOL_WORDS.finditer(s)]


@pytest.mark.parametrize("path", sorted(paths.CHAPTERS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_chapters_speak_of_sources_not_of_tools(path):
    found = tool_words(prose_strings(nbformat.read(path, as_version=4)))
    assert not found, f"{path.name}: words about tools in the prose: {found}"


def descriptor_strings(node, where="datapackage.json"):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from descriptor_strings(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from descriptor_strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node


def test_data_descriptions_speak_of_sources_not_of_tools():
    """Dataset and field titles and descriptions are shown in the Data appendix."""
    descriptor = json.loads((paths.DATA / "datapackage.json").read_text(encoding="utf-8"))
    found = [
        f"{where}: {hit}"
        for where, value in descriptor_strings(descriptor)
        for hit in tool_words([value])
    ]
    assert not found, "words about tools in data/datapackage.json:\n" + "\n".join(found)


# --- amounts in millions and billions carry their unit -------------------------------------------

#: A unit written right after "million"/"billion" ("52 million stems") ...
UNIT_AFTER = (
    r"(?:litres|TIV|stems|people|bottles|tonnes|US dollars|dollars|euros|roubles|drams|"
    r"square kilometres|km2|m³|cubic metres|kWh|kg)"
)
#: ... or a currency or measure named earlier in the same sentence ("US$ 841 million ... 2,463 million").
UNIT_BEFORE = re.compile(
    r"US\$|\$|€|\bdollars?\b|\beuros?\b|\broubles?\b|\bdrams?\b|\bTIV\b|\blitres\b"
)
#: An amount may run on ("2 billion 966 million") and close a quotation before its unit.
AMOUNT = re.compile(
    rf"(?<![\w.])\d[\d,.]*(?:–[\d,.]+)?\s+(?:million|billion)\b"
    rf"(?!(?:\s+\d[\d,.]*\s+(?:million|thousand))?['’]?\s+{UNIT_AFTER})"
)
SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(#*-])|\n\s*\n")


def amounts_without_unit(text: str) -> list[str]:
    """Sentences with an amount in millions or billions whose unit the sentence never names."""
    text = re.sub(r"\{glue(?::[a-z]+)?\}`[^`]+`", "9", text)
    text = re.sub(r"\{(?:cite:p|numref)\}`[^`]+`", "", text)
    found = []
    for sentence in SENTENCE_END.split(text):
        sentence = " ".join(sentence.split())
        for match in AMOUNT.finditer(sentence):
            if not UNIT_BEFORE.search(sentence[: match.start()]):
                found.append(sentence[:200])
                break
    return found


@pytest.mark.parametrize("path", sorted(paths.CHAPTERS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_amounts_in_the_prose_carry_their_unit(path):
    notebook = nbformat.read(path, as_version=4)
    found = amounts_without_unit(
        "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    )
    assert not found, f"{path.name}: an amount printed without its unit:\n" + "\n".join(found)


def test_amounts_in_the_data_carry_their_unit():
    found = [
        f"{where}: {hit}" for where, value in data_texts() for hit in amounts_without_unit(value)
    ]
    assert not found, "an amount printed without its unit:\n" + "\n".join(found)


# --- Russia's share of world arms exports: every figure names its SIPRI period ---------------------

WORLD_SHARE = re.compile(r"share of (?:the )?world|world share|share of global|global share", re.I)
PERCENT = re.compile(r"(?:\{glue(?::[a-z]+)?\}`[^`]+`|\d[\d.]*)%")
FIVE_YEARS = re.compile(r"\b(?:19|20)\d\d–\d\d\b")


def shares_without_period(markdown: str) -> list[str]:
    """Percentages in sentences about a world share that are not followed by their five-year window."""
    markdown = re.sub(r"\{(?:cite:p|numref)\}`[^`]+`", "", markdown)
    found = []
    for sentence in SENTENCE_END.split(markdown):
        if not WORLD_SHARE.search(sentence):
            continue
        for match in PERCENT.finditer(sentence):
            if not FIVE_YEARS.search(sentence[match.end() : match.end() + 40]):
                found.append(f"{match.group(0)} in: {' '.join(sentence.split())[:200]}")
    return found


@pytest.mark.parametrize("path", sorted(paths.CHAPTERS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_world_shares_name_their_period(path):
    notebook = nbformat.read(path, as_version=4)
    found = shares_without_period(
        "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    )
    assert not found, (
        f"{path.name}: a share of world exports without its five-year period:\n" + "\n".join(found)
    )


# --- no chart runs past the day the data stop ------------------------------------------------------


def chart_dates_after(spec: dict, day) -> list[str]:
    """Dates drawn on a temporal x axis of a Vega-Lite spec (its data on x/x2, its scale domain)
    that fall after ``day``."""
    import pandas as pd

    datasets = spec.get("datasets", {})
    late = []

    def when(value):
        try:
            stamp = (
                pd.Timestamp(value, unit="ms")
                if isinstance(value, int | float)
                else pd.Timestamp(value)
            )
        except (ValueError, TypeError):
            return None
        return stamp.tz_convert(None) if stamp.tz is not None else stamp

    def walk(node, data_name=None):
        if isinstance(node, list):
            for item in node:
                walk(item, data_name)
            return
        if not isinstance(node, dict):
            return
        source = node.get("data")
        data_name = source.get("name", data_name) if isinstance(source, dict) else data_name
        encoding = node.get("encoding")
        x = encoding.get("x") if isinstance(encoding, dict) else None
        if isinstance(x, dict) and x.get("type") == "temporal":
            scale = x.get("scale") if isinstance(x.get("scale"), dict) else {}
            values = [
                ("axis", v)
                for v in scale.get("domain", [])
                if isinstance(scale.get("domain"), list)
            ]
            for channel in ("x", "x2"):
                field = (encoding.get(channel) or {}).get("field")
                values += [(field, r.get(field)) for r in datasets.get(data_name, []) if field]
            for field, value in values:
                stamp = when(value) if value is not None else None
                if stamp is not None and stamp > day:
                    late.append(f"{field} {stamp:%Y-%m-%d}")
        for key, value in node.items():
            if key != "datasets":
                walk(value, data_name)

    walk(spec)
    return sorted(set(late))


# --- the checks can fail ----------------------------------------------------------------------------


def test_checks_catch_what_they_are_for():
    assert reversed_names("near Khankendi/Stepanakert", [("Stepanakert", "Khankendi")])
    assert reversed_names("Shushi (Shusha)", [("Shusha", "Shushi")])
    assert not reversed_names("Stepanakert/Khankendi", [("Stepanakert", "Khankendi")])
    assert tool_words(["no annual figure could be found in stored sources"])
    assert not tool_words(["hover for the tooltip; an index of volume"])
    assert typed_counts("The 7 published estimates") and not typed_counts(
        "in {glue:text}`n` states, 1992–2021"
    )
    assert not typed_counts("Proposition 5 claims that; by early 2024 contracts")
    assert amounts_without_unit("It put imports at 52 million, up 49.7%.")
    assert not amounts_without_unit(
        "Exports were US$ {glue:text}`x` million in 2021 and 2,463 million in 2022."
    )
    assert not amounts_without_unit("about 43 million litres in all; 52 million stems")
    assert shares_without_period("its share of world exports fell from {glue:text}`a`% to 7.8%.")
    assert not shares_without_period("its world share fell from 21% in 2015–19 to 7.8% in 2020–24.")
    import pandas as pd

    spec = {
        "datasets": {"d": [{"start": "2020-01-01", "end": "2026-12-31"}]},
        "layer": [
            {
                "data": {"name": "d"},
                "encoding": {
                    "x": {"field": "start", "type": "temporal"},
                    "x2": {"field": "end"},
                },
            }
        ],
    }
    assert chart_dates_after(spec, pd.Timestamp("2026-12-03")) == ["end 2026-12-31"]
    assert not chart_dates_after(spec, pd.Timestamp("2027-01-01"))
    fake = {
        "military": Stated(
            glues={"base_n_estimates": "8"}, checks="base personnel estimates: 7, 3,000-5,000"
        )
    }
    probe = Quantity(
        "russian_personnel_estimates",
        "probe",
        lambda: 7,
        [
            ("military", "glue", "base_n_estimates"),
            ("military", "check", r"base personnel estimates: (\d+)"),
        ],
    )
    assert quantity_problems(fake, [probe])
    assert (
        agrees("3.6", 3.58)
        and agrees("3.58", 3.58)
        and not agrees("3.5", 3.58)
        and agrees("3,000", 3000.0)
    )


# --- prose a journalist can quote -----------------------------------------------------------------
#
# * **Long sentences.** A sentence of more than 45 words is hard to quote. The chapters' markdown
#   is split into paragraphs and list items, and those into sentences; a glued value, a citation
#   and a figure reference each count as one word (a figure reference as two: "Figure 3.2"), markup
#   and links count as the words a reader sees. At most fifteen such sentences book-wide.
# * **Numbers as a writer writes them.** In the prose as the reader sees it (glued values put in),
#   a count up to ten is a word: no "within 1 day", "1 visit" or "4 of the 4 missions".
# * **Nothing of the machinery.** No data-structure words about the book's own files in the
#   chapters' prose ("loader", "glue", a file path, a function name), and no table or tooltip that
#   shows an internal id (a ``*_id`` field, or a value like "2024-05-08-border-guards" or
#   "ru-fsb-zvartnots").

LONG_SENTENCE = 45
MOST_LONG_SENTENCES = 15
#: Abbreviations after which a full stop does not end a sentence.
_NO_END = r"(?<!\be\.g)(?<!\bi\.e)(?<!\bcf)(?<!\bNo)(?<!\bSt)(?<!\bvs)(?<!\bU\.S)(?<!\bpp)"


def _prose_units(markdown: str) -> list[str]:
    """Paragraphs and list items of the prose, directive fences and table rows apart, with each
    role read as the words it shows."""
    text = re.sub(r"\{glue(?::[a-z]+)?\}`[^`]*`", "GLUED", markdown)
    text = re.sub(r"\{cite(?::[a-z]+)?\}`[^`]*`", "CITED", text)
    text = re.sub(r"\{numref\}`[^`]*`", "Figure N", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    units, current = [], []
    for line in text.splitlines():
        bare = line.strip()
        if bare.startswith((":::", ":class:", "```", "|")):
            bare = ""
        if not bare or re.match(r"(?:[-*]|\d+\.)\s", bare) or bare.startswith("#"):
            if current:
                units.append(" ".join(current))
            current = [] if not bare or bare.startswith("#") else [bare]
            continue
        current.append(bare)
    if current:
        units.append(" ".join(current))
    return units


def long_sentences(markdown: str, limit: int = LONG_SENTENCE) -> list[tuple[int, str]]:
    """(words, sentence) for every sentence of more than ``limit`` words."""
    found = []
    for unit in _prose_units(markdown):
        for sentence in re.split(_NO_END + r"(?<=[.!?])[*_)\"”’]*\s+(?=[\[*_(\"“‘A-Z0-9])", unit):
            words = [w for w in sentence.split() if re.search(r"[A-Za-z0-9]", w)]
            if len(words) > limit:
                found.append((len(words), sentence))
    return found


def book_markdown():
    for path in sorted(paths.CHAPTERS.glob("*.ipynb")):
        if path.stem != "_template":
            notebook = nbformat.read(path, as_version=4)
            yield (
                path.stem,
                "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown"),
            )


def test_at_most_fifteen_long_sentences_book_wide():
    found = [
        (stem, n, s) for stem, markdown in book_markdown() for n, s in long_sentences(markdown)
    ]
    assert len(found) <= MOST_LONG_SENTENCES, (
        f"{len(found)} sentences of more than {LONG_SENTENCE} words (at most {MOST_LONG_SENTENCES}):\n"
        + "\n".join(f"{stem} ({n} words): {s[:140]}…" for stem, n, s in found)
    )


#: A count in figures where a writer writes a word: "1 day", "2 visits", "4 of the 4", "all 4".
DIGIT_WORDS = re.compile(
    r"(?<![\w.,$£€%–/-])(?:[1-9]|10)\s+(?:more\s+|other\s+|of\s+them\s+)?"
    r"(?:days?|weeks?|months?|years?|visits?|missions?|states?|posts?|steps?|meetings?|deals?|"
    r"times|people|estimates?|installations?|measures?|members?|statements?|towns?|places?|sites?)\b"
    r"|(?<![\w.,-])(\d+)\s+of\s+the\s+\1\b|\ball\s+(?:[1-9]|10)\s+(?:of\b|[a-z]+s\b)",
    re.I,
)


def rendered_prose(markdown: str, glues: dict) -> str:
    """The prose as a reader sees it: glued values put in, citations and figure numbers out."""
    text = GLUE_ROLE.sub(lambda m: str(glues.get(m.group(1), m.group(0))), markdown)
    return re.sub(r"\{[a-z:]+\}`[^`]*`", "", text)


def digit_words(text: str) -> list[str]:
    return [
        " ".join(text[max(0, m.start() - 40) : m.end()].split()) for m in DIGIT_WORDS.finditer(text)
    ]


#: Words about the book's machinery that no reader's sentence needs (the method appendix, which
#: explains the machinery, and the Data appendix, which documents the files, apart).
MACHINERY = re.compile(
    r"\bloader\b|\bglued?\b|`?\bdata/[\w./]*|`afterkarabakh[\w.]*`?|\bwritten in parallel\b"
    r"|\b(?:one|a|each|every|the)\s+row\b|\bdataset row\b|\bsummary row\b|\bfield\b",
    re.I,
)
MACHINERY_FREE = [
    p.stem
    for p in sorted(paths.CHAPTERS.glob("*.ipynb"))
    if p.stem not in ("_template", "appendix_method", "appendix_data")
]


def machinery_words(markdown: str) -> list[str]:
    prose = re.sub(r"\{[a-z:]+\}`[^`]*`", "", markdown)
    return [
        " ".join(prose[max(0, m.start() - 40) : m.end() + 20].split())
        for m in MACHINERY.finditer(prose)
    ]


@pytest.mark.parametrize("name", MACHINERY_FREE)
def test_no_machinery_words_in_the_prose(name):
    found = machinery_words(markdown_of(name))
    assert not found, f"{name}: words about the book's machinery in the prose: {found}"


#: An id as the data write it: "ru-fsb-zvartnots", "2024-05-08-border-guards", "iri-2019-05".
INTERNAL_ID = re.compile(
    r"^(?=[a-z0-9-]*\d|(?:[a-z0-9]+-){2})[a-z][a-z0-9]*(?:-[a-z0-9]+)+$|^\d{4}-\d{2}-\d{2}-[a-z]"
)


def _tooltips(node, found):
    if isinstance(node, dict):
        tooltip = (node.get("encoding") or {}).get("tooltip")
        for item in tooltip if isinstance(tooltip, list) else [tooltip]:
            if isinstance(item, dict) and isinstance(item.get("field"), str):
                found.append(item)
        for value in node.values():
            _tooltips(value, found)
    elif isinstance(node, list):
        for value in node:
            _tooltips(value, found)
    return found


def ids_shown(spec: dict) -> list[str]:
    """Internal ids a chart shows a reader: a tooltip on an id field or with id-like values, and
    any column or cell of the data table under it (afterkarabakh.tables) that is one."""
    from afterkarabakh import tables

    shown = []
    rows = [
        r for values in spec.get("datasets", {}).values() for r in values if isinstance(r, dict)
    ]
    for tip in _tooltips(spec, []):
        field = tip["field"]
        if tables.internal(field):
            shown.append(f"tooltip field {field!r}")
        shown += [
            f"tooltip value {r[field]!r}" for r in rows if INTERNAL_ID.match(str(r.get(field, "")))
        ][:1]
    for table in tables.tables(spec):
        for field, (title, _) in table["columns"].items():
            if tables.internal(field):
                shown.append(f"table column {title!r}")
            shown += [
                f"table cell {r[field]!r} in {title!r}"
                for r in table["rows"]
                if isinstance(r, dict) and INTERNAL_ID.match(str(r.get(field, "")))
            ][:1]
    return shown


def test_prose_checks_catch_planted_errors():
    long = "The chapter " + " ".join(["tests"] * 42) + " {glue:text}`n` {cite:p}`a-b`."
    assert long_sentences(long) and not long_sentences(long.replace(" {cite:p}`a-b`", ""))
    assert not long_sentences("Short. " * 30)
    assert digit_words("the Council decided within 1 day to send")
    assert digit_words("in all 4 of the 4 missions in breakaway territories")
    assert digit_words("it arrived 2 days later; 1 visit, to China")
    assert not digit_words("within a day; all four missions; 12 days; 5 October 2023; 7.1% of GDP")
    assert not digit_words("from 12 to 6. Propositions 3 and 12; 2,000 and 2,500 troops")
    assert not digit_words("All 13 measures; 14 states in all")
    assert rendered_prose("within {glue:text}`d` day", {"d": "1"}) == "within 1 day"
    assert machinery_words("a reference to one row and one field which the loader resolves")
    assert machinery_words(
        "kept unchanged in `data/raw/` and summed by `afterkarabakh.chapters.trade.x`"
    )
    assert not machinery_words("the data stop on {glue:text}`d`; each event cites its page")
    spec = {
        "datasets": {
            "d": [
                {
                    "claim_id": "ru-fsb-zvartnots",
                    "who": "2024-05-08-border-guards",
                    "n": 3,
                    "source_id": "s",
                }
            ]
        },
        "data": {"name": "d"},
        "mark": "point",
        "encoding": {
            "tooltip": [{"field": "who", "type": "nominal", "title": "Who"}],
            "y": {"field": "claim_id", "type": "nominal", "axis": None},
            "x": {"field": "n", "type": "quantitative", "title": "Count"},
        },
    }
    shown = ids_shown(spec)
    assert any("tooltip value" in s for s in shown) and any("table cell" in s for s in shown)
    spec["encoding"]["tooltip"] = [{"field": "claim_id", "type": "nominal"}]
    assert any("tooltip field 'claim_id'" in s for s in ids_shown(spec))
    spec["datasets"]["d"][0]["who"] = "Russian border guards"
    spec["encoding"]["tooltip"] = [{"field": "who", "type": "nominal", "title": "Who"}]
    assert not ids_shown(spec)
