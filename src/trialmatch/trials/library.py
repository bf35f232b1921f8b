"""The user's trial library (imported records on disk) plus the trials bundled with the package.

Layout of a library directory::

    trials/<trial_id>.json            the Trial as read (JSON of the model)
    sources/<trial_id>/<file name>    a copy of the file it was read from, to trace criteria to their document
"""

from __future__ import annotations

import os
import re
import shutil
from functools import cache
from importlib.resources import files
from pathlib import Path

import platformdirs
from pydantic import ValidationError

from trialmatch.errors import LibraryError
from trialmatch.trials.aliases import fold_id
from trialmatch.trials.model import Trial
from trialmatch.trials.sources import read_trial_text, read_trials

ENV_VAR = "TRIALMATCH_HOME"
_SEED_SUFFIXES = (".txt", ".json")


def default_library_dir() -> Path:
    """``TRIALMATCH_HOME`` if set, else the platform's user data directory for trialmatch."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else Path(platformdirs.user_data_dir("trialmatch"))


@cache
def _bundled() -> tuple[Trial, ...]:
    seeds = files("trialmatch").joinpath("data/trials/seeds")
    trials: list[Trial] = []
    for entry in sorted(seeds.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(_SEED_SUFFIXES):
            trials.extend(read_trial_text(entry.read_text(encoding="utf-8"), entry.name))
    return tuple(trials)


def bundled_trials() -> list[Trial]:
    """The trials shipped with the package, read once per process."""
    return list(_bundled())


def _safe_name(trial_id: str) -> str:
    """A file name for a trial id (ids may hold ``/`` or ``#``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", trial_id)


class TrialLibrary:
    """Imported trials in a directory, with the bundled trials unless ``include_bundled`` is false."""

    def __init__(self, root: Path | None = None, *, include_bundled: bool = True) -> None:
        self.root = root if root is not None else default_library_dir()
        self.include_bundled = include_bundled
        self._loaded: list[Trial] | None = None  # load_all's answer until a record is written

    @property
    def _trials_dir(self) -> Path:
        return self.root / "trials"

    def import_file(self, path: Path) -> list[Trial]:
        """Read ``path`` and store each trial in it (replacing an earlier import of the same id)."""
        trials = read_trials(path)
        for trial in trials:
            self._store(trial, path)
        return trials

    def _store(self, trial: Trial, source: Path) -> None:
        """Write the record and a copy of its source; the record then names the copy, not the user's path."""
        copy_dir = self.root / "sources" / _safe_name(trial.trial_id)
        try:
            if copy_dir.exists():
                shutil.rmtree(copy_dir)
            copy_dir.mkdir(parents=True)
            shutil.copyfile(source, copy_dir / source.name)
        except OSError as exc:
            raise LibraryError(f"cannot write trial {trial.trial_id} to library {self.root}: {exc}") from exc
        self.update(trial)

    def update(self, trial: Trial) -> None:
        """Rewrite an imported trial's record (for example with limits read from its criteria)."""
        file_name = Path(trial.source.file).name if trial.source.file else None
        trial = trial.model_copy(update={"source": trial.source.model_copy(update={"file": file_name})})
        try:
            self._trials_dir.mkdir(parents=True, exist_ok=True)
            record = self._trials_dir / f"{_safe_name(trial.trial_id)}.json"
            record.write_text(trial.model_dump_json(indent=2), encoding="utf-8")
            self._loaded = None
        except OSError as exc:
            raise LibraryError(f"cannot write trial {trial.trial_id} to library {self.root}: {exc}") from exc

    def stored(self) -> list[Trial]:
        """Trials imported into this library, by id."""
        if not self._trials_dir.is_dir():
            return []
        return [self._load(path) for path in sorted(self._trials_dir.glob("*.json"))]

    def _load(self, path: Path) -> Trial:
        try:
            return Trial.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise LibraryError(f"{path}: library record unreadable; re-import its source file") from exc

    def load_all(self) -> list[Trial]:
        """Bundled trials (unless excluded), then imported ones; an import replaces a bundled record.

        Read once per instance (until this instance writes a record): a command naming 100 trials by id looks
        each up here, and re-reading the library for each made selection quadratic."""
        if self._loaded is None:
            stored = self.stored()
            replaced = {fold_id(trial.trial_id) for trial in stored}
            bundled = bundled_trials() if self.include_bundled else []
            self._loaded = [*(t for t in bundled if fold_id(t.trial_id) not in replaced), *stored]
        return list(self._loaded)

    def get(self, id_or_alias: str) -> Trial:
        """The trial with this id or alias (case-insensitive); LibraryError when none has it."""
        wanted = fold_id(id_or_alias)
        trials = self.load_all()
        for trial in trials:
            if fold_id(trial.trial_id) == wanted:
                return trial
        for trial in trials:
            if wanted in {fold_id(alias) for alias in trial.aliases}:
                return trial
        raise LibraryError(f"no trial with id or alias {id_or_alias!r} in library {self.root}")
