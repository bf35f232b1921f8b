"""trialmatch: screen cancer patients against clinical-trial eligibility criteria.

The Python API (:mod:`trialmatch.public`) is importable from here; it loads on first use, so that the command
line starts fast::

    import trialmatch
    results = trialmatch.screen(trialmatch.read_patients("bundle.json"), as_of="2026-11-21")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Results", "concepts", "load_trials", "open_worklist", "read_patients", "screen"]


def __getattr__(name: str) -> Any:
    """Lazy exports of :mod:`trialmatch.public`."""
    if name in __all__:
        from trialmatch import public

        return getattr(public, name)
    raise AttributeError(f"module 'trialmatch' has no attribute {name!r}")
