"""Pieces every clause family shares: the finding a family returns, and phrases for numbers, comparators,
durations, windows, clauses and negation, so each family reads wording the same way."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from trialmatch.rules.ast import Condition, Duration, Not, Operator
from trialmatch.trials.model import CriterionType

Limit = tuple[str, str | float]


@dataclass(frozen=True)
class Finding:
    """A clause a family understood: where it is, its rule (None: wording that asks nothing) and its family."""

    category: str
    span: tuple[int, int]
    rule: Condition | None
    key: str = ""
    limits: tuple[Limit, ...] = ()
    is_review: bool = False
    extra_spans: tuple[tuple[int, int], ...] = ()
    joins_all: bool = False

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """Every stretch of text the finding read (a qualifier may stand apart from its threshold)."""
        return (self.span, *self.extra_spans)


Finder = Callable[[str, CriterionType], list[Finding]]

NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12}
COUNT = NUMBER + "|" + "|".join(_WORD_NUMBERS)

_OPERATORS: tuple[tuple[str, Operator], ...] = (
    (r"≥|>=|=>|greater than or equal to|equal to or greater than|at least|no less than|not less than", ">="),
    (
        r"≤|<=|=<|less than or equal to|equal to or less than|no more than|not more than|not greater than"
        r"|not exceeding|up to|at most|within",
        "<=",
    ),
    (r">|greater than|more than|above|exceeding|over", ">"),
    (r"<|less than|below|lower than|under", "<"),
)
COMPARATOR = "(?:" + "|".join(pattern for pattern, _ in _OPERATORS) + ")"
_UNITS = {"d": "d", "day": "d", "w": "w", "wk": "w", "week": "w", "mo": "mo", "month": "mo", "y": "y", "yr": "y"}
_UNITS["year"] = "y"
_AMOUNT = rf"\d+|{'|'.join(_WORD_NUMBERS)}"
_UNIT_WORDS = r"days?|weeks?|wks?|months?|mos?|years?|yrs?"
DURATION = rf"(?P<n>{_AMOUNT})\s*-?\s*(?P<u>{_UNIT_WORDS})\b"
WINDOW = (
    rf"(?:(?:within|in|during|over|for)\s+(?:the\s+)?(?:last|past|previous|preceding|prior)?\s*{DURATION}"
    rf"|(?P<n2>{_AMOUNT})\s*-?\s*(?P<u2>{_UNIT_WORDS})\s+(?:prior|before|preceding))"
)
NEGATION = re.compile(
    r"\b(?:no(?!\s+(?:more|less|greater|longer|later))|not|without|absence of|free of|never|must not|none)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"(?<!\d)[.;](?!\d)|\n|\bhowever\b|\bbut\b", re.IGNORECASE)


_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f]+")


def shortened(text: str, length: int) -> str:
    """Text for a label or reason: one line, no control characters (a rule file could not hold them), cut at a
    word boundary to ``length``."""
    folded = _UNPRINTABLE.sub(" ", text).strip(" ;.,")
    return folded if len(folded) <= length else folded[: length - 1].rsplit(" ", 1)[0] + " …"


def count(text: str) -> float:
    """A number as written: ``1,500`` or ``2.0`` or ``two``."""
    lowered = text.lower()
    return float(_WORD_NUMBERS[lowered]) if lowered in _WORD_NUMBERS else float(text.replace(",", ""))


def operator(text: str) -> Operator:
    """The rule operator a comparator phrase stands for (``≥``, ``at least`` → ``>=``)."""
    for pattern, op in _OPERATORS:
        if re.fullmatch(pattern, text.strip(), re.IGNORECASE):
            return op
    raise ValueError(f"not a comparator: {text!r}")


def duration(amount: str, unit: str) -> Duration:
    """A duration from its words: ``6`` ``months`` → ``6mo``."""
    word = unit.lower().rstrip("s")
    return Duration(amount=int(count(amount)), unit=_UNITS[word])


def window(text: str) -> Duration | None:
    """The first time window stated in ``text`` (``within the last 6 months``), if any."""
    found = re.search(WINDOW, text, re.IGNORECASE)
    if found is None:
        return None
    return duration(found.group("n") or found.group("n2"), found.group("u") or found.group("u2"))


def clause(text: str, position: int) -> tuple[int, int]:
    """The bounds of the clause (between full stops, semicolons, "however") around ``position``."""
    start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, position)), default=0)
    following = _CLAUSE_BREAK.search(text, position)
    return start, following.start() if following else len(text)


def negated(text: str, start: int, reach: int = 60) -> bool:
    """Whether a negation cue ("no", "without", "must not") stands before ``start`` in the same clause."""
    begin = max(clause(text, start)[0], start - reach)
    return NEGATION.search(text, begin, start) is not None


_EXCEPTED = re.compile(r"(?:\bunless|\bexcept(?:\s+for)?|\bexcluding|than|\bbesides|\binitiation\s+of)\b", re.I)


def excepted(text: str, start: int, reach: int = 80) -> bool:
    """Whether the words before ``start`` make it an exception or an aside ("other than trastuzumab")."""
    begin = max(clause(text, start)[0], start - reach)
    return _EXCEPTED.search(text, begin, start) is not None


def polarity(text: str, start: int, rule: Condition) -> Condition:
    """The rule, negated when the text negates it ("No prior T-DM1" → ``not(drug(...))``)."""
    return Not(item=rule) if negated(text, start) else rule


def span_of(match: re.Match[str]) -> tuple[int, int]:
    """A match's bounds without surrounding spaces."""
    return match.start(), match.end()


def is_exclusion(ctype: CriterionType) -> bool:
    """Whether the criterion excludes (its rule states the excluding condition)."""
    return ctype is CriterionType.EXCLUSION
