"""Differential tests: the per-patient evaluator and the SQL compiled for DuckDB give the same status for
every patient x rule cell, on Hypothesis-generated cohorts and rule trees (Spark in test_spark.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cohort_data import AS_OF, DRUGS, LIB, check_cohort, records, sql_statuses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialmatch.cohort.calls import rule_calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import DIALECTS
from trialmatch.cohort.engines import DuckDBEngine
from trialmatch.cohort.ingest import store_calls, store_records
from trialmatch.patients.model import MedicationFact, PatientRecord
from trialmatch.rules import ast as r
from trialmatch.rules.testing import rule_trees


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(people=records(), rules=st.lists(rule_trees(max_leaves=6), min_size=1, max_size=4))
def test_duckdb_matches_the_evaluator_cell_by_cell(
    tmp_path_factory: pytest.TempPathFactory, people: list[PatientRecord], rules: list[r.Condition]
) -> None:
    check_cohort(DuckDBEngine, tmp_path_factory.mktemp("store"), people, rules, "duckdb")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(people=records(), rules=st.lists(rule_trees(max_leaves=6), min_size=1, max_size=4))
def test_latest_from_the_measurements_table_matches_the_evaluator(
    tmp_path_factory: pytest.TempPathFactory, people: list[PatientRecord], rules: list[r.Condition]
) -> None:
    """A store without the latest-reading columns (a concept added to the library after ingest): ``latest``
    reads the rows the store flagged as latest instead, with the same statuses."""
    check_cohort(DuckDBEngine, tmp_path_factory.mktemp("store"), people, rules, "duckdb", pivot_latest=False)


def continuous_rules() -> st.SearchStrategy[r.Condition]:
    """Continuous-exposure rules with spans and gaps on the scale of the generated drug histories."""
    spans = st.builds(r.Duration, amount=st.integers(0, 30), unit=st.sampled_from(["d", "w", "mo", "y"]))
    timing = st.builds(r.Timing, mode=st.just("continuous"), duration=spans, max_gap=st.none() | spans)
    return st.builds(
        r.Has,
        domain=st.just("drug"),
        concept=st.sampled_from([*DRUGS, "drug.class.anti_her2"]),
        timing=timing,
        setting=st.none() | st.just("metastatic"),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(people=records(drugs=7), rules=st.lists(continuous_rules(), min_size=1, max_size=4))
def test_continuous_exposure_runs_match_the_evaluator(
    tmp_path_factory: pytest.TempPathFactory, people: list[PatientRecord], rules: list[r.Condition]
) -> None:
    check_cohort(DuckDBEngine, tmp_path_factory.mktemp("store"), people, rules, "duckdb")


def test_continuous_exposure_with_a_tolerated_gap_is_met(tmp_path: Path) -> None:
    """Two trastuzumab courses 60 days apart form one 2-year run under max_gap=3mo, not under 1mo."""

    def course(n: int, start: dt.date, end: dt.date | None) -> MedicationFact:
        status = "active" if end is None else "completed"
        return MedicationFact(
            concepts=("drug.trastuzumab",),
            record_type="request",
            status=status,
            start=start,
            end=end,
            source=f"MedicationRequest/{n}",
        )

    first = course(1, AS_OF - dt.timedelta(days=900), AS_OF - dt.timedelta(days=400))
    person = PatientRecord(patient_id="gap", medications=(first, course(2, AS_OF - dt.timedelta(days=340), None)))
    rules: list[r.Condition] = [
        r.Has(
            domain="drug",
            concept="drug.class.anti_her2",
            timing=r.Timing(mode="continuous", duration=r.Duration(amount=2, unit="y"), max_gap=gap),
        )
        for gap in (r.Duration(amount=3, unit="mo"), r.Duration(amount=1, unit="mo"))
    ]
    store_records([person], tmp_path, AS_OF, store_calls(rules))
    engine = DuckDBEngine(tmp_path)
    cells, errors = sql_statuses(engine, Compiler(DIALECTS["duckdb"], AS_OF, LIB, store_calls(rules)), rules)
    engine.close()
    assert not errors
    assert [cells[("gap", n)] for n in range(2)] == ["met", "not_met"]


def test_rule_calls_cover_open_arguments() -> None:
    rule = r.Compare(value=r.Derived(name="ecog", args=(("within", "28d"),)), op="<=", threshold=r.Quantity(value=1))
    assert rule_calls(rule, "patient") == {("ecog", "within=28d")}
