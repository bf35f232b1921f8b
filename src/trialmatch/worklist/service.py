"""The work-list's operations, shared by the command line, the web page and the Python API.

Adding a patient keeps the file as received and screens the patient against the library's trials; recording
a status or an answer appends it; re-screening reads each patient's stored record again, applies the current
rules and answers at the as-of date, and appends a screening for every pair whose outcome changed, noting why
when its verdict changed.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, ScreeningOutcome, TrialOutcome
from trialmatch.engine.screening import screen_patient, walk
from trialmatch.errors import InputError, WorklistError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.public import concepts, load_trials, read_patients
from trialmatch.rules.catalog import TrialRules
from trialmatch.worklist.changes import verdict_change
from trialmatch.worklist.model import Change, Pair, PairStatus, ScreeningRow, StatusEvent
from trialmatch.worklist.store import StoredRecord, WorklistStore, answer_event, now

TrialSource = Callable[[], Sequence[TrialRules]]


@dataclass
class Added:
    """What ``add`` did: the patients added, and a message for each file or record it could not use."""

    patient_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcomes: list[ScreeningOutcome] = field(default_factory=list)


@dataclass
class Rescreened:
    """What ``rescreen`` did: how many pairs it screened, the verdicts that changed, what it could not read."""

    screened: int = 0
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcomes: list[ScreeningOutcome] = field(default_factory=list)

    def summary(self) -> str:
        """The last line ``worklist rescreen`` prints."""
        return f"{self.screened} pairs re-screened, {len(self.changes)} verdicts changed, {len(self.errors)} errors"


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name).lstrip(".") or "patient.json"


def read_content(name: str, content: bytes) -> tuple[list[PatientRecord], list[InputProblem]]:
    """The patients in a file's content, read through a private temporary copy (readers take paths)."""
    unowned: list[InputProblem] = []
    with tempfile.TemporaryDirectory(prefix="trialmatch-worklist-") as folder:
        path = Path(folder) / _safe_name(name)
        path.write_bytes(content)
        try:
            records = read_patients(path, problems=unowned)
        except InputError as exc:
            raise InputError(str(exc).replace(folder + "/", "")) from exc
    return records, unowned


class Worklist:
    """The work-list: a store, and where the trials come from (re-read at each screening: rules may change)."""

    def __init__(self, store: WorklistStore, trials: TrialSource) -> None:
        self.store = store
        self._trials = trials

    @classmethod
    def open(cls, url: str | None = None, *, library: Path | None = None) -> Worklist:
        """The work-list at ``url`` (default: the SQLite file beside the trial library), screening against the
        library's trials."""
        return cls(WorklistStore(url, home=library), lambda: load_trials(library=library))

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    # patients

    def add_file(self, path: Path, *, as_of: dt.date, by: str) -> Added:
        """Add the patients of one file and screen them."""
        try:
            content = path.read_bytes()
        except OSError as exc:
            return Added(errors=[f"{path}: cannot be read ({exc.strerror or exc})"])
        return self.add_content(path.name, content, as_of=as_of, by=by)

    def add_content(self, name: str, content: bytes, *, as_of: dt.date, by: str) -> Added:
        """Add the patients of one file's content (as uploaded) and screen them."""
        try:
            records, _ = read_content(name, content)
        except InputError as exc:
            return Added(errors=[str(exc)])
        if not records:
            return Added(errors=[f"{name}: no patient found in this file"])
        ids = [r.patient_id for r in records]
        self.store.add_file(name, content, ids, by=by)
        result = self._screen_records(records, as_of)
        return Added(patient_ids=ids, outcomes=result.outcomes)

    def records(self, patient_ids: Sequence[str] = ()) -> tuple[list[PatientRecord], list[str]]:
        """The current records of the patients (all, or those named), read again from the stored files."""
        wanted = set(patient_ids)
        found: list[PatientRecord] = []
        errors: list[str] = []
        stored = self.store.records(patient_ids)
        by_file: dict[tuple[str, bytes], list[StoredRecord]] = {}
        for item in stored:
            by_file.setdefault((item.name, item.content), []).append(item)
        for (name, content), items in by_file.items():
            ids = {i.patient_id for i in items} & (wanted or {i.patient_id for i in items})
            try:
                records, _ = read_content(name, content)
            except InputError as exc:
                errors.append(f"{name}: the stored record can no longer be read: {exc}")
                continue
            found.extend(r for r in records if r.patient_id in ids)
        return found, errors

    # screening

    def rescreen(self, as_of: dt.date, patient_ids: Sequence[str] = ()) -> Rescreened:
        """Screen every open pair again (of all patients, or those named) with current data, rules and answers."""
        records, errors = self.records(patient_ids)
        result = self._screen_records(records, as_of)
        result.errors = errors + result.errors
        return result

    def _screen_records(self, records: Sequence[PatientRecord], as_of: dt.date) -> Rescreened:
        trials = list(self._trials())
        statuses = self.store.current_statuses()
        result = Rescreened()
        rows: list[ScreeningRow] = []
        version = concepts().version
        for record in records:
            latest = self.store.latest_screenings(record.patient_id)
            open_trials = [b for b in trials if _is_open(statuses.get((record.patient_id, b.trial.trial_id)))]
            answers = self.store.site_answers(record.patient_id)
            outcome = screen_patient(record, open_trials, as_of, answers, concepts_version=version)
            result.outcomes.append(outcome)
            for trial in outcome.trials:
                previous = latest.get((record.patient_id, trial.trial_id))
                result.screened += 1
                row = _row(record.patient_id, trial, as_of, previous)
                if row is None:
                    continue
                rows.append(row)
                if row.change:
                    result.changes.append(
                        Change(
                            patient_id=row.patient_id,
                            trial_id=row.trial_id,
                            old=previous.verdict if previous else None,
                            new=row.verdict,
                            why=row.change,
                        )
                    )
        self.store.add_screenings(rows)
        return result

    # statuses and answers

    def set_status(
        self, patient_id: str, trial_id: str, status: PairStatus, *, by: str, note: str | None = None
    ) -> StatusEvent:
        """Record a pair's status (the pair must be on the work-list)."""
        self._require_pair(patient_id, trial_id)
        return self.store.set_status(patient_id, trial_id, status, by=by, note=note)

    def answer(
        self,
        patient_id: str,
        answers: Sequence[tuple[str, str, Status, str | None]],
        *,
        by: str,
    ) -> Rescreened:
        """Record site answers ``(trial, criterion, status, note)`` for one patient, then re-screen the patient
        at the as-of date of its latest screening (an answer does not move the screening date)."""
        latest = self.store.latest_screenings(patient_id)
        events = []
        for trial_id, criterion_id, status, note in answers:
            pair = self._require_pair(patient_id, trial_id)
            if not any(c.id == criterion_id for c in _all_criteria(pair.screening.outcome)):
                raise WorklistError(f"trial {trial_id} has no criterion {criterion_id}")
            events.append(answer_event(patient_id, trial_id, criterion_id, status, by=by, note=note))
        self.store.add_answers(events)
        as_of = max((s.as_of for s in latest.values()), default=dt.date.today())
        return self.rescreen(as_of, [patient_id])

    def _trial_ids(self, name: str) -> set[str]:
        """The ids (casefolded) of the library trials that ``name`` names: by id, alias or acronym."""
        wanted = name.casefold()
        found = {name.casefold()}
        for bound in self._trials():
            trial = bound.trial
            if wanted in {n.casefold() for n in (trial.trial_id, *trial.aliases, trial.acronym or "")}:
                found.add(trial.trial_id.casefold())
        return found

    def _require_pair(self, patient_id: str, trial_id: str) -> Pair:
        for pair in self.store.pairs(patient_id):
            if pair.trial_id.casefold() == trial_id.casefold():
                return pair
        raise WorklistError(f"no pair of patient {patient_id} and trial {trial_id} on the work-list")

    # reading

    def pairs(
        self,
        *,
        trial: str | None = None,
        status: PairStatus | None = None,
        changed: bool = False,
        patient: str | None = None,
    ) -> list[Pair]:
        """The pairs on the work-list, filtered by trial, status, patient or a changed verdict."""
        out = []
        trial_ids = self._trial_ids(trial) if trial else None
        for pair in self.store.pairs(patient):
            if trial_ids is not None and pair.trial_id.casefold() not in trial_ids:
                continue
            if status and pair.current_status is not status:
                continue
            if changed and not pair.screening.change:
                continue
            out.append(pair)
        return out


def _is_open(status: StatusEvent | None) -> bool:
    return status is None or status.status.is_open


def _all_criteria(trial: TrialOutcome) -> list[CriterionOutcome]:
    return [c for top in trial.criteria for c in walk(top)]


def _row(patient_id: str, trial: TrialOutcome, as_of: dt.date, previous: ScreeningRow | None) -> ScreeningRow | None:
    """The screening to append, or None when the outcome is the same as the pair's latest (nothing to record)."""
    if previous is not None and previous.outcome == trial:
        return None
    return ScreeningRow(
        patient_id=patient_id,
        trial_id=trial.trial_id,
        as_of=as_of,
        screened_at=now(),
        verdict=trial.verdict,
        rules_version=trial.rules_version,
        outcome=trial,
        change=verdict_change(previous.outcome if previous else None, trial, as_of),
    )
