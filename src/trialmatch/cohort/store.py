"""The facts store on disk: one folder per table of Parquet part files, ``manifest.json`` and ``rejects.csv``.

Writers buffer rows and flush them as row groups, so memory stays bounded whatever the cohort size; each
ingest worker writes its own part file, and readers (DuckDB, Spark, pyarrow) read a table's folder whole.
The manifest records each table's row count as written; :func:`verify` checks them, and that every patient key
is unique, before a store is screened, so a store that another writer added to is refused, not trusted.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from trialmatch.cohort.calls import Calls
from trialmatch.cohort.tables import KEY_COLUMN, RECORDS, TABLES
from trialmatch.errors import InputError

MANIFEST = "manifest.json"
REJECTS = "rejects.csv"
UNMAPPED = "unmapped_codes.csv"  # the mapping work-list (terminology unmapped's layout)
FORMAT_VERSION = 3  # 2: derived values and latest readings beside the patient, integer key pk; 3: possible events


@dataclass
class Manifest:
    """What a store holds: its as-of date, counts, the concept library version and the derived calls."""

    as_of: dt.date
    concepts_version: str
    patients_read: int = 0
    patients_stored: int = 0
    patients_rejected: int = 0
    patients_merged: int = 0
    """Copies of a patient given again with the same facts, kept once (:mod:`duplicates`)."""
    records_rejected: int = 0
    records_not_used: dict[str, int] = field(default_factory=dict)
    """Records kept out as nothing screening reads (resource types trialmatch does not use), by type."""
    codings_unrecognised: int = 0
    derived_calls: list[list[str]] = field(default_factory=list)
    lesion_calls: list[list[str]] = field(default_factory=list)
    latest_concepts: list[str] = field(default_factory=list)
    source: str = "ingest"
    records_kept: bool = False
    """Whether the store keeps each patient's record (``records/``), from which any other as-of is derived."""
    format_version: int = FORMAT_VERSION
    rows: dict[str, int] = field(default_factory=dict)
    """Rows per table, counted from the part files when the manifest is written."""

    @property
    def calls(self) -> Calls:
        """The derived calls the store holds."""
        return Calls(
            frozenset((n, k) for n, k in self.derived_calls),
            frozenset((n, k) for n, k in self.lesion_calls),
            frozenset(self.latest_concepts),
        )

    def hold(self, calls: Calls) -> None:
        """Record the calls the store holds."""
        self.derived_calls = [list(c) for c in sorted(calls.patient)]
        self.lesion_calls = [list(c) for c in sorted(calls.lesion)]
        self.latest_concepts = sorted(calls.latest)

    def write(self, folder: Path) -> None:
        """Count each table's rows and write ``manifest.json`` into the store folder (the last file written)."""
        self.rows = table_rows(folder)
        data = {**asdict(self), "as_of": self.as_of.isoformat()}
        (folder / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def table_rows(folder: Path) -> dict[str, int]:
    """Rows per table, from the Parquet footers of its part files (nothing else is read)."""
    return {
        name: sum(pq.ParquetFile(part).metadata.num_rows for part in sorted(table_path(folder, name).glob("*")))
        for name in TABLES
        if table_path(folder, name).is_dir()
    }


def verify(folder: Path, manifest: Manifest) -> None:
    """InputError naming the store when its tables do not hold what its manifest says: other row counts, or
    a patient key or patient id held twice (another run wrote into it, or it was changed since)."""
    try:
        found = table_rows(folder)
        patients = pq.read_table(table_path(folder, "patients"), columns=[KEY_COLUMN[0], "patient_id"])
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{folder}: the facts store's tables cannot be read ({type(exc).__name__})") from exc
    differ = sorted(name for name in {*found, *manifest.rows} if found.get(name) != manifest.rows.get(name))
    if differ:
        raise InputError(
            f"{folder}: the facts store's tables do not match its manifest ({', '.join(differ)}); another run may "
            "have written into it: ingest the records again"
        )
    for column, what in ((KEY_COLUMN[0], "key"), ("patient_id", "id")):
        if pc.count_distinct(patients[column]).as_py() != patients.num_rows:
            raise InputError(f"{folder}: the facts store holds a patient {what} twice; ingest the records again")


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a store; InputError naming the folder when it is not a facts store."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data.get("format_version")
        data["as_of"] = dt.date.fromisoformat(data["as_of"])
        manifest = Manifest(**data) if version == FORMAT_VERSION else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{folder}: not a facts store ({MANIFEST} missing or unreadable: {type(exc).__name__})"
        ) from exc
    if manifest is None:
        raise InputError(
            f"{folder}: a facts store in format {version}, and this trialmatch reads format {FORMAT_VERSION}; "
            "ingest the records again"
        )
    return manifest


def clear(folder: Path) -> None:
    """Remove an earlier store's tables, manifest and rejects from ``folder``, and nothing else: part file names
    depend on how a store was written, so a stale part left beside new ones would duplicate patients."""
    for name in (*TABLES, RECORDS):
        if table_path(folder, name).is_dir():
            shutil.rmtree(table_path(folder, name))
    for name in (MANIFEST, REJECTS, UNMAPPED):
        (folder / name).unlink(missing_ok=True)


def table_path(folder: Path, table: str) -> Path:
    """The folder of a table's part files."""
    return folder / table


class PartWriter:
    """Writes one part file per table. Queued rows are flushed as a row group once they hold about ``cells``
    values (so the wide ``patients`` rows flush sooner than the narrow fact rows: memory stays bounded), or
    ``rows`` rows for the tables it names (the kept records: one long text per patient); Arrow tables are
    written in row groups of ``batch`` rows."""

    def __init__(
        self,
        folder: Path,
        part: str,
        schemas: Mapping[str, pa.Schema],
        batch: int = 50_000,
        cells: int = 1_000_000,
        rows: Mapping[str, int] | None = None,
    ) -> None:
        self.folder = folder
        self.part = part
        self.schemas = schemas
        self.batch = batch
        self._limits = {name: max(1_000, cells // len(schema)) for name, schema in schemas.items()}
        self._limits.update(rows or {})
        self._rows: dict[str, list[Mapping[str, Any]]] = {name: [] for name in schemas}
        self._writers: dict[str, pq.ParquetWriter] = {}

    def add(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Queue rows; flush the table when its batch is full."""
        pending = self._rows[table]
        pending.extend(rows)
        if len(pending) >= self._limits[table]:
            self.flush(table)

    def write_table(self, table: str, data: pa.Table) -> None:
        """Write an Arrow table (already in the table's schema) as row groups."""
        schema = self.schemas[table]
        self._writer(table).write_table(data.select(schema.names).cast(schema), row_group_size=self.batch)

    def flush(self, table: str) -> None:
        """Write the queued rows of a table as one row group."""
        pending = self._rows[table]
        if pending:
            self._writer(table).write_table(pa.Table.from_pylist(pending, schema=self.schemas[table]))
            pending.clear()

    def close(self) -> None:
        """Flush everything and close the files; tables with no rows get an empty part (schema only)."""
        for table in self.schemas:
            self.flush(table)
            self._writer(table).close()

    def _writer(self, table: str) -> pq.ParquetWriter:
        if table not in self._writers:
            target = table_path(self.folder, table)
            target.mkdir(parents=True, exist_ok=True)
            self._writers[table] = pq.ParquetWriter(target / f"part-{self.part}.parquet", self.schemas[table])
        return self._writers[table]
