"""HER2, ER and PR status phrases. A trial's own numeric HER2 definition ("IHC 3+ or FISH ratio ≥ 2.0") beats
the guideline; otherwise "HER2-positive (per ASCO/CAP)" is the derived ``her2`` status."""

from __future__ import annotations

import re

from trialmatch.rules.ast import (
    All,
    Any,
    Category,
    CategorySet,
    Compare,
    Condition,
    Derived,
    Flag,
    Latest,
    Quantity,
    Unknown,
)
from trialmatch.rules.drafting.patterns import COMPARATOR, NUMBER, Finding, count, excepted, operator, span_of
from trialmatch.trials.model import CriterionType

_HER2 = r"HER-?2(?:/neu)?"
_GUIDELINE = (
    r"(?:\s*\(?\s*(?:as\s+)?(?:defined\s+)?(?:per|according\s+to|by)\s+(?:the\s+)?"
    r"(?:national\s+criteria|ASCO[-/\s]?CAP(?:\s+guidelines?)?)\)?)?"
)
_DEFINITION = r"(?:\s*\((?:[^()]|\([^()]*\))*\))?"
_STATUS = re.compile(
    rf"\b{_HER2}\s*(?:-\s*|\s)?(?P<status>positive|overexpressing|amplified|\+|negative|-|low)(?![\w+])"
    rf"(?:\s+according\s+to\s+national\s+criteria)?{_GUIDELINE}{_DEFINITION}",
    re.I,
)
_OWN_DEFINITION = re.compile(
    rf"(?:IHC\s*3\+|3\+\s*(?:by\s+)?(?:IHC|immunohisto\w+))[^.;]*?(?:ISH|FISH|CISH|SISH)[^.;\d]*?ratio\s*"
    rf"(?P<op>{COMPARATOR})\s*(?P<n>{NUMBER})",
    re.I,
)
_HORMONE = re.compile(
    r"\b(?P<receptor>ER|PR|PgR|estrogen\s+receptor|progesterone\s+receptor)\s*(?:-\s*|\s)?"
    r"(?P<status>positive|\+|negative|-)(?![\w+])(?:\s*(?P<join>and/or|or|and)\s*"
    r"(?P<receptor2>ER|PR|PgR|progesterone\s+receptor)\s*(?:-\s*|\s)?(?P<status2>positive|\+|negative|-)(?![\w+]))?",
    re.I,
)
_REGARDLESS = re.compile(
    r"regardless\s+of\s+(?:the\s+)?(?:ER|HER2|hormone[\w\s]*?)(?:\s+and\s+\w+)?\s+status(?:\s+of\s+the\s+primary\s+tumou?r)?",
    re.I,
)


_DEFINED = re.compile(
    rf"\(?\s*{_HER2}[\s-]*positive\s+is\s+defined\s+(?:as|per|by)[^)]*?(?:ASCO[-/\s]?CAP|guidelines?)[^)]*\)?", re.I
)


def _specimen(text: str, match: re.Match[str], positive: bool) -> str:
    """Positive: any specimen counts (a positive metastasis is acceptable); negative: the latest, or as named."""
    nearby = text[match.end() : match.end() + 25].lower()
    if "primary" in nearby:
        return "primary"
    return "any" if positive else "latest"


def _her2(text: str, match: re.Match[str]) -> Condition:
    status = match.group("status").lower()
    if status == "low":
        return Flag(name="her2_low")
    positive = status in ("positive", "overexpressing", "amplified", "+")
    own = _OWN_DEFINITION.search(text)
    if positive and own:
        ratio = Compare(
            value=Latest(concept="marker.her2_ish_ratio"),
            op=operator(own.group("op")),
            threshold=Quantity(value=count(own.group("n"))),
        )
        return Any(
            items=(
                ratio,
                Unknown(reason="HER2 IHC score 3+ (the trial's own definition)"),
            )
        )
    args = (("specimen", _specimen(text, match, positive)),)
    category = Category(value="positive" if positive else "negative")
    return Compare(value=Derived(name="her2", args=args), op="==", threshold=category)


def _receptor(name: str, status: str) -> Compare:
    derived = "er" if name.lower().startswith(("er", "estrogen")) else "pr"
    value = Derived(name=derived, args=(("specimen", "latest"),))
    positive = status.lower() in ("positive", "+")
    if derived == "er" and positive:
        return Compare(value=value, op="in", threshold=CategorySet(values=("positive", "low_positive")))
    return Compare(value=value, op="==", threshold=Category(value="positive" if positive else "negative"))


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """HER2 status (with any definition in parentheses), ER/PR status, and "regardless of status" wording."""
    out = [
        Finding("markers", span_of(m), None if excepted(text, m.start()) else _her2(text, m), "her2")
        for m in _STATUS.finditer(text)
    ]
    out += [Finding("markers", span_of(m), None) for m in _DEFINED.finditer(text)]
    if own := _OWN_DEFINITION.search(text):
        out.append(Finding("markers", span_of(own), None))
    for match in _HORMONE.finditer(text):
        first = _receptor(match.group("receptor"), match.group("status"))
        rule: Condition = first
        if match.group("receptor2"):
            second = _receptor(match.group("receptor2"), match.group("status2"))
            joined = match.group("join").lower()
            rule = All(items=(first, second)) if joined == "and" else Any(items=(first, second))
        out.append(Finding("markers", span_of(match), rule, "hormone_receptors"))
    out += [Finding("markers", span_of(m), None) for m in _REGARDLESS.finditer(text)]
    return out
