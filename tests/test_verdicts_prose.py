"""One answer everywhere: the prose states each proposition's verdict as data/verdicts.csv has it.

* **Verdict words in prose.** Every chapter's markdown is split into paragraphs and list items; in
  each, a verdict phrase ("partly supported", "contradicted", "overtaken", "cannot be tested", ...)
  is attributed to the nearest proposition number before it ("Proposition 9 is ...", "(9) ...",
  "(9; ...)"). The verdict must be that proposition's verdict in the dataset. A glued verdict
  (``{glue:text}`verdict_9```) must sit next to its own proposition's number.
* **The commentary's date.** The commentary was published in October 2023; no sentence that
  speaks of it (chapters, chart strings, the data package, the README) may say November 2023, and
  the aftermath's "since then" starts on the day the registry dates it.
* **Criteria before verdicts.** Every proposition carries its test (supported_if,
  contradicted_if) and what would change the verdict; the loader refuses an empty criterion, and a
  reason stays under 45 words.

``test_the_checks_catch_planted_errors`` shows each check failing on a planted error.
"""

from __future__ import annotations

import csv
import json
import re

import nbformat
import pytest
from test_consistency import prose_strings

from afterkarabakh import data, paths, verdicts

CHAPTERS = sorted(paths.CHAPTERS.glob("*.ipynb"))

# --- verdict words tied to proposition numbers ----------------------------------------------------

#: Verdict phrases as prose writes them, longest first, with the verdict each one states.
VERDICT_PHRASES = [
    (r"partly supported|partially supported|partial verdict", "partly supported"),
    (r"(?:partly )?overtaken(?: by events)?", "overtaken by events"),
    (
        r"cannot be tested|can ?not be tested|untestable|not testable",
        "cannot be tested with these data",
    ),
    (r"contradict(?:ed|s)", "contradicted"),
    (r"(?<!partly )(?<!partially )(?<!not )supported", "supported"),
]
PHRASE = re.compile(
    "|".join(f"(?P<v{i}>\\b(?:{p})\\b)" for i, (p, _) in enumerate(VERDICT_PHRASES)), re.IGNORECASE
)
#: A reference to propositions: "Proposition 9", "propositions 7 and 12", "(9)", "(9; ...", "(2, 4)".
NUMBERS = r"(?:1[0-9]|20|[1-9])(?:(?:, | and |–)(?:1[0-9]|20|[1-9]))*"
REFERENCE = re.compile(
    rf"\b[Pp]roposition(?:s)? (?P<a>{NUMBERS})\b|\((?P<b>{NUMBERS})(?=[;),])",
)
GLUED_VERDICT = re.compile(r"\{glue:text\}`verdict_(\d+)`")
ROLE = re.compile(r"\{(?:cite(?::[a-z]+)?|numref|ref|doc)\}`[^`]*`")


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def units(markdown: str) -> list[str]:
    """Paragraphs and list items: the span within which a verdict is read as a proposition's."""
    found, current = [], []
    for line in markdown.splitlines():
        if not line.strip() or re.match(r"\s*(?:[-*]|\d+\.)\s", line) or line.startswith("#"):
            if current:
                found.append(" ".join(current))
            current = [] if not line.strip() or line.startswith("#") else [line.strip()]
            continue
        current.append(line.strip())
    if current:
        found.append(" ".join(current))
    return found


def stated_verdicts(markdown: str) -> list[tuple[int, str, str]]:
    """(proposition, verdict, excerpt) for each verdict phrase that follows a proposition number."""
    stated = []
    for unit in units(markdown):
        text = ROLE.sub("", unit)
        refs = [
            (m.start(), _numbers(m.group("a") or m.group("b"))) for m in REFERENCE.finditer(text)
        ]
        for match in PHRASE.finditer(text):
            before = [numbers for start, numbers in refs if start < match.start()]
            if not before:
                continue
            verdict = next(
                VERDICT_PHRASES[int(k[1:])][1] for k, v in match.groupdict().items() if v
            )
            excerpt = text[max(0, match.start() - 80) : match.end() + 20]
            stated += [(n, verdict, excerpt) for n in before[-1]]
    return stated


def glue_mismatches(markdown: str) -> list[str]:
    """Glued verdicts placed next to another proposition's number."""
    wrong = []
    for unit in units(markdown):
        text = ROLE.sub("", unit)
        for match in GLUED_VERDICT.finditer(text):
            refs = [
                _numbers(m.group("a") or m.group("b"))
                for m in REFERENCE.finditer(text[: match.start()])
            ]
            if not refs or int(match.group(1)) not in refs[-1]:
                wrong.append(
                    f"verdict_{match.group(1)} glued after {refs[-1] if refs else 'no number'}"
                )
    return wrong


def verdict_problems(markdown: str, truth: dict[int, str]) -> list[str]:
    problems = [
        f"proposition {n}: the prose says {said!r}, data/verdicts.csv says {truth[n]!r} (…{excerpt}…)"
        for n, said, excerpt in stated_verdicts(markdown)
        if n in truth and said != truth[n]
    ]
    return problems + glue_mismatches(markdown)


def markdown_of(path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


def truth() -> dict[int, str]:
    rows = data.load("verdicts")
    return dict(zip(rows["proposition"].astype(int), rows["verdict"]))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_prose_states_verdicts_as_the_dataset_has_them(path):
    problems = verdict_problems(markdown_of(path), truth())
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_scan_reads_the_verdicts_the_chapters_state():
    """The scan is not vacuous: it finds verdict statements in the chapters that make them."""
    found = {
        path.stem: {n for n, _, _ in stated_verdicts(markdown_of(path))}
        for path in CHAPTERS
        if path.stem in ("military", "icc", "trade")
    }
    assert {5, 10} <= found["military"] and {16, 17} <= found["icc"] and {19, 20} <= found["trade"]


# --- the commentary is dated October 2023 -------------------------------------------------------

MISDATED = re.compile(r"\bNov(?:ember|\.)? 2023\b")


def sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.;!?])\s+|\n\s*\n", text)


def misdated(text: str) -> list[str]:
    """Sentences that speak of the commentary and date something to November 2023."""
    return [
        s.strip()[:160]
        for s in sentences(text)
        if MISDATED.search(s) and re.search(r"commentary", s, re.IGNORECASE)
    ]


def texts_about_the_book():
    for path in CHAPTERS:
        for index, string in enumerate(prose_strings(nbformat.read(path, as_version=4))):
            yield f"{path.name} (text {index})", string
    descriptor = json.loads(paths.DATAPACKAGE.read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        yield f"datapackage.json, {resource['name']}", resource.get("description", "")
    with (paths.DATA / "verdicts.csv").open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            yield f"verdicts.csv, line {line}", " ".join(row.values())
    for name in ("README.md", "CONTRIBUTING.md"):
        yield name, (paths.ROOT / name).read_text(encoding="utf-8")


def test_no_page_dates_the_commentary_to_november_2023():
    found = [f"{where}: {hit}" for where, text in texts_about_the_book() for hit in misdated(text)]
    assert not found, "the commentary was published in October 2023:\n" + "\n".join(found)


def test_since_then_starts_on_the_day_the_commentary_is_dated():
    from afterkarabakh.chapters import aftermath

    published = verdicts.commentary_date()
    assert (published.year, published.month) == (2023, 10), f"the registry dates it {published}"
    assert aftermath.PERIOD_START == published


# --- criteria before verdicts ---------------------------------------------------------------------

CRITERIA = ["supported_if", "contradicted_if", "would_change"]


def test_every_proposition_has_its_test_and_a_short_reason():
    rows = data.load("verdicts")
    for column in CRITERIA:
        assert rows[column].notna().all() and rows[column].str.strip().ne("").all(), column
    long = {
        int(r["proposition"]): len(r["reason"].split())
        for _, r in rows.iterrows()
        if len(r["reason"].split()) >= 45
    }
    assert not long, f"reasons of 45 words or more (proposition: words): {long}"


def _blank(data_copy, column: str) -> int:
    path = data_copy.parent / "verdicts.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[4][column] = ""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return 4 + 2


@pytest.mark.parametrize("column", CRITERIA)
def test_an_empty_criterion_is_refused(data_copy, column):
    line = _blank(data_copy, column)
    with pytest.raises(data.DataError, match=rf"verdicts\.csv, row {line}, field '{column}'"):
        data.validate(data_copy)


def test_the_cards_show_the_test_before_the_verdict():
    html = verdicts.cards_html(verdicts.frame("icc"))
    assert html.count('class="ak-verdict-card') == 3
    first = html.split('class="ak-verdict-card')[1]
    assert first.index("Supported if") < first.index("Contradicted if") < first.index("Verdict:")
    assert first.index("Verdict:") < first.index("What would change it")


# --- the checks can fail ----------------------------------------------------------------------------


def test_the_checks_catch_planted_errors():
    facts = {9: "partly supported", 20: "partly supported", 3: "cannot be tested with these data"}
    # The three disagreements the issue found, each as a page once had it.
    assert verdict_problems(
        "- **The mission would be wound up (9).** It was. The proposition is "
        "overtaken by events in the plainest sense.",
        facts,
    )
    assert verdict_problems(
        "Proposition 20 is supported for Moldova, but it was partly overtaken.", facts
    )
    assert verdict_problems("Of the propositions, proposition 3 is supported.", facts)
    assert verdict_problems("- **What Baku feared (9; {glue:text}`verdict_3`).** Text.", facts)
    assert not verdict_problems(
        "Proposition 9 is partly supported: its forecast was borne out. Proposition 3 "
        "*cannot be tested with these data*. (20; {glue:text}`verdict_20`).",
        facts,
    )
    assert misdated(
        "The commentary whose propositions this book tests was written in November 2023."
    )
    assert misdated("as the November 2023 commentary expected")
    assert not misdated(
        "The US Senate passed a bill in November 2023. The commentary appeared earlier."
    )
