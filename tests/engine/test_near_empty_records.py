"""Closed-world absence needs a record that could show the thing: a near-empty record leaves history unknown.

A record holding one diagnosis and nothing else has no medication or procedure history to be absent from, so
"no prior lapatinib" or "no prior brain radiotherapy" is unknown there, and the reason says the domain is empty.
"""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.commands.trial_selection import select
from trialmatch.engine.logic import Status
from trialmatch.engine.screening import screen_patient, walk
from trialmatch.patients.model import ConditionFact, MedicationFact, PatientRecord

AS_OF = dt.date(2026, 11, 21)
BREAST_CANCER = ConditionFact(
    concept="condition.breast_cancer", category="primary-cancer", onset=dt.date(2024, 1, 10), source="Condition/c1"
)
ONE_DRUG = MedicationFact(
    concepts=("drug.trastuzumab",), record_type="administration", start=dt.date(2024, 3, 1), source="MedAdmin/m1"
)


def _criteria(record: PatientRecord) -> dict[tuple[str, str], tuple[Status, str]]:
    trials, errors = select([], None)
    assert not errors
    outcome = screen_patient(record, trials, AS_OF)
    return {(t.trial_id, d.id): (d.status, d.reason) for t in outcome.trials for c in t.criteria for d in walk(c)}


@pytest.mark.parametrize(
    ("domain", "words"),
    [("medication", "No medication history is recorded"), ("procedure", "No procedure history is recorded")],
)
def test_an_empty_history_domain_is_unknown_and_says_so(domain: str, words: str) -> None:
    record = PatientRecord(patient_id="p", birth_date=dt.date(1960, 1, 1), sex="female", conditions=(BREAST_CANCER,))
    said = [(key, status) for key, (status, reason) in _criteria(record).items() if words.lower() in reason.lower()]
    assert said, f"no criterion reads the {domain} domain"
    assert {status for _, status in said} == {Status.UNKNOWN}


def test_one_record_in_the_domain_makes_absence_closed_world() -> None:
    record = PatientRecord(
        patient_id="p",
        birth_date=dt.date(1960, 1, 1),
        sex="female",
        conditions=(BREAST_CANCER,),
        medications=(ONE_DRUG,),
    )
    reasons = [reason for status, reason in _criteria(record).values() if "no record of lapatinib" in reason.lower()]
    assert reasons, "a lapatinib criterion is read closed-world once medications are on record"
