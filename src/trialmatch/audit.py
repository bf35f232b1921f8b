"""The audit log: who screened which (hashed) patient, when, as of which date, with which rules, and what each
trial's verdict was; and who changed the trial library (imports, replaced records, drafted rules) and when.
SQLite (stdlib), append-only: triggers reject UPDATE and DELETE. The command line and the service write to
the same kind of file (by default ``audit.sqlite3`` in the library).

Patient ids are never stored: each is replaced by a keyed hash (HMAC-SHA256 with a secret salt kept in a
file beside the database, readable by its owner only), so screenings of one patient can be linked without
the log revealing who the patient is.
"""

from __future__ import annotations

import datetime as dt
import getpass
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
CREATE TABLE IF NOT EXISTS library_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    trial_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS library_changes_no_update BEFORE UPDATE ON library_changes
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS library_changes_no_delete BEFORE DELETE ON library_changes
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_INSERT = """
INSERT INTO screenings (at, request_id, actor, as_of, patient_hash, trial_id, rules_version, verdict,
                        engine_version, concepts_version)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


_INSERT_CHANGE = "INSERT INTO library_changes (at, actor, action, trial_id, detail) VALUES (?, ?, ?, ?, ?)"


def local_actor() -> str:
    """Who runs a command: the operating-system account (the service names the token instead)."""
    try:
        return "user:" + getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
        at = _now()
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

    def record_change(self, action: str, trial_id: str, detail: str, *, actor: str) -> None:
        """One change to the trial library: ``import``, ``replace-bundled`` or ``draft-rules``, with what changed."""
        with closing(self._connect()) as connection, connection:
            connection.execute(_INSERT_CHANGE, (_now(), actor, action, trial_id, detail))

    def changes(self) -> list[tuple[str, str, str, str, str]]:
        """Every library change recorded: (at, actor, action, trial id, detail), oldest first."""
        with closing(self._connect()) as connection:
            query = "SELECT at, actor, action, trial_id, detail FROM library_changes ORDER BY id"
            rows: list[tuple[str, str, str, str, str]] = connection.execute(query).fetchall()
            return rows
