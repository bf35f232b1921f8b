"""Tolerant accessors for FHIR R4 JSON: real exports break the spec, so every accessor returns empty on a
wrong shape instead of raising, and the converters report what was missing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from trialmatch.patients.model import Coding
from trialmatch.patients.sources.fhir_dates import parse_date

JSON = dict[str, Any]

UCUM = "http://unitsofmeasure.org"


def as_dict(value: object) -> JSON:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` as a list: lists as they are, a single object wrapped, anything else empty."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def as_str(value: object) -> str | None:
    """``value`` if it is a non-empty string."""
    return value if isinstance(value, str) and value else None


def as_number(value: object) -> float | None:
    """``value`` if it is a JSON number (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def codings(concept: object) -> tuple[Coding, ...]:
    """The codings of a CodeableConcept (or of a bare Coding), skipping those without system or code."""
    cc = as_dict(concept)
    raw = as_list(cc.get("coding")) if "coding" in cc else [cc]
    out = []
    for c in raw:
        system, code = as_str(as_dict(c).get("system")), as_str(as_dict(c).get("code"))
        if system and code:
            out.append(Coding(system=system, code=code, display=as_str(c.get("display"))))
    return tuple(out)


def concept_text(concept: object) -> str | None:
    """The ``text`` of a CodeableConcept."""
    return as_str(as_dict(concept).get("text"))


def first_code(concept: object) -> str | None:
    """The first code of a CodeableConcept whatever its system (status-like fields)."""
    for c in as_list(as_dict(concept).get("coding")):
        code = as_str(as_dict(c).get("code"))
        if code:
            return code
    return None


def period(resource: JSON, prefix: str) -> tuple[dt.date | None, dt.date | None]:
    """Start and end of a choice element ``<prefix>[x]``: DateTime, Instant, Date or Period."""
    for suffix in ("DateTime", "Instant", "Date"):
        if prefix + suffix in resource:
            day = parse_date(resource[prefix + suffix])
            return day, day
    span = as_dict(resource.get(prefix + "Period"))
    return parse_date(span.get("start")), parse_date(span.get("end"))


def references(value: object) -> list[str]:
    """The ``reference`` strings of a Reference or a list of References."""
    return [r for r in (as_str(as_dict(v).get("reference")) for v in as_list(value)) if r]


def extensions(resource: JSON, url_suffix: str) -> list[JSON]:
    """Extensions whose URL ends with ``url_suffix`` (profiles publish one extension under several bases)."""
    return [
        e
        for e in (as_dict(x) for x in as_list(resource.get("extension")))
        if (as_str(e.get("url")) or "").endswith(url_suffix)
    ]


def profiles(resource: JSON) -> tuple[str, ...]:
    """The ``meta.profile`` URLs a resource claims."""
    return tuple(p for p in as_list_of_str(as_dict(resource.get("meta")).get("profile")))


def as_list_of_str(value: object) -> list[str]:
    """String items of a JSON list."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def label(resource: JSON) -> str:
    """``Type/id`` naming a resource in messages and evidence (never a value from it)."""
    return f"{resource.get('resourceType', 'Resource')}/{resource.get('id', '?')}"
