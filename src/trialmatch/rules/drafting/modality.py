"""Sentence modality before meaning: a criterion is split into sentences, and each is classified as a
requirement, permission, condition, exception, rationale, instruction to the site or definition, with the cue
lexicons of ``data/drafting/modality.yaml``.

Only requirements are read for rules. A permission is never a requirement: it can only relax its criterion's
other sentences. A condition ("For patients with HBV, the viral load must be undetectable") is split into the
condition and what it requires, which the drafter turns into ``when(...)``. Rationale, instructions and
definitions draft nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

REQUIREMENT = "requirement"
MODALITIES = ("rationale", "instruction", "permission", "definition", "exception", "condition")
RELAXING = frozenset({"permission", "exception"})
SILENT = frozenset({"rationale", "instruction", "definition"})
# A sentence ends at a full stop or semicolon followed by the start of another (outside parentheses).
_BOUNDARY = re.compile(r"(?:(?<=[.;])|(?<=[.;]\)))\s+(?=[\[(]?[A-Z0-9•*\-])")
_WHO = r"(?:patients?'?s?|participants?'?s?|subjects?'?s?|those|women|men|females|males|individuals|people)"
_SPLITS = (
    re.compile(
        rf"^\W*(?:for|in)\s+{_WHO}\s+(?P<cond>(?:with|who|whose|receiving|on|taking|of)\b[^,:;]+?)\s*[,:]\s*"
        r"(?P<req>\S.*)$",
        re.I | re.S,
    ),
    re.compile(r"^\W*if\s+(?P<cond>[^,]+?),\s*(?P<req>\S.*)$", re.I | re.S),
    re.compile(
        rf"^\W*{_WHO}\s+(?P<cond>(?:with|who\s+have|who\s+are|who\s+had|on|receiving|taking)\b.+?)\s+"
        r"(?P<req>(?:must|should|need\s+to|are\s+required\s+to)\b.+)$",
        re.I | re.S,
    ),
)


_SCOPE = re.compile(
    r"^\W*(?:(?:for|in)\s+|(?:participants|patients|subjects)\s+(?:in|enrolled\s+in|enrolling\s+in(?:to)?)\s+)?"
    r"(?P<label>(?:dose[\s-]+(?:escalation|expansion)\s+)?(?:cohorts?|parts?|phases?|arms?|groups?|strat(?:um|a)|"
    r"steps?|modules?|sub-?stud(?:y|ies)|sub-?protocols?)\b[^:;.]{0,40}?)\s*[:\u2013-]\s+",
    re.I,
)
_CAPS_SCOPE = re.compile(r"^\W*(?P<label>[A-Z][A-Z0-9 ()/-]{3,60}?)\s*:\s+")  # "HIGH-RISK STRATUM: ..."
_NOT_SCOPE = re.compile(r"(?:note|notes|nb|exceptions?|definitions?|inclusion|exclusion)\b", re.I)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a criterion: where it is and what kind of statement it makes."""

    span: tuple[int, int]
    modality: str


@cache
def cues() -> dict[str, re.Pattern[str]]:
    """The cue lexicons, one compiled pattern per modality."""
    source = resources.files("trialmatch") / "data" / "drafting" / "modality.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    return {name: re.compile("|".join(f"(?:{cue})" for cue in raw[name]), re.I) for name in MODALITIES}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence boundaries outside parentheses, without surrounding spaces."""
    spans, start, depth, last = [], 0, 0, 0
    for match in _BOUNDARY.finditer(text):
        depth += text.count("(", last, match.start()) - text.count(")", last, match.start())
        last = match.start()
        if depth <= 0:
            spans.append((start, match.start()))
            start = match.end()
    spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if text[s:e].strip()]


@cache
def lexicon(name: str) -> re.Pattern[str]:
    """One word list of the lexicon file (``narrowing``, ``qualifier``) as a pattern."""
    source = resources.files("trialmatch") / "data" / "drafting" / "modality.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    return re.compile("|".join(f"(?:{cue})" for cue in raw[name]), re.I)


def classify(sentence: str) -> str:
    """The sentence's modality: the first whose cues match, else a requirement."""
    patterns = cues()
    return next((name for name in MODALITIES if patterns[name].search(sentence)), REQUIREMENT)


def read(text: str) -> list[Sentence]:
    """Every sentence of ``text`` with its modality."""
    return [Sentence(span, classify(text[span[0] : span[1]])) for span in sentence_spans(text)]


def scope(text: str) -> tuple[tuple[int, int], str] | None:
    """A leading cohort, part, phase or stratum label ("For Cohort D:", "HIGH-RISK STRATUM:"): its span and
    words, or None."""
    found = _SCOPE.match(text) or _CAPS_SCOPE.match(text)
    if found is None or _NOT_SCOPE.match(found.group("label")):
        return None
    return found.span(), found.group("label")


def split_condition(sentence: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Spans (within the sentence) of the condition and of what it requires, or None when no form fits."""
    for pattern in _SPLITS:
        found = pattern.match(sentence)
        if found is not None:
            return found.span("cond"), found.span("req")
    return None


def masked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the given spans blanked, offsets kept, so clause families read only what is left."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = [" "] * (end - start)
    return "".join(chars)
