"""Worker processes that end with the process that started them.

A pool worker of a killed ``cohort ingest`` must not go on writing: each worker asks the kernel to kill it
when its parent dies (Linux ``PR_SET_PDEATHSIG``), and a watchdog thread checks its parent twice a second
where that is not available (or the parent died before the request was made).

The kernel sends that signal when the *thread* that started the worker ends, so a pool must be started by a
thread that lives as long as the pool (the main thread, or a server's event-loop thread).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


def die_with_parent() -> None:
    """Pool initializer: end this process as soon as its parent is gone."""
    parent = multiprocessing.parent_process()
    expected = parent.pid if parent is not None and parent.pid is not None else os.getppid()
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != expected:
        os._exit(1)
    threading.Thread(target=_watch, args=(expected,), name="parent-watchdog", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
