"""End to end: real-shaped codes in a FHIR bundle, through the readers and the terminology, decide criteria.

Each bundle is synthetic and coded as real systems code: SNOMED CT descendants, RxNorm clinical drugs, local
codes a site never mapped. The rules are the bundled curated ones of NCT06450314 (seed 004).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import trialmatch
from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.patients import derive
from trialmatch.patients.model import PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.rules.ast import Condition
from trialmatch.rules.rulefile import load_rule_file
from trialmatch.rules.syntax import parse_rule
from trialmatch.terminology.concepts import default_library

AS_OF = dt.date(2026, 11, 21)
SCT = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOCAL = "http://hospital.example.org/codes"
RULES = Path(trialmatch.__file__).parent / "data" / "rules" / "NCT06450314.rules.yaml"


@cache
def rule(criterion: str) -> Condition:
    found = load_rule_file(RULES, concepts=default_library().ids()).criterion(criterion).rule
    assert found is not None
    return found


def condition(cid: str, system: str, code: str, display: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
        "onsetDateTime": onset,
    }


def procedure(pid: str, system: str, code: str, display: str, day: str) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": pid,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
        "performedDateTime": day,
    }


def medication(mid: str, code: str, display: str, day: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": mid,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": display}]},
        "effectiveDateTime": day,
    }


BREAST_CANCER = condition("bc", SCT, "254837009", "Malignant neoplasm of breast (disorder)", "2024-02-01")


def read(tmp_path: Path, *resources: dict[str, Any]) -> PatientRecord:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1970-05-02"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, BREAST_CANCER, *resources)],
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    (record,) = read_patients(path)
    return record


def test_another_malignancy_coded_only_in_snomed_excludes(tmp_path: Path) -> None:
    melanoma = condition("mel", SCT, "372244006", "Malignant melanoma (disorder)", "2025-03-01")
    result = evaluate(rule("exc-8"), read(tmp_path, melanoma), AS_OF)
    assert result.status is Status.MET


def test_the_basal_cell_carve_out_still_holds(tmp_path: Path) -> None:
    bcc = condition("bcc", "http://hl7.org/fhir/sid/icd-10-cm", "C44.91", "Basal cell carcinoma of skin", "2025-03-01")
    result = evaluate(rule("exc-8"), read(tmp_path, bcc), AS_OF)
    assert result.status is Status.NOT_MET


def test_an_unmapped_local_code_that_says_carcinoma_is_unknown_with_the_code_to_map(tmp_path: Path) -> None:
    local = condition("loc", LOCAL, "ONC-77", "Papillary thyroid carcinoma", "2025-03-01")
    result = evaluate(rule("exc-8"), read(tmp_path, local), AS_OF)
    assert result.status is Status.UNKNOWN
    assert any(
        "possible condition.malignancy: 'Papillary thyroid carcinoma'" in m and "map it" in m for m in result.missing
    )


def test_unrecognised_codes_that_name_nothing_are_counted_in_the_reason(tmp_path: Path) -> None:
    sinusitis = condition("sin", LOCAL, "ENT-1", "Viral sinusitis", "2025-03-01")
    result = evaluate(rule("exc-8"), read(tmp_path, sinusitis), AS_OF)
    assert result.status is Status.NOT_MET
    assert "1 condition code not recognised: 'Viral sinusitis'" in result.reason


def test_a_lumpectomy_satisfies_primary_tumour_treated_by_surgery(tmp_path: Path) -> None:
    lumpectomy = procedure("lump", SCT, "392021009", "Lumpectomy of breast (procedure)", "2024-03-01")
    surgery = evaluate(parse_rule("procedure(procedure.surgery)"), read(tmp_path, lumpectomy), AS_OF)
    assert surgery.status is Status.MET
    # The curated criterion then asks the site to confirm the target: review, no longer not met.
    assert evaluate(rule("inc-8"), read(tmp_path, lumpectomy), AS_OF).status is Status.REVIEW


def test_an_unrecognised_excision_leaves_treatment_by_surgery_unknown(tmp_path: Path) -> None:
    local = procedure("exc", LOCAL, "SURG-9", "Wide local excision, left breast", "2024-03-01")
    result = evaluate(parse_rule("procedure(procedure.surgery)"), read(tmp_path, local), AS_OF)
    assert result.status is Status.UNKNOWN


def test_paclitaxel_as_a_clinical_drug_is_a_prior_taxane_and_a_line(tmp_path: Path) -> None:
    doses = [medication(f"pac{i}", "583214", "Paclitaxel 100 MG Injection", f"2024-0{i}-10") for i in (4, 5, 6)]
    record = read(tmp_path, *doses)
    assert record.medications[0].concepts == ("drug.paclitaxel",)
    assert evaluate(parse_rule("drug(drug.class.taxane)"), record, AS_OF).status is Status.MET
    lines = derive.derive("lines", {"setting": "any"}, record, AS_OF)
    assert lines.value == 1.0


def test_a_drug_known_only_by_its_display_says_so_in_the_evidence(tmp_path: Path) -> None:
    local = medication("x1", "0", "TUKYSA 150 mg film-coated tablets", "2024-04-10")
    local["medicationCodeableConcept"]["coding"][0]["system"] = "http://hospital.example.org/pharmacy"
    record = read(tmp_path, local)
    assert record.medications[0].concepts == record.medications[0].named == ("drug.tucatinib",)
    result = evaluate(parse_rule("drug(drug.class.her2_tki)"), record, AS_OF)
    assert result.status is Status.MET
    assert [e.fact for e in result.evidence] == ["drug.tucatinib (recognised by name)"]
    coded = read(tmp_path, medication("pac", "583214", "Paclitaxel 100 MG Injection", "2024-04-10"))
    assert coded.medications[0].named == ()
