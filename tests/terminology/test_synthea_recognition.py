"""Recognition on the 30 Synthea mCODE breast-cancer bundles, judged by the bundles' own content.

What each resource is comes from the record itself: its mCODE profile (cancer-related medication request,
cancer-related surgical procedure, radiotherapy course summary, tumor marker test) and, for second primary
cancers, the conditions that chemotherapy was given for besides the mCODE primary cancer condition. The
overall recognition rates per element are those reported in docs/terminology.md.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trialmatch.patients.model import PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.terminology.concepts import default_library

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
CHEMOTHERAPY = "367336001"


def _bundles(shared_dir: Path) -> list[Path]:
    found = sorted((shared_dir / "fixtures" / "synthea-mcode-breast").glob("*.json"))
    if not found:
        pytest.skip("no Synthea bundles in the shared fixtures")
    return found


def _resources(path: Path) -> Iterator[dict[str, Any]]:
    for entry in json.loads(path.read_bytes()).get("entry", []):
        yield entry["resource"]


def _profiled(path: Path, profile: str) -> set[str]:
    return {
        f"{r['resourceType']}/{r['id']}"
        for r in _resources(path)
        if any(p == MCODE + profile for p in r.get("meta", {}).get("profile", []))
    }


def _chemotherapy_reasons(path: Path) -> set[str]:
    """Conditions some chemotherapy procedure was done for: cancers, by the record's own account."""
    reasons: set[str] = set()
    for r in _resources(path):
        codes = {c.get("code") for c in r.get("code", {}).get("coding", [])}
        if r["resourceType"] == "Procedure" and CHEMOTHERAPY in codes:
            reasons.update(
                ref["reference"].rsplit(":", 1)[-1].rsplit("/", 1)[-1] for ref in r.get("reasonReference", [])
            )
    return {f"Condition/{i}" for i in reasons}


@functools.cache
def _read(folder: Path) -> list[tuple[Path, PatientRecord]]:
    return [(path, record) for path in _bundles(folder) for record in read_patients(path)]


@pytest.fixture
def records(shared_dir: Path) -> list[tuple[Path, PatientRecord]]:
    return _read(shared_dir)


def test_cancer_medications_are_recognised_as_ingredient_and_class(records: list[tuple[Path, PatientRecord]]) -> None:
    lib = default_library()
    checked = 0
    for path, record in records:
        expected = _profiled(path, "mcode-cancer-related-medication-request")
        for fact in record.medications:
            if fact.source in expected:
                checked += 1
                assert fact.concepts, f"{fact.source}: {fact.codes[0].display} not recognised"
                assert all(lib.is_a(c, "drug.class.anticancer") for c in fact.concepts), fact.codes[0].display
    assert checked >= 200


def test_cancer_surgery_and_radiotherapy_are_recognised(records: list[tuple[Path, PatientRecord]]) -> None:
    lib = default_library()
    surgeries = radiotherapy = 0
    for path, record in records:
        surgical = _profiled(path, "mcode-cancer-related-surgical-procedure")
        radiation = _profiled(path, "mcode-radiotherapy-course-summary")
        for fact in record.procedures:
            if fact.source in surgical:
                surgeries += 1
                assert fact.concept and (
                    lib.is_a(fact.concept, "procedure.surgery") or lib.is_a(fact.concept, "procedure.biopsy")
                ), fact.codes[0].display
            if fact.source in radiation:
                radiotherapy += 1
                assert fact.concept and lib.is_a(fact.concept, "procedure.radiotherapy"), fact.codes[0].display
    assert surgeries >= 50 and radiotherapy >= 500


def test_second_primary_cancers_are_other_malignancies(records: list[tuple[Path, PatientRecord]]) -> None:
    lib = default_library()
    second = 0
    for path, record in records:
        primary = _profiled(path, "mcode-primary-cancer-condition")
        cancers = _chemotherapy_reasons(path) - primary
        for fact in record.conditions:
            if fact.source in cancers:
                second += 1
                assert fact.concept and lib.is_a(fact.concept, "condition.malignancy"), fact.codes[0].display
                assert not lib.is_a(fact.concept, "condition.breast_cancer")
            if fact.source in primary:
                assert fact.concept and lib.is_a(fact.concept, "condition.breast_cancer")
    assert second >= 1


def test_receptor_observations_are_recognised(records: list[tuple[Path, PatientRecord]]) -> None:
    markers = Counter[str]()
    for path, record in records:
        expected = _profiled(path, "mcode-tumor-marker-test")
        for m in record.measurements:
            if m.source in expected:
                assert m.concept is not None, m.codes[0].display
                markers[m.concept.split("_")[0]] += 1
    assert {"marker.er", "marker.pr", "marker.her2"} <= set(markers)


# Share of distinct (element, system, code) codings recognised, per element: docs/terminology.md reports these.
REPORTED_RATES = {"Condition.code": 0.05, "Medication.code": 0.25, "Procedure.code": 0.11}


def test_recognition_rates_are_as_reported(records: list[tuple[Path, PatientRecord]]) -> None:
    seen: dict[str, dict[tuple[str, str], bool]] = {k: {} for k in REPORTED_RATES}
    for _, record in records:
        for c in record.conditions:
            seen["Condition.code"].update({(k.system, k.code): c.concept is not None for k in c.codes[:1]})
        for m in record.medications:
            seen["Medication.code"].update({(k.system, k.code): bool(m.concepts) for k in m.codes[:1]})
        for p in record.procedures:
            seen["Procedure.code"].update({(k.system, k.code): p.concept is not None for k in p.codes[:1]})
    rates = {element: sum(v.values()) / len(v) for element, v in seen.items()}
    for element, floor in REPORTED_RATES.items():
        assert rates[element] >= floor, f"{element}: {rates[element]:.0%} recognised, docs say {floor:.0%}"
