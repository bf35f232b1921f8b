"""How much of a set of trials the drafter can compute: shares by clause family and the commonest wording it
did not understand, so pattern work goes where real criteria need it. Nothing is written."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from trialmatch.rules.drafting.draft import NOT_UNDERSTOOD, draft_all
from trialmatch.trials.model import Trial

LEVELS = ("computable", "partial", "review", "unknown")
_PHRASE_WORDS = 6


@dataclass
class DraftCoverage:
    """Counts of drafted computability, overall and per clause family, and the phrases not understood."""

    trials: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    by_category: dict[str, Counter[str]] = field(default_factory=dict)
    not_understood: Counter[str] = field(default_factory=Counter)

    @property
    def criteria(self) -> int:
        """Criteria and sub-items drafted."""
        return sum(self.totals.values())

    def share(self, level: str, counts: Counter[str] | None = None) -> float:
        """Percentage of criteria (in ``counts``, default all) drafted at ``level``."""
        counts = self.totals if counts is None else counts
        total = sum(counts.values())
        return 100 * counts[level] / total if total else 0.0


def _phrase(text: str) -> str:
    words = re.findall(r"[\w'+-]+", text.lower())
    return " ".join(words[:_PHRASE_WORDS])


def measure(trials: Iterable[Trial]) -> DraftCoverage:
    """Draft every criterion of every trial in memory and count the outcome."""
    result = DraftCoverage()
    for trial in trials:
        result.trials += 1
        for drafted in draft_all(trial):
            result.totals[drafted.computability] += 1
            for category in drafted.categories:
                result.by_category.setdefault(category, Counter())[drafted.computability] += 1
            result.not_understood.update(_phrase(piece) for piece in drafted.not_understood)
    return result


def render(result: DraftCoverage, top: int = 10) -> str:
    """The coverage report, ending with ``N trials, M criteria: X% computable, Y% partial, Z% review`` (the
    command-line contract's last line); the share not understood (unknown) is the line before it."""
    lines = [f"{'category':<18} {'criteria':>8} " + " ".join(f"{level:>10}" for level in LEVELS)]
    for category, counts in sorted(result.by_category.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        shares = " ".join(f"{result.share(level, counts):>9.0f}%" for level in LEVELS)
        lines.append(f"{category:<18} {sum(counts.values()):>8} {shares}")
    if result.not_understood:
        lines += ["", f"Commonest phrases {NOT_UNDERSTOOD}:"]
        lines += [f"  {n:>3} × {phrase}" for phrase, n in result.not_understood.most_common(top)]
    shares = ", ".join(f"{result.share(level):.0f}% {level}" for level in LEVELS[:3])
    lines += ["", f"{result.share('unknown'):.0f}% not understood (unknown until a person writes the rule)"]
    lines += [f"{result.trials} trials, {result.criteria} criteria: {shares}"]
    return "\n".join(lines)
