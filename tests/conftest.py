"""Shared test fixtures: where the project's shared reference folder is, and skipping cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRIALMATCH_SHARED", REPO.parent / "shared"))


@pytest.fixture
def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (fixtures, seeds, contracts); skips the test when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared reference folder not found at {SHARED}")
    return SHARED
