"""Differential tests: the per-patient evaluator and the SQL compiled for DuckDB give the same status for
every patient x rule cell, on Hypothesis-generated cohorts and rule trees (Spark in test_spark.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_data import AS_OF, LIB, check_cohort, records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialmatch.cohort.calls import rule_calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import DIALECTS, CompileError
from trialmatch.cohort.engines import DuckDBEngine
from trialmatch.cohort.facts import Calls
from trialmatch.patients.model import PatientRecord
from trialmatch.rules import ast as r
from trialmatch.rules.testing import rule_trees


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(people=records(), rules=st.lists(rule_trees(max_leaves=6), min_size=1, max_size=4))
def test_duckdb_matches_the_evaluator_cell_by_cell(
    tmp_path_factory: pytest.TempPathFactory, people: list[PatientRecord], rules: list[r.Condition]
) -> None:
    check_cohort(DuckDBEngine, tmp_path_factory.mktemp("store"), people, rules, "duckdb")


def test_continuous_timing_is_reported_not_compiled(tmp_path: Path) -> None:
    rule = r.Has(
        domain="drug",
        concept="drug.class.anti_her2",
        timing=r.Timing(mode="continuous", duration=r.Duration(amount=2, unit="y")),
    )
    compiler = Compiler(DIALECTS["duckdb"], AS_OF, LIB, Calls(frozenset(), frozenset()))
    with pytest.raises(CompileError, match="continuous"):
        compiler.compile(rule)


def test_rule_calls_cover_open_arguments() -> None:
    rule = r.Compare(value=r.Derived(name="ecog", args=(("within", "28d"),)), op="<=", threshold=r.Quantity(value=1))
    assert rule_calls(rule, "patient") == {("ecog", "within=28d")}
