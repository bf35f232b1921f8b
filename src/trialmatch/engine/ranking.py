"""Ranking and filtering trials for one patient: best candidates first, recruiting before closed.

Recruitment status orders trials and can filter them, but never changes a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from trialmatch.engine.outcome import TrialOutcome
from trialmatch.trials.model import Trial

_VERDICT_ORDER = {"eligible": 0, "possible": 1, "ineligible": 2}
OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION", "AVAILABLE"})


def _key(outcome: TrialOutcome) -> tuple[int, int, int, str]:
    closed = 0 if outcome.recruitment_status in OPEN_STATUSES else 1
    unknowns = outcome.unknown_count if outcome.verdict == "possible" else 0
    return (_VERDICT_ORDER[outcome.verdict], unknowns, closed, outcome.trial_id)


def rank(outcomes: Iterable[TrialOutcome]) -> list[TrialOutcome]:
    """Eligible first, then possible (fewest unknown criteria first), then ineligible; open trials first."""
    return sorted(outcomes, key=_key)


def select_trials(trials: Sequence[Trial], *, recruiting_only: bool = False, country: str | None = None) -> list[Trial]:
    """Filter trials for a screen. A trial whose status or sites the record does not state is kept."""
    out = []
    for trial in trials:
        if recruiting_only and trial.recruitment_status and trial.recruitment_status not in OPEN_STATUSES:
            continue
        if country and trial.sites:
            wanted = country.casefold()
            if not any((s.country or "").casefold() == wanted for s in trial.sites):
                continue
        out.append(trial)
    return out
