"""Outputs written whole or not at all: a file is written under a temporary name beside its final one and
renamed into place only when complete, so a full disk, an error or a kill leaves the earlier file (or none),
never a truncated one under the final name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def partial_path(path: Path) -> Path:
    """The temporary name a file is written under (``.<name>.partial`` beside it)."""
    return path.with_name(f".{path.name}.partial")


@contextmanager
def replacing(path: Path, newline: str | None = None) -> Iterator[TextIO]:
    """A UTF-8 text file to write ``path`` through: renamed over ``path`` when the block ends without an
    error, deleted when it raises."""
    partial = partial_path(path)
    try:
        with partial.open("w", encoding="utf-8", newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """``path.write_text(text)``, atomically."""
    with replacing(path) as handle:
        handle.write(text)
