"""Where each NDJSON line is, kept on disk in a temporary SQLite database so that memory stays flat however
large the export: only a batch of pending rows and one patient's locations are in Python at a time. A finished
database can be kept and opened read-only by other processes, each reading its own share of the patients."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from trialmatch.patients.sources.shards import WHOLE, Shard
from trialmatch.scratch import LINE_INDEXES, private_folder

Location = tuple[int, int]
"""(file number, byte offset of the line)."""

BATCH = 5_000
"""Rows kept in memory before they are written with one ``executemany``."""

_DATABASE = "index.sqlite"
_SCHEMA = """
CREATE TABLE patients (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE lines (patient TEXT NOT NULL, file INTEGER NOT NULL, offset INTEGER NOT NULL);
CREATE TABLE keys (key TEXT PRIMARY KEY, file INTEGER NOT NULL, offset INTEGER NOT NULL);
"""


class LocationStore:
    """Line locations per patient (first-appearance order) and by ``Type/id``.

    A new store lives in a private temporary directory that :meth:`close` deletes (unless :meth:`keep` handed
    it on); given the ``folder`` of a kept store, it is opened read-only and closing leaves it in place."""

    def __init__(self, folder: Path | None = None) -> None:
        self.owned = folder is None
        if folder is None:
            self.folder = private_folder(LINE_INDEXES)  # mode 0700; swept after a kill
            self._db = sqlite3.connect(self.folder / _DATABASE)
            self._db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
        else:
            self.folder = folder
            self._db = sqlite3.connect((folder / _DATABASE).as_uri() + "?mode=ro", uri=True)
        self._lines: list[tuple[str, int, int]] = []
        self._keys: list[tuple[str, int, int]] = []

    def add(self, key: str, owner: str | None, location: Location) -> None:
        """Record a line under its ``Type/id`` (a later line wins) and, when it has one, its patient."""
        self._keys.append((key, *location))
        if owner is not None:
            self._lines.append((owner, *location))
        if len(self._keys) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the pending rows; patients keep the order in which they first appear."""
        with self._db:
            self._db.executemany("INSERT OR IGNORE INTO patients (id) VALUES (?)", ((p,) for p, _, _ in self._lines))
            self._db.executemany("INSERT INTO lines VALUES (?, ?, ?)", self._lines)
            self._db.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?, ?)", self._keys)
        self._lines, self._keys = [], []

    def finish(self) -> None:
        """End of the first pass: write what is pending and index lines by patient."""
        self.flush()
        self._db.execute("CREATE INDEX lines_by_patient ON lines (patient)")
        self._db.commit()

    def count(self) -> int:
        """How many patients own lines."""
        return int(self._db.execute("SELECT count(*) FROM patients").fetchone()[0])

    def patients(self, shard: Shard = WHOLE) -> Iterator[tuple[str, list[Location]]]:
        """The shard's patients with their line locations in file order, fetched one patient at a time."""
        lines = self._db.cursor()
        # seq counts 1, 2, ... in first-appearance order: rows are only ever inserted, one per new patient
        chosen = "SELECT id FROM patients WHERE (seq - 1) % ? = ? ORDER BY seq"
        for (patient,) in self._db.execute(chosen, (shard.count, shard.index)):
            rows = lines.execute("SELECT file, offset FROM lines WHERE patient = ? ORDER BY rowid", (patient,))
            yield patient, [(file, offset) for file, offset in rows]

    def location(self, key: str) -> Location | None:
        """Where the line of resource ``Type/id`` is, if the export has it."""
        row = self._db.execute("SELECT file, offset FROM keys WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def keep(self) -> Path:
        """Close the finished database but leave its directory for readers in other processes; whoever
        asked for it deletes it (:func:`remove_store`)."""
        self.owned = False
        self._db.close()
        return self.folder

    def close(self) -> None:
        """Close the database; delete its directory when this store made it."""
        self._db.close()
        if self.owned:
            remove_store(self.folder)


def remove_store(folder: Path) -> None:
    """Delete a kept store's directory."""
    shutil.rmtree(folder, ignore_errors=True)
