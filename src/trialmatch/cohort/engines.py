"""Where compiled SQL runs: DuckDB embedded (the default) or Spark (the ``spark`` extra, needs Java).

Both register the store's tables as views under their own names, materialize the run's wide query as a table
and write the verdicts and criteria from it, so the statements run are exactly those ``rules sql`` prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
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

    def parquet_sink(self, path: Path, schema: pa.Schema) -> AbstractContextManager[Callable[[str], None]]:
        """A writer of Parquet at ``path`` (in ``schema``): each call runs a query and adds its rows."""

    def drop(self, name: str) -> None:
        """Forget table ``name``."""

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

    @contextmanager
    def parquet_sink(self, path: Path, schema: pa.Schema) -> Iterator[Callable[[str], None]]:
        """One file, streamed batch by batch through pyarrow (zstd): memory stays bounded, and it is about twice
        as fast as DuckDB's own writer on the long criteria rows."""
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:

            def write(sql: str) -> None:
                for batch in self.con.sql(sql).to_arrow_reader(BATCH_ROWS):
                    writer.write_batch(batch.cast(schema))

            yield write

    def drop(self, name: str) -> None:
        self.con.execute(exp.Drop(tables=[rel.named(name)], kind="TABLE", exists=True).sql(dialect="duckdb"))

    def close(self) -> None:
        self.con.close()


class SparkEngine:
    """Spark SQL on a local (or configured) session; tables are temporary views over the Parquet folders."""

    dialect = "spark"

    def __init__(self, store: Path, session: Any = None, master: str | None = None, *, verbose: bool = False) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise InputError("the Spark engine needs the 'spark' extra: pip install 'trialmatch[spark]'") from exc
        master = master or os.environ.get("SPARK_MASTER", LOCAL)
        self.spark = session or _session(SparkSession.builder, master, verbose)
        for name in TABLES:
            self.spark.read.parquet(str(table_path(store, name))).createOrReplaceTempView(name)

    def materialize(self, query: exp.Query, name: str) -> None:
        """Computed once and checkpointed: a view over ``cache()`` kept the whole wide plan, which Spark
        re-analysed for every query reading it (minutes for one trial's criteria rows)."""
        self.spark.sql(query.sql(dialect="spark")).localCheckpoint(eager=True).createOrReplaceTempView(name)

    def arrow(self, sql: str) -> pa.Table:
        table: pa.Table = self.spark.sql(sql).toArrow()
        return table

    @contextmanager
    def parquet_sink(self, path: Path, schema: pa.Schema) -> Iterator[Callable[[str], None]]:
        """Spark's own writer: the rows never pass through the driver, and ``path`` is a folder of part files
        (pyarrow, DuckDB and Spark read it as one table); each query appends its parts. A sink given no query
        leaves one empty file in ``schema``."""
        written = False

        def write(sql: str) -> None:
            nonlocal written
            frame = self.spark.sql(sql)
            columns = [frame[name].cast("string").alias(name) for name in schema.names]
            mode = "append" if written else "overwrite"
            frame.select(*columns).write.mode(mode).option("compression", "zstd").parquet(str(path))
            written = True

        yield write
        if not written:
            pq.write_table(schema.empty_table(), path)

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        """The session is shared; Spark stops it at exit."""


LOCAL = "local[*]"


def _session(builder: Any, master: str, verbose: bool) -> Any:
    """A Spark session on ``master``. In local mode (the default) the driver does the work: it gets a larger
    heap (a wide query over several trials is a large plan) and few shuffle partitions (Spark's default 200
    suit a cluster, not one machine). Unless ``verbose``, Spark logs errors only and draws no stage progress
    bars (the JVM reads the quiet logging configuration as it starts)."""
    builder = builder.master(master).appName("trialmatch-cohort")
    if master.startswith("local"):
        cores = os.cpu_count() or 2
        builder = builder.config("spark.driver.memory", "3g").config("spark.sql.shuffle.partitions", str(2 * cores))
    if not verbose:
        quiet = files("trialmatch").joinpath("data/spark/log4j2-quiet.properties")
        builder = builder.config("spark.ui.showConsoleProgress", "false").config(
            "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{quiet}"
        )
    session = builder.getOrCreate()
    if not verbose:
        session.sparkContext.setLogLevel("ERROR")
    return session


def open_engine(kind: str, store: Path, master: str | None = None, *, verbose: bool = False) -> Engine:
    """The engine called ``kind`` over ``store`` (Spark on ``master``, else $SPARK_MASTER, else local mode;
    quiet unless ``verbose``)."""
    if kind == "duckdb":
        return DuckDBEngine(store)
    if kind == "spark":
        return SparkEngine(store, master=master, verbose=verbose)
    raise InputError(f"unknown engine '{kind}' (duckdb or spark)")
