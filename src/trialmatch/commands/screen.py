"""``trialmatch screen``: every patient given against every trial selected, as a table, JSON or HTML pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from trialmatch import public
from trialmatch.commands.dates import as_of_date
from trialmatch.commands.exit_codes import ExitCode
from trialmatch.commands.progress import progress_bar
from trialmatch.commands.trial_selection import select
from trialmatch.engine.answers import SiteAnswers, load_answers
from trialmatch.engine.outcome import ScreeningOutcome
from trialmatch.engine.ranking import select_trials
from trialmatch.engine.screening import walk
from trialmatch.errors import InputError, TrialmatchError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.reports.html import write_reports
from trialmatch.reports.terminal import print_report
from trialmatch.rules.catalog import TrialRules
from trialmatch.terminology.concepts import ConceptLibrary

FORMATS = ("table", "json", "html")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(ExitCode.NOTHING_DONE)


def _read_all(paths: list[Path], concepts: ConceptLibrary) -> tuple[list[PatientRecord], list[str], list[str]]:
    """Every patient of every input; a line per unusable file or record (errors) and per entry set aside (notes)."""
    records: list[PatientRecord] = []
    errors: list[str] = []
    notes: list[str] = []
    for path in paths:
        unowned: list[InputProblem] = []
        try:
            read = list(read_patients(path, library=concepts, problems=unowned))
        except InputError as exc:
            errors.append(f"error: {exc}")
            continue
        records.extend(read)
        problems = [("", p) for p in unowned] + [(f"patient {r.patient_id}: ", p) for r in read for p in r.problems]
        for who, p in problems:
            kind, sink = ("note", notes) if p.as_the_record_says else ("warning", errors)
            sink.append(f"{kind}: {path}: {who}{p.source or '—'}: {p.problem} ({p.action})")
    return records, errors, notes


def _unmatched(answers: SiteAnswers, outcomes: list[ScreeningOutcome]) -> list[str]:
    """Answers that name no trial, criterion or patient screened: a typo there must not pass unnoticed."""
    screened = {
        (o.patient_id, t.trial_id.casefold(), c.id)
        for o in outcomes
        for t in o.trials
        for top in t.criteria
        for c in walk(top)
    }
    everyone = {o.patient_id for o in outcomes}
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


def _emit(outcomes: list[ScreeningOutcome], output_format: str, out: Path | None) -> None:
    try:
        _write(outcomes, output_format, out)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}") from exc


def _write(outcomes: list[ScreeningOutcome], output_format: str, out: Path | None) -> None:
    if output_format == "html":
        assert out is not None
        written = write_reports(outcomes, out)
        typer.echo(f"wrote {len(written)} pages to {out} (open {out / 'index.html'})")
        return
    if output_format == "json":
        payload = [o.to_json_dict() for o in outcomes]
        text = json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, indent=2)
        if out:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
        return
    console = Console(width=max(Console().width, 120))
    for outcome in outcomes:
        print_report(outcome, console)


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
    with progress_bar() as bar:
        bar.add_task("reading patients", total=None)
        records, patient_errors, notes = _read_all(patients, concepts)
    for message in [*(f"error: {e}" for e in trial_errors), *patient_errors, *notes]:
        typer.echo(message, err=True)
    if not records or not bound:
        raise _fail("no patients to screen" if not records else "no trials to screen against")
    outcomes: list[ScreeningOutcome] = []
    with progress_bar() as bar:
        task = bar.add_task(f"screening against {len(bound)} trials", total=len(records), unit="patients")
        for record in records:
            screened = public.screen([record], bound, as_of=date, answers=site_answers, concept_library=concepts)
            outcomes.extend(screened)
            bar.advance(task)
    _emit(outcomes, output_format, out)
    unused_answers = _unmatched(site_answers, outcomes)
    for message in unused_answers:
        typer.echo(message, err=True)
    if trial_errors or patient_errors or unused_answers:
        raise typer.Exit(ExitCode.SOME_REJECTED)
