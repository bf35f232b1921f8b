"""A facts store is never silently mixed or misread: stale parts are cleared, old formats and other concept
libraries are refused, trials without criteria and equivocal categories screen as the per-patient evaluator."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cohort_data import AS_OF, LIB, check_cohort, trial_rules

from trialmatch.cohort.calls import Calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import DIALECTS, CompileError
from trialmatch.cohort.engines import DuckDBEngine
from trialmatch.cohort.ingest import store_calls, store_records
from trialmatch.cohort.screen import compile_all, screen_store
from trialmatch.cohort.store import MANIFEST, read_manifest
from trialmatch.cohort.synth import generate, write_store
from trialmatch.commands.trial_selection import select
from trialmatch.errors import InputError
from trialmatch.patients.model import Measurement, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.rules import ast as r
from trialmatch.rules.catalog import TrialRules
from trialmatch.trials.model import Trial, TrialSource

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


def test_writing_a_store_over_another_leaves_no_stale_part(tmp_path: Path) -> None:
    trials, _ = select([], None)
    calls = store_calls(trial_rules(trials))
    write_store(generate(50, 3, AS_OF), tmp_path, calls)
    records = [rec for path in EXAMPLES for rec in read_patients(path)]
    store_records(records, tmp_path, AS_OF, calls)  # part-00000 again, and the synthetic keys 0..49 overlap
    patients = pq.read_table(tmp_path / "patients")
    assert sorted(patients.column("patient_id").to_pylist()) == sorted(rec.patient_id for rec in records)
    assert len(set(patients.column("pk").to_pylist())) == len(records)


def test_a_store_in_another_format_is_refused(tmp_path: Path) -> None:
    store_records([], tmp_path, AS_OF, Calls(frozenset(), frozenset()))
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "format_version": 1}), encoding="utf-8")
    with pytest.raises(InputError, match=r"format 1\b.*ingest the records again"):
        read_manifest(tmp_path)


def test_a_store_built_with_another_concept_library_is_refused(tmp_path: Path) -> None:
    store_records([], tmp_path, AS_OF, Calls(frozenset(), frozenset()))
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    (tmp_path / MANIFEST).write_text(json.dumps({**manifest, "concepts_version": "older#0"}), encoding="utf-8")
    trials, _ = select(["NCT02286843"], None)
    with pytest.raises(InputError, match=r"concept library older#0"):
        compile_all(trials, tmp_path, "duckdb")


def test_a_trial_without_criteria_leaves_everyone_eligible(tmp_path: Path) -> None:
    records = [rec for path in EXAMPLES for rec in read_patients(path)]
    store_records(records, tmp_path / "store", AS_OF, Calls(frozenset(), frozenset()))
    empty = TrialRules(Trial(trial_id="NCT00000000", title="No criteria yet", source=TrialSource(format="test")), None)
    screen_store(tmp_path / "store", [empty], tmp_path / "out")
    verdicts = pq.read_table(tmp_path / "out/verdicts.parquet").column("verdict").to_pylist()
    assert verdicts == ["eligible"] * len(records)
    assert pq.read_table(tmp_path / "out/criteria.parquet").num_rows == 0


def test_equivocal_her2_is_unknown_unless_asked_for(tmp_path: Path) -> None:
    """IHC 2+ without ISH is equivocal: neither negative nor not negative, as the evaluator says."""
    person = PatientRecord(
        patient_id="eq-1",
        measurements=(
            Measurement(concept="marker.her2_ihc", value_text="2+", date=dt.date(2024, 6, 1), source="Observation/1"),
        ),
    )
    her2 = r.Derived(name="her2", args=(("specimen", "latest"),))
    rules: list[r.Condition] = [
        r.Compare(value=her2, op="==", threshold=r.Category(value="negative")),
        r.Compare(value=her2, op="!=", threshold=r.Category(value="negative")),
        r.Compare(value=her2, op="in", threshold=r.CategorySet(values=("positive", "equivocal"))),
    ]
    check_cohort(DuckDBEngine, tmp_path, [person], rules, "duckdb")


def test_patient_facts_inside_a_lesion_condition_are_refused() -> None:
    compiler = Compiler(DIALECTS["duckdb"], AS_OF, LIB, store_calls([]))
    rule = r.Compare(value=r.CountLesions(where=r.Flag(name="metastatic")), op=">=", threshold=r.Quantity(value=1))
    with pytest.raises(CompileError, match="not allowed inside count_lesions"):
        compiler.compile(rule)
