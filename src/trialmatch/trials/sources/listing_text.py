"""Reader for trial descriptions saved as text from web pages (registry pages, hospital and sponsor listings).

Pages differ in layout, so the reader relies on what they share: ``Inclusion``/``Exclusion`` headers
before the criteria, labelled facts (``Phase``, ``Status``, ``Sex`` ...) in one of three layouts, and a few
facts printed without a label near the top (``Phase 2``, ``18 Years``, ``Open (Enrolling)``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from trialmatch.errors import RecordError
from trialmatch.trials.aliases import canonical_ids
from trialmatch.trials.model import Criterion, Trial, TrialSource
from trialmatch.trials.segment import SourceLine, build_criteria, header_kind, parse_lines, split_sections
from trialmatch.trials.sources.listing_fields import Page, is_id
from trialmatch.trials.sources.normalize import (
    age_range,
    age_years,
    is_status_phrase,
    phase_values,
    sex_value,
    status_value,
)

FORMAT = "listing-text"
_SMALL_WORDS = frozenset({"of", "and", "or", "the", "for", "to", "in", "a", "an", "by", "with", "&", "/"})
_PHASE_LINE = re.compile(r"Phase\s+((?:[0-4]|IV|I{1,3})(?:\s*[/|,&-]\s*(?:Phase\s+)?(?:[0-4]|IV|I{1,3}))*)", re.I)
_AGE_LINE = re.compile(r"(\d+\s+(?:Years?|Months?))(?:\s+and\s+(?:older|over))?", re.I)
_AGES_LINE = re.compile(r"Ages?\s*([<>≥≤]=?\s*\d+.*)", re.I)
_SEX_LINE = re.compile(r"(?:All|Both|Female|Male)\s+(?:Genders?|Sexes)|(?:Female|Male|Women|Men)\s+only", re.I)
_NCT = re.compile(r"\bNCT\d{8}\b")
_EU_CT = re.compile(r"\b(?:19|20)\d{2}-\d{6}-\d{2}(?:-\d{2})?\b")
_ACRONYM = re.compile(r".*\(([A-Z][A-Za-z0-9-]*[A-Z0-9][A-Za-z0-9-]*)\)")
_STATUS_LABELS = (
    "Overall Recruitment Status",
    "Overall Status",
    "Recruitment Status",
    "Trial Status",
    "Status",
)
_MIN_AGE_LABELS = ("Minimum Age & Unit of Time", "Minimum Age", "Ages Eligible for Study", "Age", "Ages")
_SEX_LABELS = ("Sexes Eligible for Study", "Sex", "Gender", "Genders")
_CONDITION_LABELS = (
    "Condition",
    "Conditions",
    "Primary Disease or Condition Being Studied in the Trial, or the Focus of the Study",
)
_ID_LABELS = (
    "ClinicalTrials.gov Identifier",
    "NCT ID",
    "Unique Protocol Identification Number",
    "Other Study ID Numbers",
    "Clinical Study ID",
    "Study ID",
    "Study HIC#",
    "Protocol ID",
    "Protocol Number",
    "Secondary IDs",
    "EudraCT Number",
)


def accepts(text: str) -> bool:
    """A page with at least one inclusion or exclusion header."""
    return any(header_kind(line) for line in parse_lines(text.splitlines()))


def read(text: str, file_name: str) -> list[Trial]:
    """The page's trial; RecordError when it has no criteria under its headers or no title."""
    criteria = criteria_of(text)
    if not criteria:
        raise RecordError(f"{file_name}: no criteria found under the inclusion/exclusion headers")
    page = Page(text)
    head = _head(page)
    heading = _heading(head)
    title = page.value(("Brief Title",)) or heading
    if title is None:
        raise RecordError(f"{file_name}: no page heading found to use as the trial title")
    trial_id, aliases = canonical_ids(_printed_ids(page, text), title)
    status_text = _status_text(page, head)
    minimum, maximum = _ages(page, head)
    return [
        Trial(
            trial_id=trial_id or f"local-{hashlib.sha256(text.encode()).hexdigest()[:12]}",
            aliases=aliases,
            title=title,
            official_title=page.value(("Official Title",)),
            acronym=page.value(("Acronym",)) or _acronym(heading),
            phases=_phases(page, head),
            recruitment_status=status_value(status_text) if status_text else None,
            status_text=status_text,
            sex=_sex(page, head),
            minimum_age_years=minimum,
            maximum_age_years=maximum,
            conditions=_conditions(page, head, heading),
            source=TrialSource(format=FORMAT, file=file_name),
            criteria=criteria,
        )
    ]


def criteria_of(text: str) -> tuple[Criterion, ...]:
    """The page's criteria: every inclusion/exclusion section, each ended by the page text after it."""
    return build_criteria(split_sections(parse_lines(text.splitlines()), stop=_section_ends))


def _section_ends(line: SourceLine, section: Sequence[SourceLine]) -> bool:
    """Page text after a list: a heading, or an unmarked paragraph after a blank line below a marked list."""
    if line.marker is not None:
        return False
    return looks_like_heading(line.text) or (line.after_blank and section[0].marker is not None)


def looks_like_heading(text: str) -> bool:
    """A short title-case line without sentence punctuation: ``Sites / Locations``, ``Study Design``."""
    stripped = text.strip().rstrip(":").strip()
    words = stripped.split()
    if not 1 <= len(words) <= 6 or stripped.endswith((".", ";", ",", "!", "?")):
        return False
    significant = [w for w in words if w.lower() not in _SMALL_WORDS and w[:1].isalpha()]
    return (
        bool(significant)
        and words[0][:1].isupper()
        and all(w[:1].isupper() for w in significant)
        and any(c.islower() for c in stripped)
    )


def _head(page: Page) -> list[str]:
    """Lines before the first criteria header (blank ones kept), where pages print facts without labels."""
    lines = parse_lines(page.raw)
    first = next((line.text for line in lines if header_kind(line)), None)
    end = next((i for i, line in enumerate(page.lines) if line == first), len(page.lines))
    return page.lines[:end]


def _heading(head: Sequence[str]) -> str | None:
    """The first line that reads as a title (skipping navigation links and bare facts)."""
    for line in head:
        if len(line.split()) >= 3 and not line.lower().startswith("skip to") and not _PHASE_LINE.fullmatch(line):
            return line
    return None


def _acronym(heading: str | None) -> str | None:
    match = _ACRONYM.fullmatch(heading) if heading else None
    return match.group(1) if match else None


def _first_match(head: Sequence[str], pattern: re.Pattern[str]) -> re.Match[str] | None:
    return next((m for m in (pattern.fullmatch(line) for line in head) if m), None)


def _phases(page: Page, head: Sequence[str]) -> tuple[str, ...]:
    bare = _first_match(head, _PHASE_LINE)
    text = page.value(("Study Phase", "Phase", "Phases")) or page.table().get("phase") or (bare and bare.group(0))
    return phase_values(text) if text else ()


def _status_text(page: Page, head: Sequence[str]) -> str | None:
    return page.value(_STATUS_LABELS) or next((line for line in head if is_status_phrase(line)), None)


def _sex(page: Page, head: Sequence[str]) -> str | None:
    text = page.value(_SEX_LABELS, lambda v: sex_value(v) is not None)
    bare = _first_match(head, _SEX_LINE)
    return sex_value(text) if text else sex_value(bare.group(0)) if bare else None


def _ages(page: Page, head: Sequence[str]) -> tuple[float | None, float | None]:
    """Age limits from labels, else from ``Ages > 18`` or a bare ``18 Years`` line near the top."""
    bare = _first_match(head, _AGES_LINE) or _first_match(head, _AGE_LINE)
    text = page.value(_MIN_AGE_LABELS, lambda v: any(c.isdigit() for c in v)) or (bare and bare.group(1))
    minimum, maximum = age_range(text) if text else (None, None)
    stated_max = page.value(("Maximum Age & Unit of Time", "Maximum Age"))
    return minimum, age_years(stated_max) if stated_max else maximum


def _conditions(page: Page, head: Sequence[str], heading: str | None) -> tuple[str, ...]:
    """Labelled conditions, a table column, or the unlabelled lines of a facts block under the heading."""
    for label in _CONDITION_LABELS:
        found = page.values(label, lambda v: len(v) < 120, many=True)
        if found:
            return tuple(found)
    cell = page.table().get("condition or disease")
    return (cell,) if cell else _facts_block_leftovers(head, heading)


def _facts_block_leftovers(head: Sequence[str], heading: str | None) -> tuple[str, ...]:
    """In a block of bare facts under the heading (``Phase 2``, ``18 Years``, a status), the other lines."""
    if heading is None:
        return ()
    after = list(head[head.index(heading) + 1 :])
    while after and not after[0]:
        after.pop(0)
    block = after[: after.index("")] if "" in after else after
    if not any(_is_bare_fact(line) for line in block):
        return ()
    return tuple(line for line in block if not (_is_bare_fact(line) or len(line) > 80 or ":" in line or "|" in line))


def _is_bare_fact(line: str) -> bool:
    patterns = (_PHASE_LINE, _AGE_LINE, _AGES_LINE, _SEX_LINE)
    return is_status_phrase(line) or any(p.fullmatch(line) for p in patterns)


def _printed_ids(page: Page, text: str) -> list[str]:
    """NCT ids, labelled study ids and EU trial numbers, in page order of kind."""
    labelled = [value for label in _ID_LABELS for value in page.values(label, is_id, many=True)]
    return [*_NCT.findall(text), *labelled, *_EU_CT.findall(text)]
