"""``trialmatch terminology``: lookup explains a code, show lists a concept's bindings, unmapped writes the
work-list that --map reads back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from trialmatch.cli import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["terminology", *args])
    return result.exit_code, result.output


def test_lookup_explains_a_snomed_descendant_by_its_value_set() -> None:
    code, out = _run("lookup", "snomed", "372244006")
    assert code == 0, out
    assert "Malignant melanoma" in out
    assert "condition.malignancy" in out
    assert "via value_set:Primary or Uncertain Behavior Cancer Disorder Value Set|1.18.1" in out


def test_lookup_explains_an_icd10cm_code_by_its_ancestor_and_an_rxnorm_product_by_ingredient() -> None:
    code, out = _run("lookup", "icd10cm", "C79.31")
    assert code == 0 and "condition.metastasis.brain" in out and "hierarchy:icd-10-cm:C79" in out
    code, out = _run("lookup", "http://www.nlm.nih.gov/research/umls/rxnorm", "1790099")
    assert code == 0 and "drug.doxorubicin" in out and "drug.class.anthracycline" in out


def test_lookup_of_an_unknown_code_says_so() -> None:
    code, out = _run("lookup", "snomed", "444814009")
    assert code == 1
    assert "not recognised" in out


def test_show_lists_value_sets_with_versions_and_sizes() -> None:
    code, out = _run("show", "procedure.radiotherapy")
    assert code == 0, out
    assert "value set 'MITRE trial-matching radiations' version 153939f60551:" in out
    assert "own codes: 3" in out
    assert _run("show", "procedure.radiotheraphy")[0] == 2


def test_unmapped_lists_codes_most_frequent_first_and_the_map_reads_it_back(tmp_path: Path) -> None:
    def condition(n: int, code: str, display: str) -> dict[str, object]:
        coding = {"system": "urn:site:dx", "code": code, "display": display}
        return {
            "resourceType": "Condition",
            "id": f"c{n}",
            "subject": {"reference": "Patient/p"},
            "code": {"coding": [coding]},
        }

    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01"}
    resources = [
        patient,
        condition(1, "A", "Sinusitis"),
        condition(2, "B", "Thyroid carcinoma"),
        condition(3, "B", "Thyroid carcinoma"),
    ]
    bundle = tmp_path / "b.json"
    bundle.write_text(
        json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]})
    )
    out_csv = tmp_path / "unmapped.csv"
    code, out = _run("unmapped", str(bundle), "--out", str(out_csv))
    assert code == 0, out
    assert "2 unrecognised codings in 1 patients (1 may name a concept rules use)" in out
    with out_csv.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["code"], r["records"], r["possible"]) for r in rows] == [
        ("B", "2", "condition.malignancy"),
        ("A", "1", ""),
    ]
    rows[0]["concept"] = "condition.malignancy"
    with out_csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out = _run("lookup", "urn:site:dx", "B", "--map", str(out_csv))
    assert code == 0 and "recognised by: local_map" in out
