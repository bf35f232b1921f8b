"""``cohort screen``: every patient of a facts store against trials, in SQL; criteria, verdicts, feasibility.

The store's as-of is the only as-of a run may use: derived values and history episodes were resolved at
ingest for that date (see ``docs/cohort.md``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from trialmatch.cohort.dialects import DIALECTS
from trialmatch.cohort.engines import Engine, open_engine
from trialmatch.cohort.plan import TrialQuery, compile_trial
from trialmatch.cohort.store import Manifest, read_manifest
from trialmatch.errors import InputError
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.concepts import default_library

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
    """One trial's results: its query and the wide table of statuses (one int column per criterion)."""

    query: TrialQuery
    wide: pa.Table


@dataclass
class ScreenResult:
    """What a cohort run produced."""

    manifest: Manifest
    trials: list[TrialRun] = field(default_factory=list)


def check_as_of(manifest: Manifest, as_of: dt.date | None, store: Path) -> dt.date:
    """The run's as-of: the store's; another date is an error (derived values are the store's as-of's)."""
    if as_of is not None and as_of != manifest.as_of:
        raise InputError(
            f"{store}: the facts store was built as of {manifest.as_of.isoformat()}, not {as_of.isoformat()}; "
            "derived values depend on the date, so re-ingest with --as-of to screen at another date"
        )
    return manifest.as_of


def compile_all(
    trials: Sequence[TrialRules], store: Path, engine: str, as_of: dt.date | None = None
) -> list[TrialQuery]:
    """Every trial's SQL for the store (as-of and derived calls from its manifest)."""
    manifest = read_manifest(store)
    day = check_as_of(manifest, as_of, store)
    dialect = DIALECTS[engine]
    calls = manifest.calls
    return [compile_trial(t, dialect, day, default_library(), calls) for t in trials]


def screen_store(
    store: Path, trials: Sequence[TrialRules], out: Path, *, engine: str = "duckdb", as_of: dt.date | None = None
) -> ScreenResult:
    """Run every trial over the store; write criteria.parquet and verdicts.parquet into ``out``."""
    manifest = read_manifest(store)
    queries = compile_all(trials, store, engine, as_of)
    out.mkdir(parents=True, exist_ok=True)
    result = ScreenResult(manifest)
    runner = open_engine(engine, store)
    try:
        with (
            pq.ParquetWriter(out / "criteria.parquet", CRITERIA) as crit,
            pq.ParquetWriter(out / "verdicts.parquet", VERDICTS) as verd,
        ):
            for n, query in enumerate(queries):
                result.trials.append(_run_trial(runner, query, f"wide_{n}", crit, verd))
    finally:
        runner.close()
    return result


def _run_trial(
    runner: Engine, query: TrialQuery, name: str, crit: pq.ParquetWriter, verd: pq.ParquetWriter
) -> TrialRun:
    assert query.wide is not None
    runner.materialize(query.wide.sql(dialect=runner.dialect), name)
    if query.columns:
        crit.write_table(runner.arrow(query.criteria(name).sql(dialect=runner.dialect)).cast(CRITERIA))
    verd.write_table(runner.arrow(query.verdicts(name).sql(dialect=runner.dialect)).cast(VERDICTS))
    wide = runner.arrow(exp.select("*").from_(exp.to_table(name, quoted=True)).sql(dialect=runner.dialect))
    return TrialRun(query, wide)
