"""``trialmatch patients check``: per patient, what was read, normalized and rejected — never a value."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.commands.dates import as_of_date
from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import TrialmatchError
from trialmatch.patients.derive import derive
from trialmatch.patients.model import (
    ConditionFact,
    InputProblem,
    Lesion,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)
from trialmatch.patients.sources import read_patients
from trialmatch.rules.vocabulary import DERIVED
from trialmatch.terminology.concepts import ConceptLibrary, default_library

Fact = Measurement | ConditionFact | MedicationFact | ProcedureFact | Lesion

app = typer.Typer(help="Read and check patient records.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Read and check patient records."""


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="FHIR JSON or NDJSON files, Bulk export folders, CSV files.")],
    local_map: Annotated[
        Path | None, typer.Option("--map", help="CSV mapping a site's local codes to concepts.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date the derived facts are taken at, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Per patient: what was read, normalized to what, derived, and what was rejected and why."""
    date = as_of_date(as_of)
    try:
        library = default_library() if local_map is None else default_library().with_local_map(local_map)
    except TrialmatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    patients, troubled = 0, False
    for path in files:
        count, file_troubled = _check_file(path, library, date)
        patients += count
        troubled = troubled or file_troubled
    if patients == 0:
        raise typer.Exit(ExitCode.NOTHING_DONE)
    raise typer.Exit(ExitCode.SOME_REJECTED if troubled else ExitCode.OK)


def _check_file(path: Path, library: ConceptLibrary, as_of: dt.date) -> tuple[int, bool]:
    """Report one input; returns the number of patients read and whether anything was not used."""
    typer.echo(f"== {path}")
    problems: list[InputProblem] = []
    count, troubled = 0, False
    try:
        for record in read_patients(path, library=library, problems=problems):
            count += 1
            troubled = any(not p.as_the_record_says for p in record.problems) or troubled
            typer.echo("\n".join([*describe(record), *derived_lines(record, as_of)]))
    except TrialmatchError as exc:
        typer.echo(f"  error: {exc}")
        return count, True
    if problems:
        typer.echo(f"  not attributed to a patient: {len(problems)}")
        typer.echo("\n".join(f"    - {_problem(p)}" for p in problems))
    if count == 0:
        typer.echo("  no patient read")
    return count, troubled or bool(problems)


def describe(record: PatientRecord) -> list[str]:
    """The check report of one patient: counts, conversions and roll-ups, derived facts, problems."""
    lines = [f"Patient {record.patient_id}"]
    lines.append(f"  read: {_counts(_resource_types(record))}")
    conversions = Counter(
        f"{m.original_unit} -> {m.unit} ({m.concept})"
        for m in record.measurements
        if m.original_unit and m.unit and m.original_unit != m.unit
    )
    lines.append(f"  unit conversions: {_counts(conversions) or 'none'}")
    concepts = Counter(m.concept for m in record.measurements if m.concept)
    concepts.update(c.concept for c in record.conditions if c.concept)
    concepts.update(c for m in record.medications for c in m.concepts)
    concepts.update(p.concept for p in record.procedures if p.concept)
    lines.append(f"  concepts: {_counts(concepts) or 'none'}")
    flagged = Counter(f"{m.concept}: {flag}" for m in record.measurements for flag in m.flags)
    if flagged:
        lines.append(f"  flagged: {_counts(flagged)}")
    lines.append(f"  problems: {len(record.problems)}")
    lines.extend(f"    - {_problem(p)}" for p in record.problems)
    return lines


def derived_lines(record: PatientRecord, as_of: dt.date) -> list[str]:
    """Which patient-level facts could be derived (with the guideline used) and what each unknown one lacks.

    Values are not printed: this report is about whether the record can answer the criteria.
    """
    known, unknown = [], []
    for name in (d.name for d in DERIVED if d.scope == "patient"):
        value = derive(name, {}, record, as_of)
        if value.value is None:
            unknown.append(f"{name} ({value.missing or 'no data'})")
        else:
            known.append(f"{name} [{value.rule_set}]" if value.rule_set else name)
    lines = [f"  derived as of {record.last_alive(as_of).isoformat()}: {', '.join(known) or 'nothing'}"]
    if record.died_by(as_of):
        died = record.deceased_on.isoformat() if record.deceased_on else "(no date recorded)"
        lines.insert(0, f"  deceased: {died}; not screenable, facts are derived as of the date of death")
    if unknown:
        lines.append(f"  not derivable: {'; '.join(unknown)}")
    return lines


def _resource_types(record: PatientRecord) -> Counter[str]:
    """Input records by type, from the facts' and problems' sources (``Observation/x`` → Observation)."""
    sources = {f.source for facts in _all_facts(record) for f in facts}
    sources.update(p.source for p in record.problems if p.source)
    counts = Counter(_kind(s) for s in sources)
    if record.birth_date or record.sex:
        counts["Patient"] = 1
    return counts


def _all_facts(record: PatientRecord) -> tuple[tuple[Fact, ...], ...]:
    return record.measurements, record.conditions, record.medications, record.procedures, record.lesions


def _kind(source: str) -> str:
    if source.startswith("line "):
        return "CSV cell"
    return source.split("/", 1)[0] if "/" in source else source


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counter.items()))


def _problem(p: InputProblem) -> str:
    return f"{p.source or 'input'}: {p.problem} — {p.action}"
