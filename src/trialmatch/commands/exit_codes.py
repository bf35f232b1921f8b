"""Exit codes every command uses (shared contract ``cli.md``)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0: every input used; 1: done, but some input rejected; 2: nothing done."""

    OK = 0
    SOME_REJECTED = 1
    NOTHING_DONE = 2
