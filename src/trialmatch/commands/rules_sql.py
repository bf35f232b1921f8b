"""``trialmatch rules sql TRIAL --dialect duckdb|spark``: print the SQL ``cohort screen --trials TRIAL`` executes.

Registered by the lead on the ``rules`` app as the ``sql`` command (``app.command("sql")(sql)``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.commands.trial_selection import select
from trialmatch.errors import TrialmatchError


def sql(
    trial: Annotated[str, typer.Argument(help="Trial id, record file or folder.")],
    dialect: Annotated[str, typer.Option("--dialect", help="duckdb or spark.")] = "duckdb",
    facts: Annotated[
        Path | None, typer.Option("--facts", help="Compile for this facts store (its as-of, its derived facts).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date without a store (YYYY-MM-DD, default today).")
    ] = None,
) -> None:
    """Print exactly the statements ``cohort screen`` runs for the trial (criteria not compiled are named); a
    folder of many trials prints one batch of statements after the other, as the run executes them."""
    from trialmatch.cohort.dialects import DIALECTS
    from trialmatch.cohort.ingest import store_calls
    from trialmatch.cohort.plan import compile_batches
    from trialmatch.cohort.screen import compile_all
    from trialmatch.terminology.concepts import default_library

    bound, errors = select([trial], None)
    if errors or dialect not in DIALECTS:
        typer.echo("; ".join(errors) or f"unknown dialect '{dialect}' (duckdb or spark)", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE)
    try:
        if facts is not None:
            queries = compile_all(bound, facts, dialect)
        else:
            rules = [r for b in bound for c in b.trial.all_criteria() if (r := b.rule_for(c.id)) is not None]
            day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
            queries = compile_batches(bound, DIALECTS[dialect], day, default_library(), store_calls(rules))
    except (TrialmatchError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
    typer.echo("\n".join(query.sql() for query in queries))
