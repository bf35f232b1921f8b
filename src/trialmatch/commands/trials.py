"""``trialmatch trials``: import, list and show trial records (placeholder until the readers land)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Import, list and show trial records.", no_args_is_help=True)
