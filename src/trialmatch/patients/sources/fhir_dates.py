"""FHIR R4 ``date`` and ``dateTime`` read strictly, and the rule for partial and invalid dates.

A value is a date only when the whole string has the FHIR form: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, or a
date with a time ``THH:MM:SS[.fff]`` and a zone (``Z`` or ``±HH:MM``; a missing zone is tolerated, as some
systems leave it out). ``20261120``, ``2026-11-20 10:00`` or ``2026-02-30`` are not dates: they are ignored
and reported, never read as something else. A partial date (a year, or a year and month) is read as the first
day of its period and reported, so a reader of the problems knows the day was not recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

_FHIR_DATE = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2])(?:-(?P<day>0[1-9]|[12]\d|3[01])"
    r"(?:T(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)(?:\.\d{1,9})?(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?)?)?)?"
)
_DATE_KEYS = frozenset({"issued", "authoredOn", "start", "end", "recorded", "date"})
"""Date elements whose names do not end in Date, DateTime or Instant."""
INVALID = "date ignored"
PARTIAL = "read as the first day of its period"


def parse_date(value: object) -> dt.date | None:
    """The calendar date of a FHIR date or dateTime (a partial date: the first day of its period); None when
    ``value`` is not one."""
    match = _FHIR_DATE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day = (int(g) if g else 1 for g in match.group("year", "month", "day"))
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def is_partial(value: str) -> bool:
    """Whether a valid FHIR date gives only a year or a year and month."""
    match = _FHIR_DATE.fullmatch(value)
    return match is not None and match.group("day") is None


def date_problems(resource: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(problem, action) for each date element of a resource that is not a FHIR date, or is partial. The
    problem names the element, never its value (a date may identify a patient)."""
    if isinstance(resource, list):
        for item in resource:
            yield from date_problems(item, path)
        return
    if not isinstance(resource, dict):
        return
    for key, value in resource.items():
        where = f"{path}.{key}" if path else key
        if isinstance(value, dict | list):
            yield from date_problems(value, where)
        elif _is_date_key(key) and isinstance(value, str):
            if parse_date(value) is None:
                yield f"{where} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)", INVALID
            elif is_partial(value):
                yield f"{where} is a partial date", PARTIAL


def _is_date_key(key: str) -> bool:
    return key.endswith(("Date", "DateTime", "Instant")) or key in _DATE_KEYS
