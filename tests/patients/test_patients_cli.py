"""``trialmatch patients check`` run in-process: report contents and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from trialmatch.commands.patients import app

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _check(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", *args])
    return result.exit_code, result.output


def test_report_counts_conversions_and_problems_without_values() -> None:
    code, out = _check(str(FIXTURES / "synthetic-bundle.json"))
    assert code == 1  # p-ben's birth date is missing: used with a doubt
    assert "Patient p-ana" in out and "Patient p-ben" in out
    assert "read: BodyStructure 2, Condition 3, FamilyMemberHistory 1, MedicationAdministration 1," in out
    assert "Observation 18, Patient 1, Procedure 2" in out
    assert "umol/L -> mg/dL (lab.creatinine) 1" in out
    assert "notes: entered in error 2," in out  # set aside as the record says: counted, not listed
    assert "LOINC: 13 recognised, 1 not ('Something else' 99999-9 ×1)" in out
    assert "Patient/p-ben: birthDate missing; age unknown — kept; age criteria unknown" in out
    assert "Practitioner/dr-who" in out
    for value in ("177", "1.6 ", "9.8", "142"):
        assert value not in out


def test_clean_csv_exits_zero(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("patient_id,birth_date,sex,ecog,ecog_date\nA1,1970-01-01,female,1,2024-01-02\n")
    code, out = _check(str(path))
    assert code == 0, out
    assert "concepts: score.ecog 1" in out


def test_nothing_readable_exits_two(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{broken")
    code, out = _check(str(bad))
    assert code == 2
    assert "bad.json: not valid JSON" in out


def test_one_bad_file_among_good_ones_exits_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    good = tmp_path / "p.csv"
    good.write_text("patient_id,birth_date\nA1,1970-01-01\n")
    code, _ = _check(str(good), str(bad))
    assert code == 1


def test_local_map_option(tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("system,code,concept,unit_hint,note\nurn:site:lab,NEUT,lab.anc,10*9/L,site ANC\n")
    bundle = tmp_path / "b.json"
    observation = {
        "resourceType": "Observation",
        "id": "o",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "urn:site:lab", "code": "NEUT"}]},
        "valueQuantity": {"value": 2},  # no unit: the map's unit hint applies
    }
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01"}
    entries = [{"resource": patient}, {"resource": observation}]
    bundle.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    code, out = _check(str(bundle), "--map", str(mapping))
    assert code == 0, out
    assert "concepts: lab.anc 1" in out


def test_report_says_what_could_be_derived_and_what_is_missing_without_values() -> None:
    example = Path(__file__).parents[2] / "src" / "trialmatch" / "data" / "patients" / "examples" / "ex-06.json"
    code, out = _check(str(example), "--as-of", "2026-11-21")
    assert code == 0
    derived = next(line for line in out.splitlines() if line.startswith("  derived as of 2026-11-21:"))
    assert "her2 [ASCO/CAP 2018]" in derived and "ecog" in derived
    missing = next(line for line in out.splitlines() if line.startswith("  not derivable:"))
    assert "lines (medication history" in missing
    assert "IHC" not in out and "3+" not in out  # the HER2 result itself is not printed
    assert _check(str(example), "--as-of", "yesterday")[0] == 2


def _bundle(tmp_path: Path, *resources: dict[str, object]) -> Path:
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01", "gender": "female"}
    entries = [{"resource": r} for r in (patient, *resources)]
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def _condition(code: str, display: str, system: str = "http://snomed.info/sct") -> dict[str, object]:
    return {
        "resourceType": "Condition",
        "id": code,
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
    }


def test_unknown_codes_and_unused_resource_types_do_not_fail_the_check(tmp_path: Path) -> None:
    encounter = {"resourceType": "Encounter", "id": "e", "subject": {"reference": "Patient/p"}}
    path = _bundle(tmp_path, _condition("444814009", "Viral sinusitis"), encounter)
    code, out = _check(str(path), "--as-of", "2025-01-01")
    assert code == 0, out
    assert "SNOMED CT: 0 recognised, 1 not ('Viral sinusitis' 444814009 ×1)" in out


def test_json_follows_the_contract_and_says_how_each_code_was_recognised(tmp_path: Path, shared_dir: Path) -> None:
    path = _bundle(
        tmp_path,
        _condition("372244006", "Malignant melanoma"),
        _condition("C44.91", "Basal cell carcinoma", "http://hl7.org/fhir/sid/icd-10-cm"),
        _condition("ONC-1", "Papillary thyroid carcinoma", "urn:site:dx"),
    )
    code, out = _check(str(path), "--as-of", "2025-01-01", "--format", "json")
    assert code == 0, out
    report = json.loads(out)
    schema = json.loads((shared_dir / "contracts" / "patient-check.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, schema)
    codes = {c["code"]: c for c in report[0]["codes"]}
    assert codes["372244006"]["concepts"] == ["condition.malignancy"]
    assert codes["372244006"]["recognised_by"].startswith("value_set:")
    assert codes["C44.91"]["recognised_by"] == "hierarchy:icd-10-cm"
    assert codes["ONC-1"]["recognised_by"] is None and codes["ONC-1"]["relevant"] is True
    assert report[0]["derived"]["age"]["value"] == 55.0  # born 1970-01-01, as of 2025-01-01
