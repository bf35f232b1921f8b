"""``trialmatch patients check``: per patient, what was read, recognised, normalized and rejected.

The text form never prints a patient value; ``--format json`` follows patient-check.schema.json, which
includes the derived values (it is meant for the site's own data team).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import typer

from trialmatch.commands.dates import as_of_date
from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import TrialmatchError
from trialmatch.patients.codings import CodingUse, record_codings
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
from trialmatch.patients.sources.facts import UNKNOWN_CODE, UNKNOWN_MEDICATION
from trialmatch.rules.vocabulary import DERIVED
from trialmatch.terminology.concepts import ConceptLibrary, default_library, system_name

Fact = Measurement | ConditionFact | MedicationFact | ProcedureFact | Lesion
Format = Literal["text", "json"]
UNRECOGNISED = frozenset({UNKNOWN_CODE, UNKNOWN_MEDICATION})  # summarised per system in "codes", not listed

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
    output_format: Annotated[
        Format, typer.Option("--format", help="text (a summary) or json (patient-check.schema.json).")
    ] = "text",
) -> None:
    """Per patient: what was read, which codes were recognised and how, what was derived, and what was
    rejected or used with a doubt. Exit 1 only for those; an unrecognised code is a note, not a failure."""
    date = as_of_date(as_of)
    try:
        library = default_library() if local_map is None else default_library().with_local_map(local_map)
    except TrialmatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    reports: list[dict[str, object]] = []
    patients, troubled = 0, False
    for path in files:
        count, file_troubled = _check_file(path, library, date, reports if output_format == "json" else None)
        patients += count
        troubled = troubled or file_troubled
    if output_format == "json":
        typer.echo(json.dumps(reports, indent=2, default=str))
    if patients == 0:
        raise typer.Exit(ExitCode.NOTHING_DONE)
    raise typer.Exit(ExitCode.SOME_REJECTED if troubled else ExitCode.OK)


def _check_file(
    path: Path, library: ConceptLibrary, as_of: dt.date, reports: list[dict[str, object]] | None
) -> tuple[int, bool]:
    """Report one input (as text, or appended to ``reports``); returns the number of patients read and
    whether anything was rejected or used with a doubt."""
    text = reports is None
    if text:
        typer.echo(f"== {path}")
    problems: list[InputProblem] = []
    count, troubled = 0, False
    try:
        for record in read_patients(path, library=library, problems=problems):
            count += 1
            troubled = any(p.severity != "note" for p in record.problems) or troubled
            codes = record_codings(record, library)
            if reports is None:
                typer.echo("\n".join([*describe(record, codes), *derived_lines(record, as_of)]))
            else:
                reports.append(check_report(record, path, as_of, codes))
    except TrialmatchError as exc:
        typer.echo(f"  error: {exc}" if text else f"error: {path}: {exc}", err=not text)
        return count, True
    if problems and text:
        typer.echo(f"  not attributed to a patient: {len(problems)}")
        typer.echo("\n".join(f"    - {_problem(p)}" for p in problems))
    if count == 0 and text:
        typer.echo("  no patient read")
    return count, troubled or any(p.severity != "note" for p in problems)


def check_report(record: PatientRecord, path: Path, as_of: dt.date, codes: list[CodingUse]) -> dict[str, object]:
    """One patient's check as patient-check.schema.json lays it out."""
    derived = {}
    for name in (d.name for d in DERIVED if d.scope == "patient"):
        value = derive(name, {}, record, as_of)
        derived[name] = {
            "value": value.value,
            "date": value.date.isoformat() if value.date else None,
            "explanation": value.explanation,
            "missing": value.missing,
        }
    return {
        "patient_id": record.patient_id,
        "source": str(path),
        "as_of": as_of.isoformat(),
        "deceased": {"date": None} if record.deceased else None,
        "resources": dict(sorted(_resource_types(record).items())),
        "codes": [c.as_json() for c in codes],
        "derived": derived,
        "problems": [
            {"source": p.source, "severity": p.severity, "problem": p.problem, "action": p.action}
            for p in record.problems
        ],
    }


def describe(record: PatientRecord, codes: list[CodingUse]) -> list[str]:
    """The check report of one patient: counts, conversions and roll-ups, codes per system, derived facts,
    problems (notes counted by kind, warnings and errors one by one)."""
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
    lines.extend(code_lines(codes))
    flagged = Counter(f"{m.concept}: {flag}" for m in record.measurements for flag in m.flags)
    if flagged:
        lines.append(f"  flagged: {_counts(flagged)}")
    listed = [p for p in record.problems if p.severity != "note"]
    notes = Counter(p.problem for p in record.problems if p.severity == "note" and p.problem not in UNRECOGNISED)
    lines.append(f"  problems: {len(listed)} rejected or used with a doubt; notes: {_counts(notes) or 'none'}")
    lines.extend(f"    - {_problem(p)}" for p in listed)
    return lines


def code_lines(codes: list[CodingUse], shown: int = 5) -> list[str]:
    """Codes per system: how many distinct codings were recognised, and the unrecognised ones most frequent
    first (the mapping work-list in short)."""
    lines = ["  codes:"]
    for system in sorted({c.system for c in codes}):
        known = {c.code for c in codes if c.system == system and c.recognised_by is not None}
        missed: Counter[tuple[str, str]] = Counter()
        for c in codes:
            if c.system == system and c.recognised_by is None:
                missed[(c.code, c.display or "?")] += c.count
        head = f"    {system_name(system)}: {len(known)} recognised, {len(missed)} not"
        listed = ", ".join(f"'{display}' {code} ×{n}" for (code, display), n in missed.most_common(shown))
        more = f", and {len(missed) - shown} more" if len(missed) > shown else ""
        lines.append(f"{head} ({listed}{more})" if missed else head)
    return lines if len(lines) > 1 else ["  codes: none"]


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
