"""Laboratory thresholds: "ANC > 1,500 cells/mm3", "AST and ALT ≤ 2.5 × ULN (≤ 5 × ULN in patients with liver
metastases)", "bilirubin ≤ 1.5 x ULN unless Gilbert's syndrome", "creatinine < 2.0 mg/dL or 177 μmol/L".

The text is read as a stream of tokens (lab names, thresholds, qualifiers, exceptions) and folded into groups of
labs sharing one threshold, so lists such as "SGOT/SGPT/alkaline phosphatase ≤ 2.0 x IULN" give one rule each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trialmatch.rules.ast import (
    Any,
    Compare,
    Condition,
    Duration,
    Has,
    Latest,
    Quantity,
    Threshold,
    Timing,
    UlnMultiple,
    Unless,
    When,
)
from trialmatch.rules.drafting.patterns import (
    COMPARATOR,
    NUMBER,
    Finding,
    clause,
    count,
    operator,
    span_of,
    window,
)
from trialmatch.trials.model import CriterionType

DEFAULT_WINDOW = Duration(amount=28, unit="d")
_COUNTS = frozenset({"lab.anc", "lab.platelets", "lab.wbc"})


@dataclass(frozen=True)
class _Lab:
    concept: str
    names: str
    unit: str | None


_LABS = (
    _Lab(
        "lab.anc", r"absolute\s+neutrophil\s+count|absolute\s+granulocyte\s+count|neutrophils?|granulocytes|ANC", None
    ),
    _Lab("lab.platelets", r"platelets?(?:\s+count)?|PLT", None),
    _Lab("lab.wbc", r"white\s+blood\s+cells?(?:\s+count)?|leukocytes|WBC", None),
    _Lab("lab.hemoglobin", r"ha?emoglobin|Hgb|Hb", "g/dL"),
    _Lab("lab.bilirubin_total", r"(?:total\s+)?(?:serum\s+)?bilirubin(?:\s+total)?", "mg/dL"),
    _Lab("lab.ast", r"aspartate\s+amino\s*transferase|aspartate\s+transaminase|AST|SGOT|ASAT", "U/L"),
    _Lab("lab.alt", r"alanine\s+amino\s*transferase|alanine\s+transaminase|ALT|SGPT|ALAT", "U/L"),
    _Lab("lab.alp", r"(?:serum\s+)?alkaline\s+phosphatase|ALP", "U/L"),
    _Lab("lab.creatinine_clearance", r"(?:calculated\s+|measured\s+)?creatinine\s+clearance|CrCl", "mL/min"),
    _Lab("lab.creatinine", r"(?:serum\s+)?creatinine(?!\s+clearance)", "mg/dL"),
    _Lab("lab.inr", r"international\s+normali[sz]ed\s+ratio|INR", None),
    _Lab("lab.aptt", r"(?:activated\s+)?partial\s+thromboplastin\s+time|aPTT|PTT", "s"),
)
_NAME = re.compile(
    r"\b(?:" + "|".join(f"(?P<l{i}>{lab.names})" for i, lab in enumerate(_LABS)) + r")\b(?:\s*\((?:[A-Za-z ]+)\))?",
    re.I,
)
_ULN = (
    r"(?:[x×*]\s*|times\s+)(?:the\s+)?(?:institutional\s+)?(?:I?ULN|upper\s+limits?\s+of\s+(?:the\s+)?"
    r"(?:institutional\s+)?normal(?:\s+range)?(?:\s*\(I?ULN\))?)"
)
_UNIT = (
    r"(?:x\s*|×\s*)?10\s*\^?\s*(?:9|3|6)\s*/\s*[lLµu]L?|G/L|(?:cells\s*)?/\s*(?:mm3|mm³|µL|μL|uL|ml|mL)"
    r"|mg/dL|mg/dl|g/dL|g/dl|gm/dL|g/L|mmol/L|µmol/L|μmol/L|umol/L|mL/min(?:/1\.73\s*m2)?|ml/min|U/L|IU/L|%|sec(?:onds)?"
)
_THRESHOLD = re.compile(
    rf"(?P<op>{COMPARATOR})\s*(?:(?P<num>{NUMBER})\s*(?:(?P<uln>{_ULN})|(?P<unit>{_UNIT}))?"
    rf"|(?:the\s+)?(?P<bare_uln>I?ULN|upper\s+limit\s+of\s+(?:the\s+)?(?:institutional\s+)?normal(?:\s+range)?))"
    rf"(?:\s*(?:or|/|\()\s*{NUMBER}\s*(?:{_UNIT})\)?)?",
    re.I,
)
_QUALIFIER = re.compile(
    r"(?:(?:in|for)\s+)?(?:patients|subjects)?\s*(?:with|if|in\s+(?:the\s+)?(?:presence|case)\s+of)\s+(?:documented\s+)?"
    r"(?:(?P<site>liver|hepatic|bone)\s+(?:metastas[ie]s|involvement)|(?P<gilbert>Gilbert'?s?(?:\s+syndrome)?))"
    r"(?:\s+(?:are|is)\s+present)?",
    re.I,
)
_EXCEPTION = re.compile(
    r"(?:unless|except(?:\s+for)?|excluding)\s+(?:(?:in\s+)?(?:the\s+)?(?:patients?|subjects?)\s+(?:has|have|with|who)\s+)?"
    r"(?:(?:documented|known)\s+)?(?:(?P<gilbert>Gilbert'?s?(?:\s+(?:syndrome|disease))?)"
    r"|(?:on|receiving)\s+(?:therapeutic\s+)?anti-?\s*coagula\w+(?:\s+therapy)?)",
    re.I,
)
_CONNECTOR = re.compile(r"^[\s,/&()]*(?:(?:and|or|and/or)[\s,/()]*)?$", re.I)
_CONDITIONED = re.compile(r"(?:for|in)\s+(?:patients|subjects)\s+with\s*(?:serum\s+)?$", re.I)


@dataclass
class _Group:
    """Labs sharing a threshold, with site-conditional thresholds and exceptions."""

    concepts: list[str]
    start: int
    end: int
    thresholds: list[tuple[str, Threshold, Condition | None]] = field(default_factory=list)
    exceptions: list[Condition] = field(default_factory=list)


def _threshold(concept: str, match: re.Match[str]) -> Threshold:
    op_uln = match.group("uln") or match.group("bare_uln")
    if op_uln:
        return UlnMultiple(factor=count(match.group("num")) if match.group("num") else 1.0)
    value = count(match.group("num"))
    unit = (match.group("unit") or "").replace(" ", "")
    if concept in _COUNTS:
        return Quantity(value=_per_microlitre_thousands(value, unit), unit="10*3/uL")
    return _canonical(concept, value, unit)


def _per_microlitre_thousands(value: float, unit: str) -> float:
    """Counts in 10*3/uL: "1,500/mm3" → 1.5; "1.5 x 10^9/L" → 1.5; a bare "1000" is per mm³."""
    if re.search(r"10\^?[39]|G/L", unit, re.I) or (not unit and value < 100):
        return value
    if re.search(r"10\^?6", unit):
        return value * 1000
    return value / 1000


_MOLAR = {"lab.bilirubin_total": 17.104, "lab.creatinine": 88.42}


def _canonical(concept: str, value: float, unit: str) -> Quantity:
    """The threshold in the concept's canonical unit, so drafts read like curated rules."""
    default = next(lab.unit for lab in _LABS if lab.concept == concept)
    lowered = unit.lower().replace("μ", "µ").replace("um", "µm")
    if concept in _MOLAR and "mol" in lowered:
        return Quantity(value=round(value / _MOLAR[concept], 2), unit="mg/dL")
    if concept == "lab.hemoglobin" and lowered == "g/l":
        return Quantity(value=value / 10, unit="g/dL")
    if concept == "lab.creatinine_clearance" or lowered in ("", "gm/dl", "g/dl", "mg/dl"):
        return Quantity(value=value, unit=default)
    return Quantity(value=value, unit=unit)


def _qualifier_rule(match: re.Match[str]) -> Condition:
    if match.group("gilbert"):
        return Has(domain="condition", concept="condition.gilbert_syndrome")
    site = "liver" if match.group("site").lower() in ("liver", "hepatic") else "bone"
    return Has(domain="condition", concept=f"condition.metastasis.{site}")


def _exception_rule(match: re.Match[str]) -> Condition:
    if match.group("gilbert"):
        return Has(domain="condition", concept="condition.gilbert_syndrome")
    return Has(domain="drug", concept="drug.class.anticoagulant", timing=Timing(mode="active"))


def _tokens(text: str) -> list[tuple[int, int, str, re.Match[str]]]:
    found = [(m.start(), m.end(), "name", m) for m in _NAME.finditer(text)]
    found += [(m.start(), m.end(), "threshold", m) for m in _THRESHOLD.finditer(text)]
    found += [(m.start(), m.end(), "qualifier", m) for m in _QUALIFIER.finditer(text)]
    found += [(m.start(), m.end(), "exception", m) for m in _EXCEPTION.finditer(text)]
    found.sort(key=lambda t: (t[0], -t[1]))
    kept: list[tuple[int, int, str, re.Match[str]]] = []
    for token in found:
        if not kept or token[0] >= kept[-1][1]:
            kept.append(token)
    return kept


def _concept(match: re.Match[str]) -> str:
    return next(_LABS[int(k[1:])].concept for k, v in match.groupdict().items() if v is not None)


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    pending: Condition | None = None
    for start, end, kind, match in _tokens(text):
        current = groups[-1] if groups else None
        if kind == "name":
            concept = _concept(match)
            gap = text[current.end : start] if current else ""
            joins = current is not None and not current.thresholds and _CONNECTOR.match(gap) is not None
            repeats = current is not None and pending is not None and concept in current.concepts
            if current is not None and (joins or repeats):
                current.concepts += [] if concept in current.concepts else [concept]
                current.end = end
            elif not _CONDITIONED.search(text[max(0, start - 40) : start]):
                if current is not None and not current.thresholds:
                    groups.pop()
                groups.append(_Group([concept], start, end))
                pending = None
        elif current is None:
            continue
        elif kind == "threshold" and start - current.end <= 40:
            current.thresholds.append((operator(match.group("op")), _threshold(current.concepts[0], match), pending))
            current.end, pending = end, None
        elif kind == "qualifier" and current.thresholds and start - current.end <= 40:
            follows = re.match(r"[\s:,(]*(?:" + _THRESHOLD.pattern + "|" + _NAME.pattern + ")", text[end:], re.I)
            if follows:
                pending = _qualifier_rule(match)
            else:
                op, threshold, _ = current.thresholds[-1]
                current.thresholds[-1] = (op, threshold, _qualifier_rule(match))
                current.end = end
        elif kind == "exception" and current.thresholds and start - current.end <= 40:
            current.exceptions.append(_exception_rule(match))
            current.end = end
    return [g for g in groups if g.thresholds]


def _group_rule(group: _Group, concept: str, within: Duration) -> Condition:
    value = Latest(concept=concept, within=within)
    plain = [Compare(value=value, op=op, threshold=t) for op, t, q in group.thresholds if q is None]
    conditional = [(q, Compare(value=value, op=op, threshold=t)) for op, t, q in group.thresholds if q is not None]
    rule: Condition | None = plain[0] if plain else None
    for qualifier, compare in conditional:
        rule = When(condition=qualifier, then=compare, otherwise=rule)
    assert rule is not None
    for exception in group.exceptions:
        rule = Unless(rule=rule, exception=exception)
    return rule


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """One finding per lab (labs in one group share its span); alternatives joined by "or" become any(...)."""
    within = window(text) or DEFAULT_WINDOW
    out: list[Finding] = []
    previous: _Group | None = None
    for group in _groups(text):
        rules = [_group_rule(group, concept, within) for concept in group.concepts]
        keys = [concept.removeprefix("lab.") for concept in group.concepts]
        gap = re.sub(r"\([^)]*\)", "", text[previous.end : group.start]) if previous else ""
        if previous is not None and re.fullmatch(r"[\s,;]*or[\s,]*", gap, re.I):
            out.append(_alternative(text, out.pop(), previous, group, rules))
        else:
            out += [Finding("labs", (group.start, group.end), r, k) for r, k in zip(rules, keys, strict=True)]
        previous = group
    return out


def _alternative(text: str, last: Finding, previous: _Group, group: _Group, rules: list[Condition]) -> Finding:
    """ "A or B": any(A, B) for different labs; for the same lab the second limit needs a qualifier later in the
    sentence ("... in patients with Gilbert's syndrome"), else the second limit is left unread."""
    assert last.rule is not None
    if group.concepts != previous.concepts:
        return Finding("labs", (last.span[0], group.end), Any(items=(last.rule, *rules)), last.key)
    qualifier = _QUALIFIER.search(text, group.end, clause(text, group.end)[1])
    if qualifier is None:
        return last
    rule = When(condition=_qualifier_rule(qualifier), then=rules[0], otherwise=last.rule)
    return Finding("labs", (last.span[0], group.end), rule, last.key, extra_spans=(span_of(qualifier),))
