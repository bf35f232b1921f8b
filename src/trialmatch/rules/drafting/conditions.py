"""Recorded conditions named in a list ("HIV, HBV, or HCV", "unstable angina, stroke or myocardial infarction
within 3 months"), with the list's timing ("current", "within N months", else ever) and negation.

The machinery here is shared: cardiac events use it with their own phrase table (see ``cardiac``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialmatch.rules.ast import All, Any, Condition, Has, Review, Timing
from trialmatch.rules.drafting.patterns import Finding, polarity, window
from trialmatch.trials.model import CriterionType


@dataclass(frozen=True)
class Phrase:
    """Wording for one or more condition concepts; ``review`` is asked whenever the phrase matches."""

    pattern: str
    concepts: tuple[str, ...]
    review: str | None = None


_ACTIVE = re.compile(r"\b(?:current(?:ly)?|active|ongoing|uncontrolled|concurrent|present)\b", re.I)
_UNCONTROLLED = re.compile(r"\buncontrolled\b", re.I)
# "prior or current", "history of": the history counts, not only the present state.
_EVER = re.compile(
    r"\b(?:prior|past|previous)\s+(?:or|and/or)\s+(?:current|active|ongoing)\b"
    r"|\b(?:current|active|ongoing)\s+(?:or|and/or)\s+(?:prior|past|previous)\b|\bhistory\s+of\b",
    re.I,
)
_JOIN = r"(?:\s*(?:,|;|/|\bor\b|\band\b|\band/or\b)\s*)+"

INFECTIONS = (
    Phrase(
        r"hepatitis\s+B\s*(?:or|and|/|,)\s*(?:hepatitis\s+)?C(?:\s+(?:virus|infection))?",
        ("condition.hepatitis_b", "condition.hepatitis_c"),
    ),
    Phrase(
        r"HIV(?:\s+infection)?|human\s+immunodeficiency\s+virus(?:\s+\(HIV\))?(?:\s+infection)?", ("condition.hiv",)
    ),
    Phrase(r"hepatitis\s+B(?:\s+virus)?(?:\s+\(HBV\))?(?:\s+infection)?|HBV", ("condition.hepatitis_b",)),
    Phrase(r"hepatitis\s+C(?:\s+virus)?(?:\s+\(HCV\))?(?:\s+infection)?|HCV", ("condition.hepatitis_c",)),
)
OTHER = (
    Phrase(r"interstitial\s+lung\s+disease(?:\s+\(ILD\))?|pneumonitis", ("condition.interstitial_lung_disease",)),
    Phrase(r"peripheral\s+neuropathy", ("condition.peripheral_neuropathy",)),
)


def _mentions(text: str, phrases: tuple[Phrase, ...]) -> list[tuple[int, int, Phrase]]:
    pattern = re.compile("|".join(f"(?P<p{i}>\\b(?:{p.pattern})\\b)" for i, p in enumerate(phrases)), re.I)
    found = []
    for match in pattern.finditer(text):
        index = next(int(k[1:]) for k, v in match.groupdict().items() if v is not None)
        found.append((match.start(), match.end(), phrases[index]))
    return found


def _lists(text: str, mentions: list[tuple[int, int, Phrase]]) -> list[list[tuple[int, int, Phrase]]]:
    """Mentions joined by commas, "or", "and" form one list (one timing, one rule)."""
    lists: list[list[tuple[int, int, Phrase]]] = []
    for mention in mentions:
        if lists and re.fullmatch(_JOIN, text[lists[-1][-1][1] : mention[0]], re.I):
            lists[-1].append(mention)
        else:
            lists.append([mention])
    return lists


def _timing(text: str, start: int, end: int) -> tuple[Timing, tuple[int, int] | None]:
    """The list's timing: a window right after it, else "current/active" before it, else ever."""
    after = re.match(r"[\s,]*(?:(?:in|during)\s+the\s+(?:past|last)\s+|within\s+)", text[end:], re.I)
    if after:
        stop = min(len(text), end + after.end() + 30)
        span_window = window(text[end:stop])
        if span_window is not None:
            unit_end = re.search(r"(?:days?|weeks?|months?|years?)\b", text[end:stop], re.I)
            assert unit_end is not None
            return Timing(mode="within", duration=span_window), (end, end + unit_end.end())
    if _ACTIVE.search(text, max(0, start - 40), start) and not _EVER.search(text, max(0, start - 60), start):
        return Timing(mode="active"), None
    return Timing(), None


def list_rule(phrases: list[Phrase], timing: Timing, uncontrolled: bool) -> Condition:
    """any(...) of every concept's record, each phrase's review joined to its concepts."""
    items: list[Condition] = []
    for phrase in phrases:
        has = [Has(domain="condition", concept=c, timing=timing) for c in phrase.concepts]
        items += [All(items=(h, Review(reason=phrase.review))) if phrase.review else h for h in has]
    rule: Condition = items[0] if len(items) == 1 else Any(items=tuple(items))
    if uncontrolled:
        rule = All(items=(rule, Review(reason="Confirm the condition is uncontrolled")))
    return rule


def event_findings(text: str, phrases: tuple[Phrase, ...], category: str) -> list[Finding]:
    """One finding per list of condition mentions, negated when the text says "no history of"."""
    out: list[Finding] = []
    for group in _lists(text, _mentions(text, phrases)):
        start, end = group[0][0], group[-1][1]
        timing, extra = _timing(text, start, end)
        uncontrolled = _UNCONTROLLED.search(text, max(0, start - 40), start) is not None
        rule = list_rule([p for _, _, p in group], timing, uncontrolled)
        key = group[0][2].concepts[0].removeprefix("condition.")
        spans = (extra,) if extra else ()
        out.append(Finding(category, (start, end), polarity(text, start, rule), key, extra_spans=spans))
    return out


def find(text: str, ctype: CriterionType) -> list[Finding]:
    """Infections (HIV, hepatitis B/C) and other listed conditions."""
    return event_findings(text, INFECTIONS, "infection") + event_findings(text, OTHER, "conditions")
