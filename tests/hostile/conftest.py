"""Fixtures of the hostile-input suite: a library beside a sentinel folder whose files must never change."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest


def tree_hash(folder: Path) -> str:
    """A hash over every path and file content under ``folder`` (links not followed)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[Path]:
    """A folder beside the library with files in it; the test fails when anything under it changes."""
    folder = tmp_path / "sentinel"
    (folder / "rules").mkdir(parents=True)
    (folder / "keep.txt").write_text("must survive\n")
    (folder / "rules" / "x.rules.yaml").write_text("not a rule file\n")
    before = tree_hash(folder)
    yield folder
    assert tree_hash(folder) == before, "a hostile input changed files outside the library"


@pytest.fixture
def library(tmp_path: Path, sentinel: Path) -> Path:
    """An empty trial library next to the sentinel folder."""
    root = tmp_path / "library"
    root.mkdir()
    return root
