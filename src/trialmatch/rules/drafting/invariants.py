"""What no drafted rule may ever say, checked before a draft is kept (and by ``rules check`` on drafted entries).

Each check names a class of confident wrong verdict seen in real drafts: an exclusion drafted as the negation
of a condition (everyone *without* it excluded), a rule holding X and not-X or bounds that cannot both hold
(everyone failed), an inclusion requiring pregnancy or breast-feeding, and a comparison whose value and
threshold cannot meet (a unit that does not convert to the concept's, a number against a coded concept) which
would stop screening for every patient with that value. A draft that breaks one is replaced by ``unknown``
with the reason, so a person reads the criterion instead of the engine guessing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NoReturn

from trialmatch.errors import RuleError, UnitError
from trialmatch.rules.ast import (
    All,
    Any,
    Category,
    CategorySet,
    Compare,
    Condition,
    Extreme,
    Flag,
    Has,
    Latest,
    Not,
    Quantity,
    UlnMultiple,
    Unless,
    When,
)
from trialmatch.rules.comparisons import check_compare
from trialmatch.rules.printer import print_rule
from trialmatch.rules.rulefile import RuleFile
from trialmatch.rules.syntax import parse_rule
from trialmatch.terminology.concepts import ConceptLibrary, default_library
from trialmatch.terminology.units import convert

_PREGNANCY_FLAGS = frozenset({"pregnant", "breastfeeding"})
_PREGNANCY_CONCEPTS = frozenset({"condition.pregnancy", "condition.breastfeeding", "condition.lactation"})


def _alternatives(rule: Condition) -> tuple[Condition, ...]:
    """The alternatives of an exclusion: any one of them excludes."""
    return tuple(a for item in rule.items for a in _alternatives(item)) if isinstance(rule, Any) else (rule,)


def _conjuncts(rule: Condition, kind: type[All] | type[Any]) -> list[Condition]:
    if isinstance(rule, kind):
        return [c for item in rule.items for c in _conjuncts(item, kind)]
    return [rule]


def _nodes(rule: Condition) -> Iterator[Condition]:
    yield rule
    match rule:
        case All(items=items) | Any(items=items):
            for item in items:
                yield from _nodes(item)
        case Not(item=item):
            yield from _nodes(item)
        case When(condition=condition, then=then, otherwise=otherwise):
            for branch in (condition, then, otherwise):
                if branch is not None:
                    yield from _nodes(branch)
        case Unless(rule=inner, exception=exception):
            yield from _nodes(inner)
            yield from _nodes(exception)


def negated_exclusion(rule: Condition) -> str | None:
    """An exclusion (or one of its alternatives) stated as ``not(X)``: it would exclude everyone without X."""
    if any(isinstance(a, Not) for a in _alternatives(rule)):
        return "an exclusion stated as the absence of a condition would exclude everyone without it"
    return None


def _bounds(items: list[Condition]) -> str | None:
    """Numeric bounds on one value, in one unit, that no value can satisfy together (age >= 18 and age < 18)."""
    low: dict[str, tuple[float, bool]] = {}
    high: dict[str, tuple[float, bool]] = {}
    for item in items:
        if not (isinstance(item, Compare) and isinstance(item.threshold, Quantity)):
            continue
        key = f"{item.value.model_dump_json()}|{item.threshold.unit}"
        value = item.threshold.value
        if item.op in (">", ">="):
            bound = (value, item.op == ">")
            low[key] = max(low.get(key, bound), bound)
        elif item.op in ("<", "<="):
            bound = (value, item.op == "<")
            high[key] = min(high.get(key, bound), bound, key=lambda b: (b[0], not b[1]))
        else:
            continue
        if key in low and key in high:
            (lo, lo_strict), (hi, hi_strict) = low[key], high[key]
            if lo > hi or (lo == hi and (lo_strict or hi_strict)):
                return "bounds that cannot both hold"
    return None


def contradiction(rule: Condition) -> str | None:
    """X and not-X, or impossible bounds, required together; or X or not-X offered as alternatives."""
    for node in _nodes(rule):
        if not isinstance(node, All | Any):
            continue
        items = _conjuncts(node, type(node))
        negated = {i.item for i in items if isinstance(i, Not)}
        if any(i in negated for i in items):
            what = "required together" if isinstance(node, All) else "offered as alternatives"
            return f"a condition and its negation {what}"
        if isinstance(node, All) and (found := _bounds(items)):
            return found
    return None


def _pregnancy(node: Condition) -> bool:
    if isinstance(node, Flag):
        return node.name in _PREGNANCY_FLAGS
    return isinstance(node, Has) and node.concept in _PREGNANCY_CONCEPTS


def _required(rule: Condition, positive: bool) -> Iterator[tuple[Condition, bool]]:
    """Leaves with the polarity in which meeting them helps meet the rule (conditions of when/unless skipped)."""
    match rule:
        case All(items=items) | Any(items=items):
            for item in items:
                yield from _required(item, positive)
        case Not(item=item):
            yield from _required(item, not positive)
        case When(then=then, otherwise=otherwise):
            for branch in (then, otherwise):
                if branch is not None:
                    yield from _required(branch, positive)
        case Unless(rule=inner):
            yield from _required(inner, positive)
        case _:
            yield rule, positive


def required_pregnancy(rule: Condition, exclusion: bool) -> str | None:
    """An inclusion met by being pregnant or breast-feeding (or an exclusion met by not being)."""
    if any(_pregnancy(leaf) and positive != exclusion for leaf, positive in _required(rule, True)):
        return "it would require pregnancy or breast-feeding"
    return None


def _fail(message: str) -> NoReturn:
    raise RuleError(message)


def _concept_check(node: Compare, library: ConceptLibrary) -> None:
    assert isinstance(node.value, Latest | Extreme)
    if node.value.concept not in library.ids():
        _fail(f"'{node.value.concept}' is not a concept of the library")
    concept = library.get(node.value.concept)
    threshold = node.threshold
    if concept.value_type == "coded" and isinstance(threshold, Quantity | UlnMultiple):
        _fail(f"{concept.id} is coded, not a number")
    if concept.value_type == "number" and isinstance(threshold, Category | CategorySet):
        _fail(f"{concept.id} is a number, not a category")
    if isinstance(threshold, Quantity) and threshold.unit is not None and concept.unit is not None:
        try:
            convert(threshold.value, threshold.unit, concept.unit, concept.molar_mass)
        except UnitError:
            _fail(f"{threshold.unit} does not convert to {concept.unit}, the unit of {concept.id}")


def mistyped(rule: Condition, library: ConceptLibrary | None = None) -> str | None:
    """The first comparison whose value and threshold cannot meet (type or unit), which would stop screening."""
    library = library or default_library()
    for node in _nodes(rule):
        if not isinstance(node, Compare):
            continue
        try:
            check_compare(node.value, node.op, node.threshold, _fail)
            if isinstance(node.value, Latest | Extreme):
                _concept_check(node, library)
        except RuleError as exc:
            return f"a comparison that cannot be made ({exc})"
    return None


def unreadable(rule: Condition, library: ConceptLibrary | None = None) -> str | None:
    """A rule that would not read back from its rule file (an unknown concept or name): the file would not load."""
    library = library or default_library()
    try:
        parse_rule(print_rule(rule), concepts=library.ids())
    except RuleError as exc:
        return f"a rule that does not read back ({getattr(exc, 'message', exc)})"
    return None


def violations(rule: Condition, exclusion: bool, library: ConceptLibrary | None = None) -> list[str]:
    """Every invariant the rule breaks, in words; empty when it may stand as a draft."""
    found = [
        negated_exclusion(rule) if exclusion else None,
        contradiction(rule),
        required_pregnancy(rule, exclusion),
        mistyped(rule, library) or unreadable(rule, library),
    ]
    return [reason for reason in found if reason is not None]


def drafted_problems(rules: RuleFile, library: ConceptLibrary | None = None) -> list[str]:
    """``ID: reason`` for every drafted criterion of a rule file whose rule breaks an invariant."""
    return [
        f"{entry.id}: drafted rule breaks an invariant: {reason}"
        for entry in rules.criteria
        if entry.drafted and (rule := entry.effective_rule()) is not None
        for reason in violations(rule, entry.is_exclusion, library)
    ]
