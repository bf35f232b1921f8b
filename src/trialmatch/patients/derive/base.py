"""What every derivation shares: the result type, the as-of view of a record, and small readers of facts.

The :class:`Context` is built once per call: it drops every fact dated after as-of (screening as of a past
date must not see the future), facts whose status says they never happened, and measurements flagged
implausible (kept aside so explanations can say they were not used). Undated measurements are kept apart:
they answer questions with no time window (a receptor status) and never one with a window. Everything is
sorted by date and source, so the order facts arrived in never changes an answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from trialmatch.patients.model import (
    ConditionFact,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)

IsA = Callable[[str, str], bool]
"""``is_a(concept, ancestor)``: the concept library's hierarchy (drug classes, metastasis sites ...)."""


class DerivedValue(BaseModel):
    """A derived fact with its evidence: value (None = unknown), date, sources, explanation and rule set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: bool | float | str | None
    unit: str | None = None
    date: dt.date | None = None
    sources: tuple[str, ...] = ()
    explanation: str
    rule_set: str | None = None
    missing: str | None = None
    changes_on: dt.date | None = None


def unknown(
    explanation: str, missing: str, *, sources: Iterable[str] = (), rule_set: str | None = None
) -> DerivedValue:
    """An unknown value that says what data would settle it."""
    return DerivedValue(
        value=None, explanation=explanation, missing=missing, sources=source_list(sources), rule_set=rule_set
    )


def source_list(sources: Iterable[str]) -> tuple[str, ...]:
    """Sorted, de-duplicated source references (order-independent evidence)."""
    return tuple(sorted(set(sources)))


def fmt(number: float) -> str:
    """A reported number as written: 2.30 → 2.3, 4.0 → 4."""
    return f"{number:g}"


DROPPED_MEASUREMENT = frozenset({"cancelled", "entered-in-error", "registered"})
_DROPPED_EVENT = frozenset({"entered-in-error", "cancelled", "not-done", "not-taken", "draft", "preparation"})


def _sort_key_measurement(m: Measurement) -> tuple[dt.date, str, float, str]:
    return (m.date or dt.date.min, m.source, m.value if m.value is not None else -1.0, m.value_text or "")


def _as_of_condition(c: ConditionFact, as_of: dt.date) -> ConditionFact | None:
    """The condition as it stood on as-of: None if not yet diagnosed, abatement after as-of undone."""
    known = c.onset or c.recorded
    if known is not None and known > as_of:
        return None
    if c.abatement is not None and c.abatement > as_of:
        return c.model_copy(update={"abatement": None, "clinical_status": "active"})
    return c


@dataclass(frozen=True)
class Context:
    """A patient record seen from an as-of date, with the concept hierarchy to read it."""

    record: PatientRecord
    as_of: dt.date
    is_a: IsA
    measurements: tuple[Measurement, ...]
    undated: tuple[Measurement, ...]
    implausible: tuple[Measurement, ...]
    conditions: tuple[ConditionFact, ...]
    medications: tuple[MedicationFact, ...]
    procedures: tuple[ProcedureFact, ...]

    @classmethod
    def build(cls, record: PatientRecord, as_of: dt.date, is_a: IsA) -> Context:
        """Filter and sort the record's facts for ``as_of`` (the date of death when that came first)."""
        as_of = record.last_alive(as_of)
        dated = [
            m
            for m in record.measurements
            if m.date is not None and m.date <= as_of and m.status not in DROPPED_MEASUREMENT
        ]
        undated = [m for m in record.measurements if m.date is None and m.status not in DROPPED_MEASUREMENT]
        conditions = (_as_of_condition(c, as_of) for c in record.conditions)
        return cls(
            record=record,
            as_of=as_of,
            is_a=is_a,
            measurements=tuple(sorted((m for m in dated if "implausible" not in m.flags), key=_sort_key_measurement)),
            undated=tuple(sorted((m for m in undated if "implausible" not in m.flags), key=_sort_key_measurement)),
            implausible=tuple(sorted((m for m in dated if "implausible" in m.flags), key=_sort_key_measurement)),
            conditions=tuple(sorted((c for c in conditions if c is not None), key=condition_key)),
            medications=tuple(
                sorted(
                    (
                        m
                        for m in record.medications
                        if m.status not in _DROPPED_EVENT and (m.start is None or m.start <= as_of)
                    ),
                    key=lambda m: (m.start or dt.date.min, m.source),
                )
            ),
            procedures=tuple(
                sorted(
                    (
                        p
                        for p in record.procedures
                        if p.status not in _DROPPED_EVENT and (p.start is None or p.start <= as_of)
                    ),
                    key=lambda p: (p.start or dt.date.min, p.source),
                )
            ),
        )

    def isa(self, concept: str | None, ancestor: str) -> bool:
        """Whether ``concept`` is ``ancestor`` or one of its descendants."""
        return concept is not None and (concept == ancestor or self.is_a(concept, ancestor))

    def observed(self, *concepts: str) -> list[Measurement]:
        """Usable measurements of the given concepts, oldest first."""
        return [m for m in self.measurements if m.concept in concepts]

    def results(self, *concepts: str) -> list[Measurement]:
        """Usable measurements of the given concepts including undated ones (first), for questions with no window."""
        return [m for m in self.undated if m.concept in concepts] + self.observed(*concepts)

    def skipped(self, *concepts: str) -> str:
        """A clause for explanations when implausible values of these concepts were left out ('' if none)."""
        count = sum(1 for m in self.implausible if m.concept in concepts)
        if not count:
            return ""
        return f" ({count} value{'s' if count > 1 else ''} flagged implausible not used)"


def condition_key(c: ConditionFact) -> tuple[dt.date, str]:
    """Sort conditions by their diagnosis date, then source."""
    return (c.onset or c.recorded or dt.date.min, c.source)


def condition_date(c: ConditionFact) -> dt.date | None:
    """When a condition was diagnosed (onset, else recorded)."""
    return c.onset or c.recorded


def refers_to(reference: str | None, source: str) -> bool:
    """Whether a reference (``pet-1`` or ``Procedure/pet-1``) names the fact whose source is ``source``."""
    if not reference:
        return False
    return reference == source or source.endswith("/" + reference) or reference.endswith("/" + source)


# Coded answers seen in mCODE/US Core data (LOINC answer lists and SNOMED findings).
_POSITIVE_CODES = frozenset({"LA6576-8", "10828004", "77386006", "LA15173-0", "LA29252-6", "260373001"})
_NEGATIVE_CODES = frozenset({"LA6577-6", "260385009", "60001007", "LA26683-5", "LA29253-4", "260415000"})
_NEGATIVE_WORDS = re.compile(r"\b(not|non|no|negative|absent|undetected|unamplified)\b")
_EQUIVOCAL_WORDS = re.compile(r"\b(equivocal|indeterminate|borderline)\b")
_POSITIVE_WORDS = re.compile(r"\b(positive|detected|present|yes|pregnant|amplified|amplification|currently)\b")


def coded_text(m: Measurement) -> str:
    """The coded or free-text answer of a measurement, lower case, for keyword reading."""
    parts = [m.value_text or ""]
    if m.value_code is not None:
        parts.append(m.value_code.display or "")
    return " ".join(parts).strip().lower()


def polarity(m: Measurement) -> str | None:
    """Read a coded result as ``positive``, ``negative`` or ``equivocal`` (None when it says neither)."""
    code = m.value_code.code if m.value_code is not None else None
    if code in _POSITIVE_CODES:
        return "positive"
    if code in _NEGATIVE_CODES:
        return "negative"
    text = coded_text(m)
    if _EQUIVOCAL_WORDS.search(text):
        return "equivocal"
    if _NEGATIVE_WORDS.search(text):
        return "negative"
    if _POSITIVE_WORDS.search(text):
        return "positive"
    return None


# mCODE ConditionStatusTrendVS (SNOMED CT) and the words reports use for them.
_TREND_CODES = {
    "268910001": "improved",
    "359746009": "stable",
    "271299001": "worsened",
    "709137006": "undetermined",
}
_TREND_WORDS = (
    ("undetermined", "undetermined"),
    ("improv", "improved"),
    ("stable", "stable"),
    ("wors", "worsened"),
    ("progress", "worsened"),
)


def disease_trend(m: Measurement) -> str | None:
    """A cancer disease status read as improved, stable, worsened or undetermined."""
    code = m.value_code.code if m.value_code is not None else None
    if code in _TREND_CODES:
        return _TREND_CODES[code]
    text = coded_text(m)
    return next((trend for word, trend in _TREND_WORDS if word in text), None)


def default_is_a() -> IsA:
    """The bundled concept library's hierarchy (imported lazily: the library loads data files)."""
    from trialmatch.terminology.concepts import default_library

    return default_library().is_a
