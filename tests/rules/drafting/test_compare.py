"""Acceptance: drafts of the five seed trials against their curated rules on hand-built and generated patients,
and the real PALLAS record (NCT02513394) drafting without error."""

from __future__ import annotations

import functools
from pathlib import Path

import trialmatch
from trialmatch.rules.drafting.compare import CriterionComparison, agreement, compare_seeds, screening_patients
from trialmatch.rules.drafting.coverage import measure
from trialmatch.rules.drafting.draft import draft_trial
from trialmatch.rules.rulefile import dump_rule_file, read_rule_file
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.sources import read_trials

EXAMPLES = Path(trialmatch.__file__).parent / "data" / "patients" / "examples"


@functools.cache
def comparisons() -> tuple[CriterionComparison, ...]:
    return tuple(compare_seeds(screening_patients(count=80, examples=EXAMPLES)))


def test_most_computable_seed_criteria_are_drafted_correctly() -> None:
    total = agreement(comparisons())
    assert total.computable >= 30
    assert total.share >= 0.6


def test_no_draft_contradicts_its_curated_rule() -> None:
    contradicting = [(c.trial_id, c.criterion_id, c.contradicting[:3]) for c in comparisons() if c.contradicting]
    assert contradicting == []


def test_generated_patients_exercise_both_outcomes() -> None:
    """The test patients are varied enough that the lab and cardiac drafts are both met and not met."""
    ranged = [c for c in comparisons() if c.curated == "computable" and c.agrees]
    assert len(ranged) >= 20
    assert len({p.patient_id for p in screening_patients(count=80)}) == 83


def test_pallas_record_imports_and_drafts(shared_dir: Path) -> None:
    (trial,) = read_trials(shared_dir / "fixtures" / "ctgov" / "NCT02513394.json")
    rules = draft_trial(trial)
    read_rule_file(dump_rule_file(rules).encode(), name="NCT02513394", concepts=default_library().ids())
    assert rules.criterion("inc-8").rule is not None
    coverage = measure([trial])
    assert coverage.criteria == len(trial.all_criteria())
    assert coverage.totals["computable"] >= 10
