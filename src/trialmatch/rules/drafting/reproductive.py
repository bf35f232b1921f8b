"""Pregnancy, breast-feeding, pregnancy tests and contraception for women of childbearing potential."""

from __future__ import annotations

import re

from trialmatch.rules.ast import All, Any, Category, Compare, Condition, Duration, Flag, Latest, Not, Review, When
from trialmatch.rules.drafting.patterns import Finding, span_of, window
from trialmatch.trials.model import CriterionType

DEFAULT_WINDOW = Duration(amount=28, unit="d")
_PREGNANT_OR_NURSING = re.compile(
    r"\b(?:pregnan(?:t|cy)|gravid)(?:\s+women)?\s*(?:,|or|and|/|and/or)\s*(?:women\s+(?:who\s+are\s+)?)?"
    r"(?:lactating|lactation|breast-?\s?feeding|nursing)(?:\s+women)?\b",
    re.I,
)
_PREGNANT = re.compile(r"\b(?:be\s+|are\s+|is\s+)?pregnant\b", re.I)
_TEST = re.compile(
    r"(?:(?P<without>without)\s+an?\s+)?negative\s+(?:serum\s+(?:or\s+urine\s+)?|urine\s+(?:or\s+serum\s+)?)?"
    r"(?:\(serum\s+or\s+urine\)\s+)?(?:beta-?hCG\s+|β-hCG\s+)?pregnancy\s+test",
    re.I,
)
_CONTRACEPTION = re.compile(
    r"(?:(?:must\s+)?agree(?:ment)?s?\s+to\s+)?use\s+(?:a\s+)?(?:highly[\s-]+|adequate\s+|effective\s+|acceptable\s+)*"
    r"(?:forms?\s+of\s+|methods?\s+of\s+)?(?:contracepti\w+|birth\s+control)(?:\s+methods?)?",
    re.I,
)


_WOCBP = re.compile(
    r"\b(?:women|females?|female\s+subjects)\s+(?:of|with)\s+(?:childbearing|child-bearing|reproductive)\s+potential"
    r"|\bWOCBP\b",
    re.I,
)


def _negative_test(text: str) -> Condition:
    within = window(text) or DEFAULT_WINDOW
    tests = tuple(
        Compare(value=Latest(concept=c, within=within), op="==", threshold=Category(value="negative"))
        for c in ("lab.hcg_serum", "lab.hcg_urine")
    )
    return Any(items=tests)


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """Pregnant/nursing as flags; a negative test and contraception apply to women of childbearing potential."""
    wocbp = Flag(name="childbearing_potential")
    exclusion = ctype is CriterionType.EXCLUSION
    out: list[Finding] = []
    for match in _PREGNANT_OR_NURSING.finditer(text):
        either = Any(items=(Flag(name="pregnant"), Flag(name="breastfeeding")))
        out.append(Finding("pregnancy", span_of(match), either, "pregnancy"))
    for match in _PREGNANT.finditer(text):
        out.append(Finding("pregnancy", span_of(match), Flag(name="pregnant"), "pregnant"))
    for match in _TEST.finditer(text):
        negative = _negative_test(text)
        rule: Condition = All(items=(wocbp, Not(item=negative))) if exclusion else When(condition=wocbp, then=negative)
        out.append(Finding("pregnancy", span_of(match), rule, "pregnancy_test"))
    out += [Finding("pregnancy", span_of(m), None) for m in _WOCBP.finditer(text)]
    for match in _CONTRACEPTION.finditer(text):
        ask = Review(reason="Woman of childbearing potential: confirm she agrees to use effective contraception")
        rule = All(items=(wocbp, ask)) if exclusion else When(condition=wocbp, then=ask)
        out.append(Finding("pregnancy", span_of(match), rule, "contraception", is_review=True))
    return out
