"""Age and sex: "Age ≥ 18 years", "Women age > 18", "18 years or older", "Men or women"."""

from __future__ import annotations

import re

from trialmatch.rules.ast import Category, Compare, Derived, Quantity
from trialmatch.rules.drafting.patterns import COMPARATOR, Finding, Limit, operator, span_of
from trialmatch.trials.model import CriterionType

_YEARS = r"(?:\s*(?:years?|yrs?|y)\b)?(?:\s*(?:of\s+age|old))?"
_AGE_WORD = r"\bage[ds]?\b(?:\s+of)?"
_AGE_THEN_LIMIT = re.compile(rf"{_AGE_WORD}[\s:]*(?P<op>{COMPARATOR})\s*(?P<n>\d{{2,3}}){_YEARS}", re.I)
_LIMIT_THEN_AGE = re.compile(rf"(?P<op>{COMPARATOR})\s*(?P<n>\d{{2,3}})\s*(?:years?|yrs?)\s*(?:of\s+age|old)", re.I)
_OR_OLDER = re.compile(
    rf"(?:{_AGE_WORD}\s*)?(?P<n>\d{{2,3}})\s*(?:years?|yrs?)(?:\s+of\s+age)?\s+(?:or|and)\s+(?:older|over|above)",
    re.I,
)
_FEMALE = re.compile(
    r"^\W*(?:women|females?|female\s+(?:patients|subjects))\b(?!\s+(?:of|with)\s+(?:child|reproductive))", re.I
)
_EITHER_SEX = re.compile(
    r"(?:pre-?\s*(?:and|or)\s*post-?\s*menopausal\s+)?\b(?:men\s+(?:or|and)\s+women|women\s+(?:or|and)\s+men"
    r"|males?\s+(?:or|and)\s+females?|females?\s+(?:or|and)\s+males?)\b",
    re.I,
)


def _age_rule(op_text: str, years: str) -> tuple[Compare, tuple[Limit, ...]]:
    """``age OP N``. A lower bound written "> 18" is read as "18 or older", as the curated rules read it."""
    op = operator(op_text)
    value = float(years)
    if op in (">", ">="):
        return _compare(">=", value), (("minimum_age_years", value),)
    limits: tuple[Limit, ...] = (("maximum_age_years", value),) if op == "<=" else ()
    return _compare(op, value), limits


def _compare(op: str, value: float) -> Compare:
    return Compare.model_validate({"value": Derived(name="age"), "op": op, "threshold": Quantity(value=value)})


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """Age limits and a women-only restriction; "men or women" is understood as no restriction."""
    out: list[Finding] = []
    for pattern in (_AGE_THEN_LIMIT, _LIMIT_THEN_AGE):
        for match in pattern.finditer(text):
            rule, limits = _age_rule(match.group("op"), match.group("n"))
            out.append(Finding("demographics", span_of(match), rule, "age", limits))
    for match in _OR_OLDER.finditer(text):
        rule, limits = _age_rule(">=", match.group("n"))
        out.append(Finding("demographics", span_of(match), rule, "age", limits))
    # In an exclusion "Females who are pregnant" names whom it excludes, not a women-only trial.
    if ctype is CriterionType.INCLUSION and (female := _FEMALE.search(text)):
        sex = Compare(value=Derived(name="sex"), op="==", threshold=Category(value="female"))
        out.append(Finding("demographics", span_of(female), sex, "sex", (("sex", "FEMALE"),)))
    out += [Finding("demographics", span_of(m), None) for m in _EITHER_SEX.finditer(text)]
    return out
