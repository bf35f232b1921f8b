"""The trial record's own sex and age limits are screened as ``record-sex`` and ``record-age``; a trial whose
drafted criteria were not understood rests on drafts and is never eligible."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.engine.answers import SiteAnswers
from trialmatch.engine.screening import screen_patient, screen_trial
from trialmatch.patients.model import PatientRecord
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.drafting.draft import draft_trial
from trialmatch.trials.model import Criterion, CriterionType, Trial, TrialSource

AS_OF = dt.date(2026, 3, 1)


def trial(sex: str | None = None, low: float | None = None, high: float | None = None, *texts: str) -> Trial:
    criteria = tuple(Criterion(id=f"inc-{n}", type=CriterionType.INCLUSION, text=t) for n, t in enumerate(texts, 1))
    return Trial(
        trial_id="NCT00000001",
        title="Limits",
        sex=sex,
        minimum_age_years=low,
        maximum_age_years=high,
        source=TrialSource(format="test"),
        criteria=criteria,
    )


def patient(sex: str | None = "female", years: int | None = 50, days: int = 0) -> PatientRecord:
    born = None
    if years is not None:
        born = AS_OF.replace(year=AS_OF.year - years) - dt.timedelta(days=days)
    return PatientRecord(patient_id="p1", sex=sex, birth_date=born)


def statuses(t: Trial, p: PatientRecord) -> dict[str, str]:
    outcome = screen_trial(p, TrialRules(trial=t, rules=None), AS_OF, SiteAnswers())
    return {c.id: c.status.value for c in outcome.criteria}


@pytest.mark.parametrize(
    ("sex", "recorded", "status"),
    [
        ("FEMALE", "female", "met"),
        ("FEMALE", "male", "not_met"),
        ("MALE", "female", "not_met"),
        ("MALE", "male", "met"),
        ("FEMALE", None, "unknown"),
    ],
)
def test_record_sex(sex: str, recorded: str | None, status: str) -> None:
    assert statuses(trial(sex), patient(recorded))["record-sex"] == status


def test_a_man_is_ineligible_for_a_women_only_trial_whatever_its_criteria() -> None:
    outcome = screen_trial(patient("male"), TrialRules(trial=trial("FEMALE"), rules=None), AS_OF, SiteAnswers())
    assert outcome.verdict == "ineligible"
    assert outcome.failed == ("record-sex",)
    assert outcome.criteria[0].type == "inclusion" and outcome.criteria[0].text == "Sex: FEMALE"


def test_no_record_criteria_where_the_record_states_no_limit() -> None:
    assert statuses(trial("ALL", None, None, "Any text"), patient()) == {"inc-1": "unknown"}


@pytest.mark.parametrize(
    ("low", "high", "years", "days", "status"),
    [
        (18, None, 18, 0, "met"),
        (18, None, 17, 364, "not_met"),
        (18, 75, 75, 300, "met"),
        (18, 75, 76, 0, "not_met"),
        (None, 75, 40, 0, "met"),
        (0.5, None, 0, 200, "unknown"),  # whole years cannot tell 6 months apart
        (0.5, None, 1, 0, "met"),
        (None, 17.5, 17, 100, "unknown"),
        (None, 17.5, 16, 0, "met"),
        (None, 17.5, 18, 0, "not_met"),
        (18, None, None, 0, "unknown"),
    ],
)
def test_record_age(low: float | None, high: float | None, years: int | None, days: int, status: str) -> None:
    assert statuses(trial(None, low, high), patient(years=years, days=days))["record-age"] == status


@given(low=st.integers(0, 90), span=st.integers(0, 40), age=st.integers(0, 120))
def test_whole_year_limits_hold_exactly_for_ages_inside_them(low: int, span: int, age: int) -> None:
    got = statuses(trial(None, low, low + span), patient(years=age))["record-age"]
    assert got == ("met" if low <= age <= low + span else "not_met")


NOT_UNDERSTOOD = (
    # NCT06568939 inc-4 and NCT05602363 inc-13 of the corpus (../shared/fixtures/ctgov-corpus)
    "Must have a known epidermal growth factor receptor (EGFR) activating mutation status.",
    "Dose Expansion Cohort 3 patients: prior treatment with pirtobrutinib (Jaypirca) for an approved indication",
)


def test_a_trial_not_understood_rests_on_drafts_and_is_never_eligible(shared_dir: Path) -> None:
    t = trial("FEMALE", 18, None, *NOT_UNDERSTOOD)
    bound = TrialRules(trial=t, rules=draft_trial(t))
    outcome = screen_patient(patient(), [bound], AS_OF)
    result = outcome.trials[0]
    assert result.verdict == "possible"
    assert result.rests_on_drafts
    assert {c.id: c.status.value for c in result.criteria} == {
        "record-sex": "met",
        "record-age": "met",
        "inc-1": "unknown",
        "inc-2": "unknown",
    }
    assert not result.needs_review
    schema = json.loads((shared_dir / "contracts" / "screening-result.schema.json").read_text())
    jsonschema.validate(outcome.to_json_dict(), schema)
