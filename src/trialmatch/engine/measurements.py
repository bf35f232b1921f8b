"""Measured values and how they compare with a rule's threshold.

- ``latest(c, within=D)``: the most recent measurement of ``c`` (or a narrower concept) dated on/before as-of
  and inside the window; values flagged implausible are never used. None found: unknown, with the missing
  data named ("ANC within the last 28 days").
- ``min``/``max``: the extreme over the window (every value, so ``max(x) < t`` means all values are below t).
- Comparisons: a threshold with a unit is converted to the value's (canonical) unit, using the concept's
  molar mass between mass and substance units (``< 177 umol/L`` against creatinine in mg/dL). ``k x ULN``
  uses the upper limit of the measurement's own reference range (REFERENCE.md §6.1); without one the result
  is unknown. Categories compare case- and punctuation-insensitively (``Not detected`` == ``not_detected``).
- A value known only as a range (a lesion count with undecided lesions) gives met or not_met only when every
  value in the range agrees; otherwise unknown.

Time: a value has a list of later values it takes by the passage of time alone (a measurement leaving its
window leaves no value; a min/max over a window changes as old values age out); each is compared like today's.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trialmatch.engine.logic import Status
from trialmatch.engine.result import Evidence, NodeResult
from trialmatch.errors import RuleError
from trialmatch.patients.derive.recist import RESPONSE_WORDS
from trialmatch.patients.derive.timewindow import add_months, describe, expires_on, window_start
from trialmatch.patients.model import Measurement
from trialmatch.rules.ast import Category, CategorySet, Duration, Threshold, UlnMultiple

Scalar = float | str | bool | None
_UNIT_WORDS = {"a": "years"}  # UCUM annum, as age is written
Convert = Callable[[float, str, str], float]
"""``convert(value, from_unit, to_unit)`` for one concept (its molar mass already bound)."""

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Reading:
    """A value read from the record for a comparison: today's value, its evidence, and its later values.

    ``upper`` is set when the value is only known to lie in ``[value, upper]``; ``missing`` says what would
    make an absent value known; ``text`` describes the value for reasons ("ANC 1.2 10*3/uL on 2024-05-02").
    ``yearly_from``: the value grows by one on that date and every year after (age).
    """

    name: str
    value: Scalar
    unit: str | None = None
    date: dt.date | None = None
    high: float | None = None
    upper: float | None = None
    text: str = ""
    missing: str | None = None
    evidence: tuple[Evidence, ...] = ()
    later: tuple[tuple[dt.date, Scalar], ...] = ()
    yearly_from: dt.date | None = None
    parts: tuple[NodeResult, ...] = ()


def fmt(number: float) -> str:
    """A number with at most four significant digits and no spurious decimals: 2.0 → 2, 2.00226 → 2.002."""
    if number == int(number):
        return str(int(number))
    decimals = max(0, 3 - math.floor(math.log10(abs(number))))
    return f"{number:.{decimals}f}".rstrip("0").rstrip(".")


def quantity(value: Scalar, unit: str | None) -> str:
    """A value with its unit for reasons."""
    shown = fmt(value) if isinstance(value, float | int) and not isinstance(value, bool) else str(value)
    unit = _UNIT_WORDS.get(unit or "", unit)
    return f"{shown} {unit}" if unit else shown


def measured_value(m: Measurement) -> Scalar:
    """A measurement's value: the number, else its coded or textual answer."""
    if m.value is not None:
        return m.value
    if m.value_text:
        return m.value_text
    if m.value_code is not None:
        return m.value_code.display or m.value_code.code
    return None


def _window(as_of: dt.date, within: Duration | None, found: Sequence[Measurement]) -> list[Measurement]:
    start = window_start(as_of, within) if within is not None else dt.date.min
    return [m for m in found if m.date is not None and start <= m.date <= as_of and measured_value(m) is not None]


def _evidence(m: Measurement) -> Evidence:
    return Evidence(fact=m.concept or "", value=measured_value(m), unit=m.unit, date=m.date, source=m.source)


def _describe(name: str, m: Measurement) -> str:
    on = f" on {m.date.isoformat()}" if m.date else ""
    return f"{name} {quantity(measured_value(m), m.unit)}{on}"


def _missing(name: str, within: Duration | None) -> str:
    return f"{name} within the last {describe(within)}" if within is not None else name


def latest(name: str, found: Sequence[Measurement], as_of: dt.date, within: Duration | None) -> Reading:
    """The most recent usable measurement in the window (``found`` is oldest first)."""
    usable = _window(as_of, within, found)
    if not usable:
        return Reading(name, None, missing=_missing(name, within), text=f"no {_missing(name, within)} is recorded")
    m = usable[-1]
    assert m.date is not None
    later = ((expires_on(m.date, within), None),) if within is not None else ()
    return Reading(
        name,
        measured_value(m),
        m.unit,
        m.date,
        m.high,
        text=_describe(name, m),
        evidence=(_evidence(m),),
        later=later,
    )


def extreme(name: str, function: str, found: Sequence[Measurement], as_of: dt.date, within: Duration | None) -> Reading:
    """The lowest or highest numeric value in the window, and how it changes as old values age out."""
    usable = [m for m in _window(as_of, within, found) if m.value is not None]
    pick = min if function == "min" else max
    label = f"{function} {name}"
    if not usable:
        return Reading(label, None, missing=_missing(name, within), text=f"no {_missing(name, within)} is recorded")
    chosen = pick(usable, key=lambda m: m.value or 0.0)
    later = _aging_out(usable, pick, within) if within is not None else ()
    which = (
        "the only value" if len(usable) == 1 else f"the {'lowest' if function == 'min' else 'highest'} of {len(usable)}"
    )
    text = f"{name} {quantity(chosen.value, chosen.unit)} on {chosen.date} ({which})"
    evidence = tuple(_evidence(m) for m in usable)
    return Reading(
        label,
        chosen.value,
        chosen.unit,
        chosen.date,
        chosen.high,
        text=text,
        evidence=evidence,
        later=tuple(later),
    )


def _aging_out(
    usable: Sequence[Measurement], pick: Callable[[list[float]], float], within: Duration
) -> tuple[tuple[dt.date, Scalar], ...]:
    """The extreme after each day's values leave the window, kept only where it changes (newest first)."""
    by_day: dict[dt.date, list[float]] = {}
    for m in usable:
        if m.date is not None and m.value is not None:
            by_day.setdefault(m.date, []).append(m.value)
    days = sorted(by_day)
    later: list[tuple[dt.date, Scalar]] = []
    remaining: Scalar = None
    for gone, after in reversed(list(zip(days, [*days[1:], None], strict=True))):
        if after is not None:
            remaining = pick([*by_day[after], *([remaining] if isinstance(remaining, float) else [])])
        if later and later[-1][1] == remaining:
            later.pop()  # the value is already this from an earlier date
        later.append((expires_on(gone, within), remaining))
    return tuple(reversed(later))


@dataclass(frozen=True)
class Comparison:
    """A threshold resolved once against a reading: judges any value the reading takes, and words the result.

    Numbers: ``limit`` in the reading's unit (None: no ULN to scale). Categories: the normalized
    ``categories`` and whether the value should be among them (``want``: False for ``!=``).
    """

    op: str
    shown: str
    limit: float | None = None
    categories: frozenset[str] | None = None
    want: bool = True
    missing: str | None = None

    def status(self, value: Scalar, upper: float | None = None) -> Status:
        """The status for ``value`` (or any whole number from ``value`` to ``upper``)."""
        if value is None:
            return Status.UNKNOWN
        if self.categories is not None:
            category = _category(value)
            if category in _UNSETTLED and category not in self.categories:
                return Status.UNKNOWN  # equivocal HER2 is neither positive nor negative until ISH settles it
            return Status.MET if (category in self.categories) == self.want else Status.NOT_MET
        if self.limit is None or isinstance(value, str | bool):
            return Status.UNKNOWN
        test, limit = _NUMERIC_OPS[self.op], self.limit
        values = range(int(value), int(upper) + 1) if upper is not None else (value,)
        results = {test(_snap(float(v), limit), limit) for v in values}
        if len(results) > 1:
            return Status.UNKNOWN
        return Status.MET if results.pop() else Status.NOT_MET

    def birthdays(self, reading: Reading) -> list[tuple[dt.date, Scalar]]:
        """For a value growing yearly (age): the later values near the limit, where the status may change."""
        if reading.yearly_from is None or self.limit is None or not isinstance(reading.value, float | int):
            return []
        if not 0 <= self.limit <= MAX_AGE:
            return []  # an age limit no one reaches: nothing changes with time
        first = int(reading.value) + 1
        ages = range(max(first, math.floor(self.limit) - 1), math.floor(self.limit) + 3)
        return [(add_months(reading.yearly_from, 12 * (age - first)), float(age)) for age in ages]

    def clause(self, status: Status) -> str:
        """What the criterion needs, in words: "(needed: above 1.5 10*3/uL)", "(needed: female)"."""
        if self.categories is not None:
            return f"(needed: {self.shown if self.want else 'anything but ' + self.shown})"
        if self.limit is None:
            return "(needed: an upper limit of normal, which is not recorded)"
        needed = f"{_OP_WORDS[self.op]} {self.shown}"
        if status is Status.UNKNOWN:
            return f"(needed: {needed}; the recorded bound cannot tell)"
        return f"(needed: {needed})"


def comparison(reading: Reading, op: str, threshold: Threshold, convert: Convert) -> Comparison:
    """Resolve ``op threshold`` for ``reading``: convert units, scale the ULN, check the operator fits."""
    if isinstance(threshold, Category | CategorySet):
        return _category_comparison(op, threshold)
    if isinstance(reading.value, str | bool):
        raise RuleError(f"'{reading.name}' is not a number but is compared with a number")
    if op not in _NUMERIC_OPS:
        raise RuleError(f"operator '{op}' needs a set of categories, not a number")
    if isinstance(threshold, UlnMultiple):
        if reading.high is None:
            return Comparison(op, "", missing=f"upper limit of normal for {reading.name}")
        limit = threshold.factor * reading.high
        return Comparison(op, f"{fmt(threshold.factor)} x ULN ({quantity(limit, reading.unit)})", limit)
    if threshold.unit is None or threshold.unit == reading.unit:
        return Comparison(op, quantity(threshold.value, threshold.unit), threshold.value)
    if reading.unit is None:
        raise RuleError(f"'{reading.name}' has no unit but is compared with {threshold.unit}")
    limit = convert(threshold.value, threshold.unit, reading.unit)
    return Comparison(op, f"{quantity(threshold.value, threshold.unit)} ({quantity(limit, reading.unit)})", limit)


def _snap(value: float, limit: float) -> float:
    """Treat a value equal to the limit up to float rounding as equal (1.5 x 1.2 is 1.7999999999999998)."""
    return limit if math.isclose(value, limit, rel_tol=1e-9) else value


_UNSETTLED = frozenset({"equivocal"})
MAX_AGE = 150


def _category(value: Scalar) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return re.sub(r"[^0-9a-z+]+", "_", text.strip().lower()).strip("_")


def _category_comparison(op: str, threshold: Category | CategorySet) -> Comparison:
    if isinstance(threshold, CategorySet):
        if op != "in":
            raise RuleError(f"a set of categories needs 'in', not '{op}'")
        values = frozenset(_category(v) for v in threshold.values)
        return Comparison(op, category_words(threshold.values), categories=values)
    if op not in ("==", "!="):
        raise RuleError(f"a category can only be compared with == or !=, not '{op}'")
    shown = category_words((threshold.value,))
    return Comparison(op, shown, categories=frozenset({_category(threshold.value)}), want=op == "==")


_OP_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least", "==": "exactly", "!=": "other than"}


def category_words(values: Sequence[str]) -> str:
    """Categories as a reader says them (RECIST codes spelled out): "complete or partial response"."""
    words = [RESPONSE_WORDS.get(v, v.replace("_", " ")) for v in values]
    if len(words) > 1 and all(w.endswith(" response") for w in words):
        words = [w.removesuffix(" response") for w in words[:-1]] + [words[-1]]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
