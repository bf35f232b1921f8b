"""Performance status: ECOG / WHO / Zubrod ("0-1", "≤ 1", "of 0 or 1", "0 to 1") and Karnofsky ("≥ 70%")."""

from __future__ import annotations

import re

from trialmatch.rules.ast import Any, Compare, Condition, Derived, Duration, Latest, Quantity
from trialmatch.rules.drafting.patterns import COMPARATOR, Finding, operator, span_of
from trialmatch.trials.model import CriterionType

DEFAULT_WINDOW = Duration(amount=28, unit="d")
_SCALE = (
    r"(?:ECOG|Eastern\s+Cooperative\s+Oncology\s+Group|WHO|World\s+Health\s+Organi[sz]ation|Zubrod)"
    r"(?:[^.;\d]{0,60}?(?:performance\s+(?:status|score)|\bPS\b)(?:\s*\((?:PS|ECOG-PS)\))?)?"
)
_GRADES = (
    r"(?:(?P<lo>[0-4])\s*(?:-|–|to)\s*(?P<hi>[0-4])"
    rf"|(?P<op>{COMPARATOR})\s*(?P<n>[0-4])"
    r"|(?P<list>[0-4](?:\s*,\s*[0-4])*\s*,?\s*(?:or|and)\s*[0-4])"
    r"|(?P<one>[0-4]))\b"
)
_ECOG = re.compile(rf"{_SCALE}[\s:)\-]*(?:of\s+|score\s+(?:of\s+)?)?{_GRADES}", re.I)
_KARNOFSKY = re.compile(
    rf"Karnofsky(?:\s+performance\s+(?:status|score))?(?:\s*\(KPS\))?[\s:]*(?:of\s+)?(?P<op>{COMPARATOR})?\s*"
    r"(?P<n>\d{2,3})\s*%?",
    re.I,
)


def _highest(match: re.Match[str]) -> tuple[str, float]:
    """The ECOG comparison the grades allow: ``<= highest`` (``< n`` kept as written)."""
    if match.group("hi") is not None:
        return "<=", float(match.group("hi"))
    if match.group("n") is not None:
        return operator(match.group("op")), float(match.group("n"))
    if match.group("list") is not None:
        return "<=", float(max(re.findall(r"[0-4]", match.group("list"))))
    return "<=", float(match.group("one"))


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """ECOG-scale limits as ``ecog(within=28d) <= N`` (no window stated: 28 days, as curated) and Karnofsky."""
    out: list[Finding] = []
    for match in _ECOG.finditer(text):
        op, value = _highest(match)
        rule = Compare.model_validate(
            {
                "value": Derived(name="ecog", args=(("within", "28d"),)),
                "op": op,
                "threshold": Quantity(value=value),
            }
        )
        out.append(Finding("performance", span_of(match), rule, "ecog"))
    for match in _KARNOFSKY.finditer(text):
        op = operator(match.group("op")) if match.group("op") else ">="
        karnofsky = Latest(concept="score.karnofsky", within=DEFAULT_WINDOW)
        kps: Condition = Compare(value=karnofsky, op=op, threshold=Quantity(value=float(match.group("n")), unit="%"))
        restated = next((f for f in out if re.fullmatch(r"\s*[(\[]\s*", text[f.span[1] : match.start()])), None)
        if restated is not None:  # "ECOG <= 1 (Karnofsky >= 70%)": either scale may show it
            out[out.index(restated)] = Finding(
                "performance", (restated.span[0], match.end()), Any(items=(restated.rule, kps)), "ecog"
            )
            continue
        out.append(Finding("performance", span_of(match), kps, "karnofsky"))
    return out
