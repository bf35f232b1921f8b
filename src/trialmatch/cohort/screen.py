"""``cohort screen``: every patient of a facts store against trials, in SQL; criteria, verdicts, feasibility.

The store's as-of is the only as-of a run may use: derived values and history episodes were resolved at
ingest for that date (see ``docs/cohort.md``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort.dialects import DIALECTS
from trialmatch.cohort.engines import Engine, open_engine
from trialmatch.cohort.plan import CohortQuery, TrialQuery, compile_trials
from trialmatch.cohort.store import Manifest, read_manifest, verify
from trialmatch.errors import InputError
from trialmatch.rules.catalog import TrialRules
from trialmatch.terminology.concepts import default_library

CRITERIA = pa.schema(
    [("patient_id", pa.string()), ("trial_id", pa.string()), ("criterion_id", pa.string()), ("status", pa.string())]
)
VERDICTS = pa.schema(
    [
        ("patient_id", pa.string()),
        ("trial_id", pa.string()),
        ("verdict", pa.string()),
        ("failed", pa.string()),
        ("not_compiled", pa.string()),
    ]
)


@dataclass
class TrialRun:
    """One trial's results: its query and its columns of the wide table (one int status column per criterion)."""

    query: TrialQuery
    wide: pa.Table


@dataclass
class ScreenResult:
    """What a cohort run produced, and how long its stages took (seconds)."""

    manifest: Manifest
    trials: list[TrialRun] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def check_as_of(manifest: Manifest, as_of: dt.date | None, store: Path) -> dt.date:
    """The run's as-of: the store's; another date is an error (derived values are the store's as-of's)."""
    if as_of is not None and as_of != manifest.as_of:
        raise InputError(
            f"{store}: the facts store was built as of {manifest.as_of.isoformat()}, not {as_of.isoformat()}; "
            "derived values depend on the date, so re-ingest with --as-of to screen at another date"
        )
    return manifest.as_of


def compile_all(trials: Sequence[TrialRules], store: Path, engine: str, as_of: dt.date | None = None) -> CohortQuery:
    """Every trial's SQL for the store (as-of and derived calls from its manifest)."""
    return _compile(read_manifest(store), store, trials, engine, as_of)


def _compile(
    manifest: Manifest, store: Path, trials: Sequence[TrialRules], engine: str, as_of: dt.date | None
) -> CohortQuery:
    day = check_as_of(manifest, as_of, store)
    library = default_library()
    if manifest.concepts_version != library.version:
        raise InputError(
            f"{store}: the facts store was built with concept library {manifest.concepts_version}, not "
            f"{library.version}; concepts and derived values may differ, so ingest the records again"
        )
    return compile_trials(trials, DIALECTS[engine], day, library, manifest.calls)


WIDE = "wide"
OUTPUTS = ("verdicts.parquet", "criteria.parquet", "feasibility.csv", "feasibility.html")


def screen_store(
    store: Path, trials: Sequence[TrialRules], out: Path, *, engine: str = "duckdb", as_of: dt.date | None = None
) -> ScreenResult:
    """Run every trial over the store; write verdicts.parquet, then criteria.parquet, into ``out``."""
    clock = time.perf_counter()
    manifest = read_manifest(store)
    verify(store, manifest)
    query = _compile(manifest, store, trials, engine, as_of)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:  # an earlier run's files must not sit beside a failed run's
        _remove(out / name)
    result = ScreenResult(manifest)
    runner = open_engine(engine, store)

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = now - clock
        clock = now

    try:
        lap("compile")
        runner.materialize(query.wide, WIDE)
        _write(runner, query.verdicts(WIDE), VERDICTS, out / "verdicts.parquet")
        lap("verdicts")
        _write(runner, query.criteria(WIDE), CRITERIA, out / "criteria.parquet")
        lap("criteria")
        for trial in query.trials:
            result.trials.append(TrialRun(trial, _columns(runner, [c.name for c in trial.columns])))
        lap("funnel")
    finally:
        runner.close()
    return result


def _columns(runner: Engine, names: list[str]) -> pa.Table:
    """Columns of the wide table (none: an empty table)."""
    if not names:
        return pa.table({})
    query = exp.select(*(rel.col(n) for n in names)).from_(rel.named(WIDE))
    return runner.arrow(query.sql(dialect=runner.dialect))


def _write(runner: Engine, query: exp.Expr | None, schema: pa.Schema, path: Path) -> None:
    """The query's rows as Parquet (just the schema when there is no query), written under a temporary name and
    renamed when complete, so a failed run never leaves a truncated file behind."""
    partial = path.with_name(path.name + ".partial")
    _remove(partial)
    if query is None:
        pq.write_table(schema.empty_table(), partial)
    else:
        runner.write_parquet(query.sql(dialect=runner.dialect), partial, schema)
    os.replace(partial, path)


def _remove(path: Path) -> None:
    """Delete an output file, or the folder Spark wrote in its place."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
