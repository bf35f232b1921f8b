"""Which trials a command works on: the library (with the bundled trials), or ``--trials`` ids, files, folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from trialmatch.errors import InputError, LibraryError, RuleError
from trialmatch.rules.catalog import TrialRules, bind, library_rules_dir
from trialmatch.trials.library import TrialLibrary
from trialmatch.trials.model import Trial
from trialmatch.trials.sources import read_trials


def _from_argument(argument: str, library: TrialLibrary, errors: list[str]) -> list[Trial]:
    """The trials an argument names: each record file of a folder, a file, or a library id."""
    path = Path(argument)
    if not path.exists():
        return [library.get(argument)]
    files = sorted(f for f in path.iterdir() if f.is_file()) if path.is_dir() else [path]
    trials: list[Trial] = []
    for file in files:
        try:
            trials.extend(read_trials(file))
        except InputError as exc:
            errors.append(str(exc))
    if path.is_dir() and not trials:
        errors.append(f"{path}: no trial records in this folder")
    return trials


def select(
    arguments: Sequence[str], library_root: Path | None, *, no_bundled: bool = False
) -> tuple[list[TrialRules], list[str]]:
    """The trials named (or the whole library when none are), each bound to its rules; and the errors met.

    Each unusable file, id or rule file gives one error naming it; the others are still used.
    """
    library = TrialLibrary(library_root, include_bundled=not no_bundled)
    errors: list[str] = []
    trials: list[Trial] = []
    try:
        if not arguments:
            trials = library.load_all()
    except LibraryError as exc:
        errors.append(str(exc))
    for argument in arguments:
        try:
            trials.extend(_from_argument(argument, library, errors))
        except (InputError, LibraryError) as exc:
            errors.append(str(exc))
    unique = list({t.trial_id: t for t in trials}.values())
    search = [library_rules_dir(library.root)]
    bound = []
    for trial in unique:
        try:
            bound.append(bind(trial, search))
        except RuleError as exc:
            errors.append(f"{trial.trial_id}: its rule file cannot be used: {exc}")
    return bound, errors
