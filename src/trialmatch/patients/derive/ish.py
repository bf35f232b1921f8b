"""HER2 in situ hybridisation read under the ASCO/CAP rule set of the test's date (REFERENCE §1.2–1.5).

Guidelines by date: ASCO/CAP 2018 (published online 30 May 2018) applies from 1 June 2018, 2013 (published
online 7 October 2013) from 1 November 2013, 2007 before that. Reports sometimes give only a bound ("ratio
greater than 2.2", "< 4 copies"): a bound is used only when it falls on one side of every cut-off its rule set
draws, so "greater than 2.2" is a ratio of at least 2.0 under 2018, while "less than 2.2" decides nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trialmatch.patients.derive.base import fmt

ASCO_2018, ASCO_2013, ASCO_2007 = "ASCO/CAP 2018", "ASCO/CAP 2013", "ASCO/CAP 2007"
_FROM_2018 = dt.date(2018, 6, 1)
_FROM_2013 = dt.date(2013, 11, 1)

Cut = tuple[float, bool]
"""A cut-off and whether the rule tests it strictly ("> 2.2") rather than inclusively (">= 2.0")."""

# The cut-offs each rule set draws (REFERENCE §1.2, §1.4, §1.5): a bound must not straddle any of them.
_RATIO_CUTS: dict[str, tuple[Cut, ...]] = {
    ASCO_2018: ((2.0, False),),
    ASCO_2013: ((2.0, False),),
    ASCO_2007: ((1.8, False), (2.2, True)),
}
_COPY_CUTS: dict[str, tuple[Cut, ...]] = {
    ASCO_2018: ((4.0, False), (6.0, False)),
    ASCO_2013: ((4.0, False), (6.0, False)),
    ASCO_2007: ((4.0, False), (6.0, True)),
}
_NUDGE = 1e-6


def rule_set_for(day: dt.date | None) -> str:
    """The ASCO/CAP rule set in force on ``day``; an undated result is read under the current rules."""
    if day is None or day >= _FROM_2018:
        return ASCO_2018
    return ASCO_2013 if day >= _FROM_2013 else ASCO_2007


@dataclass(frozen=True)
class Number:
    """A reported number; ``comparator`` (``<``, ``<=``, ``>``, ``>=``) when the report gives only a bound."""

    value: float
    comparator: str | None = None

    def __str__(self) -> str:
        return f"{self.comparator or ''}{fmt(self.value)}"

    def stand_in(self, cuts: tuple[Cut, ...]) -> float | None:
        """A value on the same side of every cut-off as the true value, or None when the bound straddles one."""
        v, op = self.value, self.comparator
        if op is None:
            return v
        if op == ">":
            return v + _NUDGE if all(v >= c for c, _ in cuts) else None
        if op == ">=":
            return v if all(v > c or (v == c and not strict) for c, strict in cuts) else None
        if op == "<":
            return v - _NUDGE if all(v <= c for c, _ in cuts) else None
        return v if all(v < c or (v == c and strict) for c, strict in cuts) else None


@dataclass(frozen=True)
class IshCall:
    """An ISH result: status (None = not determinable), how it was read, and what would settle it."""

    status: str | None
    detail: str
    missing: str | None = None


def dual_probe_group(ratio: float, copies: float) -> int:
    """ASCO/CAP 2018 dual-probe group 1–5 (REFERENCE §1.2)."""
    if ratio >= 2.0:
        return 1 if copies >= 4.0 else 2
    if copies >= 6.0:
        return 3
    return 4 if copies >= 4.0 else 5


def resolve_group_2018(group: int, ihc: str | None) -> str | None:
    """Group 1–5 with concurrent IHC (§1.3); None when a blinded recount or the IHC is still needed."""
    if group in (1, 5):
        return "positive" if group == 1 else "negative"
    if ihc == "3+":
        return "positive"
    if ihc in ("0", "1+"):
        return "negative"
    return None


def _ish_2018(ratio: float | None, copies: float | None, ihc: str | None, detail: str) -> IshCall:
    if ratio is None:
        return _single_probe_2018(copies, ihc, detail)
    if copies is None:
        groups = (1, 2) if ratio >= 2.0 else (3, 4, 5)
        outcomes = {resolve_group_2018(g, ihc) for g in groups}
        status = outcomes.pop() if len(outcomes) == 1 else None
        return IshCall(status, detail, None if status else "HER2 copy number per cell")
    group = dual_probe_group(ratio, copies)
    detail = f"{detail} (group {group})"
    status = resolve_group_2018(group, ihc)
    if status is not None:
        return IshCall(status, detail)
    if ihc is None:
        return IshCall(None, detail, f"concurrent HER2 IHC on the same specimen (ISH group {group})")
    return IshCall(None, detail, f"blinded ISH recount or the report's final HER2 call (group {group}, IHC 2+)")


def _single_probe_2018(copies: float | None, ihc: str | None, detail: str) -> IshCall:
    assert copies is not None
    if copies >= 6.0 or copies < 4.0:
        return IshCall("positive" if copies >= 6.0 else "negative", detail)
    if ihc in ("3+", "0", "1+"):
        return IshCall("positive" if ihc == "3+" else "negative", detail)
    need = "dual-probe ISH for the IHC 2+ specimen" if ihc == "2+" else "concurrent HER2 IHC on the same specimen"
    return IshCall(None, detail, need)


def _ish_2013(ratio: float | None, copies: float | None, detail: str) -> IshCall:
    if ratio is not None and ratio >= 2.0:
        return IshCall("positive", detail)
    if copies is None:
        return IshCall(None, detail, "HER2 copy number per cell")
    if copies >= 6.0:
        return IshCall("positive", detail)
    return IshCall("equivocal" if copies >= 4.0 else "negative", detail)


def _ish_2007(ratio: float | None, copies: float | None, detail: str) -> IshCall:
    if ratio is not None:
        return IshCall("positive" if ratio > 2.2 else "equivocal" if ratio >= 1.8 else "negative", detail)
    assert copies is not None
    return IshCall("positive" if copies > 6.0 else "equivocal" if copies >= 4.0 else "negative", detail)


def _describe(ratio: Number | None, copies: Number | None) -> str:
    parts = [
        f"HER2/CEP17 ratio {ratio}" if ratio is not None else "",
        f"{copies} copies/cell" if copies is not None else "",
    ]
    prefix = "ISH " if ratio is not None else "single-probe ISH "
    return prefix + " and ".join(p for p in parts if p)


def _number(raw: float | Number | None) -> Number | None:
    return Number(raw) if isinstance(raw, int | float) else raw


def ish_call(
    rule_set: str, ratio: float | Number | None, copies: float | Number | None, ihc: str | None
) -> IshCall | None:
    """The ISH result from raw numbers under ``rule_set``; None when neither number is recorded."""
    ratio_n, copies_n = _number(ratio), _number(copies)
    if ratio_n is None and copies_n is None:
        return None
    detail = _describe(ratio_n, copies_n)
    ratio_v = ratio_n.stand_in(_RATIO_CUTS[rule_set]) if ratio_n else None
    copies_v = copies_n.stand_in(_COPY_CUTS[rule_set]) if copies_n else None
    if (ratio_n and ratio_v is None) or (copies_n and copies_v is None and ratio_v is None):
        return IshCall(None, detail, "the exact ISH result (the report gives only a bound that decides nothing)")
    if rule_set == ASCO_2018:
        return _ish_2018(ratio_v, copies_v, ihc, detail)
    return _ish_2013(ratio_v, copies_v, detail) if rule_set == ASCO_2013 else _ish_2007(ratio_v, copies_v, detail)
