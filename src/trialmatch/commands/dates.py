"""The ``--as-of`` option every screening command takes: one parser, one error message."""

from __future__ import annotations

import datetime as dt

import typer

from trialmatch.commands.exit_codes import ExitCode


def as_of_date(text: str | None) -> dt.date:
    """The date given as YYYY-MM-DD, or today; a usage error (exit 2) for anything else."""
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --as-of must be a date as YYYY-MM-DD, not {text!r}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from None
