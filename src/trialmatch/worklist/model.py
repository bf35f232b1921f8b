"""The work-list's values: the statuses a pair moves through and the rows read back from the store."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import TrialOutcome, Verdict


class PairStatus(StrEnum):
    """Where a (patient, trial) pair stands in the site's screening work."""

    NEW = "new"
    TO_REVIEW = "to review"
    CONTACTED = "contacted"
    CONSENTING = "consenting"
    SCREEN_FAILED = "screen-failed"
    ENROLLED = "enrolled"
    NOT_PURSUED = "not pursued"

    @property
    def is_open(self) -> bool:
        """Whether the pair is still worked on (re-screening skips closed pairs)."""
        return self not in CLOSED

    @classmethod
    def parse(cls, text: str) -> PairStatus:
        """A status as typed: case, hyphens, underscores and spaces do not matter ("to-review", "Not_pursued")."""
        wanted = _fold(text)
        for status in cls:
            if _fold(status.value) == wanted:
                return status
        raise ValueError(f"unknown status {text!r}; use one of: {', '.join(s.value for s in cls)}")


CLOSED = frozenset({PairStatus.SCREEN_FAILED, PairStatus.ENROLLED, PairStatus.NOT_PURSUED})


def _fold(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


class Row(BaseModel):
    """Base for rows read back from the store: frozen."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StatusEvent(Row):
    """One status given to a pair: who, when, with what note."""

    patient_id: str
    trial_id: str
    status: PairStatus
    by: str
    at: dt.datetime
    note: str | None = None


class AnswerEvent(Row):
    """One site answer to one criterion of a pair."""

    patient_id: str
    trial_id: str
    criterion_id: str
    status: Status
    by: str
    at: dt.datetime
    note: str | None = None


class ScreeningRow(Row):
    """One screening of a pair: the verdict, the whole trial outcome, and what changed since the one before."""

    patient_id: str
    trial_id: str
    as_of: dt.date
    screened_at: dt.datetime
    verdict: Verdict
    rules_version: str | None
    outcome: TrialOutcome
    change: str | None = None


class Pair(Row):
    """A (patient, trial) pair as the work-list shows it: its latest screening and latest status."""

    screening: ScreeningRow
    status: StatusEvent | None = None

    @property
    def patient_id(self) -> str:
        """The patient's id."""
        return self.screening.patient_id

    @property
    def trial_id(self) -> str:
        """The trial's id."""
        return self.screening.trial_id

    @property
    def current_status(self) -> PairStatus:
        """The latest status given, ``new`` when none was."""
        return self.status.status if self.status else PairStatus.NEW

    @property
    def is_open(self) -> bool:
        """Whether the pair is still worked on."""
        return self.current_status.is_open


class Change(Row):
    """A pair whose verdict changed at a re-screening."""

    patient_id: str
    trial_id: str
    old: Verdict | None
    new: Verdict
    why: str

    def line(self) -> str:
        """The one-line summary ``worklist rescreen`` prints."""
        return f"{self.patient_id} {self.trial_id}: {self.old or 'none'} → {self.new} ({self.why})"
