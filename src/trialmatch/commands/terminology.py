"""``trialmatch terminology``: explain a code, show a concept's bindings, list the codes a data set uses that
nothing recognises (the mapping work-list), load a site's licensed vocabularies."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import TrialmatchError
from trialmatch.patients.codings import UnmappedCodes, record_codings
from trialmatch.patients.model import InputProblem
from trialmatch.patients.sources import read_patients
from trialmatch.terminology.athena import import_athena, vocabulary_path
from trialmatch.terminology.concepts import ConceptLibrary, default_library, resolve_system, system_name

app = typer.Typer(help="Look up codes and concepts; list unmapped codes.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Look up codes and concepts; list unmapped codes."""


def _library(local_map: Path | None) -> ConceptLibrary:
    try:
        return default_library() if local_map is None else default_library().with_local_map(local_map)
    except TrialmatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None


MapOption = Annotated[Path | None, typer.Option("--map", help="CSV mapping a site's local codes to concepts.")]


@app.command()
def lookup(
    system: Annotated[str, typer.Argument(help="Code system URI or name: snomed, loinc, rxnorm, icd10cm, atc.")],
    code: Annotated[str, typer.Argument(help="The code, e.g. 372244006 or C44.91.")],
    local_map: MapOption = None,
) -> None:
    """A code's display, the concepts it belongs to and why (value set, ancestor, RxNorm ingredient)."""
    library = _library(local_map)
    uri = resolve_system(system)
    found = library.recognise(uri, code)
    display = library.display_of(uri, code)
    typer.echo(f"{system_name(uri)} {code}: {display or '(display not known)'}")
    if not found.concepts:
        typer.echo("  not recognised: no concept of the library or the terminology pack covers it")
        raise typer.Exit(ExitCode.SOME_REJECTED)
    typer.echo(f"  recognised by: {found.recognised_by}")
    for concept_id in found.concepts:
        concept = library.get(concept_id)
        broader = sorted(library.ancestors(concept_id))
        typer.echo(f"  {concept_id} — {concept.label}" + (f" (is-a {', '.join(broader)})" if broader else ""))
    for via in found.via:
        typer.echo(f"    via {via}")


@app.command()
def show(
    concept_id: Annotated[str, typer.Argument(metavar="CONCEPT", help="A concept id, e.g. condition.malignancy.")],
    local_map: MapOption = None,
) -> None:
    """A concept's bindings: its own codes, value sets with versions and sizes, ICD-10-CM ancestors, names."""
    library = _library(local_map)
    try:
        concept = library.get(concept_id)
    except TrialmatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    typer.echo(f"{concept.id} — {concept.label} ({concept.kind})")
    if concept.broader:
        typer.echo(f"  broader: {', '.join(concept.broader)}")
    narrower = sorted(library.descendants(concept.id))
    if narrower:
        typer.echo(f"  narrower: {', '.join(narrower)}")
    typer.echo(f"  own codes: {len(concept.codes)}")
    for c in concept.codes:
        below = " and its descendants" if c.descendants else ""
        typer.echo(f"    {system_name(c.system)} {c.code}{below} — {c.display or ''} [{c.status}]")
    sizes = Counter(via for _, _, _, via in library.pack.codes_of(concept.id)) if library.pack else Counter()
    for b in concept.value_sets:
        via = f"value_set:{b.name}|{b.version}"
        narrowed = ", ".join(
            f"{k} {v!r}" for k, v in (("system", b.system), ("display", b.display), ("exclude", b.exclude)) if v
        )
        typer.echo(
            f"  value set '{b.name}' version {b.version}: {sizes.get(via, 0)} codes"
            + (f" ({narrowed})" if narrowed else "")
        )
    for via, n in sorted(sizes.items()):
        if not via.startswith("value_set:"):
            typer.echo(f"  {via}: {n} codes")
    if concept.names:
        typer.echo(
            f"  names: {', '.join(concept.names)}" + (" (systemic dose forms only)" if concept.systemic_only else "")
        )


@app.command()
def unmapped(
    inputs: Annotated[list[Path], typer.Argument(help="FHIR JSON or NDJSON files, Bulk export folders, CSV files.")],
    out: Annotated[Path, typer.Option("--out", help="The work-list CSV to write (the layout --map reads).")],
    local_map: MapOption = None,
) -> None:
    """Every coding the data uses that the terminology does not recognise, with record and patient counts,
    most frequent first; fill in the concept column and pass the file back with --map."""
    library = _library(local_map)
    worklist = UnmappedCodes()
    patients = 0
    problems: list[InputProblem] = []
    for path in _expand(inputs):
        try:
            for record in read_patients(path, library=library, problems=problems):
                patients += 1
                worklist.add(record_codings(record, library))
        except TrialmatchError as exc:
            typer.echo(f"error: {exc}", err=True)
    if patients == 0:
        typer.echo("error: no patient read", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE)
    worklist.write(out)
    relevant = sum(1 for row in worklist.rows() if row["possible"])
    typer.echo(
        f"{len(worklist.records)} unrecognised codings in {patients} patients ({relevant} may name a concept "
        f"rules use) -> {out}"
    )


@app.command("import-athena")
def import_athena_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="An unzipped OHDSI Athena vocabulary download.")],
) -> None:
    """Load a licensed OHDSI Athena download (CONCEPT, CONCEPT_ANCESTOR, ...) for codes the embedded pack does
    not know: SNOMED CT is-a, RxNorm to ingredient. Kept in the user's data directory; never shipped."""
    try:
        summary = import_athena(folder, vocabulary_path())
    except (TrialmatchError, duckdb.Error) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    counts = ", ".join(f"{table} {n}" for table, n in summary.rows.items())
    typer.echo(f"vocabulary loaded ({counts}) -> {summary.path}")


def _expand(inputs: list[Path]) -> list[Path]:
    """Inputs as the readers take them; a folder of FHIR JSON bundles (not a Bulk Data export) as its files."""
    out: list[Path] = []
    for path in inputs:
        bundles = sorted(path.glob("*.json")) if path.is_dir() and not any(path.glob("*.ndjson")) else []
        out.extend(bundles or [path])
    return out
