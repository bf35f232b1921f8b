"""What the API and the web page share: reading an uploaded bundle, choosing trials, screening, auditing.

An upload is written to a private temporary folder and read with the same reader the command line uses
(then deleted), so the service gives exactly the JSON ``trialmatch screen --format json`` gives.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from trialmatch.api.problems import Problem
from trialmatch.audit import AuditLog
from trialmatch.engine.answers import SiteAnswers, answers_from
from trialmatch.engine.outcome import ScreeningOutcome
from trialmatch.engine.ranking import select_trials
from trialmatch.engine.screening import screen_patient
from trialmatch.errors import InputError, LibraryError, RuleError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.rules.catalog import TrialRules, bind, library_rules_dir
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.library import TrialLibrary
from trialmatch.trials.model import Trial

PatientFormat = Literal["fhir-json", "ndjson"]
log = logging.getLogger("trialmatch.api")
DEFAULT_MAX_BODY = 10 * 1024 * 1024
_UPLOAD_NAMES = {"fhir-json": "request-body.json", "ndjson": "request-body.ndjson"}


@dataclass(frozen=True)
class Settings:
    """How one server runs: its token, trial library, audit database and body limit."""

    token: str
    library_root: Path
    audit_db: Path
    max_body: int = DEFAULT_MAX_BODY
    worklist_url: str | None = None


@dataclass(frozen=True)
class Screening:
    """The outcomes of one request, and the problems no patient owns (e.g. an unlinked resource)."""

    outcomes: list[ScreeningOutcome]
    unowned: list[InputProblem]


def _scrub(message: str, folder: str) -> str:
    """An error message about the temporary copy, told as being about the request body."""
    return (
        message.replace(folder + "/", "")
        .replace("request-body.json", "request body")
        .replace("request-body.ndjson", "request body")
    )


def read_upload(body: bytes, kind: PatientFormat) -> tuple[list[PatientRecord], list[InputProblem]]:
    """The patients in an uploaded FHIR JSON or NDJSON body; a body no reader accepts is a 422 problem."""
    unowned: list[InputProblem] = []
    with tempfile.TemporaryDirectory(prefix="trialmatch-upload-") as folder:
        path = Path(folder) / _UPLOAD_NAMES[kind]
        path.write_bytes(body)
        try:
            records = list(read_patients(path, problems=unowned))
        except InputError as exc:
            raise Problem(422, _scrub(str(exc), folder), slug="unreadable-patient-data") from exc
    if not records:
        detail = "no patient found in the request body: send a FHIR Bundle (or NDJSON) with a Patient resource"
        raise Problem(422, detail, slug="no-patient")
    return records, unowned


def parse_answers(entries: object) -> SiteAnswers:
    """Site answers from a JSON list; a bad entry is a 422 naming it and the fields to check."""
    try:
        return answers_from(entries)
    except InputError as exc:
        raise Problem(422, f"'answers': {exc}", slug="invalid-answers") from exc


def split_envelope(body: bytes) -> tuple[bytes, SiteAnswers]:
    """A JSON body is a FHIR resource, or ``{"bundle": <FHIR Bundle>, "answers": [...]}``."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise Problem(422, f"the request body is not valid JSON{where}", slug="malformed-json") from exc
    if not isinstance(data, dict) or "bundle" not in data or "resourceType" in data:
        return body, SiteAnswers()
    unknown = set(data) - {"bundle", "answers"}
    if unknown:
        raise Problem(422, f"unexpected keys in the envelope: {', '.join(sorted(unknown))}", slug="invalid-envelope")
    return json.dumps(data["bundle"]).encode(), parse_answers(data.get("answers", []))


@cache
def _audit_log(path: Path) -> AuditLog:
    return AuditLog(path)


def library(settings: Settings) -> TrialLibrary:
    """The server's trial library, with the bundled trials; its changes go to the server's audit log."""
    return TrialLibrary(settings.library_root, audit=_audit_log(settings.audit_db))


def find_trial(settings: Settings, trial_id: str) -> Trial:
    """The library trial with this id or alias; 404 when there is none."""
    try:
        return library(settings).get(trial_id)
    except LibraryError as exc:
        raise Problem(
            404, f"no trial {trial_id!r} in this server's library; GET /trials lists them", slug="unknown-trial"
        ) from exc


def bound_trials(
    settings: Settings, trial_ids: Sequence[str] = (), *, recruiting_only: bool = False, country: str | None = None
) -> list[TrialRules]:
    """The trials named (ids or aliases only, never paths), or the whole library; each bound to its rules."""
    trials = [find_trial(settings, t) for t in trial_ids] if trial_ids else library(settings).load_all()
    trials = select_trials(
        list({t.trial_id: t for t in trials}.values()), recruiting_only=recruiting_only, country=country
    )
    if not trials:
        raise Problem(422, "no trial left to screen against after the filters", slug="no-trials")
    try:
        return [bind(t, [library_rules_dir(settings.library_root)]) for t in trials]
    except RuleError as exc:
        raise Problem(500, f"a rule file in the library is invalid: {exc}", slug="invalid-rules") from exc


def parse_as_of(value: str | None) -> dt.date:
    """The screening date (default today); a malformed one is a 422."""
    try:
        return dt.date.fromisoformat(value) if value else dt.date.today()
    except ValueError as exc:
        raise Problem(422, "as_of must be a date as YYYY-MM-DD", slug="invalid-as-of") from exc


def screen(
    records: Sequence[PatientRecord], trials: Sequence[TrialRules], as_of: dt.date, answers: SiteAnswers
) -> list[ScreeningOutcome]:
    """Each patient against each trial, as the command line screens them."""
    concepts = default_library().version
    return [screen_patient(r, trials, as_of, answers, concepts_version=concepts) for r in records]


def audit(audit_log: AuditLog, outcomes: Sequence[ScreeningOutcome], *, actor: str, request_id: str) -> None:
    """Append to the audit log and log one line per patient: hashed id, trials and verdicts, nothing else."""
    audit_log.record(outcomes, actor=actor, request_id=request_id)
    for outcome in outcomes:
        verdicts = ", ".join(f"{t.trial_id}={t.verdict}" for t in outcome.trials)
        log.info("screening %s patient %s: %s", request_id, audit_log.patient_hash(outcome.patient_id), verdicts)


def example_patients() -> dict[str, Path]:
    """The bundled example patients (FHIR bundles), by file stem."""
    folder = Path(str(resources.files("trialmatch") / "data" / "patients" / "examples"))
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.json"))}
