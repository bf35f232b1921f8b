"""``trialmatch cohort``: build a facts store, screen it in SQL, make synthetic cohorts (docs/cohort.md)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.commands.progress import progress_bar
from trialmatch.commands.trial_selection import select
from trialmatch.errors import TrialmatchError

if TYPE_CHECKING:
    from trialmatch.cohort.calls import Calls

app = typer.Typer(help="Screen whole cohorts in SQL (DuckDB or Spark).", no_args_is_help=True)


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        typer.echo(f"--as-of must be a date as YYYY-MM-DD, not {text!r}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None


TrialsOption = Annotated[
    list[str] | None, typer.Option("--trials", help="Trial id, record file or folder (repeat; default: the library).")
]
LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Trial library directory (default: $TRIALMATCH_HOME or the user data dir)."),
]
NoBundledOption = Annotated[bool, typer.Option("--no-bundled", help="Leave out the trials bundled with trialmatch.")]


def _calls(trials: list[str] | None, library: Path | None, no_bundled: bool) -> Calls:
    """The derived calls a store keeps: every enumerable one, plus those the trials' rules make."""
    from trialmatch.cohort.ingest import store_calls

    bound, _ = select(trials or [], library, no_bundled=no_bundled)
    return store_calls(rule for b in bound for c in b.trial.all_criteria() if (rule := b.rule_for(c.id)) is not None)


@app.command()
def ingest(
    inputs: Annotated[list[Path], typer.Argument(help="FHIR JSON, NDJSON files, Bulk Data folders or CSV.")],
    out: Annotated[Path, typer.Option("--out", help="The facts store folder to write.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="The store's date YYYY-MM-DD (default: today).")] = None,
    trials: TrialsOption = None,
    library: LibraryOption = None,
    no_bundled: NoBundledOption = False,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes; a large input is split among them.")
    ] = os.cpu_count() or 1,
) -> None:
    """Read patient records into a Parquet facts store; list every unusable record in rejects.csv."""
    from trialmatch.cohort.ingest import ingest as run_ingest

    day = _date(as_of) or dt.date.today()
    calls = _calls(trials, library, no_bundled)
    with progress_bar() as progress:
        task = progress.add_task("ingesting", total=None, unit="patients")

        def stored(patients: int, facts: int, total: int | None) -> None:
            progress.update(task, completed=patients, total=total, description=f"ingesting ({facts:,} facts read)")

        try:
            manifest = run_ingest(inputs, out, day, calls, workers=workers, progress=stored)
        except TrialmatchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.NOTHING_DONE) from None
        except OSError as exc:
            typer.echo(
                f"error: {out}: the facts store could not be written ({exc.strerror}); the old one is kept", err=True
            )
            raise typer.Exit(ExitCode.NOTHING_DONE) from None
    not_used = sum(manifest.records_not_used.values())
    if not_used:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(manifest.records_not_used.items()))
        typer.echo(f"{not_used} records of types screening does not use, kept out: {kinds}")
    typer.echo(f"{manifest.codings_unrecognised} unrecognised codings listed in {out / 'unmapped_codes.csv'}")
    typer.echo(
        f"{manifest.patients_read} patients read, {manifest.patients_stored} stored, "
        f"{manifest.patients_rejected} rejected"
        + (f", {manifest.patients_merged} merged (given twice)" if manifest.patients_merged else "")
        + f"; {manifest.records_rejected} records rejected (rejects.csv)"
    )
    if manifest.records_rejected:
        raise typer.Exit(ExitCode.SOME_REJECTED)


@app.command()
def screen(
    facts: Annotated[Path, typer.Argument(help="A facts store folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    trials: TrialsOption = None,
    library: LibraryOption = None,
    no_bundled: NoBundledOption = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Must equal the store's as-of date.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb or spark.")] = "duckdb",
    verbose: Annotated[bool, typer.Option("--verbose", help="Let Spark log and draw its stage bars.")] = False,
    since: Annotated[
        Path | None, typer.Option("--since", help="An earlier run's folder: list what changed in changes.parquet.")
    ] = None,
) -> None:
    """Screen every patient of the store: criteria.parquet, verdicts.parquet, feasibility.csv and .html.

    A trial that cannot be used (its record or rule file unreadable) is named on stderr and on the feasibility
    page, the others still run, and the exit code is 1."""
    from trialmatch.cohort.changes import check_previous, write_changes
    from trialmatch.cohort.feasibility import data_coverage, write_csv
    from trialmatch.cohort.screen import screen_store
    from trialmatch.reports.feasibility import write_page

    try:
        if since is not None:
            check_previous(since, out)
    except TrialmatchError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    bound, errors = select(trials or [], library, no_bundled=no_bundled)
    for error in errors:
        typer.echo(error, err=True)
    if not bound and errors:
        raise typer.Exit(ExitCode.NOTHING_DONE)
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"screening {len(bound)} trials, in batches", total=None, unit="batches")
            result = screen_store(
                facts,
                bound,
                out,
                engine=engine,
                as_of=_date(as_of),
                progress=lambda done, batches: bar.update(task, completed=done, total=batches),
                verbose=verbose,
            )
    except TrialmatchError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    coverage = data_coverage(result.manifest, facts)
    write_csv(result.trials, coverage, errors, out / "feasibility.csv")
    write_page(result.trials, coverage, errors, result.manifest.as_of.isoformat(), out / "feasibility.html")
    for trial in result.trials:
        for criterion_id, reason in trial.not_compiled:
            typer.echo(f"{trial.trial_id} {criterion_id}: not compiled: {reason}", err=True)
    if since is not None:
        changed = write_changes(since, out).column("change").to_pylist()
        counts = ", ".join(f"{changed.count(kind)} {kind}" for kind in sorted(set(changed))) or "none"
        typer.echo(f"changes since {since}: {counts} (changes.parquet)")
    typer.echo(f"{result.manifest.patients_stored} patients x {len(result.trials)} trials screened into {out}")
    if errors:
        raise typer.Exit(ExitCode.SOME_REJECTED)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="The facts store folder to write.")],
    patients: Annotated[int, typer.Option("--patients", help="How many patients.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same cohort).")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The store's date YYYY-MM-DD (default: today, as ingest).")
    ] = None,
    fhir: Annotated[bool, typer.Option("--fhir", help="Also write the patients as FHIR NDJSON in OUT/fhir.")] = False,
    trials: TrialsOption = None,
    library: LibraryOption = None,
    no_bundled: NoBundledOption = False,
) -> None:
    """Write a synthetic HER2+/HER2-low/HER2-negative MBC cohort as a facts store (docs/cohort.md)."""
    from trialmatch.cohort.synth import generate, write_store
    from trialmatch.cohort.synth_fhir import write_fhir

    day = _date(as_of) or dt.date.today()
    cohort = generate(patients, seed, day)
    manifest = write_store(cohort, out, _calls(trials, library, no_bundled))
    typer.echo(f"{manifest.patients_stored} synthetic patients written to {out}")
    if fhir:
        resources = write_fhir(cohort, out / "fhir")
        typer.echo(f"{resources} FHIR resources written to {out / 'fhir'}")
