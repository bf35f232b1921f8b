"""Which rule file belongs to a trial (the user's library first, then the bundled curated files), and coverage.

A trial bound to its rule file is a :class:`TrialRules`; everything that screens, shows or counts a trial's rules
goes through it, so staleness and coverage are computed in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

from trialmatch.identifiers import file_stem, problem, within
from trialmatch.rules.ast import Condition
from trialmatch.rules.record_limits import record_limits
from trialmatch.rules.rulefile import CriterionRules, RuleFile, load_rule_file
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.model import Criterion, Trial

RULE_SUFFIX = ".rules.yaml"


def bundled_rules_dir() -> Path:
    """The folder of curated rule files shipped with the package."""
    return Path(str(resources.files("trialmatch") / "data" / "rules"))


def library_rules_dir(library_root: Path) -> Path:
    """Where a user's library keeps rule files (drafted on import, or written by the site)."""
    return library_root / "rules"


def rule_file_name(identifier: str) -> str:
    """The rule file name for a trial id or alias (encoded by the identifier policy: never a path)."""
    return f"{file_stem(identifier)}{RULE_SUFFIX}"


@cache
def _load_cached(path: Path, mtime: float) -> RuleFile:
    return load_rule_file(path, concepts=default_library().ids())


def load_rules(path: Path) -> RuleFile:
    """Load and validate a rule file once per process (reloaded when the file changes)."""
    return _load_cached(path, path.stat().st_mtime)


def find_rule_file(trial: Trial, search: Iterable[Path] = ()) -> Path | None:
    """The rule file for a trial: first in the user's folders (``search``), then the bundled ones.

    A user's file wins so that a site can override a bundled trial's rules. The file is named after the trial's
    canonical id or any of its aliases; a name the identifier policy refuses names no file, and a file that
    resolves outside its folder (a link pointing elsewhere) is not read.
    """
    names = [n for n in (trial.trial_id, *trial.aliases) if problem(n) is None]
    for folder in [*search, bundled_rules_dir()]:
        for name in names:
            candidate = folder / rule_file_name(name)
            if candidate.is_file():
                return within(folder, candidate.name)
    return None


@dataclass(frozen=True)
class Coverage:
    """How many criteria and sub-items are computable, partial, review, unknown (a rule that decides nothing) or
    have no rule (parts not counted)."""

    trial_id: str
    computable: int = 0
    partial: int = 0
    review: int = 0
    unknown: int = 0
    no_rule: int = 0
    stale: int = 0

    @property
    def total(self) -> int:
        """Criteria and sub-items counted."""
        return self.computable + self.partial + self.review + self.unknown + self.no_rule

    def line(self) -> str:
        """E.g. ``NCT01565200: 28 criteria: 18 computable, 3 partial, 7 review``."""
        text = f"{self.trial_id}: {self.total} criteria: {self.computable} computable, {self.partial} partial, "
        text += f"{self.review} review"
        if self.unknown:
            text += f", {self.unknown} not understood"
        if self.no_rule:
            text += f", {self.no_rule} without a rule"
        if self.stale:
            text += f", {self.stale} stale"
        return text

    def short(self) -> str:
        """Compact form for tables: ``18/3/7`` (computable/partial/review), or ``no rules``."""
        if self.no_rule == self.total:
            return "no rules"
        unread = self.unknown + self.no_rule
        return f"{self.computable}/{self.partial}/{self.review}" + (f" +{unread} none" if unread else "")


@dataclass(frozen=True)
class TrialRules:
    """A trial bound to its rule file (None when nobody has curated or drafted rules for it yet)."""

    trial: Trial
    rules: RuleFile | None

    @cached_property
    def _record_limits(self) -> dict[str, tuple[Criterion, CriterionRules]]:
        return {criterion.id: (criterion, entry) for criterion, entry in record_limits(self.trial)}

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """What screening evaluates: the record's sex and age limits (``record-sex``, ``record-age``), then the
        trial's own top-level criteria."""
        return (*(criterion for criterion, _ in self._record_limits.values()), *self.trial.criteria)

    def entry(self, criterion_id: str) -> CriterionRules | None:
        """The rule entry for a criterion or sub-item (or a record limit), if there is one."""
        if criterion_id in self._record_limits:
            return self._record_limits[criterion_id][1]
        if self.rules is None:
            return None
        return next((c for c in self.rules.criteria if c.id == criterion_id), None)

    def is_stale(self, criterion_id: str) -> bool:
        """Whether the criterion's text no longer matches the text its rule was written for."""
        entry = self.entry(criterion_id)
        return entry is not None and entry.text_hash != self.trial.criterion(criterion_id).text_hash

    def rule_for(self, criterion_id: str) -> Condition | None:
        """The criterion's whole rule (parts combined, exceptions folded in); None without one of its own."""
        entry = self.entry(criterion_id)
        if criterion_id in self._record_limits and entry is not None:
            return entry.rule
        if self.rules is None or entry is None or entry.qualifies:
            return None
        return self.rules.resolved_rule(criterion_id)

    @property
    def version(self) -> str | None:
        """The rule set's version and content hash, for audit."""
        return self.rules.rules_version if self.rules else None

    def coverage(self) -> Coverage:
        """Computability counts over every criterion and sub-item of the trial."""
        counts = {"computable": 0, "partial": 0, "review": 0, "unknown": 0, "no_rule": 0, "stale": 0}
        for criterion in self.trial.all_criteria():
            entry = self.entry(criterion.id)
            counts[entry.computability if entry else "no_rule"] += 1
            counts["stale"] += int(self.is_stale(criterion.id))
        return Coverage(trial_id=self.trial.trial_id, **counts)


def bind(trial: Trial, search: Sequence[Path] = ()) -> TrialRules:
    """The trial with its rule file (user folders first, then bundled), or with none."""
    path = find_rule_file(trial, search)
    return TrialRules(trial=trial, rules=load_rules(path) if path else None)
