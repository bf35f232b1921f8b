"""What a criterion says beyond the clauses the families understood: the text left over once their spans and
words that ask nothing ("adequate organ function", "patients must have") are taken out."""

from __future__ import annotations

import re
from collections.abc import Iterable

_FILLER = re.compile(
    r"adequate\s+(?:\w+\s+){0,3}(?:function|reserve)s?|evidenced\s+by\s+the\s+following\s+laboratory\s+results"
    r"|(?:histologically|cytologically|pathologically|biopsy)[\s-]+(?:or\s+\w+\s+)?(?:confirmed|proven|documented)"
    r"|(?:is|are)\s+not\s+(?:eligible|allowed)|will\s+be\s+excluded(?:\s+of\s+the\s+study)?|are\s+(?:ineligible|eligible)"
    r"|(?:prior\s+to|before|at)\s+(?:study\s+)?(?:entry|enrol?lment|randomi[sz]ation|registration|inclusion|screening)"
    r"|on\s+recent\s+(?:standard\s+)?(?:imaging|work[\s-]*up)(?:\s+of)?|\(?or\s+per\s+national\s+guidelines\)?|defined\s+as|as\s+follows"
    r"|(?:prior|before)\s+to\s+(?:the\s+)?\S+\s+(?:injection|infusion|administration)",
    re.I,
)
_STOPWORD_TEXT = """
a an and or the of for to in on at by as be is are was were been with without who whom which that
this these those their its his her they them any all each other than from into per must should shall
will may can have has had having not no nor patient patients subject subjects women woman men female
male history known documented prior previous previously current currently recent following including
include includes defined definition evidence evidenced eligible ineligible excluded exclusion
inclusion study trial entry total serum level levels count value values within days weeks months
years year month week day least more less greater also only both either such following: e.g i.e
function organ adequate documented diagnosis diagnosed confirmed proven treated therapy treatment
disease condition conditions cancer use used
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SPLIT = re.compile(r"(?<!\d)[.;:](?!\d)|\n|,")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")


def leftover(text: str, covered: Iterable[tuple[int, int]], min_words: int = 2) -> list[str]:
    """Pieces of uncovered text with at least ``min_words`` meaningful words, folded and stripped."""
    chars = list(text)
    for start, end in covered:
        chars[start:end] = [" "] * (end - start)
    remaining = _FILLER.sub(" ", "".join(chars))
    pieces = []
    for piece in _SPLIT.split(remaining):
        words = [w for w in _WORD.findall(piece) if len(w) > 2 and w.lower() not in STOPWORDS]
        if len(words) >= min_words:
            pieces.append(re.sub(r"\s+", " ", piece).strip(" ()-/,"))
    return pieces
