"""``cohort screen``: every patient of a facts store against trials, in SQL; criteria, verdicts, feasibility.

Derived values and history episodes are resolved for the store's as-of; a run at another date screens the
store's records derived again at that date (:mod:`trialmatch.cohort.as_of`, ``docs/cohort.md``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort.as_of import store_at
from trialmatch.cohort.dialects import DIALECTS
from trialmatch.cohort.engines import Engine, open_engine
from trialmatch.cohort.feasibility import TrialFeasibility, summarize
from trialmatch.cohort.plan import MAX_BATCH_CRITERIA, CohortQuery, compile_batches
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
class ScreenResult:
    """What a cohort run produced (each trial's feasibility, in the order given), and how long its stages took
    (seconds, summed over the run's batches)."""

    manifest: Manifest
    trials: list[TrialFeasibility] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def check_as_of(manifest: Manifest, as_of: dt.date | None, store: Path) -> dt.date:
    """The compiled SQL's as-of: the store's; another date is an error (derived values are the store's as-of's:
    :func:`screen_store` derives a store at another date first)."""
    if as_of is not None and as_of != manifest.as_of:
        raise InputError(
            f"{store}: the facts store was built as of {manifest.as_of.isoformat()}, not {as_of.isoformat()}; "
            "derived values depend on the date, so re-ingest with --as-of to screen at another date"
        )
    return manifest.as_of


def compile_all(
    trials: Sequence[TrialRules], store: Path, engine: str, as_of: dt.date | None = None
) -> list[CohortQuery]:
    """Every trial's SQL for the store (as-of and derived calls from its manifest), in batches run in turn."""
    return _compile(read_manifest(store), store, trials, engine, as_of)


def _compile(
    manifest: Manifest,
    store: Path,
    trials: Sequence[TrialRules],
    engine: str,
    as_of: dt.date | None,
    limit: int = MAX_BATCH_CRITERIA,
) -> list[CohortQuery]:
    day = check_as_of(manifest, as_of, store)
    library = default_library()
    if manifest.concepts_version != library.version:
        raise InputError(
            f"{store}: the facts store was built with concept library {manifest.concepts_version}, not "
            f"{library.version}; concepts and derived values may differ, so ingest the records again"
        )
    return compile_batches(trials, DIALECTS[engine], day, library, manifest.calls, limit)


WIDE = "wide"
OUTPUTS = ("verdicts.parquet", "criteria.parquet", "feasibility.csv", "feasibility.html", "changes.parquet")


def screen_store(
    store: Path,
    trials: Sequence[TrialRules],
    out: Path,
    *,
    engine: str = "duckdb",
    as_of: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_criteria: int = MAX_BATCH_CRITERIA,
    verbose: bool = False,
) -> ScreenResult:
    """Run every trial over the store in batches of at most ``batch_criteria`` top-level criteria; write
    verdicts.parquet and criteria.parquet into ``out`` and summarise each trial's feasibility. At an ``as_of``
    other than the store's, the store's records are derived at that date first (:mod:`trialmatch.cohort.as_of`).
    ``progress(done, batches)`` is called after each batch; ``verbose`` lets Spark log as it does by default."""
    manifest = read_manifest(store)
    verify(store, manifest)
    if as_of is None or as_of == manifest.as_of:
        return _screen(store, manifest, trials, out, engine, progress, batch_criteria, verbose)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".as-of-", dir=out) as folder:
        derived = store_at(store, manifest, as_of, Path(folder))
        return _screen(Path(folder), derived, trials, out, engine, progress, batch_criteria, verbose)


def _screen(
    store: Path,
    manifest: Manifest,
    trials: Sequence[TrialRules],
    out: Path,
    engine: str,
    progress: Callable[[int, int], None] | None,
    batch_criteria: int,
    verbose: bool,
) -> ScreenResult:
    clock = time.perf_counter()
    queries = _compile(manifest, store, trials, engine, None, batch_criteria)
    rules = {b.trial.trial_id: b for b in trials}
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:  # an earlier run's files must not sit beside a failed run's
        _remove(out / name)
    result = ScreenResult(manifest)
    runner = open_engine(engine, store, verbose=verbose)

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[stage] = result.seconds.get(stage, 0.0) + now - clock
        clock = now

    lap("compile")
    verdicts_file, criteria_file = _partial(out / "verdicts.parquet"), _partial(out / "criteria.parquet")
    try:
        with (
            runner.parquet_sink(verdicts_file, VERDICTS) as verdicts,
            runner.parquet_sink(criteria_file, CRITERIA) as criteria,
        ):
            for done, query in enumerate(queries, start=1):
                runner.materialize(query.wide, WIDE)
                lap("wide")
                verdicts(_sql(query.verdicts(WIDE), runner))
                lap("verdicts")
                if (rows := query.criteria(WIDE)) is not None:
                    criteria(_sql(rows, runner))
                lap("criteria")
                for trial in query.trials:
                    wide = _columns(runner, [c.name for c in trial.columns])
                    result.trials.append(summarize(rules[trial.trial_id], trial, wide))
                runner.drop(WIDE)
                lap("feasibility")
                if progress is not None:
                    progress(done, len(queries))
    finally:
        runner.close()
    os.replace(verdicts_file, out / "verdicts.parquet")
    os.replace(criteria_file, out / "criteria.parquet")
    return result


def _sql(query: exp.Expr | None, runner: Engine) -> str:
    assert query is not None  # a batch always has at least one trial
    return query.sql(dialect=runner.dialect)


def _columns(runner: Engine, names: list[str]) -> pa.Table:
    """Columns of the wide table (none: an empty table)."""
    if not names:
        return pa.table({})
    query = exp.select(*(rel.col(n) for n in names)).from_(rel.named(WIDE))
    return runner.arrow(query.sql(dialect=runner.dialect))


def _partial(path: Path) -> Path:
    """Where an output is written until complete, so a failed run never leaves a truncated file behind."""
    partial = path.with_name(path.name + ".partial")
    _remove(partial)
    return partial


def _remove(path: Path) -> None:
    """Delete an output file, or the folder Spark wrote in its place."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
