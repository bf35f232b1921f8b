"""Fixtures for the work-list tests: a private SQLite file and the CLI on it (the library is the root's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from worklist_helpers import Cli


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A work-list database of its own for each test."""
    return f"sqlite:///{tmp_path / 'data' / 'worklist.sqlite3'}"


@pytest.fixture
def cli(db_url: str, library: Path) -> Cli:
    return Cli(db_url, library)
