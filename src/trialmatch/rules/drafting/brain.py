"""Brain metastases: active/untreated/symptomatic, treated and stable, leptomeningeal disease, brain-only disease,
and the "patients with treated, stable brain metastases are eligible" wording that restates the active reading."""

from __future__ import annotations

import re

from trialmatch.rules.ast import All, Condition, Flag, Has, Unknown
from trialmatch.rules.drafting.patterns import Finding, polarity, span_of
from trialmatch.trials.model import CriterionType

_SITE = (
    r"(?:brain|CNS|central\s+nervous\s+system|cerebral|intracranial)\s*"
    r"(?:metastas[ie]s|metastatic\s+disease|lesions?|disease)"
)
_ACTIVE = re.compile(
    rf"\b(?P<state>(?:known\s+)?(?:clinically\s+)?(?:active|untreated|uncontrolled|progressive|unstable|symptomatic)"
    rf"(?:\s*(?:,|or|and|and/or)\s*(?:active|untreated|uncontrolled|progressive|unstable|symptomatic))*)\s+{_SITE}",
    re.I,
)
_LEPTOMENINGEAL = re.compile(
    r"\b(?:leptomeningeal\s+(?:disease|metastas[ie]s|carcinomatosis|involvement)|carcinomatous\s+meningitis"
    r"|tumou?ral\s+meningitis|meningeal\s+carcinomatosis)\b",
    re.I,
)
_ONLY = re.compile(
    rf"\b(?:{_SITE}\s+(?:as\s+the\s+sole\s+site\s+of\s+metastatic\s+disease|only)|(?:CNS|brain)[\s-]+only\s+disease)\b",
    re.I,
)
_STABLE_ALLOWED = re.compile(
    rf"(?:patients|subjects)\s+with\s+(?:(?:treated|stable|asymptomatic|previously\s+treated)[\s,]*(?:and\s+)?)+"
    rf"(?:{_SITE}|CNS\s+metastases)[^.;]*?(?:are|is|will\s+be|may\s+be)\s+(?:eligible|allowed|included)"
    r"(?:[^.;]*?provided\s+(?:they\s+are\s+)?(?:clinically\s+)?stable)?",
    re.I,
)
_STABLE_FOR = re.compile(r"stable\s+for\s+(?:at\s+least\s+)?(?P<n>\d+)\s*(?P<u>weeks?|months?)", re.I)


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """Each brain clause as a flag or condition; "stable for N months" asks the site to confirm the duration."""
    out: list[Finding] = []
    for match in _ACTIVE.finditer(text):
        symptomatic_only = match.group("state").lower().strip() == "symptomatic"
        status = "symptomatic" if symptomatic_only else "active"
        rule: Condition = Flag(name="brain_metastases", args=(("status", status),))
        out.append(Finding("brain", span_of(match), polarity(text, match.start(), rule), "brain_metastases"))
    for match in _LEPTOMENINGEAL.finditer(text):
        rule = Has(domain="condition", concept="condition.metastasis.leptomeningeal")
        out.append(Finding("brain", span_of(match), polarity(text, match.start(), rule), "leptomeningeal"))
    for match in _ONLY.finditer(text):
        out.append(Finding("brain", span_of(match), Flag(name="brain_only"), "brain_only"))
    for match in _STABLE_ALLOWED.finditer(text):
        out.append(Finding("brain", span_of(match), None))
    for match in _STABLE_FOR.finditer(text):
        stable = Flag(name="brain_metastases", args=(("status", "treated_stable"),))
        since = f"{match.group('n')} {match.group('u')}"
        ask = Unknown(reason=f"whether the brain metastases have been stable for at least {since}")
        out.append(
            Finding(
                "brain",
                span_of(match),
                None if ctype is CriterionType.EXCLUSION else All(items=(stable, ask)),
                "stable",
                is_review=True,
            )
        )
    return out
