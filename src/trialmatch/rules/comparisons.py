"""Which comparisons a rule may make: a number with a number, a category with its own categories, and so on.

Checked while parsing, so a rule that compares a yes/no flag, puts a unit on a count or tests a category the
fact never takes is refused with its position instead of evaluating to a silent not_met.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from trialmatch.rules.ast import (
    Category,
    CategorySet,
    CountLesions,
    Derived,
    Extreme,
    Latest,
    Operator,
    Quantity,
    Threshold,
    UlnMultiple,
    Value,
)
from trialmatch.rules.vocabulary import lookup
from trialmatch.terminology.concepts import did_you_mean


def _describe(value: Value) -> str:
    if isinstance(value, Derived):
        return value.name
    return f"{value.function}(...)" if isinstance(value, Extreme) else f"{value.kind}(...)"


def _value_type(value: Value) -> str:
    """number, category, or measured (a concept's value: number or coded, which only the library knows)."""
    if isinstance(value, Latest):
        return "measured"
    if isinstance(value, Derived):
        entry = lookup(value.name)
        assert entry is not None
        return entry.type
    return "number"


def check_compare(value: Value, op: Operator, threshold: Threshold, fail: Callable[[str], NoReturn]) -> None:
    """Reject comparisons whose value and threshold cannot meet: a number against a category, and so on."""
    kind = _value_type(value)
    name = _describe(value)
    if isinstance(threshold, Category | CategorySet):
        if kind == "number":
            fail(f"{name} is a number: compare it with a number, not a category")
        if op not in ("==", "!=", "in"):
            fail(f"categories are compared with ==, != or in, not {op}")
        _check_categories(value, threshold, fail)
        return
    if kind == "category":
        fail(f"{name} is a category: compare it with ==, != or in and a category")
    if isinstance(threshold, UlnMultiple) and not isinstance(value, Latest | Extreme):
        fail("x ULN needs a measured value with a reference range: latest(...), min(...) or max(...)")
    if isinstance(threshold, Quantity) and threshold.unit is not None and _unitless(value):
        fail(f"{name} is a count or score and takes no unit")


def _check_categories(value: Value, threshold: Category | CategorySet, fail: Callable[[str], NoReturn]) -> None:
    entry = lookup(value.name) if isinstance(value, Derived) else None
    if entry is None or not entry.categories:
        return
    values = threshold.values if isinstance(threshold, CategorySet) else (threshold.value,)
    for category in values:
        if category not in entry.categories:
            hint = did_you_mean(category, entry.categories)
            fail(f"{entry.name} is one of {', '.join(entry.categories)}, never '{category}'.{hint}")


def _unitless(value: Value) -> bool:
    if isinstance(value, CountLesions):
        return True
    entry = lookup(value.name) if isinstance(value, Derived) else None
    return entry is not None and entry.unit is None
