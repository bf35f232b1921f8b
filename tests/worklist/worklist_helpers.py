"""Shared constants and helpers of the work-list tests: the example patients, the as-of date, the CLI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from trialmatch.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "src" / "trialmatch" / "data" / "patients" / "examples"
AS_OF = "2026-11-21"


class Cli:
    """``trialmatch worklist ...`` on one database and library."""

    def __init__(self, db_url: str, library: Path) -> None:
        self.common = ["--db", db_url, "--library", str(library)]
        self.library = library

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["worklist", *args, *self.common])

    def screen(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["screen", *args, "--library", str(self.library)])
