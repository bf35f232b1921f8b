"""Duplicate patient ids and conflicting resource versions: the same record given twice is kept once, copies
that differ are all rejected with the reason, and versions that nothing orders are reported, not chosen."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from conftest import weight
from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.cohort.store import read_manifest, verify
from trialmatch.patients.sources import read_patients

DAY = dt.date(2025, 1, 15)


def rejects(store: Path) -> dict[str, str]:
    with (store / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        return {row["record"]: row["reason"] for row in csv.DictReader(handle)}


def test_ids_given_twice_are_merged_when_the_same_and_rejected_when_not(tmp_path: Path) -> None:
    table = tmp_path / "cohort.csv"
    rows = ["c1,female,1960-01-01", "c2,female,1961-01-01", "c1,female,1960-01-01", "c2,female,1971-01-01", "c3,male,"]
    table.write_text("patient_id,sex,birth_date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    bundle = tmp_path / "bundle.json"
    patient = {"resourceType": "Patient", "id": "c3", "gender": "female", "birthDate": "1950-02-02"}
    bundle.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": patient}]}), encoding="utf-8")
    store = tmp_path / "store"
    manifest = ingest([table, bundle], store, DAY, store_calls([]), workers=1)
    assert (manifest.patients_read, manifest.patients_stored) == (6, 1)
    assert (manifest.patients_merged, manifest.patients_rejected) == (1, 4)
    assert pq.read_table(store / "patients", columns=["patient_id"])["patient_id"].to_pylist() == ["c1"]
    found = rejects(store)
    for patient_id in ("c2", "c3"):
        assert found[f"Patient/{patient_id}"].startswith("the patient id is given 2 times with different facts")
    verify(store, read_manifest(store))


def observation(value: float, **meta: Any) -> dict[str, Any]:
    return weight("p", value, "w1", **({"meta": meta} if meta else {}))


def read(tmp_path: Path, *resources: dict[str, Any]) -> Any:
    path = tmp_path / "bundle.json"
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01"}
    entries = [{"resource": r} for r in (patient, *resources)]
    path.write_text(json.dumps({"resourceType": "Bundle", "entry": entries}), encoding="utf-8")
    [record] = read_patients(path)
    return record


def test_versions_that_nothing_orders_are_reported_and_none_is_used(tmp_path: Path) -> None:
    record = read(tmp_path, observation(60), observation(90))
    assert record.measurements == ()
    conflicts = [p for p in record.problems if p.problem.startswith("conflicting versions")]
    assert len(conflicts) == 2 and all(p.action == "rejected" and p.source == "Observation/w1" for p in conflicts)


def test_identical_copies_count_once_and_a_later_version_wins(tmp_path: Path) -> None:
    assert [m.value for m in read(tmp_path, observation(60), observation(60)).measurements] == [60]
    later = read(tmp_path, observation(60, lastUpdated="2024-12-01"), observation(61, lastUpdated="2024-12-02"))
    assert [m.value for m in later.measurements] == [61]
