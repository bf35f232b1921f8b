"""Ingest accounts for every record; names, ids and rule text with quotes or SQL compile to safe SQL."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlglot import exp

from trialmatch.cohort.calls import Calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import DIALECTS, CompileError
from trialmatch.cohort.engines import DuckDBEngine
from trialmatch.cohort.ingest import ingest, store_calls, store_records
from trialmatch.cohort.plan import Column, TrialQuery
from trialmatch.cohort.screen import check_as_of
from trialmatch.cohort.store import read_manifest
from trialmatch.errors import InputError
from trialmatch.patients.model import ConditionFact, PatientRecord
from trialmatch.rules import ast as r
from trialmatch.terminology.concepts import default_library

AS_OF = dt.date(2025, 1, 15)
HOSTILE = "x'); DROP TABLE \"patients\"; SELECT ('1"


def _patient(pid: str) -> dict[str, object]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1970-03-02"}


def _condition(cid: str, pid: str) -> dict[str, object]:
    coding = {"system": "http://snomed.info/sct", "code": "94222008", "display": "Secondary malignant neoplasm of bone"}
    return {
        "resourceType": "Condition",
        "id": cid,
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [coding]},
        "onsetDateTime": "2024-01-05",
    }


def test_ingest_accounts_for_every_broken_record(tmp_path: Path) -> None:
    lines = [json.dumps(_patient("a")), json.dumps(_condition("c1", "a")), "{not json", json.dumps(_patient("b")), "[]"]
    lines.append(json.dumps({"resourceType": "Observation", "id": "orphan", "status": "final"}))
    source = tmp_path / "cohort.ndjson"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = ingest([source], tmp_path / "store", AS_OF, store_calls([]))
    assert (manifest.patients_read, manifest.patients_stored, manifest.patients_rejected) == (2, 2, 0)
    with (tmp_path / "store" / "rejects.csv").open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert len(rejects) == manifest.records_rejected == 3
    assert any("line 3" in row["record"] for row in rejects) and any("line 5" in row["record"] for row in rejects)
    assert any("orphan" in row["record"] for row in rejects)
    stored = pq.read_table(tmp_path / "store" / "patients").column("patient_id").to_pylist()
    assert sorted(stored) == ["a", "b"]
    assert read_manifest(tmp_path / "store").patients_stored == 2


def test_screen_refuses_another_as_of(tmp_path: Path) -> None:
    store_records([], tmp_path, AS_OF, Calls(frozenset(), frozenset()))
    with pytest.raises(InputError, match="re-ingest"):
        check_as_of(read_manifest(tmp_path), dt.date(2025, 2, 1), tmp_path)


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    person = PatientRecord(
        patient_id=HOSTILE,
        conditions=(ConditionFact(concept="condition.malignancy", onset=dt.date(2020, 1, 1), source="Condition/1"),),
    )
    store_records([person], tmp_path, AS_OF, Calls(frozenset(), frozenset()))
    return DuckDBEngine(tmp_path)


def test_hostile_concept_and_ids_stay_literals(engine: DuckDBEngine) -> None:
    compiler = Compiler(DIALECTS["duckdb"], AS_OF, default_library(), Calls(frozenset(), frozenset()))
    rule = r.All(items=(r.Has(domain="condition", concept=HOSTILE), r.Review(reason=HOSTILE)))
    status = compiler.compile(rule)
    wide = compiler.frame.select("patients", [exp.alias_(status, "c0", quoted=True)])
    query = TrialQuery(HOSTILE, [Column(HOSTILE, True, "c0")])
    engine.materialize(wide, HOSTILE)
    rows = engine.arrow(query.criteria(HOSTILE).sql(dialect="duckdb")).to_pylist()
    assert rows == [{"patient_id": HOSTILE, "trial_id": HOSTILE, "criterion_id": HOSTILE, "status": "not_met"}]
    verdicts = engine.arrow(query.verdicts(HOSTILE).sql(dialect="duckdb")).to_pylist()
    assert verdicts[0]["verdict"] == "ineligible" and verdicts[0]["failed"] == HOSTILE
    assert (
        engine.arrow(exp.select("*").from_(exp.to_table("patients", quoted=True)).sql(dialect="duckdb")).num_rows == 1
    )


def test_unknown_concepts_and_names_are_rejected_by_name() -> None:
    compiler = Compiler(DIALECTS["spark"], AS_OF, default_library(), Calls(frozenset(), frozenset()))
    with pytest.raises(CompileError, match="unknown concept"):
        compiler.compile(r.Compare(value=r.Latest(concept="lab.anc; DROP"), op="<", threshold=r.Quantity(value=1)))
    with pytest.raises(CompileError, match="unknown derived name"):
        compiler.compile(r.Flag(name="x' OR '1'='1"))
