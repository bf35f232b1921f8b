"""Ingest with a site's local codes: every record read is stored, rejected with a reason or counted as a
type screening does not use; the unrecognised codes are listed in unmapped_codes.csv, ready for --map."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.terminology.concepts import default_library

AS_OF = dt.date(2025, 1, 15)
LOCAL = "http://hospital.example.org/codes"


def _resource(kind: str, rid: str, code: tuple[str, str, str] | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": kind, "id": rid, "subject": {"reference": "Patient/a"}, **extra}
    if code is not None:
        key = "medicationCodeableConcept" if kind == "MedicationRequest" else "code"
        body[key] = {"coding": [{"system": code[0], "code": code[1], "display": code[2]}]}
    return body


RESOURCES = [
    {"resourceType": "Patient", "id": "a", "gender": "female", "birthDate": "1970-03-02"},
    _resource(
        "Condition",
        "c-known",
        ("http://snomed.info/sct", "372244006", "Malignant melanoma"),
        onsetDateTime="2023-01-01",
    ),
    _resource("Condition", "c-local", (LOCAL, "ONC-7", "Papillary thyroid carcinoma"), onsetDateTime="2023-01-01"),
    _resource("Condition", "c-other", (LOCAL, "ENT-1", "Viral sinusitis"), onsetDateTime="2023-01-01"),
    _resource(
        "Procedure",
        "p-local",
        (LOCAL, "SURG-2", "Wide local excision"),
        status="completed",
        performedDateTime="2023-02-01",
    ),
    _resource(
        "MedicationRequest",
        "m-local",
        (LOCAL, "RX-9", "Study drug ABC 10 mg"),
        status="completed",
        authoredOn="2023-03-01",
    ),
    _resource(
        "Observation",
        "o-local",
        (LOCAL, "LAB-3", "Serum widget"),
        status="final",
        valueQuantity={"value": 3, "unit": "U/L"},
        effectiveDateTime="2024-12-01",
    ),
    _resource("Encounter", "e1", None),
    {"resourceType": "Condition", "id": "orphan", "code": {"text": "no subject"}},
]


def _ingest(tmp_path: Path) -> tuple[Path, Any]:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in RESOURCES]}
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(bundle), encoding="utf-8")
    store = tmp_path / "store"
    return store, ingest([source], store, AS_OF, store_calls([]))


def _sources(store: Path) -> set[str]:
    found: set[str] = set()
    for table in ("conditions", "procedures", "medications", "measurements"):
        found.update(s for s in pq.read_table(store / table).column("source").to_pylist() if s)
    return found


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_record_is_stored_rejected_or_counted_as_unused(tmp_path: Path) -> None:
    store, manifest = _ingest(tmp_path)
    stored = _sources(store)
    rejected = {row["record"] for row in _rows(store / "rejects.csv")}
    clinical = {
        f"{r['resourceType']}/{r['id']}" for r in RESOURCES if r["resourceType"] not in ("Patient", "Encounter")
    }
    assert clinical <= stored | rejected
    assert rejected == {"Condition/orphan"} and manifest.records_rejected == 1
    assert manifest.records_not_used == {"Encounter": 1}
    assert manifest.patients_read == manifest.patients_stored == 1


def test_unmapped_codes_list_the_local_codes_in_the_map_layout(tmp_path: Path) -> None:
    store, manifest = _ingest(tmp_path)
    rows = {row["code"]: row for row in _rows(store / "unmapped_codes.csv")}
    assert set(rows) == {"ONC-7", "ENT-1", "SURG-2", "RX-9", "LAB-3"} and manifest.codings_unrecognised == 5
    assert rows["ONC-7"]["possible"] == "condition.malignancy"
    assert rows["SURG-2"]["possible"] == "procedure.surgery"
    assert rows["ENT-1"]["possible"] == ""
    assert (rows["RX-9"]["element"], rows["RX-9"]["records"], rows["RX-9"]["patients"]) == (
        "MedicationRequest.medication",
        "1",
        "1",
    )
    # The data team fills in the concept column and feeds the file back: the codes are then recognised.
    filled = tmp_path / "map.csv"
    with filled.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(next(iter(rows.values()))))
        writer.writeheader()
        for row in rows.values():
            writer.writerow({**row, "concept": "condition.malignancy" if row["code"] == "ONC-7" else ""})
    site = default_library().with_local_map(filled)
    assert site.recognise(LOCAL, "ONC-7").recognised_by == "local_map"
    assert site.concepts_for_code(LOCAL, "ONC-7") == ("condition.malignancy",)


def test_a_possible_condition_is_stored_as_a_possible_episode(tmp_path: Path) -> None:
    store, _ = _ingest(tmp_path)
    conditions = pq.read_table(store / "conditions").to_pylist()
    local = [row for row in conditions if row["source"] == "Condition/c-local"]
    assert {(row["concept"], row["possible"]) for row in local} == {("condition.malignancy", True)}
    other = [row for row in conditions if row["source"] == "Condition/c-other"]
    assert [(row["concept"], row["possible"]) for row in other] == [(None, False)]
