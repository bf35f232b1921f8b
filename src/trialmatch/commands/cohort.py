"""``trialmatch cohort``: build a facts store, screen it in SQL, make synthetic cohorts (docs/cohort.md)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress

from trialmatch.commands.exit_codes import ExitCode
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


def _calls(trials: list[str] | None) -> Calls:
    """The derived calls a store keeps: every enumerable one, plus those the trials' rules make."""
    from trialmatch.cohort.ingest import store_calls

    bound, _ = select(trials or [], None)
    return store_calls(rule for b in bound for c in b.trial.all_criteria() if (rule := b.rule_for(c.id)) is not None)


@app.command()
def ingest(
    inputs: Annotated[list[Path], typer.Argument(help="FHIR JSON, NDJSON files, Bulk Data folders or CSV.")],
    out: Annotated[Path, typer.Option("--out", help="The facts store folder to write.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="The store's date YYYY-MM-DD (default: today).")] = None,
    trials: Annotated[list[str] | None, typer.Option("--trials", help="Trials whose derived facts to store.")] = None,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes; a large input is split among them.")
    ] = os.cpu_count() or 1,
) -> None:
    """Read patient records into a Parquet facts store; list every unusable record in rejects.csv."""
    from trialmatch.cohort.ingest import ingest as run_ingest

    day = _date(as_of) or dt.date.today()
    calls = _calls(trials)
    with Progress(transient=True) as progress:
        task = progress.add_task("ingesting", total=None)

        def shard_done(done: int, shards: int) -> None:
            progress.update(task, completed=done, total=shards)

        try:
            manifest = run_ingest(inputs, out, day, calls, workers=workers, progress=shard_done)
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
    trials: Annotated[
        list[str] | None, typer.Option("--trials", help="Trial id, record file or folder (repeat).")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Must equal the store's as-of date.")] = None,
    engine: Annotated[str, typer.Option("--engine", help="duckdb or spark.")] = "duckdb",
) -> None:
    """Screen every patient of the store: criteria.parquet, verdicts.parquet, feasibility.csv and .html."""
    from trialmatch.cohort.feasibility import funnel, write_csv, write_html
    from trialmatch.cohort.screen import screen_store

    bound, errors = select(trials or [], None)
    for error in errors:
        typer.echo(error, err=True)
    try:
        result = screen_store(facts, bound, out, engine=engine, as_of=_date(as_of))
    except TrialmatchError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    runs = [(run.query, funnel(run.query, run.wide)) for run in result.trials]
    write_csv([s for _, steps in runs for s in steps], out / "feasibility.csv")
    write_html(runs, out / "feasibility.html", result.manifest.patients_stored)
    for query, _ in runs:
        for column in query.uncompiled:
            typer.echo(f"{query.trial_id} {column.criterion_id}: not compiled: {column.error}", err=True)
    typer.echo(f"{result.manifest.patients_stored} patients x {len(runs)} trials screened into {out}")


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="The facts store folder to write.")],
    patients: Annotated[int, typer.Option("--patients", help="How many patients.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same cohort).")] = 0,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The store's date YYYY-MM-DD.")] = "2025-01-15",
    fhir: Annotated[bool, typer.Option("--fhir", help="Also write the patients as FHIR NDJSON in OUT/fhir.")] = False,
    trials: Annotated[list[str] | None, typer.Option("--trials", help="Trials whose derived facts to store.")] = None,
) -> None:
    """Write a synthetic HER2+/HER2-low/HER2-negative MBC cohort as a facts store (docs/cohort.md)."""
    from trialmatch.cohort.synth import generate, write_store
    from trialmatch.cohort.synth_fhir import write_fhir

    day = _date(as_of) or dt.date.today()
    cohort = generate(patients, seed, day)
    manifest = write_store(cohort, out, _calls(trials))
    typer.echo(f"{manifest.patients_stored} synthetic patients written to {out}")
    if fhir:
        resources = write_fhir(cohort, out / "fhir")
        typer.echo(f"{resources} FHIR resources written to {out / 'fhir'}")
