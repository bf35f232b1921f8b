"""FHIR R4 JSON reading: one synthetic bundle covering each resource converter, plus bad input."""

from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.errors import InputError, RecordError, UnrecognizedFormatError
from trialmatch.patients.model import InputProblem, Measurement, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.patients.sources.facts import CATEGORY_SYSTEM

FIXTURES = Path(__file__).parent / "fixtures"
BUNDLE = FIXTURES / "synthetic-bundle.json"


def _read(path: Path) -> dict[str, PatientRecord]:
    return {r.patient_id: r for r in read_patients(path)}


@pytest.fixture(scope="module")
def ana() -> PatientRecord:
    return _read(BUNDLE)["p-ana"]


def _one(record: PatientRecord, source: str, concept: str | None = None) -> Measurement:
    found = [m for m in record.measurements if m.source == source and (concept is None or m.concept == concept)]
    assert len(found) == 1, found
    return found[0]


def _problems(record: PatientRecord, source: str) -> list[str]:
    return [p.problem for p in record.problems if p.source == source]


def test_patients_are_grouped_by_subject() -> None:
    records = _read(BUNDLE)
    assert set(records) == {"p-ana", "p-ben"}
    assert [c.concept for c in records["p-ben"].conditions] == ["condition.hypertension"]
    assert records["p-ana"].birth_date == dt.date(1970, 6, 15)
    assert records["p-ana"].sex == "female"


@pytest.mark.parametrize(
    ("source", "concept", "value", "unit", "low", "high"),
    [
        ("Observation/o-anc", "lab.anc", 1.6, "10*3/uL", 1.8, 7.5),  # 10*9/L is 10*3/uL
        ("Observation/o-creat", "lab.creatinine", 2.0, "mg/dL", None, 1.02),  # 177 umol/L, ULN 90 umol/L
        ("Observation/o-bp", "vital.bp_systolic", 142, "mm[Hg]", None, None),
        ("Observation/o-bp", "vital.bp_diastolic", 91, "mm[Hg]", None, None),
        ("Observation/o-ecog", "score.ecog", 1, "{score}", None, None),  # LA9623-5 answer code
        ("Observation/o-kps", "score.karnofsky", 80, "%", None, None),  # valueInteger without unit
        ("Observation/o-her2-ish", "marker.her2_ish_ratio", 2.4, "{ratio}", None, None),  # valueRatio
        ("Observation/o-size-node", "imaging.tumor_size", 16, "mm", None, None),  # 1.6 cm component 33728-7
    ],
)
def test_numbers_are_in_canonical_units_with_their_own_range(
    ana: PatientRecord,
    source: str,
    concept: str,
    value: float,
    unit: str,
    low: float | None,
    high: float | None,
) -> None:
    m = _one(ana, source, concept)
    assert m.value == pytest.approx(value, abs=0.01)
    assert m.unit == unit
    assert m.low == (pytest.approx(low, abs=0.01) if low is not None else None)
    assert m.high == (pytest.approx(high, abs=0.01) if high is not None else None)


@pytest.mark.parametrize(
    ("source", "concept", "category", "specimen", "site"),
    [
        ("Observation/o-her2", "marker.her2_interpretation", "positive", "s-breast", "primary"),  # origin ext
        ("Observation/o-her2-ihc", "marker.her2_ihc", "2+", "s-liver", "metastatic"),  # site of liver met
    ],
)
def test_coded_markers_carry_category_and_specimen_site(
    ana: PatientRecord, source: str, concept: str, category: str, specimen: str, site: str
) -> None:
    m = _one(ana, source, concept)
    assert m.value_code is not None
    assert (m.value_code.system, m.value_code.code) == (CATEGORY_SYSTEM, category)
    assert (m.specimen, m.specimen_site) == (specimen, site)


def test_entered_in_error_is_ignored_and_noted(ana: PatientRecord) -> None:
    assert not [m for m in ana.measurements if m.source == "Observation/o-hb-wrong"]
    assert "entered in error" in _problems(ana, "Observation/o-hb-wrong")
    assert not [c for c in ana.conditions if c.source == "Condition/c-old"]
    assert "entered in error" in _problems(ana, "Condition/c-old")


def test_amended_result_supersedes_the_original_with_the_same_identifier(ana: PatientRecord) -> None:
    hb = [m for m in ana.measurements if m.concept == "lab.hemoglobin"]
    assert [(m.source, m.value, m.flags) for m in hb] == [("Observation/o-hb-2", 11.1, ("amended",))]
    assert _problems(ana, "Observation/o-hb-1") == ["superseded by an amended or later version"]


def test_amended_version_of_the_same_id_wins_whatever_the_order() -> None:
    final = {
        "resourceType": "Observation",
        "id": "x",
        "status": "final",
        "subject": {"reference": "Patient/p"},
    }
    final["code"] = {"coding": [{"system": "http://loinc.org", "code": "718-7"}]}
    final["valueQuantity"] = {"value": 9, "system": "http://unitsofmeasure.org", "code": "g/dL"}
    amended = copy.deepcopy(final) | {"status": "amended"}
    amended["valueQuantity"] = {"value": 10, "system": "http://unitsofmeasure.org", "code": "g/dL"}
    for order in ([final, amended], [amended, final]):
        (record,) = _records_of(order)
        assert [m.value for m in record.measurements] == [10]


def test_pet_convention(ana: PatientRecord) -> None:
    lesion = _one(ana, "Observation/o-suv-liver-lesion")
    reference = _one(ana, "Observation/o-suv-ref")
    assert (lesion.concept, lesion.unit, lesion.focus, lesion.part_of) == (
        "imaging.suv",
        "{SUVbw}g/mL",
        "les-liver",
        "pr-pet",
    )
    assert lesion.method is not None and lesion.method.code == "56851009"
    assert reference.body_site is not None and reference.body_site.code == "10200004"
    assert reference.method is not None and reference.method.code == "373098007"
    pet = next(p for p in ana.procedures if p.source == "Procedure/pr-pet")
    assert pet.concept == "procedure.pet_fdg"  # local code system http://trialmatch.org/fhir/CodeSystem/procedure


def test_lesions_lymph_node_and_irradiation(ana: PatientRecord) -> None:
    lesions = {lesion.id: lesion for lesion in ana.lesions}
    assert lesions["les-node"].is_lymph_node is True
    assert lesions["les-node"].previously_irradiated is True  # targeted by the radiotherapy Procedure
    assert lesions["les-node"].confluent is False
    assert lesions["les-liver"].is_lymph_node is False
    assert lesions["les-liver"].previously_irradiated is None


def test_medications_roll_up_with_dates_per_record_type(ana: PatientRecord) -> None:
    meds = {m.source: m for m in ana.medications}
    tras = meds["MedicationAdministration/ma-tras"]  # contained Medication via medicationReference
    assert (tras.concepts, tras.start, tras.reason) == (
        ("drug.trastuzumab",),
        dt.date(2024, 1, 15),
        "c-breast",
    )
    cap = meds["MedicationRequest/mr-cap"]  # boundsPeriod wins over authoredOn
    assert (cap.concepts, cap.start, cap.end) == (
        ("drug.capecitabine",),
        dt.date(2024, 3, 4),
        dt.date(2024, 6, 1),
    )
    pal = meds["MedicationStatement/ms-pal"]
    assert (pal.record_type, pal.end) == ("statement", dt.date(2023, 10, 30))


def test_conditions_are_categorized(ana: PatientRecord) -> None:
    categories = {c.concept: c.category for c in ana.conditions}
    assert categories == {
        "condition.breast_cancer": "primary-cancer",
        "condition.metastasis.liver": "secondary-cancer",
    }


def test_bad_codes_units_and_types_are_reported_not_dropped(ana: PatientRecord) -> None:
    unknown = _one(ana, "Observation/o-unknown")
    assert unknown.concept is None
    assert _problems(ana, "Observation/o-unknown") == ["code not in the concept library"]
    platelets = _one(ana, "Observation/o-plt")
    assert platelets.value is None and platelets.original_unit == "furlong"
    assert any("not convertible" in p for p in _problems(ana, "Observation/o-plt"))
    assert _problems(ana, "FamilyMemberHistory/fmh-1") == ["resource type not used for screening"]


def test_no_problem_message_contains_a_patient_value(ana: PatientRecord) -> None:
    for problem in ana.problems:
        for value in ("1.6", "177", "210", "142", "2+", "9.1"):
            assert value not in problem.problem


def test_missing_birth_date_and_orphans_are_reported() -> None:
    problems: list[InputProblem] = []
    records = {r.patient_id: r for r in read_patients(BUNDLE, problems=problems)}
    assert _problems(records["p-ben"], "Patient/p-ben") == ["birthDate missing; age unknown"]
    assert [p.source for p in problems] == ["Practitioner/dr-who"]


def _records_of(resources: list[dict[str, Any]]) -> list[PatientRecord]:
    """Read resources as a collection bundle (a temporary file: Hypothesis tests cannot take tmp_path)."""
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "b.json"
        path.write_text(json.dumps(bundle))
        return list(read_patients(path))


def test_transaction_bundle_resolves_urn_uuid_references(tmp_path: Path) -> None:
    patient = "urn:uuid:8c2c4d1e-0000-4000-8000-000000000001"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": patient, "resource": {"resourceType": "Patient", "birthDate": "1980-01-01"}},
            {
                "fullUrl": "urn:uuid:8c2c4d1e-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "Condition",
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "94222008"}]},
                    "subject": {"reference": patient},
                },
            },
        ],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(bundle))
    (record,) = read_patients(path)
    assert record.patient_id == "8c2c4d1e-0000-4000-8000-000000000001"
    assert [c.concept for c in record.conditions] == ["condition.metastasis.bone"]


def test_single_resource_without_its_patient(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"resourceType": "Condition", "id": "c", "subject": {"reference": "Patient/q"}}))
    (record,) = read_patients(path)
    assert record.patient_id == "q"
    assert any("no Patient resource" in p.problem for p in record.problems)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{not json", RecordError),
        ('{"hello": 1}', UnrecognizedFormatError),
        ("just text", UnrecognizedFormatError),
    ],
)
def test_whole_file_failures_name_the_file(tmp_path: Path, content: str, error: type[InputError]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(error, match=r"bad\.json"):
        list(read_patients(path))


def test_malformed_entries_are_rejected_per_entry(tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1990-02-03"}},
            {"resource": "oops"},
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "o",
                    "subject": {"reference": "Patient/p"},
                    "code": 5,
                }
            },
        ],
    }
    problems: list[InputProblem] = []
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    (record,) = read_patients(path, problems=problems)
    assert [p.source for p in problems] == ["Bundle entry 2"]
    assert _problems(record, "Observation/o") == ["no code given"]


def _fact_set(record: PatientRecord) -> set[str]:
    facts = (
        *record.measurements,
        *record.conditions,
        *record.medications,
        *record.procedures,
        *record.lesions,
    )
    return {f.model_dump_json() for f in facts} | {p.model_dump_json() for p in record.problems}


_ENTRIES = json.loads(BUNDLE.read_text())["entry"]
_BASELINE = {r.patient_id: _fact_set(r) for r in read_patients(BUNDLE)}


@settings(max_examples=25, deadline=None)
@given(st.permutations(_ENTRIES))
def test_resource_order_does_not_change_the_record(entries: list[dict[str, Any]]) -> None:
    shuffled = {r.patient_id: _fact_set(r) for r in _records_of([e["resource"] for e in entries])}
    assert shuffled == _BASELINE


def _bundle_file(tmp_path: Path, bundle: dict[str, Any]) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


def _lab(value: float, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
        "effectiveDateTime": "2026-01-05",
        "valueQuantity": {"value": value, "unit": "g/dL"},
        **extra,
    }


def test_resources_without_ids_are_not_taken_for_versions_of_one_another(tmp_path: Path) -> None:
    subject = {"subject": {"reference": "Patient/p"}}
    entries = [{"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01"}}]
    entries += [{"resource": _lab(v, **subject)} for v in (11.0, 12.0, 13.0)]
    [record] = list(read_patients(_bundle_file(tmp_path, {"resourceType": "Bundle", "entry": entries})))
    assert sorted(m.value for m in record.measurements if m.value is not None) == [11.0, 12.0, 13.0]
    assert not record.problems


def test_unowned_screened_resources_are_rejected_and_a_malformed_bundle_reported(tmp_path: Path) -> None:
    problems: list[InputProblem] = []
    bundle = {"resourceType": "Bundle", "entry": [{"resource": _lab(11.0, id="orphan")}]}
    assert list(read_patients(_bundle_file(tmp_path, bundle), problems=problems)) == []
    assert [(p.source, p.action) for p in problems] == [("Observation/orphan", "rejected")]
    problems.clear()
    assert list(read_patients(_bundle_file(tmp_path, {"resourceType": "Bundle", "entry": {}}), problems=problems)) == []
    assert [p.problem for p in problems] == ["Bundle.entry is not a list"]
