"""Bulk Data NDJSON: the synthetic bundle's resources give the same facts, read one patient at a time."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.errors import InputError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import ndjson_store, read_patients
from trialmatch.patients.sources.ndjson import LineIndex

BUNDLE = Path(__file__).parent / "fixtures" / "synthetic-bundle.json"


def _resources() -> list[dict[str, object]]:
    return [e["resource"] for e in json.loads(BUNDLE.read_text())["entry"]]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A Bulk Data export folder: one file per resource type, as a FHIR server writes it."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for resource in _resources():
        by_type[str(resource["resourceType"])].append(json.dumps(resource))
    for kind, lines in by_type.items():
        (tmp_path / f"{kind}.ndjson").write_text("\n".join(lines) + "\n")
    return tmp_path


def _facts(record: PatientRecord) -> set[str]:
    facts = (
        *record.measurements,
        *record.conditions,
        *record.medications,
        *record.procedures,
        *record.lesions,
    )
    return {f.model_dump_json() for f in facts} | {p.model_dump_json() for p in record.problems}


def test_export_folder_gives_the_same_facts_as_the_bundle(export: Path) -> None:
    from_bundle = {r.patient_id: _facts(r) for r in read_patients(BUNDLE)}
    from_ndjson = {r.patient_id: _facts(r) for r in read_patients(export)}
    assert from_ndjson == from_bundle


def test_patients_are_loaded_one_at_a_time(export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str | None] = []
    original = LineIndex.load

    def recording(self: LineIndex, location: tuple[int, int]) -> dict[str, object]:
        resource = original(self, location)
        loaded.append(_owner(resource))
        return resource

    monkeypatch.setattr(LineIndex, "load", recording)
    records = read_patients(export)
    first = next(records)
    assert set(loaded) == {first.patient_id}  # nothing of the next patient is read yet
    second = next(records)
    assert set(loaded) == {first.patient_id, second.patient_id}


def _owner(resource: dict[str, object]) -> str | None:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    ref = resource.get("subject") or resource.get("patient")
    return str(ref["reference"]).split("/")[1] if isinstance(ref, dict) else None


def test_malformed_lines_are_reported_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "p1", "birthDate": "1975-05-05"}\n')
    (tmp_path / "Observation.ndjson").write_text('{"resourceType": "Observation", "id": "o1", \n[1, 2]\n')
    problems: list[InputProblem] = []
    (record,) = read_patients(tmp_path, problems=problems)
    assert record.patient_id == "p1"
    assert [p.source for p in problems] == ["Observation.ndjson line 1", "Observation.ndjson line 2"]
    assert all(p.action == "rejected" for p in problems)


def test_mixed_type_single_file(tmp_path: Path) -> None:
    path = tmp_path / "all.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in _resources()))
    assert sorted(r.patient_id for r in read_patients(path)) == ["p-ana", "p-ben"]


def test_folder_without_ndjson_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.ndjson files"):
        read_patients(tmp_path)


def test_patients_come_in_order_of_first_appearance_across_files(tmp_path: Path) -> None:
    """The Observation file sorts first, so its patients lead, whatever order the Patient file has."""
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "weight"}}
    observations = [
        {**observation, "id": f"o{n}", "subject": {"reference": f"Patient/{p}"}} for n, p in enumerate("cb")
    ]
    (tmp_path / "Observation.ndjson").write_text("\n".join(json.dumps(o) for o in observations) + "\n")
    patients = [{"resourceType": "Patient", "id": p, "birthDate": "1970-01-01"} for p in "abcd"]
    (tmp_path / "Patient.ndjson").write_text("\n".join(json.dumps(p) for p in patients) + "\n")
    assert [r.patient_id for r in read_patients(tmp_path)] == ["c", "b", "a", "d"]


def test_references_resolve_across_batches(export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With one row per batch every line is its own write; the records are still those of the bundle."""
    monkeypatch.setattr(ndjson_store, "BATCH", 1)
    from_bundle = {r.patient_id: _facts(r) for r in read_patients(BUNDLE)}
    assert {r.patient_id: _facts(r) for r in read_patients(export)} == from_bundle


def test_the_location_database_is_deleted(export: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folders: list[Path] = []
    original = ndjson_store.LocationStore.__init__

    def recording(self: ndjson_store.LocationStore) -> None:
        original(self)
        folders.append(self.folder)

    monkeypatch.setattr(ndjson_store.LocationStore, "__init__", recording)
    list(read_patients(export))
    records = read_patients(export)
    next(records)
    finished, unfinished = folders
    assert not finished.exists()
    assert unfinished.exists()  # the read in progress still has its database
    records.close()  # type: ignore[attr-defined]
    assert not unfinished.exists()


@given(st.lists(st.tuples(st.sampled_from("pqrst") | st.none(), st.sampled_from("abc")), max_size=40))
def test_store_keeps_first_appearance_order_and_last_key(lines: list[tuple[str | None, str]]) -> None:
    store = ndjson_store.LocationStore()
    try:
        for offset, (owner, rid) in enumerate(lines):
            store.add(f"Specimen/{rid}", owner, (0, offset))
        store.finish()
        expected: dict[str, list[tuple[int, int]]] = {}
        last: dict[str, tuple[int, int]] = {}
        for offset, (owner, rid) in enumerate(lines):
            if owner is not None:
                expected.setdefault(owner, []).append((0, offset))
            last[f"Specimen/{rid}"] = (0, offset)
        assert list(store.patients()) == list(expected.items())
        assert {k: store.location(k) for k in ("Specimen/a", "Specimen/b", "Specimen/c")} == {
            k: last.get(k) for k in ("Specimen/a", "Specimen/b", "Specimen/c")
        }
    finally:
        store.close()
