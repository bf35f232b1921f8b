"""The work-list store: append patients, screenings, statuses and answers; read back the latest of each.

Nothing is ever updated or deleted. A pair's current verdict is its latest screening, its current status its
latest status row, a criterion's current answer its latest answer row; all earlier rows are the history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.exc import IntegrityError

from trialmatch.engine.answers import SiteAnswer, SiteAnswers
from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import TrialOutcome
from trialmatch.worklist import schema
from trialmatch.worklist.database import open_engine
from trialmatch.worklist.model import AnswerEvent, Pair, PairStatus, ScreeningRow, StatusEvent


def now() -> dt.datetime:
    """The current time in UTC, as every row records it."""
    return dt.datetime.now(dt.UTC)


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes: they were written in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class StoredRecord:
    """The file a patient's current record is in, as it was received."""

    patient_id: str
    name: str
    content: bytes
    added_at: dt.datetime


def _latest(table: Any, *keys: str) -> Select[Any]:
    """The newest row of each key of an append-only table."""
    newest = select(func.max(table.c.id)).group_by(*(table.c[k] for k in keys))
    return select(table).where(table.c.id.in_(newest)).order_by(table.c.id)


class WorklistStore:
    """The work-list in one database (see :mod:`trialmatch.worklist.database` for where and how it opens)."""

    def __init__(self, url: str | None = None, *, home: Path | None = None) -> None:
        self.engine = open_engine(url, home=home)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # patients

    def add_file(self, name: str, content: bytes, patient_ids: Iterable[str], *, by: str) -> None:
        """Keep a patient file as received, and make it the current record of each patient in it."""
        digest = hashlib.sha256(content).hexdigest()
        at = now()
        source_id = self._source_id(digest)
        if source_id is None:
            try:
                with self.engine.begin() as connection:
                    values = {"name": name, "sha256": digest, "content": content, "added_at": at}
                    connection.execute(insert(schema.sources).values(values))
            except IntegrityError:
                pass  # another writer stored the same file first
            source_id = self._source_id(digest)
        rows = [{"patient_id": p, "source_id": source_id, "added_at": at, "added_by": by} for p in patient_ids]
        if rows:
            with self.engine.begin() as connection:
                connection.execute(insert(schema.records), rows)

    def _source_id(self, digest: str) -> int | None:
        with self.engine.begin() as connection:
            found: int | None = connection.scalar(select(schema.sources.c.id).where(schema.sources.c.sha256 == digest))
        return found

    def records(self, patient_ids: Sequence[str] = ()) -> list[StoredRecord]:
        """Each patient's current record file (all patients, or those named), in the order they were added."""
        latest = _latest(schema.records, "patient_id").subquery()
        query = (
            select(latest.c.patient_id, latest.c.added_at, schema.sources.c.name, schema.sources.c.content)
            .join(schema.sources, schema.sources.c.id == latest.c.source_id)
            .order_by(latest.c.id)
        )
        if patient_ids:
            query = query.where(latest.c.patient_id.in_(patient_ids))
        with self.engine.begin() as connection:
            rows = connection.execute(query).all()
        return [StoredRecord(r.patient_id, r.name, r.content, _utc(r.added_at)) for r in rows]

    def patient_ids(self) -> list[str]:
        """Every patient on the work-list, in the order they were first added."""
        query = select(schema.records.c.patient_id).group_by(schema.records.c.patient_id)
        with self.engine.begin() as connection:
            firsts = connection.execute(query.add_columns(func.min(schema.records.c.id))).all()
        return [row[0] for row in sorted(firsts, key=lambda r: r[1])]

    # screenings

    def add_screenings(self, rows: Sequence[ScreeningRow]) -> None:
        """Append screenings (one per pair screened)."""
        values = [
            {
                "patient_id": r.patient_id,
                "trial_id": r.trial_id,
                "as_of": r.as_of,
                "screened_at": r.screened_at,
                "verdict": r.verdict,
                "rules_version": r.rules_version,
                "outcome": r.outcome.model_dump_json(),
                "change": r.change,
            }
            for r in rows
        ]
        if values:
            with self.engine.begin() as connection:
                connection.execute(insert(schema.screenings), values)

    def latest_screenings(self, patient_id: str | None = None) -> dict[tuple[str, str], ScreeningRow]:
        """The latest screening of every pair (or of one patient's pairs)."""
        query = _latest(schema.screenings, "patient_id", "trial_id")
        if patient_id is not None:
            query = query.where(schema.screenings.c.patient_id == patient_id)
        with self.engine.begin() as connection:
            rows = [_screening(r) for r in connection.execute(query).mappings()]
        return {(r.patient_id, r.trial_id): r for r in rows}

    def screening_history(self, patient_id: str, trial_id: str) -> list[ScreeningRow]:
        """Every screening of one pair, oldest first."""
        table = schema.screenings
        query = select(table).where(table.c.patient_id == patient_id, table.c.trial_id == trial_id)
        with self.engine.begin() as connection:
            return [_screening(r) for r in connection.execute(query.order_by(table.c.id)).mappings()]

    # statuses and answers

    def set_status(
        self, patient_id: str, trial_id: str, status: PairStatus, *, by: str, note: str | None
    ) -> StatusEvent:
        """Append a status for a pair."""
        event = StatusEvent(patient_id=patient_id, trial_id=trial_id, status=status, by=by, at=now(), note=note)
        with self.engine.begin() as connection:
            connection.execute(insert(schema.statuses).values(event.model_dump(mode="python")))
        return event

    def add_answers(self, events: Sequence[AnswerEvent]) -> None:
        """Append site answers, all in one transaction (a form with several answers saves all or none)."""
        if events:
            with self.engine.begin() as connection:
                connection.execute(insert(schema.answers), [e.model_dump(mode="python") for e in events])

    def status_history(self, patient_id: str | None = None, trial_id: str | None = None) -> list[StatusEvent]:
        """Status rows, oldest first (all, or one patient's, or one pair's)."""
        return [StatusEvent.model_validate(r) for r in self._events(schema.statuses, patient_id, trial_id)]

    def answer_history(self, patient_id: str | None = None, trial_id: str | None = None) -> list[AnswerEvent]:
        """Answer rows, oldest first (all, or one patient's, or one pair's)."""
        return [AnswerEvent.model_validate(r) for r in self._events(schema.answers, patient_id, trial_id)]

    def _events(self, table: Any, patient_id: str | None, trial_id: str | None) -> list[dict[str, Any]]:
        query = select(table).order_by(table.c.id)
        if patient_id is not None:
            query = query.where(table.c.patient_id == patient_id)
        if trial_id is not None:
            query = query.where(table.c.trial_id == trial_id)
        with self.engine.begin() as connection:
            return [_event_fields(dict(r)) for r in connection.execute(query).mappings()]

    def current_answers(self, patient_id: str | None = None) -> list[AnswerEvent]:
        """The latest answer to each criterion of each pair."""
        latest: dict[tuple[str, str, str], AnswerEvent] = {}
        for event in self.answer_history(patient_id):
            latest[(event.patient_id, event.trial_id, event.criterion_id)] = event
        return list(latest.values())

    def site_answers(self, patient_id: str | None = None) -> SiteAnswers:
        """The current answers in the form screening reads (each bound to its patient)."""
        return SiteAnswers(answers=tuple(as_site_answer(e) for e in self.current_answers(patient_id)))

    def current_statuses(self) -> dict[tuple[str, str], StatusEvent]:
        """The latest status of every pair that was given one."""
        with self.engine.begin() as connection:
            rows = connection.execute(_latest(schema.statuses, "patient_id", "trial_id")).mappings().all()
        events = [
            StatusEvent.model_validate({k: v for k, v in r.items() if k != "id"} | {"at": _utc(r["at"])}) for r in rows
        ]
        return {(e.patient_id, e.trial_id): e for e in events}

    def pairs(self, patient_id: str | None = None) -> list[Pair]:
        """Every pair with its latest screening and status, in the order the pairs were first screened."""
        statuses = self.current_statuses()
        screenings = self.latest_screenings(patient_id)
        return [Pair(screening=s, status=statuses.get(key)) for key, s in screenings.items()]


def as_site_answer(event: AnswerEvent) -> SiteAnswer:
    """A stored answer as a screening reads it: who, on which day, and the note."""
    return SiteAnswer(
        trial_id=event.trial_id,
        criterion_id=event.criterion_id,
        status=event.status,
        by=event.by,
        date=event.at.date(),
        note=event.note,
        patient_id=event.patient_id,
    )


def _event_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A status or answer row as its model's fields (the row id dropped, the time in UTC)."""
    return {k: (_utc(v) if k == "at" else v) for k, v in row.items() if k != "id"}


def _screening(row: Any) -> ScreeningRow:
    return ScreeningRow(
        patient_id=row["patient_id"],
        trial_id=row["trial_id"],
        as_of=row["as_of"],
        screened_at=_utc(row["screened_at"]),
        verdict=row["verdict"],
        rules_version=row["rules_version"],
        outcome=TrialOutcome.model_validate_json(row["outcome"]),
        change=row["change"],
    )


def answer_event(
    patient_id: str, trial_id: str, criterion_id: str, status: Status, *, by: str, note: str | None
) -> AnswerEvent:
    """A new answer, stamped now."""
    return AnswerEvent(
        patient_id=patient_id,
        trial_id=trial_id,
        criterion_id=criterion_id,
        status=status,
        by=by,
        at=now(),
        note=note,
    )
