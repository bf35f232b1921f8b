"""``trialmatch screen``: every patient given against every trial selected, as a table, JSON or HTML pages.

Patients are read, screened and written one at a time, so memory does not grow with their number; a file
written with ``--out`` appears under its name only when complete (:mod:`trialmatch.atomic`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trialmatch import public
from trialmatch.atomic import replacing
from trialmatch.commands.dates import as_of_date
from trialmatch.commands.exit_codes import ExitCode
from trialmatch.commands.progress import progress_bar
from trialmatch.commands.trial_selection import select
from trialmatch.engine.answers import SiteAnswers, load_answers
from trialmatch.engine.outcome import ScreeningOutcome
from trialmatch.engine.ranking import select_trials
from trialmatch.engine.screening import walk
from trialmatch.errors import InputError, TrialmatchError
from trialmatch.identifiers import printable
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.reports.html import ReportWriter
from trialmatch.reports.terminal import print_report
from trialmatch.rules.catalog import TrialRules
from trialmatch.terminology.concepts import ConceptLibrary

FORMATS = ("table", "json", "html")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(ExitCode.NOTHING_DONE)


@dataclass
class _Reading:
    """What reading the inputs met: patients read, and whether any file or record was rejected."""

    patients: int = 0
    rejected: bool = False


def _records(paths: list[Path], concepts: ConceptLibrary, reading: _Reading) -> Iterator[PatientRecord]:
    """Every patient of every input, one at a time; a line on stderr per unusable file or record (error or
    warning) as they are met, and per file the entries kept or set aside without doubt, counted by kind (notes:
    a resource type screening does not use, a code no concept names); notes do not make the exit status."""
    for path in paths:
        unowned: list[InputProblem] = []
        set_aside: Counter[str] = Counter()
        try:
            for record in read_patients(path, library=concepts, problems=unowned):
                _tell(path, f"patient {printable(record.patient_id)}: ", record.problems, reading, set_aside)
                reading.patients += 1
                yield record
        except InputError as exc:
            typer.echo(f"error: {printable(str(exc))}", err=True)
            reading.rejected = True
            continue
        _tell(path, "", unowned, reading, set_aside)
        for what, n in sorted(set_aside.items(), key=lambda item: -item[1]):
            typer.echo(printable(f"note: {path}: {n} × {what}"), err=True)


def _tell(path: Path, who: str, problems: Iterable[InputProblem], reading: _Reading, set_aside: Counter[str]) -> None:
    for p in problems:
        if p.severity == "note":
            set_aside[f"{p.problem} ({p.action})"] += 1
            continue
        reading.rejected = True
        typer.echo(printable(f"{p.severity}: {path}: {who}{p.source or '—'}: {p.problem} ({p.action})"), err=True)


def _screened(outcome: ScreeningOutcome) -> set[tuple[str, str, str]]:
    """(patient, trial, criterion) of every criterion screened for a patient, to check the answers against."""
    return {
        (outcome.patient_id, t.trial_id.casefold(), c.id)
        for t in outcome.trials
        for top in t.criteria
        for c in walk(top)
    }


def _unmatched(answers: SiteAnswers, screened: set[tuple[str, str, str]], everyone: set[str]) -> list[str]:
    """Answers that name no trial, criterion or patient screened: a typo there must not pass unnoticed."""
    messages = []
    for a in answers.answers:
        candidates = {a.patient_id} if a.patient_id else everyone
        if not any((p, a.trial_id.casefold(), a.criterion_id) in screened for p in candidates):
            who = f" (patient {a.patient_id})" if a.patient_id else ""
            messages.append(
                f"warning: answer for {a.trial_id} {a.criterion_id}{who} matches nothing screened; not used"
            )
    return messages


def _filter(bound: list[TrialRules], recruiting_only: bool, country: str | None) -> list[TrialRules]:
    kept = {
        t.trial_id for t in select_trials([b.trial for b in bound], recruiting_only=recruiting_only, country=country)
    }
    return [b for b in bound if b.trial.trial_id in kept]


class _JsonArray:
    """The JSON output, streamed: one patient is an object, several an array (as ``json.dumps(..., indent=2)``
    would print them), each written as soon as it is screened."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self.write = write
        self._first: str | None = None
        self._count = 0

    def add(self, outcome: ScreeningOutcome) -> None:
        text = json.dumps(outcome.to_json_dict(), ensure_ascii=False, indent=2)
        self._count += 1
        if self._count == 1:
            self._first = text
            return
        if self._count == 2:
            self.write("[\n" + _indented(self._first or ""))
        self.write(",\n" + _indented(text))

    def finish(self) -> None:
        if self._count == 1:
            self.write((self._first or "") + "\n")
        elif self._count > 1:
            self.write("\n]\n")


def _indented(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


@contextmanager
def _output(output_format: str, out: Path | None) -> Iterator[Callable[[ScreeningOutcome], None]]:
    """Where outcomes go, one at a time: the terminal, JSON (stdout or a file renamed into place when
    complete) or HTML pages; an output that cannot be written is a one-line error, exit 2."""
    try:
        if output_format == "html":
            assert out is not None
            pages = ReportWriter(out)
            yield pages.add
            written = pages.finish()
            typer.echo(f"wrote {len(written)} pages to {out} (open {out / 'index.html'})")
        elif output_format == "json" and out is not None:
            with replacing(out) as handle:
                stream = _JsonArray(handle.write)
                yield stream.add
                stream.finish()
        elif output_format == "json":
            stream = _JsonArray(lambda text: typer.echo(text, nl=False))
            yield stream.add
            stream.finish()
        else:
            console = Console(width=max(Console().width, 120))
            yield lambda outcome: print_report(outcome, console)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}") from exc


def screen(
    patients: Annotated[list[Path], typer.Argument(help="FHIR bundle/resource JSON, NDJSON file or folder, or CSV.")],
    trials: Annotated[
        list[str] | None, typer.Option("--trials", help="Trial id, record file or folder (repeat).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Screening date YYYY-MM-DD (default: today).")] = None,
    answers: Annotated[Path | None, typer.Option("--answers", help="Site answers file (YAML or JSON).")] = None,
    recruiting_only: Annotated[bool, typer.Option("--recruiting-only", help="Only trials open to enrolment.")] = False,
    country: Annotated[str | None, typer.Option("--country", help="Only trials with a site in this country.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or html.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="JSON file, or the folder for HTML pages.")] = None,
    library: Annotated[Path | None, typer.Option("--library", help="Trial library directory.")] = None,
    no_bundled: Annotated[bool, typer.Option("--no-bundled", help="Leave out the bundled trials.")] = False,
    local_map: Annotated[
        Path | None, typer.Option("--map", help="CSV mapping the site's local codes to concepts.")
    ] = None,
) -> None:
    """Screen each patient against the trials: a verdict per trial, with each criterion's reason and evidence."""
    if output_format not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    if output_format == "html" and out is None:
        raise _fail("--format html needs --out DIR")
    date = as_of_date(as_of)
    try:
        site_answers = load_answers(answers) if answers else SiteAnswers()
        concepts = public.concepts(local_map)
    except TrialmatchError as exc:
        raise _fail(str(exc)) from exc
    bound, trial_errors = select(trials or [], library, no_bundled=no_bundled)
    bound = _filter(bound, recruiting_only, country)
    for message in trial_errors:
        typer.echo(f"error: {message}", err=True)
    reading = _Reading()
    records = _records(patients, concepts, reading)
    if not bound:
        for _ in records:  # their problems are still reported
            pass
        raise _fail("no patients to screen" if not reading.patients else "no trials to screen against")
    screened: set[tuple[str, str, str]] = set()
    everyone: set[str] = set()
    with _output(output_format, out) as emit, progress_bar() as bar:
        task = bar.add_task(f"screening against {len(bound)} trials", total=None, unit="patients")
        for record in records:
            [outcome] = public.screen(
                record, bound, as_of=date, answers=site_answers, concept_library=concepts
            ).outcomes
            emit(outcome)
            bar.advance(task)
            if site_answers.answers:
                screened |= _screened(outcome)
                everyone.add(outcome.patient_id)
        if not reading.patients:
            raise _fail("no patients to screen")
    unused_answers = _unmatched(site_answers, screened, everyone)
    for message in unused_answers:
        typer.echo(message, err=True)
    if trial_errors or reading.rejected or unused_answers:
        raise typer.Exit(ExitCode.SOME_REJECTED)
