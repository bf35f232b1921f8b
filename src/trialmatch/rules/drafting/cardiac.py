"""Cardiac clauses: LVEF by echo or MUGA, NYHA class, symptomatic heart failure, myocardial infarction / unstable
angina / stroke within N months, and uncontrolled hypertension with its blood-pressure limits."""

from __future__ import annotations

import re

from trialmatch.rules.ast import All, Any, Compare, Condition, Duration, Extreme, Has, Latest, Quantity, Review
from trialmatch.rules.drafting.conditions import Phrase, event_findings
from trialmatch.rules.drafting.patterns import COMPARATOR, NUMBER, Finding, count, operator, polarity, span_of
from trialmatch.trials.model import CriterionType

DEFAULT_WINDOW = Duration(amount=28, unit="d")
_SYMPTOMATIC_REVIEW = "Heart failure is recorded without NYHA class III-IV: confirm whether it is symptomatic"
_NYHA = r"(?:New\s+York\s+Heart\s+Association\s*(?:\(NYHA\))?|NYHA)"
_HIGH_CLASS = (
    rf"{_NYHA}\s*(?:class(?:ification)?\s*)?(?:≥\s*|>=\s*)?(?:III|3)"
    r"(?:\s*(?:or|-|–|to)\s*(?:IV|4|higher|greater|above))?"
)
_ANY_CLASS = rf"(?:of\s+)?any\s+{_NYHA}\s*(?:criteria|class(?:ification)?)"
EVENTS = (
    Phrase(
        rf"(?:congestive\s+)?heart\s+failure\s*(?:\(CHF\)\s*)?(?:of\s+)?{_HIGH_CLASS}|CHF\s+{_HIGH_CLASS}|{_HIGH_CLASS}"
        r"(?:\s+(?:congestive\s+)?heart\s+failure)?",
        ("condition.nyha_class_3", "condition.nyha_class_4"),
    ),
    Phrase(
        rf"symptomatic\s+(?:congestive\s+heart\s+failure|CHF|heart\s+failure)(?:\s*\(CHF\))?(?:\s+{_ANY_CLASS})?",
        ("condition.nyha_class_3", "condition.nyha_class_4", "condition.heart_failure"),
    ),
    Phrase(r"(?:congestive\s+)?heart\s+failure(?:\s*\(CHF\))?|CHF", ("condition.heart_failure",)),
    Phrase(
        r"(?:acute\s+)?myocardial\s+infarctions?(?:\s*\(MI\))?|heart\s+attack|\bMI\b",
        ("condition.myocardial_infarction",),
    ),
    Phrase(r"unstable\s+angina(?:\s+pectoris)?", ("condition.unstable_angina",)),
    Phrase(r"stroke|cerebrovascular\s+accident(?:\s*\(CVA\))?|CVA", ("condition.stroke",)),
)
_LVEF = re.compile(
    r"(?:left\s+ventricular\s+ejection\s+fraction|LVEF|ejection\s+fraction|\bEF\b)(?:\s*\((?:LVEF|EF)\))?"
    rf"[^.;\d%]{{0,40}}?(?P<op>{COMPARATOR})\s*(?P<n>{NUMBER})\s*%"
    r"(?:\s*(?:by|on|as\s+(?:measured|assessed|determined)\s+by|per)\s+(?:an?\s+)?"
    r"(?:echocardiogra(?:m|phy)|ECHO|MUGA(?:\s+scan)?|multi-?gated[\w\s-]*?scan)"
    r"(?:\s*(?:or|/)\s*(?:an?\s+)?(?:echocardiogra(?:m|phy)|ECHO|MUGA(?:\s+scan)?))?)?",
    re.I,
)
_BLOOD_PRESSURE = re.compile(
    r"(?P<label>(?:current\s+)?uncontrolled\s+hypertension)(?:\s*\((?P<limits>[^)]*)\))?", re.I
)
_PRESSURE = re.compile(rf"(?P<which>systolic|diastolic)[^\d<>≥≤]{{0,20}}(?P<op>{COMPARATOR})\s*(?P<n>{NUMBER})", re.I)


def _symptomatic(rule: Condition) -> Condition:
    """NYHA III/IV counts as symptomatic; another heart failure record asks the site (as curated)."""
    if not isinstance(rule, Any):
        return rule
    items = tuple(
        All(items=(item, Review(reason=_SYMPTOMATIC_REVIEW)))
        if isinstance(item, Has) and item.concept == "condition.heart_failure"
        else item
        for item in rule.items
    )
    return Any(items=items)


def _events(text: str) -> list[Finding]:
    out = []
    for finding in event_findings(text, EVENTS, "cardiac"):
        phrase = text[finding.span[0] : finding.span[1]].lower()
        rule = _symptomatic(finding.rule) if "symptomatic" in phrase and finding.rule is not None else finding.rule
        out.append(Finding("cardiac", finding.span, rule, finding.key, extra_spans=finding.extra_spans))
    return out


def _lvef(text: str) -> list[Finding]:
    out = []
    for match in _LVEF.finditer(text):
        history = re.search(
            r"(?:decrease|decline|drop|fall)\s+(?:in|of)\s+$", text[max(0, match.start() - 20) : match.start()], re.I
        )
        value: Latest | Extreme = (
            Extreme(function="min", concept="obs.lvef")
            if history
            else Latest(concept="obs.lvef", within=DEFAULT_WINDOW)
        )
        threshold = Quantity(value=count(match.group("n")), unit="%")
        rule = Compare(value=value, op=operator(match.group("op")), threshold=threshold)
        out.append(Finding("cardiac", span_of(match), rule, "lvef"))
    return out


def _hypertension(text: str) -> list[Finding]:
    out = []
    for match in _BLOOD_PRESSURE.finditer(text):
        limits = [
            Compare(
                value=Latest(concept=f"vital.bp_{p.group('which').lower()}", within=DEFAULT_WINDOW),
                op=operator(p.group("op")),
                threshold=Quantity(value=count(p.group("n")), unit="mm[Hg]"),
            )
            for p in _PRESSURE.finditer(match.group("limits") or "")
        ]
        rule: Condition
        if limits:
            rule = limits[0] if len(limits) == 1 else Any(items=tuple(limits))
        else:
            rule = Has(domain="condition", concept="condition.uncontrolled_hypertension")
        out.append(Finding("cardiac", span_of(match), polarity(text, match.start(), rule), "hypertension"))
    return out


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """LVEF limits, blood pressure, and cardiac events with their timing."""
    return _lvef(text) + _hypertension(text) + _events(text)
