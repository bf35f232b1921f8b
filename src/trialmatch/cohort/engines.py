"""Where compiled SQL runs: DuckDB embedded (the default) or Spark (the ``spark`` extra, needs Java).

Both register the store's tables as views under their own names, materialize each trial's wide query as a
table, and return Arrow tables, so the statements run are exactly those ``rules sql`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort.store import table_path
from trialmatch.cohort.tables import TABLES
from trialmatch.errors import InputError


class Engine(Protocol):
    """A SQL engine over one facts store."""

    dialect: str

    def materialize(self, query: exp.Query, name: str) -> None:
        """Run a query and keep its result as table ``name``."""

    def arrow(self, sql: str) -> pa.Table:
        """Run a query and return its rows."""

    def write_parquet(self, sql: str, path: Path, schema: pa.Schema) -> None:
        """Run a query and write its rows (in ``schema``) as one Parquet file."""

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

    def write_parquet(self, sql: str, path: Path, schema: pa.Schema) -> None:
        """DuckDB writes the file itself, in parallel, without passing the rows through Python."""
        self.con.sql(sql).write_parquet(str(path), compression="zstd")

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

    def write_parquet(self, sql: str, path: Path, schema: pa.Schema) -> None:
        """Through Arrow: Spark itself writes a folder of part files, and the contract names one file."""
        pq.write_table(self.arrow(sql).cast(schema), path, compression="zstd")

    def close(self) -> None:
        """The session is shared; Spark stops it at exit."""


def open_engine(kind: str, store: Path) -> Engine:
    """The engine called ``kind`` over ``store``."""
    if kind == "duckdb":
        return DuckDBEngine(store)
    if kind == "spark":
        return SparkEngine(store)
    raise InputError(f"unknown engine '{kind}' (duckdb or spark)")
