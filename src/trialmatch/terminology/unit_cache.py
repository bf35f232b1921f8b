"""A small on-disk cache of unit conversion factors, so a command need not load the units library each run.

Only unit spellings and numbers are stored (``mg/dL|umol/L|113.12`` -> factor), never a patient value. The
file lives in the user's cache folder (or ``$TRIALMATCH_CACHE_DIR``), is named after the versions of the
libraries that computed the factors, and is replaced atomically; a cache that cannot be read or written is
simply not used.
"""

from __future__ import annotations

import json
import os
import tempfile
from importlib import metadata
from pathlib import Path

import platformdirs

Factor = tuple[float, bool]


class FactorCache:
    """Conversion factors by key, loaded lazily from disk and written back when one is added."""

    def __init__(self, libraries: tuple[str, ...], folder: Path | None = None) -> None:
        self._libraries = libraries
        self._folder = folder
        self._factors: dict[str, Factor] | None = None

    @property
    def path(self) -> Path:
        """The cache file for the installed library versions."""
        versions = "-".join(f"{name}{_version(name)}" for name in self._libraries)
        folder = self._folder or Path(
            os.environ.get("TRIALMATCH_CACHE_DIR") or platformdirs.user_cache_dir("trialmatch")
        )
        return folder / f"unit-factors-{versions}.json"

    def get(self, key: str) -> Factor | None:
        """The cached factor for ``key``, if any."""
        return self._load().get(key)

    def put(self, key: str, factor: Factor) -> None:
        """Remember a factor, in memory and (when possible) on disk."""
        factors = self._load()
        factors[key] = factor
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({k: list(v) for k, v in factors.items()}, out)
            os.replace(temporary, self.path)
        except OSError:
            pass  # a read-only home folder only costs speed

    def _load(self) -> dict[str, Factor]:
        if self._factors is None:
            self._factors = {}
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._factors = {str(k): (float(v[0]), bool(v[1])) for k, v in raw.items()}
            except (OSError, ValueError, TypeError, IndexError, AttributeError):
                pass  # absent or damaged: start afresh
        return self._factors


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"
