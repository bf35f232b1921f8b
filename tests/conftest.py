"""Shared test fixtures: where the project's shared reference folder is, and skipping cleanly without it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Caches that commands keep between runs go to a fresh folder, not the user's.
os.environ["TRIALMATCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="trialmatch-test-cache-")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRIALMATCH_SHARED", REPO.parent / "shared"))


@pytest.fixture
def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (fixtures, seeds, contracts); skips the test when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared reference folder not found at {SHARED}")
    return SHARED


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """An empty trial library (the bundled trials are still there)."""
    root = tmp_path / "library"
    root.mkdir()
    return root


def require_system_component(path: str, what: str) -> str:
    """A system program some tests need: skip with the reason when absent, but fail under CI (``CI=true``).

    CI installs these components itself (``.ci/run``), so their absence there is a broken setup, not a skip.
    """
    if Path(path).exists():
        return path
    message = f"{what} not found at {path} (install Debian's package; .ci/run does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_launch() -> dict[str, object]:
    """Playwright launch options for Debian's Chromium (no browser is ever downloaded)."""
    return {"executable_path": require_system_component("/usr/bin/chromium", "Chromium"), "args": CHROMIUM_ARGS}
