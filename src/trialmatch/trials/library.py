"""The user's trial library (imported records on disk) plus the trials bundled with the package.

Layout of a library directory::

    trials/<trial_id>.json            the Trial as read (JSON of the model)
    sources/<trial_id>/<file name>    a copy of the file it was read from, to trace criteria to their document
    audit.sqlite3                     who imported, replaced or removed which trial, and when (``trialmatch.audit``)

File names come from ids through :mod:`trialmatch.identifiers` (encoded, and resolved inside the library).
A bundled trial is curated: an import with its id or one of its aliases is refused unless the caller passes
``replace_bundled``, and the replacement is recorded in the audit log.
"""

from __future__ import annotations

import os
import shutil
from functools import cache
from importlib.resources import files
from pathlib import Path

import platformdirs
from pydantic import ValidationError

from trialmatch.atomic import write_text
from trialmatch.audit import AuditLog, local_actor
from trialmatch.errors import CuratedTrialError, LibraryError, NotInLibraryError
from trialmatch.identifiers import check, file_stem, shown, within
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


@cache
def _bundled_ids() -> dict[str, str]:
    """Every folded id and alias of a bundled trial, to the trial's id."""
    return {fold_id(name): t.trial_id for t in _bundled() for name in (t.trial_id, *t.aliases)}


def _curated_id(trial: Trial) -> str | None:
    """The bundled trial that ``trial`` would replace (same id or alias), if any."""
    bundled = _bundled_ids()
    return next((bundled[fold_id(n)] for n in (trial.trial_id, *trial.aliases) if fold_id(n) in bundled), None)


def audit_path(root: Path) -> Path:
    """The library's audit database (the service may be told to use another)."""
    return root / "audit.sqlite3"


class TrialLibrary:
    """Imported trials in a directory, with the bundled trials unless ``include_bundled`` is false."""

    def __init__(
        self, root: Path | None = None, *, include_bundled: bool = True, audit: AuditLog | None = None
    ) -> None:
        self.root = root if root is not None else default_library_dir()
        self.include_bundled = include_bundled
        self._loaded: list[Trial] | None = None  # load_all's answer until a record is written
        self._audit = audit

    @property
    def audit(self) -> AuditLog:
        """The audit log library changes go to (opened when first needed)."""
        if self._audit is None:
            try:
                self._audit = AuditLog(audit_path(self.root))
            except (OSError, ValueError) as exc:
                raise LibraryError(f"cannot open the library's audit log: {type(exc).__name__}") from exc
        return self._audit

    @property
    def _trials_dir(self) -> Path:
        return self.root / "trials"

    def import_file(self, path: Path, *, replace_bundled: bool = False, actor: str | None = None) -> list[Trial]:
        """Read ``path`` and store each trial in it (replacing an earlier import of the same id).

        Every trial is checked before any is written, so a refused file changes nothing. A trial that is
        bundled (by id or alias) is refused unless ``replace_bundled``; each import goes to the audit log."""
        trials = read_trials(path)
        for trial in trials:
            for name in (trial.trial_id, *trial.aliases):
                check(name, f"{path.name}: trial id or alias")
            curated = _curated_id(trial)
            if curated is not None and not replace_bundled:
                raise CuratedTrialError(
                    f"{path.name}: {trial.trial_id} is the bundled, curated trial {curated}; replacing it needs the "
                    "explicit override (--replace-bundled, or replace_bundled=true in the API), which the audit "
                    "log records"
                )
        for trial in trials:
            self._store(trial, path)
            action = "import" if _curated_id(trial) is None else "replace-bundled"
            self.audit.record_change(action, trial.trial_id, f"from {path.name}", actor=actor or local_actor())
        return trials

    def _store(self, trial: Trial, source: Path) -> None:
        """Write the record and a copy of its source; the record then names the copy, not the user's path."""
        try:
            copy_dir = within(self.root, "sources", file_stem(trial.trial_id))
            copy = within(copy_dir, source.name)
            if copy_dir.exists():
                shutil.rmtree(copy_dir)
            copy_dir.mkdir(parents=True)
            shutil.copyfile(source, copy)
        except OSError as exc:
            raise LibraryError(f"cannot write trial {trial.trial_id} to the library: {exc.strerror}") from exc
        self.update(trial)

    def update(self, trial: Trial) -> None:
        """Rewrite an imported trial's record (for example with limits read from its criteria), atomically."""
        file_name = Path(trial.source.file).name if trial.source.file else None
        trial = trial.model_copy(update={"source": trial.source.model_copy(update={"file": file_name})})
        try:
            self._trials_dir.mkdir(parents=True, exist_ok=True)
            write_text(within(self._trials_dir, f"{file_stem(trial.trial_id)}.json"), trial.model_dump_json(indent=2))
            self._loaded = None
        except OSError as exc:
            raise LibraryError(f"cannot write trial {trial.trial_id} to the library: {exc.strerror}") from exc

    def remove(self, id_or_alias: str, *, actor: str | None = None) -> Trial:
        """Delete an imported trial's record and source copy (its rule files stay), recorded in the audit log.

        LibraryError when no imported trial has that id or alias: a bundled trial cannot be removed (one an
        import replaced comes back when the import is removed)."""
        wanted = fold_id(id_or_alias)
        trial = next((t for t in self.stored() if wanted in {fold_id(n) for n in (t.trial_id, *t.aliases)}), None)
        if trial is None:
            raise NotInLibraryError(f"no imported trial with id or alias '{shown(id_or_alias)}' (bundled trials stay)")
        try:
            within(self._trials_dir, f"{file_stem(trial.trial_id)}.json").unlink()
            shutil.rmtree(within(self.root, "sources", file_stem(trial.trial_id)), ignore_errors=True)
        except OSError as exc:
            raise LibraryError(f"cannot remove trial {trial.trial_id} from the library: {exc.strerror}") from exc
        self.audit.record_change(
            "remove", trial.trial_id, "record and source copy deleted", actor=actor or local_actor()
        )
        return trial

    def stored(self) -> list[Trial]:
        """Trials imported into this library, by id."""
        if not self._trials_dir.is_dir():
            return []
        return [self._load(path) for path in sorted(self._trials_dir.glob("*.json"))]

    def _load(self, path: Path) -> Trial:
        try:
            return Trial.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise LibraryError(f"{path.name}: library record unreadable; re-import its source file") from exc

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
        raise NotInLibraryError(f"no trial with id or alias '{shown(id_or_alias)}' in the library")
