"""Private scratch folders for patient data that must not outlive the process using it (uploads, line indexes).

Each folder is made owner-only (mode 0700) in the system temporary directory and named after the process that
made it: ``trialmatch-<kind>-<pid>-<random>``. Its user deletes it on every normal or failed exit; a folder
whose process is gone (killed with ``kill -9``, or the machine stopped) is deleted by :func:`sweep`, which
every command that makes such folders runs when it starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "trialmatch-"


def private_folder(kind: str) -> Path:
    """A new owner-only folder for this process's ``kind`` of scratch data (e.g. ``upload``, ``ndjson``)."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-{os.getpid()}-"))


@contextmanager
def private_copy(kind: str, name: str, data: bytes) -> Iterator[Path]:
    """``data`` in a file called ``name`` inside a new private folder, deleted when the block ends."""
    folder = private_folder(kind)
    try:
        path = folder / name
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


UPLOADS = "upload"
"""Request bodies the service reads (a bundle, a trial record)."""
LINE_INDEXES = "ndjson"
"""The line index of an NDJSON export being read."""
KINDS = (UPLOADS, LINE_INDEXES)


def sweep_all() -> list[Path]:
    """Delete every kind of scratch folder a killed trialmatch process left (run as each command starts)."""
    return [folder for kind in KINDS for folder in sweep(kind)]


def sweep(kind: str, root: Path | None = None) -> list[Path]:
    """Delete the ``kind`` scratch folders of processes that no longer run (this user's only); returns them."""
    removed = []
    base = root or Path(tempfile.gettempdir())
    for folder in base.glob(f"{PREFIX}{kind}-*-*"):
        pid = folder.name.removeprefix(f"{PREFIX}{kind}-").split("-", 1)[0]
        mine = folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid()
        if mine and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
