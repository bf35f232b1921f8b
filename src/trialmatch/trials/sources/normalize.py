"""Map the ways records print phase, status, sex and age onto ClinicalTrials.gov API v2 values."""

from __future__ import annotations

import re

_UNIT_YEARS = {"year": 1.0, "month": 1 / 12, "week": 7 / 365.25, "day": 1 / 365.25, "hour": 1 / 8766}
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*(years?|months?|weeks?|days?|hours?|y\b|yrs?\b)?", re.IGNORECASE)

# Status phrases as registries and hospital pages print them, folded to lowercase without punctuation.
_STATUS = {
    "recruiting": "RECRUITING",
    "active recruiting": "RECRUITING",
    "open enrolling": "RECRUITING",
    "open to accrual": "RECRUITING",
    "enrolling": "RECRUITING",
    "active not recruiting": "ACTIVE_NOT_RECRUITING",
    "closed to accrual": "ACTIVE_NOT_RECRUITING",
    "completed": "COMPLETED",
    "not yet recruiting": "NOT_YET_RECRUITING",
    "suspended": "SUSPENDED",
    "terminated": "TERMINATED",
    "withdrawn": "WITHDRAWN",
    "enrolling by invitation": "ENROLLING_BY_INVITATION",
    "unknown status": "UNKNOWN",
}
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def status_value(text: str) -> str | None:
    """The v2 ``overallStatus`` for a printed status, or None when the phrase is not a known status."""
    return _STATUS.get(_fold(text))


def is_status_phrase(text: str) -> bool:
    """Whether a whole line is a known status phrase (pages that print the status without a label)."""
    return status_value(text) is not None


def phase_values(text: str) -> tuple[str, ...]:
    """v2 phase values for ``Phase 2``, ``Phase II``, ``Phase 1/2``, ``Not Applicable``, ``2`` ..."""
    folded = _fold(text)
    if folded in ("not applicable", "n a", "na", "none"):
        return ("NA",)
    if re.fullmatch(r"(early phase 1|early phase i|phase 0|0)", folded):
        return ("EARLY_PHASE1",)
    tokens = re.findall(r"\b(iv|iii|ii|i|[1-4])\b", folded.replace("phase", " "))
    numbers = sorted({_ROMAN.get(token, token) for token in tokens})
    return tuple(f"PHASE{n}" for n in numbers)


def sex_value(text: str) -> str | None:
    """ALL, FEMALE or MALE from ``All``, ``All Genders``, ``Female``, ``Women`` ..."""
    folded = _fold(text)
    if re.fullmatch(r"(all|all genders|both|male and female|female and male|men and women)", folded):
        return "ALL"
    if re.fullmatch(r"(female|females|women|female only)", folded):
        return "FEMALE"
    if re.fullmatch(r"(male|males|men|male only)", folded):
        return "MALE"
    return None


def age_years(text: str) -> float | None:
    """Years in ``18 Years``, ``6 Months``, ``> 18``; None for ``N/A`` or no number."""
    match = _AGE.search(text)
    if match is None:
        return None
    unit = (match.group(2) or "year").lower().rstrip("s")
    unit = {"y": "year", "yr": "year"}.get(unit, unit)
    return round(float(match.group(1)) * _UNIT_YEARS[unit], 4)


def age_range(text: str) -> tuple[float | None, float | None]:
    """Minimum and maximum age from ``18 Years and older``, ``18 Years to 75 Years``, ``up to 65 Years``."""
    folded = text.lower()
    parts = re.split(r"\bto\b|\s[-–]\s", folded, maxsplit=1)
    if re.match(r"\s*(up to|under|younger than|<|≤)", folded):
        return None, age_years(folded)
    low = age_years(parts[0])
    high = age_years(parts[1]) if len(parts) > 1 else None
    return low, high
