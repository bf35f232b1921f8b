"""Small builders for synthetic patient records used by the derivation tests."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable

from trialmatch.patients.derive import DerivedValue, derive, derive_lesion
from trialmatch.patients.model import (
    Coding,
    ConditionFact,
    Lesion,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)

AS_OF = dt.date(2024, 6, 1)
SNOMED = "http://snomed.info/sct"
_ids = itertools.count(1)

Fact = Measurement | ConditionFact | MedicationFact | ProcedureFact


def day(text: str) -> dt.date:
    """A date from ISO text."""
    return dt.date.fromisoformat(text)


def _source(kind: str, source: str | None) -> str:
    return source or f"{kind}/t{next(_ids)}"


def snomed(code: str, display: str | None = None) -> Coding:
    """A SNOMED CT coding."""
    return Coding(system=SNOMED, code=code, display=display)


def measure(
    concept: str, date: str, value: float | None = None, *, source: str | None = None, **fields: object
) -> Measurement:
    """A measurement of ``concept`` on ``date``; extra fields (specimen, focus ...) pass through."""
    return Measurement.model_validate(
        {
            "concept": concept,
            "date": day(date),
            "value": value,
            "source": _source("Observation", source),
            **fields,
        }
    )


def coded(concept: str, date: str, text: str, *, source: str | None = None, **fields: object) -> Measurement:
    """A coded/text result (``positive``, ``worsened`` ...)."""
    return measure(concept, date, value_text=text, source=source, **fields)


def condition(concept: str, onset: str | None = None, *, source: str | None = None, **fields: object) -> ConditionFact:
    """A diagnosis with an onset date."""
    return ConditionFact.model_validate(
        {
            "concept": concept,
            "onset": day(onset) if onset else None,
            "source": _source("Condition", source),
            **fields,
        }
    )


def med(
    concepts: str | Iterable[str],
    start: str,
    end: str | None = None,
    *,
    status: str = "completed",
    record_type: str = "statement",
    source: str | None = None,
) -> MedicationFact:
    """A drug exposure from ``start`` to ``end``."""
    names = (concepts,) if isinstance(concepts, str) else tuple(concepts)
    return MedicationFact(
        concepts=names,
        record_type=record_type,
        status=status,
        start=day(start),
        end=day(end) if end else None,
        source=_source("MedicationStatement", source),
    )


def procedure(concept: str | None, start: str, *, source: str | None = None, **fields: object) -> ProcedureFact:
    """A procedure on ``start``."""
    return ProcedureFact.model_validate(
        {"concept": concept, "start": day(start), "source": _source("Procedure", source), **fields}
    )


def lesion(lesion_id: str, *, site: str | None = None, **fields: object) -> Lesion:
    """A tumour lesion, optionally located by a SNOMED body-site code."""
    location = (snomed(site),) if site else ()
    return Lesion.model_validate(
        {"id": lesion_id, "location": location, "source": f"BodyStructure/{lesion_id}", **fields}
    )


def record(
    *facts: Fact,
    birth: str | None = "1970-05-15",
    sex: str | None = "female",
    lesions: Iterable[Lesion] = (),
) -> PatientRecord:
    """A record holding ``facts`` sorted into their kinds."""
    return PatientRecord(
        patient_id="p1",
        birth_date=day(birth) if birth else None,
        sex=sex,
        measurements=tuple(f for f in facts if isinstance(f, Measurement)),
        conditions=tuple(f for f in facts if isinstance(f, ConditionFact)),
        medications=tuple(f for f in facts if isinstance(f, MedicationFact)),
        procedures=tuple(f for f in facts if isinstance(f, ProcedureFact)),
        lesions=tuple(lesions),
    )


def value(name: str, rec: PatientRecord, as_of: dt.date = AS_OF, **args: str) -> DerivedValue:
    """``derive`` with keyword arguments."""
    return derive(name, args, rec, as_of)


def lesion_value(name: str, lesion_id: str, rec: PatientRecord, as_of: dt.date = AS_OF, **args: str) -> DerivedValue:
    """``derive_lesion`` for the record's lesion ``lesion_id``."""
    target = next(item for item in rec.lesions if item.id == lesion_id)
    return derive_lesion(name, args, target, rec, as_of)
