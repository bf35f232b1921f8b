"""Site answers: what a person at the site confirmed for review and unknown criteria (``--answers FILE``).

The file is YAML or JSON: a list of answers (or ``{"answers": [...]}``), each naming the trial, the criterion or
part, the status the site gives, who answered and when, and an optional note. Answers settle review and unknown
criteria; they never silently override what the records computed (the reason says when they disagree).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from trialmatch.engine.logic import Status
from trialmatch.errors import InputError


class SiteAnswer(BaseModel):
    """One answer from the site for one criterion (or part) of one trial."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trial_id: str
    criterion_id: str
    status: Status
    by: str
    date: dt.date | None = None
    note: str | None = None
    patient_id: str | None = None

    @property
    def answered_by(self) -> str:
        """Who answered and when, as reports show it."""
        return f"{self.by} on {self.date.isoformat()}" if self.date else self.by


class SiteAnswers(BaseModel):
    """All answers from one file, looked up by patient, trial and criterion."""

    model_config = ConfigDict(frozen=True)

    answers: tuple[SiteAnswer, ...] = ()

    def lookup(self, patient_id: str, trial_id: str, criterion_id: str) -> SiteAnswer | None:
        """The answer for this criterion, preferring one given for this patient over a general one."""
        found = None
        for answer in self.answers:
            if answer.trial_id.casefold() != trial_id.casefold() or answer.criterion_id != criterion_id:
                continue
            if answer.patient_id == patient_id:
                return answer
            if answer.patient_id is None:
                found = answer
        return found


def answers_from(entries: object) -> SiteAnswers:
    """Answers from a parsed list; InputError names the first bad entry and its fields, never their values."""
    if not isinstance(entries, list):
        raise InputError("expected a list of answers (or a mapping with an 'answers' list)")
    answers = []
    for number, entry in enumerate(entries, start=1):
        try:
            answers.append(SiteAnswer.model_validate(entry))
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "entry" for e in exc.errors())
            raise InputError(f"answer {number} is invalid (check: {fields})") from exc
    return SiteAnswers(answers=tuple(answers))


def load_answers(path: Path) -> SiteAnswers:
    """Read an answers file (YAML or JSON); errors name the file and the entry, never a patient value."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read answers file as UTF-8 text") from exc
    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        data = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    except yaml.YAMLError as exc:
        # The parser's own message quotes the offending line, which may hold a note about the patient.
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}") from exc
    entries = data.get("answers") if isinstance(data, dict) else data
    try:
        return answers_from(entries)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
