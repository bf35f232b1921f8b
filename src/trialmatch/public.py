"""The Python API, for notebooks and pipelines: read patients, load trials, screen, get tables.

Everything here is what the command line uses too::

    import trialmatch

    patients = trialmatch.read_patients("bundle.json")
    trials = trialmatch.load_trials()                  # the library, bundled trials included
    results = trialmatch.screen(patients, trials, as_of="2026-11-21")
    results.to_pandas()                                # one row per patient × trial
    results.criteria_table()                           # one row per criterion (Arrow)

Errors are :class:`trialmatch.errors.TrialmatchError` subclasses whose messages never hold a patient value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trialmatch.engine.answers import SiteAnswers, load_answers
from trialmatch.engine.outcome import ScreeningOutcome, TrialOutcome
from trialmatch.engine.screening import screen_patient, walk
from trialmatch.errors import InputError, LibraryError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients as _read_patients
from trialmatch.reports.deciding import first_deciding
from trialmatch.rules.catalog import TrialRules
from trialmatch.terminology.concepts import ConceptLibrary, default_library

if TYPE_CHECKING:
    import pandas

    from trialmatch.worklist.service import Worklist

PathLike = str | Path


def concepts(local_map: PathLike | None = None) -> ConceptLibrary:
    """The concept library, with a site's local code mapping (CSV) when given."""
    library = default_library()
    return library.with_local_map(Path(local_map)) if local_map else library


def read_patients(
    path: PathLike, *, local_map: PathLike | None = None, problems: list[InputProblem] | None = None
) -> list[PatientRecord]:
    """Every patient in a FHIR JSON file, an NDJSON file or folder, or a patient CSV.

    Problems of a patient are in its record's ``problems``; those no patient owns are appended to ``problems``.
    An unreadable file raises :class:`~trialmatch.errors.InputError`.
    """
    return list(_read_patients(Path(path), library=concepts(local_map), problems=problems))


def load_trials(ids: Iterable[str] = (), *, library: PathLike | None = None, bundled: bool = True) -> list[TrialRules]:
    """The trials named (ids, aliases, record files or folders), or the whole library; each with its rules.

    Raises :class:`~trialmatch.errors.LibraryError` listing every trial that could not be used.
    """
    from trialmatch.commands.trial_selection import select

    bound, errors = select(list(ids), Path(library) if library else None, no_bundled=not bundled)
    if errors:
        raise LibraryError("; ".join(errors))
    return bound


def _date(value: dt.date | str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"as_of must be a date as YYYY-MM-DD, not {value!r}") from exc


def _answers(answers: SiteAnswers | PathLike | None) -> SiteAnswers:
    if answers is None:
        return SiteAnswers()
    return answers if isinstance(answers, SiteAnswers) else load_answers(Path(answers))


_TRIAL_COLUMNS = pa.schema(
    [
        ("patient_id", pa.string()),
        ("trial_id", pa.string()),
        ("title", pa.string()),
        ("verdict", pa.string()),
        ("deciding", pa.string()),
        ("failed", pa.list_(pa.string())),
        ("missing", pa.list_(pa.string())),
        ("needs_review", pa.list_(pa.string())),
        ("eligible_from", pa.date32()),
        ("valid_until", pa.date32()),
        ("recruitment_status", pa.string()),
        ("rules_version", pa.string()),
        ("rests_on_drafts", pa.bool_()),
        ("as_of", pa.date32()),
    ]
)
_CRITERION_COLUMNS = pa.schema(
    [
        ("patient_id", pa.string()),
        ("trial_id", pa.string()),
        ("criterion_id", pa.string()),
        ("type", pa.string()),
        ("status", pa.string()),
        ("text", pa.string()),
        ("reason", pa.string()),
        ("answered_by", pa.string()),
        ("changes_on", pa.date32()),
    ]
)


def trial_row(patient_id: str, as_of: dt.date, t: TrialOutcome) -> dict[str, Any]:
    """One patient × trial as a flat row (the columns of :meth:`Results.to_arrow`)."""
    return {
        "patient_id": patient_id,
        "trial_id": t.trial_id,
        "title": t.title,
        "verdict": t.verdict,
        "deciding": first_deciding(t),
        "failed": list(t.failed),
        "missing": list(t.missing),
        "needs_review": list(t.needs_review),
        "eligible_from": t.eligible_from,
        "valid_until": t.valid_until,
        "recruitment_status": t.recruitment_status,
        "rules_version": t.rules_version,
        "rests_on_drafts": t.rests_on_drafts,
        "as_of": as_of,
    }


@dataclass(frozen=True)
class Results:
    """Screening outcomes, one per patient, as objects and as tables."""

    outcomes: tuple[ScreeningOutcome, ...]
    problems: tuple[InputProblem, ...] = field(default=())

    def __iter__(self) -> Iterator[ScreeningOutcome]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def __getitem__(self, patient_id: str) -> ScreeningOutcome:
        """The outcome of the patient with this id (KeyError when none was screened)."""
        for outcome in self.outcomes:
            if outcome.patient_id == patient_id:
                return outcome
        raise KeyError(patient_id)

    def to_arrow(self) -> pa.Table:
        """One row per patient × trial: verdict, the first deciding criterion in words, dates, versions."""
        rows = [trial_row(o.patient_id, o.as_of, t) for o in self.outcomes for t in o.trials]
        return pa.Table.from_pylist(rows, schema=_TRIAL_COLUMNS)

    def to_pandas(self) -> pandas.DataFrame:
        """:meth:`to_arrow` as a pandas DataFrame."""
        return self.to_arrow().to_pandas()

    def criteria_table(self) -> pa.Table:
        """One row per criterion, sub-item and part of every patient × trial, with its status and reason."""
        rows = [
            {
                "patient_id": o.patient_id,
                "trial_id": t.trial_id,
                "criterion_id": c.id,
                "type": c.type,
                "status": c.status.value,
                "text": c.text,
                "reason": c.reason,
                "answered_by": c.answered_by,
                "changes_on": c.changes_on,
            }
            for o in self.outcomes
            for t in o.trials
            for top in t.criteria
            for c in walk(top)
        ]
        return pa.Table.from_pylist(rows, schema=_CRITERION_COLUMNS)

    def to_json(self) -> list[dict[str, Any]]:
        """The JSON documents ``trialmatch screen --format json`` prints (``screening-result`` schema)."""
        return [o.to_json_dict() for o in self.outcomes]


def screen(
    patients: Sequence[PatientRecord] | PatientRecord,
    trials: Sequence[TrialRules] | None = None,
    *,
    as_of: dt.date | str | None = None,
    answers: SiteAnswers | PathLike | None = None,
    concept_library: ConceptLibrary | None = None,
) -> Results:
    """Screen each patient against each trial (default: the whole library) at ``as_of`` (default today).

    ``concept_library`` is the one the patients were read with (:func:`concepts`), when not the default: its
    version goes into every result.
    """
    records = [patients] if isinstance(patients, PatientRecord) else list(patients)
    bound = load_trials() if trials is None else list(trials)
    date, given = _date(as_of), _answers(answers)
    version = (concept_library or default_library()).version
    outcomes = tuple(screen_patient(r, bound, date, given, concepts_version=version) for r in records)
    return Results(outcomes=outcomes, problems=tuple(p for r in records for p in r.problems))


def open_worklist(url: str | None = None, *, library: PathLike | None = None) -> Worklist:
    """The coordinator's work-list: SQLite in the user's data directory unless ``url`` names another database."""
    from trialmatch.worklist.service import Worklist

    return Worklist.open(url, library=Path(library) if library else None)
