"""Which trials a command works on: the library (with the bundled trials), or ``--trials`` ids, files, folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from trialmatch.errors import InputError, LibraryError
from trialmatch.rules.catalog import TrialRules, bind, library_rules_dir
from trialmatch.trials.library import TrialLibrary
from trialmatch.trials.model import Trial
from trialmatch.trials.sources import read_trials


def _from_argument(argument: str, library: TrialLibrary) -> list[Trial]:
    path = Path(argument)
    if path.is_dir():
        trials = [t for f in sorted(path.iterdir()) if f.is_file() for t in read_trials(f)]
        if not trials:
            raise InputError(f"{path}: no trial records in this folder")
        return trials
    if path.is_file():
        return read_trials(path)
    return [library.get(argument)]


def select(
    arguments: Sequence[str], library_root: Path | None, *, no_bundled: bool = False
) -> tuple[list[TrialRules], list[str]]:
    """The trials named (or the whole library when none are), each bound to its rules; and the errors met.

    Each unusable argument gives one error naming it; the others are still used.
    """
    library = TrialLibrary(library_root, include_bundled=not no_bundled)
    errors: list[str] = []
    trials: list[Trial] = []
    if not arguments:
        trials = library.load_all()
    for argument in arguments:
        try:
            trials.extend(_from_argument(argument, library))
        except (InputError, LibraryError) as exc:
            errors.append(str(exc))
    unique = list({t.trial_id: t for t in trials}.values())
    search = [library_rules_dir(library.root)]
    return [bind(t, search) for t in unique], errors
