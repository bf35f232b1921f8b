"""The audit log of screenings: who screened which (hashed) patient, when, as of which date, with which rules,
and what each trial's verdict was. SQLite (stdlib), append-only: triggers reject UPDATE and DELETE.

Patient ids are never stored: each is replaced by a keyed hash (HMAC-SHA256 with a secret salt kept in a
file beside the database, readable by its owner only), so screenings of one patient can be linked without
the log revealing who the patient is.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from trialmatch.engine.outcome import ScreeningOutcome

_SCHEMA = """
CREATE TABLE IF NOT EXISTS screenings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    request_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    as_of TEXT NOT NULL,
    patient_hash TEXT NOT NULL,
    trial_id TEXT NOT NULL,
    rules_version TEXT,
    verdict TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    concepts_version TEXT
);
CREATE TRIGGER IF NOT EXISTS screenings_no_update BEFORE UPDATE ON screenings
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS screenings_no_delete BEFORE DELETE ON screenings
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_INSERT = """
INSERT INTO screenings (at, request_id, actor, as_of, patient_hash, trial_id, rules_version, verdict,
                        engine_version, concepts_version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


def _load_salt(path: Path) -> bytes:
    """The secret salt in ``path``, created (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


class AuditLog:
    """Append screenings to the SQLite file at ``path`` (its salt lives at ``<path>.salt``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._salt = _load_salt(path.with_name(path.name + ".salt"))
        with closing(self._connect()) as connection, connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def patient_hash(self, patient_id: str) -> str:
        """The keyed hash that stands for a patient id in logs and the audit table."""
        return hmac.new(self._salt, patient_id.encode(), hashlib.sha256).hexdigest()[:32]

    def record(self, outcomes: Iterable[ScreeningOutcome], *, actor: str, request_id: str) -> None:
        """One row per patient and trial screened."""
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rows = [
            (
                at,
                request_id,
                actor,
                o.as_of.isoformat(),
                self.patient_hash(o.patient_id),
                t.trial_id,
                t.rules_version,
                t.verdict,
                o.engine_version,
                o.concepts_version,
            )
            for o in outcomes
            for t in o.trials
        ]
        with closing(self._connect()) as connection, connection:
            connection.executemany(_INSERT, rows)
