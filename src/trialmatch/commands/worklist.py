"""``trialmatch worklist``: the coordinator's persistent patients × trials list, built on the Python API.

Every command opens the work-list database (``--db URL``, else ``TRIALMATCH_WORKLIST_DB``, else the SQLite file
in the user's data directory) and screens against the trial library (``--library``). Exit codes follow the
command-line contract: 0 done, 1 done but something was rejected, 2 nothing done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from trialmatch.audit import local_actor
from trialmatch.commands.dates import as_of_date
from trialmatch.commands.exit_codes import ExitCode
from trialmatch.engine.logic import Status
from trialmatch.errors import TrialmatchError
from trialmatch.public import open_worklist
from trialmatch.reports.deciding import first_deciding
from trialmatch.worklist import export
from trialmatch.worklist.model import PairStatus
from trialmatch.worklist.service import Worklist

app = typer.Typer(
    help="The coordinator's work-list: patients × trials with statuses and answers.", no_args_is_help=True
)

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $TRIALMATCH_WORKLIST_DB or the user's SQLite file).")
]
LibraryOption = Annotated[Path | None, typer.Option("--library", help="Trial library directory.")]
ByOption = Annotated[str | None, typer.Option("--by", help="Who records this (default: the login account).")]
NoteOption = Annotated[str | None, typer.Option("--note", help="A note kept with the change.")]
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Screening date YYYY-MM-DD (default: today).")]
FORMATS = ("csv", "redcap", "answers")


def _fail(message: object) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(ExitCode.NOTHING_DONE)


@contextmanager
def _opened(db: str | None, library: Path | None) -> Iterator[Worklist]:
    try:
        worklist = open_worklist(db, library=library)
    except TrialmatchError as exc:
        raise _fail(exc) from exc
    try:
        yield worklist
    except TrialmatchError as exc:
        raise _fail(exc) from exc
    finally:
        worklist.close()


def _who(by: str | None) -> str:
    return (by or "").strip() or local_actor()


@app.command("add")
def add(
    patients: Annotated[list[Path], typer.Argument(help="FHIR bundle JSON, NDJSON or patient CSV files.")],
    as_of: AsOfOption = None,
    by: ByOption = None,
    db: DbOption = None,
    library: LibraryOption = None,
) -> None:
    """Add the patients in each file and screen them against the library's trials."""
    date = as_of_date(as_of)
    failed = added = 0
    with _opened(db, library) as worklist:
        for path in patients:
            result = worklist.add_file(path, as_of=date, by=_who(by))
            for message in result.errors:
                typer.echo(f"error: {message}", err=True)
            failed += bool(result.errors)
            added += len(result.patient_ids)
            if result.patient_ids:
                typer.echo(f"{path}: added {', '.join(result.patient_ids)}")
    if failed:
        raise typer.Exit(ExitCode.SOME_REJECTED if added else ExitCode.NOTHING_DONE)


@app.command("rescreen")
def rescreen(as_of: AsOfOption = None, db: DbOption = None, library: LibraryOption = None) -> None:
    """Re-screen every open pair with current data, rules and answers; one line per changed verdict."""
    date = as_of_date(as_of)
    with _opened(db, library) as worklist:
        result = worklist.rescreen(date)
    for change in result.changes:
        typer.echo(change.line())
    for message in result.errors:
        typer.echo(f"error: {message}", err=True)
    typer.echo(result.summary())
    if result.errors:
        raise typer.Exit(ExitCode.SOME_REJECTED)


def _status(text: str) -> PairStatus:
    try:
        return PairStatus.parse(text)
    except ValueError as exc:
        raise _fail(exc) from exc


@app.command("list")
def list_pairs(
    trial: Annotated[str | None, typer.Option("--trial", help="Only this trial (id or alias).")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only pairs with this status.")] = None,
    changed: Annotated[bool, typer.Option("--changed", help="Only pairs whose verdict changed.")] = False,
    db: DbOption = None,
    library: LibraryOption = None,
) -> None:
    """The pairs: patient, trial, verdict, status and the first deciding criterion in words."""
    wanted = _status(status) if status else None
    with _opened(db, library) as worklist:
        pairs = worklist.pairs(trial=trial, status=wanted, changed=changed)
    table = Table("Patient", "Trial", "Verdict", "Status", "Deciding", "Changed")
    for pair in pairs:
        outcome = pair.screening.outcome
        table.add_row(
            pair.patient_id,
            pair.trial_id,
            pair.screening.verdict,
            pair.current_status.value,
            first_deciding(outcome) or "—",
            pair.screening.change or "",
        )
    Console(width=max(Console().width, 160)).print(table)
    typer.echo(f"{len(pairs)} pairs")


@app.command("set")
def set_status(
    patient: Annotated[str, typer.Argument(help="Patient id.")],
    trial: Annotated[str, typer.Argument(help="Trial id.")],
    status: Annotated[str, typer.Argument(help=", ".join(s.value for s in PairStatus))],
    note: NoteOption = None,
    by: ByOption = None,
    db: DbOption = None,
    library: LibraryOption = None,
) -> None:
    """Record a pair's status (new, to review, contacted, consenting, screen-failed, enrolled, not pursued)."""
    given = _status(status)
    with _opened(db, library) as worklist:
        event = worklist.set_status(patient, trial, given, by=_who(by), note=note)
    typer.echo(f"{event.patient_id} {event.trial_id}: {event.status.value} (by {event.by})")


@app.command("answer")
def answer(
    patient: Annotated[str, typer.Argument(help="Patient id.")],
    trial: Annotated[str, typer.Argument(help="Trial id.")],
    criterion: Annotated[str, typer.Argument(help="Criterion id (inc-3, exc-2.1 ...).")],
    status: Annotated[str, typer.Argument(help="met or not_met (as the site found it).")],
    note: NoteOption = None,
    by: ByOption = None,
    db: DbOption = None,
    library: LibraryOption = None,
) -> None:
    """Record a site answer to one criterion, then re-screen the patient."""
    try:
        given = Status(status.strip().lower().replace(" ", "_"))
    except ValueError as exc:
        raise _fail(f"status must be one of {', '.join(s.value for s in Status)}, not {status!r}") from exc
    with _opened(db, library) as worklist:
        result = worklist.answer(patient, [(trial, criterion, given, note)], by=_who(by))
    typer.echo(f"{patient} {trial} {criterion}: {given.value} (by {_who(by)})")
    for change in result.changes:
        typer.echo(change.line())


@app.command("history")
def history(
    patient: Annotated[str | None, typer.Argument(help="Only this patient.")] = None,
    db: DbOption = None,
    library: LibraryOption = None,
) -> None:
    """The audit trail: every status and answer recorded, who and when, oldest first."""
    with _opened(db, library) as worklist:
        statuses = worklist.store.status_history(patient)
        answers = worklist.store.answer_history(patient)
    lines = [(e.at, f"{e.patient_id} {e.trial_id}: status {e.status.value}", e.by, e.note) for e in statuses] + [
        (e.at, f"{e.patient_id} {e.trial_id} {e.criterion_id}: answer {e.status.value}", e.by, e.note) for e in answers
    ]
    for at, what, who, note in sorted(lines, key=lambda line: line[0]):
        typer.echo(f"{at.isoformat(timespec='seconds')} {who}: {what}" + (f" — {note}" if note else ""))


@app.command("export")
def export_pairs(
    output_format: Annotated[str, typer.Option("--format", help="csv, redcap or answers.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: standard output).")] = None,
    dictionary: Annotated[
        Path | None, typer.Option("--dictionary", help="With --format redcap: also write REDCap's data dictionary.")
    ] = None,
    db: DbOption = None,
    library: LibraryOption = None,
) -> None:
    """Export the pairs (CSV, REDCap import CSV) or the site answers in the file ``screen --answers`` reads."""
    if output_format not in FORMATS:
        raise _fail(f"--format must be one of {', '.join(FORMATS)}, not {output_format!r}")
    with _opened(db, library) as worklist:
        if output_format == "answers":
            as_json = out is not None and out.suffix.lower() == ".json"
            text = export.answers_text(worklist.store.current_answers(), as_json=as_json)
        else:
            pairs = worklist.pairs()
            text = export.pairs_csv(pairs) if output_format == "csv" else export.redcap_csv(pairs)
    try:
        if dictionary is not None:
            dictionary.write_text(export.redcap_dictionary(), encoding="utf-8")
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write: {exc.strerror or exc}") from exc
