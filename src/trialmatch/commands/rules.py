"""``trialmatch rules``: check curated rule files (and, later, show the SQL a cohort run executes)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.rules.drafting.invariants import drafted_problems
from trialmatch.rules.rulefile import RuleFileError, load_rule_file
from trialmatch.terminology.concepts import default_library

app = typer.Typer(help="Check curated rule files.", no_args_is_help=True)


@app.callback()
def rules() -> None:
    """Check curated rule files."""  # a callback keeps `check` a sub-command while it is the only one


@app.command()
def check(file: Annotated[Path, typer.Argument(help="A rule file (<TRIAL_ID>.rules.yaml).")]) -> None:
    """Report every problem in a rule file as FILE:LINE:COL: message, and drafted rules that break an invariant
    as FILE: ID: message; exit 1 if there is any."""
    try:
        rules = load_rule_file(file, concepts=default_library().ids())
    except OSError as error:
        typer.echo(f"{file}: cannot read the file: {error.strerror or error}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    except RuleFileError as error:
        for problem in error.problems:
            typer.echo(problem.render(str(file)))
        raise typer.Exit(ExitCode.SOME_REJECTED) from None
    if broken := drafted_problems(rules):
        for message in broken:
            typer.echo(f"{file}: {message}")
        raise typer.Exit(ExitCode.SOME_REJECTED)
    parts = sum(len(c.parts) for c in rules.criteria)
    typer.echo(f"{file}: OK ({len(rules.criteria)} criteria, {parts} parts)")
