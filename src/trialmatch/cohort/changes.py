"""``changes.parquet``: what a cohort run changed against an earlier run, pair by pair (the cohort counterpart of
the work-list's re-screen).

A patient-trial pair is listed when its verdict differs from the earlier run's: ``newly_eligible``,
``newly_possible`` or ``newly_ineligible`` for a pair in both runs, ``added`` for a pair only this run has (a new
patient or trial) and ``removed`` for one only the earlier run had.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trialmatch.errors import InputError

CHANGES = pa.schema(
    [
        ("patient_id", pa.string()),
        ("trial_id", pa.string()),
        ("before", pa.string()),
        ("after", pa.string()),
        ("change", pa.string()),
    ]
)
KEYS = ["patient_id", "trial_id"]


def _verdicts(run: Path, name: str) -> pa.Table:
    path = run / "verdicts.parquet"
    if not path.exists():
        raise InputError(f"{run}: no verdicts.parquet, so not the folder of an earlier cohort run")
    table = pq.read_table(path, columns=[*KEYS, "verdict"])
    return table.rename_columns([*KEYS, name])


def check_previous(previous: Path, out: Path) -> None:
    """Refuse, before anything is computed, an earlier run folder without verdicts or one the run would
    overwrite."""
    if previous.resolve() == out.resolve():
        raise InputError(f"{previous}: --since must name another folder than --out (the run replaces its files)")
    _verdicts(previous, "before")


def changes(previous: Path, current: Path) -> pa.Table:
    """The pairs whose verdict changed from the run in ``previous`` to the run in ``current``."""
    joined = _verdicts(previous, "before").join(_verdicts(current, "after"), keys=KEYS, join_type="full outer")
    before, after = joined.column("before"), joined.column("after")
    kind = pc.if_else(
        pc.is_null(before),
        pa.scalar("added"),
        pc.if_else(pc.is_null(after), pa.scalar("removed"), pc.binary_join_element_wise("newly", after, "_")),
    )
    differs = pc.or_kleene(pc.is_null(before), pc.or_kleene(pc.is_null(after), pc.not_equal(before, after)))
    table = joined.append_column("change", kind).filter(pc.fill_null(differs, True))
    return table.select(CHANGES.names).cast(CHANGES).sort_by([(k, "ascending") for k in KEYS])


def write_changes(previous: Path, current: Path) -> pa.Table:
    """Write ``changes.parquet`` into the current run's folder (complete or not at all); the changes."""
    table = changes(previous, current)
    partial = current / "changes.parquet.partial"
    pq.write_table(table, partial)
    os.replace(partial, current / "changes.parquet")
    return table
