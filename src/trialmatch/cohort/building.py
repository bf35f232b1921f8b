"""Writing a facts store safely: one writer at a time, built aside, swapped in whole.

A writer takes an exclusive lock on ``.<store>.lock`` beside the store (``fcntl.flock``: the kernel drops it
when the process dies, however it dies). Under the lock it first clears what a killed run left (its building
folder, or a store it had moved aside: that one is put back when no store stands in its place), builds the new
store in ``.<store>.building-<pid>`` and, when complete, moves the old store aside, the new one into place and
then deletes the old. Readers therefore see the old complete store or the new complete one, never a mix; a
second writer fails at once with a message naming the store.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trialmatch.cohort.store import MANIFEST
from trialmatch.errors import InputError


class StoreBusyError(InputError):
    """Another process is writing the store."""


def _sibling(store: Path, what: str) -> Path:
    return store.parent / f".{store.name}.{what}"


@contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """Hold the store's writer lock; StoreBusyError at once when another process holds it."""
    store.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(_sibling(store, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusyError(
                f"{store}: another ingest is writing this facts store; wait for it to finish, or choose another --out"
            ) from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def leftovers(store: Path) -> list[Path]:
    """Folders a killed writer of this store left beside it."""
    return sorted(store.parent.glob(f".{store.name}.building-*")) + sorted(store.parent.glob(f".{store.name}.old-*"))


def recover(store: Path) -> None:
    """Under the lock: put back a store a killed run moved aside (when none stands in its place), delete the rest."""
    for folder in leftovers(store):
        if folder.name.startswith(f".{store.name}.old-") and not store.exists() and (folder / MANIFEST).is_file():
            folder.rename(store)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _check_target(store: Path) -> None:
    """Only a facts store (or nothing, or an empty folder) may be replaced: never a user's other folder."""
    if store.exists() and (not store.is_dir() or (any(store.iterdir()) and not (store / MANIFEST).is_file())):
        raise InputError(f"{store}: exists and is not a facts store; choose a new or empty folder for --out")


@contextmanager
def rebuild(store: Path) -> Iterator[Path]:
    """A fresh folder to build the store in, under the writer lock; swapped into place when the block ends
    without an error, deleted when it raises."""
    with store_lock(store):
        recover(store)
        _check_target(store)
        building = _sibling(store, f"building-{os.getpid()}")
        building.mkdir(mode=0o700)
        try:
            yield building
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        _swap(building, store)


def _swap(building: Path, store: Path) -> None:
    """Move the old store aside, the new one in, then delete the old (a crash in between is undone by recover)."""
    old = _sibling(store, f"old-{os.getpid()}")
    if store.exists():
        store.rename(old)
    building.rename(store)
    shutil.rmtree(old, ignore_errors=True)
