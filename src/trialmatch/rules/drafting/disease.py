"""The disease itself: breast cancer, metastatic or recurrent disease, bone-only disease, RECIST measurable
disease, progression within a window, and other malignancies within N years with their exceptions."""

from __future__ import annotations

import re

from trialmatch.rules.ast import Any, Condition, Flag, Has, Timing
from trialmatch.rules.drafting.patterns import Finding, clause, is_exclusion, polarity, span_of, window
from trialmatch.trials.model import CriterionType

_BREAST = re.compile(
    r"\b(?:(?:invasive\s+)?(?:carcinoma|adenocarcinoma|cancer)\s+of\s+the\s+breast|(?:invasive\s+)?breast\s+"
    r"(?:cancer|carcinoma|adenocarcinoma)|\bBC\b)",
    re.I,
)
_METASTATIC = re.compile(
    r"\b(?:(?:locally\s+)?(?:recurrent|advanced)(?:\s+(?:inoperable\s+)?(?:and/or|or|/)\s*|\s+)metastatic"
    r"|metastatic(?:\s+(?:breast\s+cancer|disease))?|MBC)\b",
    re.I,
)
_MEASURABLE = re.compile(
    r"\b(?P<what>measurable\s+(?:or\s+(?:clinically\s+)?evaluable\s+(?:\(bone[\s-]+only\)\s+)?|and/or\s+"
    r"non-?measurable\s+)?disease)(?:\s+(?:as\s+defined\s+by|per|according\s+to|by)\s+RECIST(?:\s+(?:v(?:ersion)?\s*)?1\.1)?)?",
    re.I,
)
_BONE_ONLY = re.compile(r"\bbone[\s-]+only\s+(?:metastases|disease|metastatic\s+disease)\b", re.I)
_PROGRESSION = re.compile(r"\bprogression\s+(?:over|within|in)\s+the\s+(?:past|last)\s+\d+\s+\w+", re.I)
_MALIGNANCY = re.compile(
    r"\b(?:(?:other|another|second|additional|prior|previous)\s+(?:primary\s+)?(?:invasive\s+)?"
    r"(?:malignanc(?:y|ies)|cancers?)|(?:any|history\s+of(?:\s+a)?)\s+malignanc(?:y|ies)"
    r"(?:\s+other\s+than\s+[\w\s]+?disease)?)\b",
    re.I,
)
_FREE_FOR = re.compile(
    r"(?:free\s+of[^.;]*?for\s+(?:at\s+least\s+)?|within\s+(?:the\s+)?(?:last|past)?\s*)(?P<n>\d+|three|five|two)\s+years?",
    re.I,
)
MALIGNANCY_EXCEPTIONS: tuple[tuple[str, str], ...] = (
    (
        r"(?:carcinoma\s+in\s+situ|CIS)\s+of\s+the\s+(?:uterine\s+)?cervix|cervical\s+(?:carcinoma\s+in\s+situ|CIS)"
        r"|in\s+situ\s+cervical\s+cancer",
        "condition.carcinoma_in_situ_cervix",
    ),
    (
        r"non-?melanoma(?:tous)?\s+skin\s+(?:cancer|carcinoma)s?|basal\s+(?:cell\s+)?(?:or|and|/)\s*squamous\s+cell"
        r"\s+(?:carcinoma|cancer)s?\s+of\s+the\s+skin|(?:basal|squamous)\s+cell\s+(?:skin\s+)?(?:carcinoma|cancer)s?"
        r"(?:\s+of\s+the\s+skin)?",
        "condition.nonmelanoma_skin_cancer",
    ),
)
_STUDY_DISEASE = ("condition.breast_cancer", "condition.metastasis")


def _malignancy(text: str) -> list[Finding]:
    """The first mention per clause; later ones ("or other cancers with a similar outcome") are its exceptions."""
    out: list[Finding] = []
    for match in _MALIGNANCY.finditer(text):
        if out and match.start() < clause(text, out[-1].span[0])[1]:
            continue
        rest = text[match.end() :]
        free = _FREE_FOR.search(rest)
        timing = Timing(mode="within", duration=window(f"within {free.group('n')} years")) if free else Timing()
        extra = [(match.end() + free.start(), match.end() + free.end())] if free else []
        exceptions = list(_STUDY_DISEASE)
        for pattern, concept in MALIGNANCY_EXCEPTIONS:
            for found in re.finditer(pattern, rest, re.I):
                exceptions += [] if concept in exceptions else [concept]
                extra.append((match.end() + found.start(), match.end() + found.end()))
        rule = Has(domain="condition", concept="condition.malignancy", timing=timing, exceptions=tuple(exceptions))
        finding_rule = polarity(text, match.start(), rule)
        out.append(Finding("other malignancy", span_of(match), finding_rule, "malignancy", extra_spans=tuple(extra)))
    return out


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """Disease facts; "measurable or evaluable (bone only) disease" is any(measurable, bone-only)."""
    out: list[Finding] = []
    context = is_exclusion(ctype)
    breast = Has(domain="condition", concept="condition.breast_cancer")
    out += [
        Finding("disease", span_of(m), None if context else breast, "breast_cancer") for m in _BREAST.finditer(text)
    ]
    for match in _METASTATIC.finditer(text):
        mentioned = context or re.search(r"\b(?:of|for)\s+$", text[: match.start()]) is not None
        out.append(Finding("disease", span_of(match), None if mentioned else Flag(name="metastatic"), "metastatic"))
    for match in _MEASURABLE.finditer(text):
        what = match.group("what").lower()
        rule: Condition = Flag(name="measurable_disease")
        if "evaluable" in what:
            rule = Any(items=(rule, Flag(name="bone_only")))
        if "non" in what:
            continue
        out.append(Finding("disease", span_of(match), rule, "measurable"))
    out += [Finding("disease", span_of(m), Flag(name="bone_only"), "bone_only") for m in _BONE_ONLY.finditer(text)]
    for match in _PROGRESSION.finditer(text):
        duration = window(match.group(0).replace("over the past", "within the last"))
        if duration is not None:
            flag = Flag(name="progression", args=(("within", f"{duration.amount}{duration.unit}"),))
            out.append(Finding("disease", span_of(match), flag, "progression"))
    return out + _malignancy(text)
