"""Split eligibility text into single criteria, shared by every reader so all formats split and number alike.

Registry and web text mixes numbered lists, bullets, unmarked lines, hard-wrapped lines and sub-items. The
steps, in order: parse each line's indent and list marker, cut the text into inclusion/exclusion sections at
their headers, group lines into items (undoing hard wrapping), re-join a criterion the source broke across two
bullets, nest sub-items, drop criteria printed twice, and number the rest ``inc-N`` / ``exc-N`` / ``inc-N.M``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from trialmatch.trials.model import Criterion, CriterionType

_MARKER = re.compile(
    r"(?:(?P<number>\d{1,3})[.)](?=\s)"
    r"|(?P<letter>[a-z])[.)](?=\s)"
    r"|(?P<bullet>[*•·▪◦‣●–+-])(?=\s)"
    r"|(?P<dash>-)(?=[A-Z(]))\s*"
)
_HEADER_ALONE = re.compile(r"(?:key\s+|main\s+)?(inclusion|exclusion)(?:\s+criteria)?\s*:?", re.IGNORECASE)
_HEADER_WITH_TEXT = re.compile(r"(?:key\s+|main\s+)?(inclusion|exclusion)\s+criteria\s*:\s*(\S.*)", re.IGNORECASE)
# Header variants of the corpus: "Key Exclusion Criteria", "Part 3 exclusion criteria:", "Inclusion criteria for
# cohort 5:", "GROUP 1 Patient Inclusion criteria", "The main inclusion criteria include but are not limited to
# the following:". A few words may come before (never a negation or "other"), a scope after; nothing else.
_HEADER_VARIANT = re.compile(
    r"(?:(?!(?:not|no|meeting|meets?|other|all|there|above|any|are|is)\b)[\w()'/-]+\s+){0,5}?"
    r"(inclusion|exclusion)\s+criteria\b(?:\s*\([^)]{0,40}\))?"
    r"(?:\s+(?:for|specific\s+to|include|includes|apply\s+to)\b[^.;:]{0,80})?\s*:?",
    re.IGNORECASE,
)
_TERMINAL = (".", ";", ":", "!", "?")
DANGLING_WORDS = frozenset(
    {"of", "and", "or", "the", "to", "with", "in", "for", "by", "a", "an", "than", "at", "from", "on", "as"}
    | {"including", "per", "without", "within", "between", "into", "nor", "but", "plus", "versus", "vs"}
)


@dataclass(frozen=True)
class SourceLine:
    """One non-blank line of eligibility text: indent, list marker (if any) and the text after it."""

    indent: int
    marker: str | None
    number: int | None
    text: str
    after_blank: bool = False


Section = tuple[CriterionType, list[SourceLine]]
StopRule = Callable[[SourceLine, Sequence[SourceLine]], bool]


def parse_line(raw: str, *, after_blank: bool = False) -> SourceLine:
    """Read a line's indent and list marker; markers are kept out of the criterion text."""
    expanded = raw.replace("\t", "    ").replace("\u00a0", " ").rstrip()
    stripped = expanded.lstrip()
    indent = len(expanded) - len(stripped)
    match = _MARKER.match(stripped)
    if match is None:
        return SourceLine(indent, None, None, stripped, after_blank)
    kind = next(name for name in ("number", "letter", "bullet", "dash") if match.group(name))
    number = int(match.group("number")) if kind == "number" else None
    marker = "bullet" if kind == "dash" else kind
    return SourceLine(indent, marker, number, stripped[match.end() :], after_blank)


def parse_lines(raw_lines: Iterable[str]) -> list[SourceLine]:
    """Parse every non-blank line, remembering which ones followed a blank line."""
    lines: list[SourceLine] = []
    blank = False
    for raw in raw_lines:
        if not raw.strip():
            blank = True
            continue
        lines.append(parse_line(raw, after_blank=blank))
        blank = False
    return lines


def header_kind(line: SourceLine) -> tuple[CriterionType, str] | None:
    """The section an ``Inclusion Criteria:``-style header opens, and any criterion text after it."""
    variant = _HEADER_VARIANT.fullmatch(line.text)
    if variant and (line.marker is None or line.text.rstrip().endswith(":")):
        return CriterionType(variant.group(1).lower()), ""
    if line.marker is not None:
        return None
    alone = _HEADER_ALONE.fullmatch(line.text)
    if alone:
        return CriterionType(alone.group(1).lower()), ""
    with_text = _HEADER_WITH_TEXT.fullmatch(line.text)
    if with_text:
        return CriterionType(with_text.group(1).lower()), with_text.group(2)
    return None


def split_sections(
    lines: Sequence[SourceLine], *, preamble: CriterionType | None = None, stop: StopRule | None = None
) -> list[Section]:
    """Cut lines into sections at their headers; ``stop`` ends a section early (page text after the list).

    Lines before the first header belong to ``preamble`` (a registry field holding only criteria) or are
    ignored (a web page). After a stop, lines are skipped until the next header.
    """
    sections: list[Section] = []
    current: list[SourceLine] | None = None
    if preamble is not None:
        current = []
        sections.append((preamble, current))
    for line in lines:
        header = header_kind(line)
        if header is not None:
            current = [parse_line(header[1])] if header[1] else []
            sections.append((header[0], current))
        elif current is not None and stop is not None and current and stop(line, current):
            current = None
        elif current is not None:
            current.append(line)
    return [(kind, section) for kind, section in sections if section]


@dataclass
class _Item:
    """A criterion being assembled: its lines so far and its sub-items."""

    indent: int
    marker: str | None
    number: int | None
    parts: list[str]
    children: list[_Item] = field(default_factory=list)

    @property
    def text(self) -> str:
        return clean_text(_join_wrapped(self.parts))

    def key(self) -> tuple[str, ...]:
        """Whitespace-free text of the item and its sub-items, for spotting a criterion printed twice."""
        own = re.sub(r"\s+", "", self.text).casefold()
        return (own, *(k for child in self.children for k in child.key()))


def _join_wrapped(parts: Sequence[str]) -> str:
    """Undo hard wrapping: a word split at a hyphen joins without a space, other lines with one space."""
    out = ""
    for part in parts:
        part = part.strip()
        if re.search(r"[A-Za-z]-$", out):
            out += part
        else:
            out = f"{out} {part}" if out else part
    return out


def clean_text(text: str) -> str:
    """Fold runs of whitespace and drop a stray trailing bullet dash the source left behind."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+[-*]$", "", text)


def ends_dangling(text: str) -> bool:
    """A line ending on a word that cannot end a sentence (``… inhibitors or inducers of``)."""
    words = text.rstrip().split()
    return bool(words) and not text.rstrip().endswith(_TERMINAL) and words[-1].lower() in DANGLING_WORDS


def _continues(item: _Item, line: SourceLine, numbered: bool) -> bool:
    """Whether an unmarked line is the hard-wrapped rest of the item before it rather than a new criterion."""
    if line.after_blank:
        return False
    if numbered and item.marker in ("number", "letter"):
        return True
    last = item.parts[-1].rstrip()
    if last.endswith(_TERMINAL):
        return False
    return line.text[:1].islower() or last.endswith(",") or ends_dangling(last)


def _group(lines: Sequence[SourceLine]) -> list[_Item]:
    numbered = any(line.marker == "number" for line in lines)
    items: list[_Item] = []
    for line in lines:
        if items and line.marker is None and _continues(items[-1], line, numbered):
            items[-1].parts.append(line.text)
        else:
            items.append(_Item(line.indent, line.marker, line.number, [line.text]))
    return items


def _starts_mid_sentence(text: str) -> bool:
    """Text that cannot open a criterion: lowercase, or an acronym carried over (``CYP3A isoenzymes``)."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return first[:1].islower() or (first[:1].isupper() and not any(c.islower() for c in first))


def _join_broken(items: list[_Item]) -> list[_Item]:
    """Re-join a criterion the source broke across two bullets (first ends on a dangling word)."""
    out: list[_Item] = []
    for item in items:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.marker == item.marker == "bullet"
            and prev.indent == item.indent
            and not prev.children
            and ends_dangling(prev.parts[-1])
            and _starts_mid_sentence(item.parts[0])
        ):
            prev.parts.extend(item.parts)
        else:
            out.append(item)
    return out


def _nest(items: Sequence[_Item]) -> list[_Item]:
    """Indented items become children; so do lowercase items after an item ending in ``:``."""
    roots: list[_Item] = []
    stack: list[_Item] = []
    for item in items:
        while stack and item.indent <= stack[-1].indent:
            stack.pop()
        siblings = stack[-1].children if stack else roots
        if siblings and siblings[-1].text.endswith(":") and item.parts[0][:1].islower():
            siblings[-1].children.append(item)
            continue
        siblings.append(item)
        stack.append(item)
    return roots


def _criteria(items: Sequence[_Item], kind: CriterionType, prefix: str) -> tuple[Criterion, ...]:
    """Number items by the document's own numbers when they are complete and unique, else by order."""
    numbers = [item.number for item in items]
    own = None not in numbers and len(set(numbers)) == len(numbers)
    return tuple(
        Criterion(
            id=f"{prefix}{item.number if own else position}",
            type=kind,
            text=item.text,
            children=_criteria(item.children, kind, f"{prefix}{item.number if own else position}."),
        )
        for position, item in enumerate(items, start=1)
    )


def build_criteria(sections: Sequence[Section]) -> tuple[Criterion, ...]:
    """Criteria of all sections, inclusion before exclusion; a later section repeating one is kept once."""
    merged: dict[CriterionType, list[_Item]] = {CriterionType.INCLUSION: [], CriterionType.EXCLUSION: []}
    for kind, lines in sections:
        seen = {item.key() for item in merged[kind]}
        for item in _nest(_join_broken(_group(lines))):
            if item.key() not in seen and item.text:
                merged[kind].append(item)
    prefixes = {CriterionType.INCLUSION: "inc-", CriterionType.EXCLUSION: "exc-"}
    return tuple(c for kind, items in merged.items() for c in _criteria(items, kind, prefixes[kind]))
