"""Fixtures for the work-list tests: a private SQLite file, an empty trial library, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from trialmatch.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "src" / "trialmatch" / "data" / "patients" / "examples"
AS_OF = "2026-11-21"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """An empty trial library (the bundled trials are still there)."""
    root = tmp_path / "library"
    root.mkdir()
    return root


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A work-list database of its own for each test."""
    return f"sqlite:///{tmp_path / 'data' / 'worklist.sqlite3'}"


class Cli:
    """``trialmatch worklist ...`` on one database and library."""

    def __init__(self, db_url: str, library: Path) -> None:
        self.common = ["--db", db_url, "--library", str(library)]
        self.library = library

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["worklist", *args, *self.common])

    def screen(self, *args: str) -> Result:
        return CliRunner().invoke(app, ["screen", *args, "--library", str(self.library)])


@pytest.fixture
def cli(db_url: str, library: Path) -> Cli:
    return Cli(db_url, library)
