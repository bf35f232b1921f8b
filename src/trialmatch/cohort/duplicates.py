"""One patient id, one patient: what ``cohort ingest`` does when inputs (or rows of one input) give the same
patient id more than once.

The rule: copies whose stored facts are the same, row for row (the same record given twice), are the same
patient and are kept once ("merged"); copies whose facts differ cannot be told apart from two patients who
share an id by mistake, so every copy is rejected with the reason, and the site merges the records or gives
them distinct ids. The check runs on the finished part files, before the store is swapped into place; only
the part files holding a duplicate are rewritten, batch by batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trialmatch.cohort.store import table_path
from trialmatch.cohort.tables import KEY_COLUMN, TABLES

KEY = KEY_COLUMN[0]
Reject = tuple[str, str]


@dataclass
class Duplicates:
    """What was done with patient ids met more than once."""

    merged: int = 0
    """Copies dropped because an identical copy is kept."""
    rejected: int = 0
    """Copies rejected because their facts differ."""
    rejects: list[Reject] = field(default_factory=list)


def resolve_duplicates(folder: Path) -> Duplicates:
    """Apply the rule to the store being built in ``folder``."""
    result = Duplicates()
    patients = pq.read_table(table_path(folder, "patients"), columns=[KEY, "patient_id"])
    counts = pc.value_counts(patients["patient_id"])
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(repeated) == 0:
        return result
    copies = patients.filter(pc.is_in(patients["patient_id"], value_set=repeated))
    keys_by_id: dict[str, list[int]] = defaultdict(list)
    for key, patient_id in zip(copies[KEY].to_pylist(), copies["patient_id"].to_pylist(), strict=True):
        keys_by_id[patient_id].append(key)
    contents = _contents(folder, {k for keys in keys_by_id.values() for k in keys})
    dropped: set[int] = set()
    for patient_id, keys in keys_by_id.items():
        if len({contents[k] for k in keys}) == 1:
            dropped.update(sorted(keys)[1:])
            result.merged += len(keys) - 1
        else:
            dropped.update(keys)
            result.rejected += len(keys)
            reason = f"the patient id is given {len(keys)} times with different facts; every copy rejected"
            result.rejects.append((f"Patient/{patient_id}", reason + ": merge the records or give distinct ids"))
    _drop(folder, dropped)
    return result


def _contents(folder: Path, keys: set[int]) -> dict[int, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Each key's stored rows in every table, the key itself left out, in a comparable order."""
    rows: dict[int, list[tuple[str, str]]] = defaultdict(list)
    wanted = pa.array(sorted(keys), pa.int64())
    for table in TABLES:
        for part in _parts(folder, table):
            data = pq.read_table(part)
            data = data.filter(pc.is_in(data[KEY], value_set=wanted))
            for row in data.to_pylist():
                key = row.pop(KEY)
                rows[key].append((table, repr(sorted(row.items()))))
    return {k: tuple(sorted((t, (r,)) for t, r in rows[k])) for k in keys}


def _drop(folder: Path, keys: set[int]) -> None:
    """Rewrite the part files holding any of ``keys`` without their rows."""
    unwanted = pa.array(sorted(keys), pa.int64())
    for table in TABLES:
        for part in _parts(folder, table):
            source = pq.ParquetFile(part)
            if not pc.any(pc.is_in(source.read(columns=[KEY])[KEY], value_set=unwanted)).as_py():
                continue
            rewritten = part.with_name(part.name + ".rewrite")
            with pq.ParquetWriter(rewritten, source.schema_arrow) as writer:
                for batch in source.iter_batches():
                    writer.write_table(
                        pa.Table.from_batches([batch]).filter(pc.invert(pc.is_in(batch[KEY], value_set=unwanted)))
                    )
            rewritten.replace(part)


def _parts(folder: Path, table: str) -> list[Path]:
    path = table_path(folder, table)
    return sorted(path.glob("*.parquet")) if path.is_dir() else []
