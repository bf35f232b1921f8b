"""``trialmatch trials``: import records into the user's library, list the library, show one trial.

Rendering lives in plain functions taking a trial and an optional per-criterion annotation mapping, so the
rules layer can add each criterion's rule and computability without touching the commands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import InputError, LibraryError, RuleError
from trialmatch.reports.trials import annotations_for, trial_json, trial_text, trials_table
from trialmatch.rules.catalog import TrialRules, bind, library_rules_dir
from trialmatch.rules.drafting import coverage as draft_coverage
from trialmatch.rules.drafting.library import draft_into_library
from trialmatch.trials.library import TrialLibrary, bundled_trials
from trialmatch.trials.model import Trial
from trialmatch.trials.sources import read_trials

app = typer.Typer(help="Import, list and show trial records.", no_args_is_help=True)

LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Trial library directory (default: $TRIALMATCH_HOME or the user data dir)."),
]
NoBundledOption = Annotated[bool, typer.Option("--no-bundled", help="Leave out the trials bundled with trialmatch.")]


def _error(message: object) -> None:
    typer.echo(f"error: {message}", err=True)


def _exit_code(used: int, rejected: int) -> ExitCode:
    if rejected == 0:
        return ExitCode.OK
    return ExitCode.SOME_REJECTED if used else ExitCode.NOTHING_DONE


def _bind_all(trials: Sequence[Trial], library: Path | None) -> list[TrialRules]:
    search = [library_rules_dir(TrialLibrary(library).root)]
    return [bind(t, search) for t in trials]


# ----------------------------------------------------------------------------------------------------
# Commands


def _import_line(path: Path, trials: Sequence[Trial]) -> str:
    described = ", ".join(f"{t.trial_id} ({t.counts()[0]} inclusion, {t.counts()[1]} exclusion)" for t in trials)
    return f"{path}: imported {described}"


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Trial record files (CT.gov v2 JSON or page text).")],
    library: LibraryOption = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Draft rules for each trial that has no curated rule file.")
    ] = False,
    replace_bundled: Annotated[
        bool,
        typer.Option("--replace-bundled", help="Let an import replace a bundled, curated trial (audited)."),
    ] = False,
) -> None:
    """Add each file's trial(s) to the library; one line per file (and per trial drafted with --draft)."""
    lib = TrialLibrary(library)
    used = rejected = 0
    for path in files:
        try:
            trials = lib.import_file(path, replace_bundled=replace_bundled)
        except (InputError, LibraryError) as exc:
            _error(exc)
            rejected += 1
            continue
        used += 1
        typer.echo(_import_line(path, trials))
        for trial in trials if draft else []:
            try:
                typer.echo(draft_into_library(lib, trial))
            except (LibraryError, RuleError) as exc:
                _error(f"{trial.trial_id} imported, but its rules could not be drafted: {exc}")
                rejected += 1
    raise typer.Exit(_exit_code(used, rejected))


def _coverage_trials(sources: Sequence[str]) -> tuple[list[Trial], int]:
    """Trials from files, folders (every .json and .txt in them) and bundled trial ids; and how many were rejected.

    Each file or id that cannot be used gets one error line; the others are still counted.
    """
    bundled = {t.trial_id.upper(): t for t in bundled_trials()}
    trials: list[Trial] = []
    rejected = 0
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".txt"))
            if not files:
                _error(f"{path}: no .json or .txt trial records in this folder")
                rejected += 1
        elif path.is_file():
            files = [path]
        elif source.upper() in bundled:
            trials.append(bundled[source.upper()])
            continue
        else:
            _error(f"{source}: not a file, a folder or a bundled trial id")
            rejected += 1
            continue
        for file in files:
            try:
                trials += read_trials(file)
            except InputError as exc:
                _error(exc)
                rejected += 1
    return trials, rejected


@app.command("coverage")
def coverage(
    sources: Annotated[
        list[str], typer.Argument(metavar="FILE...|DIR|ID", help="Trial files, folders or bundled trial ids.")
    ],
) -> None:
    """Draft the trials' criteria in memory (nothing written) and report how much is computable."""
    trials, rejected = _coverage_trials(sources)
    if not trials:
        _error("no trial records to measure")
        raise typer.Exit(ExitCode.NOTHING_DONE)
    typer.echo(draft_coverage.render(draft_coverage.measure(trials)))
    raise typer.Exit(_exit_code(len(trials), rejected))


@app.command("list")
def list_(library: LibraryOption = None, no_bundled: NoBundledOption = False) -> None:
    """A table of every trial in the library: id, acronym, phase, status, criteria, coverage."""
    try:
        trials = TrialLibrary(library, include_bundled=not no_bundled).load_all()
    except LibraryError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    if not trials:
        typer.echo("no trials in the library; add some with `trialmatch trials import FILE`")
        return
    try:
        bound = _bind_all(trials, library)
    except RuleError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    Console().print(trials_table(trials, {b.trial.trial_id: b.coverage().short() for b in bound}))


def _resolve(id_or_file: str, library: Path | None, no_bundled: bool) -> list[Trial]:
    """Trials of a file when the argument names one, else the library trial with that id or alias."""
    path = Path(id_or_file)
    if path.is_file():
        return read_trials(path)
    return [TrialLibrary(library, include_bundled=not no_bundled).get(id_or_file)]


@app.command("show")
def show(
    id_or_file: Annotated[str, typer.Argument(metavar="ID_OR_FILE", help="Trial id, alias, or a record file.")],
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    library: LibraryOption = None,
    no_bundled: NoBundledOption = False,
) -> None:
    """Print a trial with each criterion (and its rule, once rules are attached)."""
    if output_format not in ("text", "json"):
        _error(f"--format must be text or json, not {output_format!r}")
        raise typer.Exit(ExitCode.NOTHING_DONE)
    try:
        trials = _resolve(id_or_file, library, no_bundled)
    except (InputError, LibraryError) as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    try:
        bound = _bind_all(trials, library)
    except RuleError as exc:
        _error(exc)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    if output_format == "json":
        payload: Any = [trial_json(b.trial, annotations_for(b)) | {"rules_version": b.version} for b in bound]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n\n".join(f"{trial_text(b.trial, annotations_for(b))}\n\n{b.coverage().line()}" for b in bound))
