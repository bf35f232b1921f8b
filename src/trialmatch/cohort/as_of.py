"""Any as-of date from one store: the patients seen again at another date, derived from the records the store
keeps (``records/``), with the same code as at ingest, so a run at that date equals the per-patient evaluator at
that date.

A store's tables hold values derived for its own as-of (ages, lines of therapy, washouts, episodes); a run at
another date writes, in a temporary folder, a store of the same patients derived at that date and screens it.
This costs about what the derivation part of ingest costs; a store without records (``cohort synth``, or stores
written before records were kept) answers for its own as-of only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow.dataset as ds

from trialmatch.cohort.facts import patient_rows
from trialmatch.cohort.store import Manifest, PartWriter, clear, table_path
from trialmatch.cohort.tables import RECORDS, store_schemas
from trialmatch.errors import InputError
from trialmatch.patients.model import PatientRecord
from trialmatch.terminology.concepts import default_library

BATCH = 1_000


def store_at(store: Path, manifest: Manifest, day: dt.date, folder: Path) -> Manifest:
    """Write into ``folder`` the store's patients derived at ``day``; its manifest."""
    if not manifest.records_kept:
        raise InputError(
            f"{store}: the facts store was built as of {manifest.as_of.isoformat()} and keeps no patient records "
            f"to derive values at {day.isoformat()} from; re-ingest (or re-synth) with --as-of to screen at that date"
        )
    library = default_library()
    calls = manifest.calls
    clear(folder)
    derived = dataclasses.replace(manifest, as_of=day, records_kept=False, source=f"{manifest.source}, re-derived")
    writer = PartWriter(folder, "00000", store_schemas(calls))
    records = ds.dataset(table_path(store, RECORDS), format="parquet")
    for batch in records.to_batches(columns=["pk", "record"], batch_size=BATCH):
        for key, text in zip(batch.column("pk").to_pylist(), batch.column("record").to_pylist(), strict=True):
            record = PatientRecord.model_validate_json(text)
            for table, rows in patient_rows(record, key, day, library, calls).tables.items():
                writer.add(table, rows)
    writer.close()
    derived.write(folder)
    return derived
