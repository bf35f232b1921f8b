"""The 30 Synthea mCODE breast-cancer bundles read as a careful screener would (../shared/fixtures).

Every record with a HER2, ER or PR observation gets a status or says why not; every patient whose record says
they died is not screenable; every record with stage IV or M1 evidence is metastatic.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from trialmatch.commands.trial_selection import select
from trialmatch.engine.screening import screen_patient
from trialmatch.patients.derive import derive
from trialmatch.patients.model import PatientRecord
from trialmatch.patients.sources import read_patients

AS_OF = dt.date(2026, 11, 21)
LOINC = "http://loinc.org"
RECEPTOR_CODES = {
    "her2": {"48676-1", "85319-2", "18474-7", "85318-4", "49683-6"},
    "er": {"16112-5", "85337-4", "85329-1", "10480-2"},
    "pr": {"16113-3", "85339-0", "85325-9", "10480-2"},
}
STAGE_IV = {"258228008"}  # Stage 4 (qualifier value)
M1 = {"55440008"}  # M1 category (finding)


def _resources(path: Path) -> list[dict[str, Any]]:
    return [e["resource"] for e in json.loads(path.read_text(encoding="utf-8"))["entry"]]


def _loinc_codes(resource: dict[str, Any]) -> set[str]:
    return {c.get("code") for c in resource.get("code", {}).get("coding", []) if c.get("system") == LOINC}


def _value_codes(resource: dict[str, Any]) -> set[str]:
    return {c.get("code") for c in resource.get("valueCodeableConcept", {}).get("coding", [])}


_READ: dict[Path, list[tuple[list[dict[str, Any]], PatientRecord]]] = {}


@pytest.fixture
def bundles(shared_dir: Path) -> list[tuple[list[dict[str, Any]], PatientRecord]]:
    """Each bundle's resources and its record, read once per session."""
    folder = shared_dir / "fixtures" / "synthea-mcode-breast"
    if folder not in _READ:
        paths = sorted(folder.glob("*.json"))
        assert len(paths) == 30
        _READ[folder] = [(_resources(p), next(read_patients(p))) for p in paths]
    return _READ[folder]


@pytest.mark.parametrize("name", sorted(RECEPTOR_CODES))
def test_every_receptor_observation_gives_a_status_or_a_reason(
    bundles: list[tuple[list[dict[str, Any]], PatientRecord]], name: str
) -> None:
    tested = 0
    for resources, record in bundles:
        observations = [r for r in resources if r["resourceType"] == "Observation"]
        if not any(_loinc_codes(r) & RECEPTOR_CODES[name] for r in observations):
            continue
        tested += 1
        result = derive(name, {}, record, AS_OF)
        assert result.value is not None or result.missing, f"{record.patient_id}: {result.explanation}"
        assert result.explanation
    assert tested >= 25  # nearly every bundle carries the three receptors


def test_every_deceased_patient_is_not_screenable(bundles: list[tuple[list[dict[str, Any]], PatientRecord]]) -> None:
    trials, errors = select([], None)
    assert not errors
    deceased = 0
    for resources, record in bundles:
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        if "deceasedDateTime" not in patient and patient.get("deceasedBoolean") is not True:
            continue
        deceased += 1
        outcome = screen_patient(record, trials, AS_OF)
        assert outcome.deceased is not None
        assert outcome.deceased.date == dt.date.fromisoformat(patient["deceasedDateTime"][:10])
        assert all(t.verdict == "ineligible" and t.failed == ("deceased",) for t in outcome.trials)
    assert deceased >= 5


def test_every_stage_iv_or_m1_record_is_metastatic(bundles: list[tuple[list[dict[str, Any]], PatientRecord]]) -> None:
    staged = 0
    for resources, record in bundles:
        evidence = [r for r in resources if r["resourceType"] == "Observation" and _value_codes(r) & (STAGE_IV | M1)]
        if not evidence:
            continue
        staged += 1
        first = min(r["effectiveDateTime"][:10] for r in evidence)
        result = derive("metastatic", {}, record, AS_OF)
        assert result.value is True, f"{record.patient_id}: {result.explanation}"
        assert result.date is not None and result.date <= dt.date.fromisoformat(first)
        assert derive("stage", {}, record, AS_OF).value == "IV"
    assert staged >= 1
