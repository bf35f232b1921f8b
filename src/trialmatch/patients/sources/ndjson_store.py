"""Where each NDJSON line is, kept on disk in a temporary SQLite database so that memory stays flat however
large the export: only a batch of pending rows and one patient's locations are in Python at a time."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

Location = tuple[int, int]
"""(file number, byte offset of the line)."""

BATCH = 5_000
"""Rows kept in memory before they are written with one ``executemany``."""

_SCHEMA = """
CREATE TABLE patients (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE lines (patient TEXT NOT NULL, file INTEGER NOT NULL, offset INTEGER NOT NULL);
CREATE TABLE keys (key TEXT PRIMARY KEY, file INTEGER NOT NULL, offset INTEGER NOT NULL);
"""


class LocationStore:
    """Line locations per patient (first-appearance order) and by ``Type/id``, in a private temporary
    directory that :meth:`close` deletes."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="trialmatch-ndjson-"))  # mode 0700: private
        self._db = sqlite3.connect(self.folder / "index.sqlite")
        self._db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;" + _SCHEMA)
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

    def patients(self) -> Iterator[tuple[str, list[Location]]]:
        """Each patient with its line locations in file order, fetched one patient at a time."""
        lines = self._db.cursor()
        for (patient,) in self._db.execute("SELECT id FROM patients ORDER BY seq"):
            rows = lines.execute("SELECT file, offset FROM lines WHERE patient = ? ORDER BY rowid", (patient,))
            yield patient, [(file, offset) for file, offset in rows]

    def location(self, key: str) -> Location | None:
        """Where the line of resource ``Type/id`` is, if the export has it."""
        row = self._db.execute("SELECT file, offset FROM keys WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else None

    def close(self) -> None:
        """Close the database and delete its directory."""
        self._db.close()
        shutil.rmtree(self.folder, ignore_errors=True)
