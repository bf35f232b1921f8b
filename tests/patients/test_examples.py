"""The bundled example patients read cleanly, and their derived facts and verdicts are what the README says.

The README of ``src/trialmatch/data/patients/examples`` is the one statement of what each synthetic patient is
meant to show; these tests read its tables, so the data, the derivations, the curated rules and the README
cannot drift apart silently.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.engine.answers import SiteAnswers, load_answers
from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, TrialOutcome
from trialmatch.engine.screening import screen_trial
from trialmatch.patients.derive import DerivedValue, derive, derive_lesion
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.patients.sources.fhir import load_json, records_from_resources
from trialmatch.rules.catalog import TrialRules, bind
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.library import bundled_trials

EXAMPLES = Path(str(files("trialmatch") / "data" / "patients" / "examples"))
AS_OF = dt.date(2026, 11, 21)
MCODE_BUNDLE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-patient-bundle"
_FACT = re.compile(r"^(?P<name>\w+)\((?P<args>[^)]*)\)(?: of lesion (?P<lesion>\S+))?$")


# -- the README's tables ------------------------------------------------------------------------------------


def _table(heading: str) -> list[dict[str, str]]:
    """The rows of the markdown table under ``## <heading>`` as dicts keyed by the header cells."""
    lines = (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {heading}"))
    block: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            block.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    assert len(block) > 2, f"no table under '{heading}'"
    header, body = block[0], block[2:]
    return [dict(zip(header, cells, strict=True)) for cells in body]


VERDICTS = _table("Expected verdicts")
FACTS = _table("Key derived facts")
PROBLEMS = _table("Input problems")
PATIENTS = _table("Patients")


def _ids(cell: str) -> set[str]:
    return set() if cell == "—" else {part.strip() for part in cell.split(",")}


def _date(cell: str) -> dt.date | None:
    return None if cell == "—" else dt.date.fromisoformat(cell)


# -- shared loading -----------------------------------------------------------------------------------------


@cache
def _record(patient_id: str) -> PatientRecord:
    (file,) = [row["File"] for row in PATIENTS if row["Patient"] == patient_id]
    (record,) = read_patients(EXAMPLES / file)
    return record


@cache
def _bound() -> dict[str, TrialRules]:
    return {trial.trial_id: bind(trial) for trial in bundled_trials()}


@cache
def _answers() -> SiteAnswers:
    return load_answers(EXAMPLES / "answers.yaml")


def _screen(patient: str, trial_id: str, as_of: dt.date = AS_OF, *, answered: bool = False) -> TrialOutcome:
    """One example patient against one bundled trial, with or without the site answers."""
    answers = _answers() if answered else SiteAnswers()
    return screen_trial(_record(patient), _bound()[trial_id], as_of, answers)


# -- reading ------------------------------------------------------------------------------------------------


def test_the_readme_lists_every_example_file() -> None:
    on_disk = sorted(p.name for p in EXAMPLES.glob("*.json"))
    assert sorted(row["File"] for row in PATIENTS) == on_disk
    assert len(on_disk) >= 8


@pytest.mark.parametrize("row", PATIENTS, ids=lambda row: row["Patient"])
def test_each_example_is_one_patient_with_only_the_intended_problems(row: dict[str, str]) -> None:
    unowned: list[InputProblem] = []
    records = list(read_patients(EXAMPLES / row["File"], problems=unowned))
    assert [r.patient_id for r in records] == [row["Patient"]]
    assert unowned == []
    found = {(p.source, p.problem) for p in records[0].problems}
    intended = {(p["Source"], p["Problem"]) for p in PROBLEMS if p["Patient"] == row["Patient"]}
    assert found == intended


@pytest.mark.parametrize("row", PATIENTS, ids=lambda row: row["Patient"])
def test_examples_are_mcode_bundles_of_clearly_synthetic_patients(row: dict[str, str]) -> None:
    bundle = load_json(EXAMPLES / row["File"])
    assert isinstance(bundle, dict)
    assert bundle["type"] == "collection"
    assert bundle["meta"]["profile"] == [MCODE_BUNDLE]
    resources = [entry["resource"] for entry in bundle["entry"]]
    (patient,) = [r for r in resources if r["resourceType"] == "Patient"]
    assert "synthetic" in patient["name"][0]["text"]
    assert all(r.get("meta", {}).get("profile") for r in resources)


# -- derived facts ------------------------------------------------------------------------------------------


def _expected(cell: str) -> bool | float | str | None:
    if cell == "unknown":
        return None
    if cell in ("true", "false"):
        return cell == "true"
    try:
        return float(cell)
    except ValueError:
        return cell


def _fact(record: PatientRecord, text: str) -> bool | float | str | None:
    match = _FACT.match(text)
    assert match, f"unreadable fact '{text}'"
    name, lesion_id = match["name"], match["lesion"]
    if name in ("latest", "uln"):
        concept = match["args"].strip()
        found = [m for m in record.measurements if m.concept == concept]
        values = sorted(found, key=lambda m: m.date or AS_OF)
        return values[-1].value if name == "latest" else values[-1].high
    args = dict(part.strip().split("=", 1) for part in match["args"].split(",") if part.strip())
    value: DerivedValue
    if lesion_id:
        (lesion,) = [x for x in record.lesions if x.id == lesion_id]
        value = derive_lesion(name, args, lesion, record, AS_OF)
    else:
        value = derive(name, args, record, AS_OF)
    return value.value


@pytest.mark.parametrize("row", FACTS, ids=lambda row: f"{row['Patient']}:{row['Fact']}")
def test_key_derived_facts_are_as_the_readme_says(row: dict[str, str]) -> None:
    expected = _expected(row["Value"])
    actual = _fact(_record(row["Patient"]), row["Fact"])
    if isinstance(expected, float) and not isinstance(actual, bool):
        assert actual == pytest.approx(expected, abs=0.005)
    else:
        assert actual == expected


# -- verdicts -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row", VERDICTS, ids=lambda row: f"{row['Patient']}:{row['Trial']}")
def test_verdicts_are_as_the_readme_says(row: dict[str, str]) -> None:
    outcome = _screen(row["Patient"], row["Trial"])
    assert outcome.verdict == row["Verdict"], outcome.failed
    if outcome.verdict == "ineligible":
        deciding = set(outcome.failed)
    else:
        deciding = {c.id for c in outcome.criteria if c.status is Status.UNKNOWN}
    assert deciding == _ids(row["Deciding criteria"])
    assert outcome.eligible_from == _date(row["Eligible from"])
    assert _screen(row["Patient"], row["Trial"], answered=True).verdict == row["With answers"]


def test_every_trial_has_an_eligible_or_possible_and_an_ineligible_example() -> None:
    for trial_id in _bound():
        verdicts = {row["Verdict"] for row in VERDICTS if row["Trial"] == trial_id}
        assert "ineligible" in verdicts
        assert verdicts & {"eligible", "possible"}


WASHOUTS = [row for row in VERDICTS if row["Eligible from"] != "—"]


@pytest.mark.parametrize("row", WASHOUTS, ids=lambda row: f"{row['Patient']}:{row['Trial']}")
def test_a_washout_passes_on_its_eligible_from_date(row: dict[str, str]) -> None:
    day = _date(row["Eligible from"])
    assert day is not None
    assert _screen(row["Patient"], row["Trial"], day - dt.timedelta(days=1)).verdict == "ineligible"
    assert _screen(row["Patient"], row["Trial"], day).verdict != "ineligible"


def test_answers_settle_only_what_the_records_leave_open() -> None:
    """Each answer names an example patient and a criterion that is review or unknown without answers."""
    for answer in _answers().answers:
        assert answer.patient_id is not None
        outcome = _screen(answer.patient_id, answer.trial_id)
        statuses = {c.id: c.status for c in _walk(outcome)}
        assert statuses[answer.criterion_id] in (Status.REVIEW, Status.UNKNOWN), answer.criterion_id


def test_answers_turn_the_possible_patient_eligible_with_nothing_left_for_review() -> None:
    changed = [row for row in VERDICTS if row["Verdict"] == "possible" and row["With answers"] == "eligible"]
    assert changed
    for row in changed:
        outcome = _screen(row["Patient"], row["Trial"], answered=True)
        assert outcome.needs_review == ()
        assert outcome.missing == ()


def _walk(outcome: TrialOutcome) -> list[CriterionOutcome]:
    out: list[CriterionOutcome] = []
    stack = list(outcome.criteria)
    while stack:
        criterion = stack.pop()
        out.append(criterion)
        stack.extend((*criterion.children, *criterion.parts))
    return out


# -- order independence -------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(data=st.data(), which=st.sampled_from([row["File"] for row in PATIENTS]))
def test_a_bundle_reads_the_same_in_any_entry_order(data: st.DataObject, which: str) -> None:
    bundle = load_json(EXAMPLES / which)
    assert isinstance(bundle, dict)
    entries = [(entry["resource"], entry["fullUrl"]) for entry in bundle["entry"]]
    shuffled = data.draw(st.permutations(entries))
    library = default_library()
    (first,) = records_from_resources(entries, library, [], (which,))
    (second,) = records_from_resources(shuffled, library, [], (which,))
    assert second.model_copy(update={"problems": ()}) == first.model_copy(update={"problems": ()})
    assert sorted(second.problems, key=repr) == sorted(first.problems, key=repr)
