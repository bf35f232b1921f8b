"""Drafting whole trials: drafted flags and spans, rule files that read back, limits filled, sub-items, and
properties of the numeric patterns and of arbitrary text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.rules.ast import Any, Compare, Quantity
from trialmatch.rules.drafting.draft import draft_criterion, draft_trial, with_limits
from trialmatch.rules.drafting.invariants import violations
from trialmatch.rules.rulefile import dump_rule_file, read_rule_file
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.library import bundled_trials
from trialmatch.trials.model import Criterion, CriterionType, Trial, TrialSource
from trialmatch.trials.sources import read_trials

FIXTURES = Path(__file__).parents[2] / "trials" / "fixtures"


def _trial(*texts: str) -> Trial:
    criteria = tuple(Criterion(id=f"inc-{n}", type=CriterionType.INCLUSION, text=t) for n, t in enumerate(texts, 1))
    return Trial(trial_id="NCT90000001", title="t", source=TrialSource(format="test"), criteria=criteria)


@pytest.mark.parametrize("trial", bundled_trials(), ids=lambda t: t.trial_id)
def test_drafted_file_reads_back_with_every_criterion_marked(trial: Trial) -> None:
    rules = draft_trial(trial)
    again = read_rule_file(dump_rule_file(rules).encode(), name=trial.trial_id, concepts=default_library().ids())
    assert [c.id for c in again.criteria] == [c.id for c in trial.all_criteria()]
    assert all(c.drafted and c.span is not None for c in again.criteria)
    for criterion in again.criteria:
        assert criterion.span is not None
        assert 0 <= criterion.span[0] < criterion.span[1] <= len(criterion.text)


def test_span_points_at_the_text_read() -> None:
    text = "Adequate cardiac reserve (EF≥50%)"
    draft = draft_criterion(Criterion(id="inc-5", type=CriterionType.INCLUSION, text=text))
    assert text[draft.span[0] : draft.span[1]] == "EF≥50%"


def test_limits_filled_only_where_the_record_has_none() -> None:
    trial = _trial("Women age > 18", "ECOG 0-1")
    filled = with_limits(trial)
    assert (filled.sex, filled.minimum_age_years) == ("FEMALE", 18.0)
    stated = trial.model_copy(update={"minimum_age_years": 21.0})
    assert with_limits(stated).minimum_age_years == 21.0


def test_sub_items_carry_the_rules_of_their_parent() -> None:
    (trial,) = read_trials(FIXTURES / "listing_synthetic.txt")
    rules = draft_trial(trial)
    parent = rules.criterion("inc-2")
    assert parent.rule is None and not parent.parts
    assert rules.resolved_rule("inc-2") is not None
    assert parent.computability == "computable"


@given(count=st.integers(min_value=100, max_value=900_000))
def test_cell_counts_per_cubic_millimetre_become_thousands_per_microlitre(count: int) -> None:
    draft = draft_criterion(Criterion(id="inc-1", type=CriterionType.INCLUSION, text=f"Platelets ≥ {count:,}/mm3"))
    assert isinstance(draft.rule, Compare) and isinstance(draft.rule.threshold, Quantity)
    assert draft.rule.threshold.value == pytest.approx(count / 1000)


@settings(max_examples=60)
@given(text=st.text(min_size=1, max_size=200))
def test_any_text_drafts_to_a_valid_rule(text: str) -> None:
    draft = draft_criterion(Criterion(id="exc-1", type=CriterionType.EXCLUSION, text=text))
    assert draft.rule is not None or draft.parts
    assert draft.computability in ("computable", "partial", "review", "unknown")
    rule = draft.rule or Any(items=tuple(p.rule for p in draft.parts))
    assert violations(rule, exclusion=True) == []
