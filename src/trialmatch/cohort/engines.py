"""Where compiled SQL runs: DuckDB embedded (the default) or Spark (the ``spark`` extra, needs Java).

Both register the store's tables as views under their own names, materialize each trial's wide query as a
table, and return Arrow tables, so the statements run are exactly those ``rules sql`` prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort.store import table_path
from trialmatch.cohort.tables import TABLES
from trialmatch.errors import InputError

BATCH_ROWS = 1_000_000


class Engine(Protocol):
    """A SQL engine over one facts store."""

    dialect: str

    def materialize(self, query: exp.Query, name: str) -> None:
        """Run a query and keep its result as table ``name``."""

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return its rows."""

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        """Run a query and stream its rows, a batch at a time (memory stays bounded on large results)."""

    def close(self) -> None:
        """Release the engine."""


class DuckDBEngine:
    """DuckDB in process, reading the store's Parquet files in place."""

    dialect = "duckdb"

    def __init__(self, store: Path, threads: int | None = None) -> None:
        import duckdb

        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        for name in TABLES:
            pattern = str(table_path(store, name) / "*.parquet")
            scan = exp.select("*").from_(exp.func("read_parquet", exp.Literal.string(pattern)))
            view = exp.Create(this=rel.named(name), kind="VIEW", expression=scan, replace=True)
            self.con.execute(view.sql(dialect="duckdb"))

    def materialize(self, query: exp.Query, name: str) -> None:
        table = exp.Create(this=rel.named(name), kind="TABLE", expression=query, replace=True)
        self.con.execute(table.sql(dialect="duckdb"))

    def arrow(self, sql: str) -> pa.Table:
        result: pa.Table = self.con.sql(sql).to_arrow_table()
        return result

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        yield from self.con.sql(sql).to_arrow_reader(BATCH_ROWS)

    def close(self) -> None:
        self.con.close()


class SparkEngine:
    """Spark SQL on a local (or configured) session; tables are temporary views over the Parquet folders."""

    dialect = "spark"

    def __init__(self, store: Path, session: Any = None) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise InputError("the Spark engine needs the 'spark' extra: pip install 'trialmatch[spark]'") from exc
        self.spark = session or SparkSession.builder.master("local[*]").appName("trialmatch-cohort").getOrCreate()
        for name in TABLES:
            self.spark.read.parquet(str(table_path(store, name))).createOrReplaceTempView(name)

    def materialize(self, query: exp.Query, name: str) -> None:
        self.spark.sql(query.sql(dialect="spark")).cache().createOrReplaceTempView(name)

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self.spark.sql(sql).toArrow()
        return table

    def batches(self, sql: str) -> Iterator[pa.RecordBatch]:
        """Collected through Arrow on the driver (``toArrow``), then handed on in batches."""
        yield from self.arrow(sql).to_batches(BATCH_ROWS)

    def close(self) -> None:
        """The session is shared; Spark stops it at exit."""


def open_engine(kind: str, store: Path) -> Engine:
    """The engine called ``kind`` over ``store``."""
    if kind == "duckdb":
        return DuckDBEngine(store)
    if kind == "spark":
        return SparkEngine(store)
    raise InputError(f"unknown engine '{kind}' (duckdb or spark)")
