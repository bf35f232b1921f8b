"""The limits a trial record states outside its criteria text (ClinicalTrials.gov eligibilityModule ``sex``,
``minimumAge``, ``maximumAge``), screened as the inclusion criteria ``record-sex`` and ``record-age`` that the
screening-result contract names, so a man is not eligible for a women-only trial whatever its criteria say.

Age is derived in whole years, so a limit that is not a whole number of years (``6 Months``) is decided only
where whole years settle it, and is unknown in the year it falls in.
"""

from __future__ import annotations

import math

from trialmatch.rules.ast import All, Any, Category, Compare, Condition, Derived, Operator, Quantity, Unknown
from trialmatch.rules.rulefile import CriterionRules, computability_of
from trialmatch.trials.model import Criterion, CriterionType, Trial

RECORD_SEX = "record-sex"
RECORD_AGE = "record-age"
_SEXES = {"FEMALE": "female", "MALE": "male"}


def _age(op: Operator, years: float) -> Compare:
    return Compare(value=Derived(name="age"), op=op, threshold=Quantity(value=years))


def _minimum(years: float) -> Condition:
    if years == int(years):
        return _age(">=", years)
    unsure = Unknown(reason=f"age in months, to compare with the minimum age of {years:g} years")
    return Any(items=(_age(">=", math.ceil(years)), All(items=(_age(">=", math.floor(years)), unsure))))


def _maximum(years: float) -> Condition:
    if years == int(years):
        return _age("<=", years)
    unsure = Unknown(reason=f"age in months, to compare with the maximum age of {years:g} years")
    return Any(items=(_age("<", math.floor(years)), All(items=(_age("<=", math.floor(years)), unsure))))


def _entry(criterion: Criterion, rule: Condition) -> CriterionRules:
    return CriterionRules(
        id=criterion.id,
        text=criterion.text,
        text_hash=criterion.text_hash,
        computability=computability_of(rule),
        rule=rule,
        note="From the trial record's eligibility limits, not from its criteria text.",
    )


def _sex(trial: Trial) -> tuple[Criterion, CriterionRules] | None:
    sex = _SEXES.get((trial.sex or "").upper())
    if sex is None:
        return None
    criterion = Criterion(id=RECORD_SEX, type=CriterionType.INCLUSION, text=f"Sex: {trial.sex}")
    return criterion, _entry(criterion, Compare(value=Derived(name="sex"), op="==", threshold=Category(value=sex)))


def _ages(trial: Trial) -> tuple[Criterion, CriterionRules] | None:
    low, high = trial.minimum_age_years, trial.maximum_age_years
    stated = [(f"Minimum age: {low:g} Years", _minimum(low))] if low is not None else []
    stated += [(f"Maximum age: {high:g} Years", _maximum(high))] if high is not None else []
    if not stated:
        return None
    criterion = Criterion(id=RECORD_AGE, type=CriterionType.INCLUSION, text="; ".join(text for text, _ in stated))
    rules = [rule for _, rule in stated]
    return criterion, _entry(criterion, rules[0] if len(rules) == 1 else All(items=tuple(rules)))


def record_limits(trial: Trial) -> tuple[tuple[Criterion, CriterionRules], ...]:
    """The record's sex and age limits as criteria with their rules (none where the record states none)."""
    return tuple(found for found in (_sex(trial), _ages(trial)) if found is not None)
