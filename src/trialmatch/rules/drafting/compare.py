"""Compare drafted rules with the curated ones, criterion by criterion, on the same test patients.

A drafted rule agrees when it gives every patient the status the curated rule gives; it contradicts when, for
some patient, one says met and the other not_met. Review and unknown are never contradictions: they send the
patient to the site.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.patients.model import PatientRecord
from trialmatch.rules.catalog import TrialRules, bind
from trialmatch.rules.drafting.draft import draft_trial
from trialmatch.rules.drafting.patients import AS_OF, generated, hand_built
from trialmatch.trials.library import bundled_trials

_DEFINITE = frozenset({Status.MET, Status.NOT_MET})


@dataclass(frozen=True)
class CriterionComparison:
    """How one criterion's draft fared against its curated rule."""

    trial_id: str
    criterion_id: str
    curated: str
    drafted: str
    agreeing: int
    patients: int
    contradicting: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        """The same status for every test patient."""
        return self.agreeing == self.patients


@dataclass(frozen=True)
class Agreement:
    """Totals over compared criteria, for the acceptance thresholds and ``docs/drafting.md``."""

    criteria: int
    computable: int
    computable_agreeing: int
    contradictions: int

    @property
    def share(self) -> float:
        """Share of curated-computable criteria drafted correctly."""
        return self.computable_agreeing / self.computable if self.computable else 0.0


def screening_patients(count: int = 120, examples: Path | None = None) -> list[PatientRecord]:
    """Hand-built and generated records, plus the example patients in ``examples`` when that folder exists."""
    patients = hand_built() + list(generated(count))
    if examples is not None and examples.is_dir():
        from trialmatch.patients.sources import read_patients

        for path in sorted(examples.glob("*.json")):
            patients.extend(read_patients(path))
    return patients


def compare_trial(
    curated: TrialRules, patients: Sequence[PatientRecord], as_of: dt.date = AS_OF
) -> list[CriterionComparison]:
    """Each criterion with a curated rule (exceptions folded in) against its draft, patient by patient."""
    drafted = TrialRules(trial=curated.trial, rules=draft_trial(curated.trial))
    out = []
    for criterion in curated.trial.all_criteria():
        gold, draft = curated.rule_for(criterion.id), drafted.rule_for(criterion.id)
        entry, draft_entry = curated.entry(criterion.id), drafted.entry(criterion.id)
        if gold is None or draft is None or entry is None or draft_entry is None:
            continue
        pairs = [(p.patient_id, evaluate(gold, p, as_of).status, evaluate(draft, p, as_of).status) for p in patients]
        contradicting = tuple(pid for pid, g, d in pairs if g != d and {g, d} <= _DEFINITE)
        out.append(
            CriterionComparison(
                curated.trial.trial_id,
                criterion.id,
                entry.computability,
                draft_entry.computability,
                sum(g == d for _, g, d in pairs),
                len(pairs),
                contradicting,
            )
        )
    return out


def compare_seeds(patients: Sequence[PatientRecord]) -> list[CriterionComparison]:
    """Every bundled (seed) trial's curated rules against their drafts."""
    out: list[CriterionComparison] = []
    for trial in bundled_trials():
        bound = bind(trial)
        if bound.rules is not None:
            out += compare_trial(bound, patients)
    return out


def agreement(comparisons: Sequence[CriterionComparison]) -> Agreement:
    """Totals for the report."""
    computable = [c for c in comparisons if c.curated == "computable"]
    return Agreement(
        criteria=len(comparisons),
        computable=len(computable),
        computable_agreeing=sum(c.agrees for c in computable),
        contradictions=sum(bool(c.contradicting) for c in comparisons),
    )


def report(comparisons: Sequence[CriterionComparison]) -> str:
    """One line per criterion, then the totals (what ``python -m trialmatch.rules.drafting.compare`` prints)."""
    lines = [
        f"{c.trial_id} {c.criterion_id:<8} curated {c.curated:<10} drafted {c.drafted:<10} "
        f"{c.agreeing}/{c.patients} agree" + (f"  CONTRADICTS on {len(c.contradicting)}" if c.contradicting else "")
        for c in comparisons
    ]
    total = agreement(comparisons)
    lines.append(
        f"{total.criteria} criteria compared; curated computable {total.computable}, drafted correctly "
        f"{total.computable_agreeing} ({total.share:.0%}); criteria with a contradiction: {total.contradictions}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    examples = Path(str(resources.files("trialmatch") / "data" / "patients" / "examples"))
    print(report(compare_seeds(screening_patients(examples=examples))))
