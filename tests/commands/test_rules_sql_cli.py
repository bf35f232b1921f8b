"""``trialmatch rules sql`` prints exactly the statements ``cohort screen`` runs: running the printed SQL by hand
over the store gives the verdicts file ``cohort screen`` wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.cohort.engines import DuckDBEngine
from trialmatch.cohort.ingest import store_calls, store_records
from trialmatch.cohort.screen import screen_store
from trialmatch.commands.trial_selection import select
from trialmatch.patients.sources import read_patients

AS_OF = dt.date(2025, 1, 15)
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))
TRIAL = "NCT03530696"


def test_printed_sql_is_what_cohort_screen_runs(tmp_path: Path) -> None:
    trials, _ = select([TRIAL], None)
    rules = [x for b in trials for c in b.trial.all_criteria() if (x := b.rule_for(c.id)) is not None]
    store_records([r for p in EXAMPLES for r in read_patients(p)], tmp_path / "store", AS_OF, store_calls(rules))
    screen_store(tmp_path / "store", trials, tmp_path / "out")

    args = ["rules", "sql", TRIAL, "--dialect", "duckdb", "--facts", str(tmp_path / "store")]
    printed = CliRunner().invoke(app, args)
    assert printed.exit_code == 0, printed.output
    wide, verdicts, criteria = sqlglot.parse(printed.stdout, dialect="duckdb")
    assert wide is not None and verdicts is not None and criteria is not None

    engine = DuckDBEngine(tmp_path / "store")  # the store's tables as views, as cohort screen sees them
    con: duckdb.DuckDBPyConnection = engine.con
    create = exp.Create(this=exp.to_table("wide", quoted=True), kind="TABLE", expression=wide)
    con.execute(create.sql(dialect="duckdb"))
    by_hand = con.sql(verdicts.sql(dialect="duckdb")).to_arrow_table().sort_by("patient_id")
    written = pq.read_table(tmp_path / "out/verdicts.parquet").sort_by("patient_id")
    assert by_hand.num_rows == len(EXAMPLES)
    assert by_hand.to_pylist() == written.to_pylist()
    assert (
        con.sql(criteria.sql(dialect="duckdb")).to_arrow_table().num_rows
        == pq.read_metadata(tmp_path / "out/criteria.parquet").num_rows
    )


def test_spark_dialect_prints_spark_sql() -> None:
    printed = CliRunner().invoke(app, ["rules", "sql", TRIAL, "--dialect", "spark", "--as-of", "2025-01-15"])
    assert printed.exit_code == 0, printed.output
    assert len(sqlglot.parse(printed.stdout, dialect="spark")) == 3
    assert "FROM `wide`" in printed.stdout


def test_unknown_dialect_is_refused() -> None:
    printed = CliRunner().invoke(app, ["rules", "sql", TRIAL, "--dialect", "oracle"])
    assert printed.exit_code != 0
    assert "unknown dialect 'oracle'" in printed.output
