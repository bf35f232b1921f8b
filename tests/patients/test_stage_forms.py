"""Stage and metastatic status in the forms real FHIR systems send, read from a hand-made bundle and derived.

Each patient of ``fixtures/stage-forms.json`` carries one representation: an mCODE stage group or M category
observation valued by a SNOMED qualifier, text or only an AJCC code; a stage summary on the Condition; a
secondary-cancer Condition with no onset and a local code; dated and undated evidence together.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from trialmatch.patients.derive import derive
from trialmatch.patients.model import PatientRecord
from trialmatch.patients.sources import read_patients

BUNDLE = Path(__file__).parent / "fixtures" / "stage-forms.json"
AS_OF = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def records() -> dict[str, PatientRecord]:
    return {r.patient_id: r for r in read_patients(BUNDLE)}


# (patient, metastatic, metastatic since, stage, a phrase of the metastatic evidence)
CASES = [
    ("stage-4-qualifier", True, "2022-03-01", "IV", "stage IV recorded, first recorded 2022-03-01"),
    ("stage-iv-text", True, "2022-03-01", "IV", "stage IV recorded"),
    ("m1-qualifier", True, "2022-03-01", "IV", "M1 category recorded"),
    ("m1-ajcc-code-only", True, "2022-03-01", "IV", "M1 category recorded"),
    ("stage-4-undated", True, None, "IV", "stage IV recorded (date not recorded)"),
    ("secondary-cancer-undated", True, None, "IV", "metastasis recorded (date not recorded)"),
    ("condition-stage-summary", False, None, "III", "No record of metastasis"),
    ("early-stage-2b", False, None, "II", "No record of metastasis"),
    ("recurrence-after-early-stage", True, "2023-04-10", "IV", "metastasis recorded, first recorded 2023-04-10"),
    ("earliest-evidence-wins", True, "2022-05-01", "IV", "metastasis, M1 category recorded, first recorded 2022-05-01"),
    ("stage-0", False, None, "in_situ", "No record of metastasis"),
]


@pytest.mark.parametrize(("patient", "metastatic", "since", "stage", "phrase"), CASES)
def test_stage_and_metastatic_status(
    records: dict[str, PatientRecord],
    patient: str,
    metastatic: bool,
    since: str | None,
    stage: str,
    phrase: str,
) -> None:
    record = records[patient]
    status = derive("metastatic", {}, record, AS_OF)
    assert status.value is metastatic, status.explanation
    assert status.date == (dt.date.fromisoformat(since) if since else None)
    assert phrase in status.explanation
    assert derive("stage", {}, record, AS_OF).value == stage
    if metastatic:
        assert status.sources


def test_early_stage_names_the_recorded_substage(records: dict[str, PatientRecord]) -> None:
    result = derive("stage", {}, records["early-stage-2b"], AS_OF)
    assert result.explanation == "Stage IIB recorded on 2020-02-01."


def test_recurrence_names_the_stage_at_diagnosis(records: dict[str, PatientRecord]) -> None:
    result = derive("stage", {}, records["recurrence-after-early-stage"], AS_OF)
    assert result.explanation.startswith("Stage IIA was recorded; metastatic disease: metastasis recorded")


@pytest.mark.parametrize("patient", ["stage-4-undated", "secondary-cancer-undated"])
def test_undated_metastatic_disease_leaves_date_bound_facts_unknown(
    records: dict[str, PatientRecord], patient: str
) -> None:
    lines = derive("lines", {"setting": "metastatic"}, records[patient], AS_OF)
    assert lines.value is None
    assert lines.missing == "date of the metastatic diagnosis"


def test_staging_observations_are_recognised(records: dict[str, PatientRecord]) -> None:
    for record in records.values():
        assert [m.source for m in record.measurements if m.concept is None] == []


def test_evidence_after_as_of_is_not_seen(records: dict[str, PatientRecord]) -> None:
    before = derive("metastatic", {}, records["stage-4-qualifier"], dt.date(2021, 1, 1))
    assert before.value is False
