"""One patient record as rows of the facts store, seen at the store's as-of date.

Measurements are stored as recorded (date, status, implausible flag), and the SQL filters them as
:class:`~trialmatch.patients.derive.base.Context` does. Events are stored as the episodes
:mod:`trialmatch.engine.history` builds from the as-of view, and derived values as
:mod:`trialmatch.patients.derive` computes them: both depend on the as-of date, which is why a store
answers for its own as-of only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from trialmatch.cohort.calls import Call, Calls, parse_key
from trialmatch.cohort.tables import call_columns, latest_columns
from trialmatch.engine.history import Episode, condition_episode, event_episode
from trialmatch.engine.measurements import _category, measured_value
from trialmatch.errors import UnitError
from trialmatch.patients import derive
from trialmatch.patients.derive.base import Context, DerivedValue
from trialmatch.patients.model import ConditionFact, Lesion, Measurement, MedicationFact, PatientRecord, ProcedureFact
from trialmatch.terminology.concepts import ConceptLibrary
from trialmatch.terminology.possible import possible_concepts
from trialmatch.terminology.units import convert

Row = dict[str, Any]


@dataclass
class PatientRows:
    """The rows of one patient, by table name."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, rows: Iterable[Row]) -> None:
        """Append rows to a table."""
        self.tables.setdefault(table, []).extend(rows)


def patient_rows(record: PatientRecord, key: int, as_of: dt.date, library: ConceptLibrary, calls: Calls) -> PatientRows:
    """Every row the store keeps for ``record`` (integer key ``key``) at ``as_of``."""
    ctx = Context.build(record, as_of, library.is_a)
    pid = record.patient_id
    rows = PatientRows()
    latest = _latest(ctx, library)
    values = {**_derived_values(ctx, calls.patient), **_latest_values(latest, calls.latest, library)}
    rows.add("patients", [{**_counts(ctx), **values}])
    rows.add("measurements", _measurement_rows(pid, record.measurements, latest, library))
    rows.add("conditions", _event_rows(pid, [(f, (f.concept,)) for f in ctx.conditions], library))
    rows.add("medications", _event_rows(pid, [(f, f.concepts) for f in ctx.medications], library))
    rows.add("procedures", _event_rows(pid, [(f, (f.concept,)) for f in ctx.procedures], library))
    lesions = [
        {
            "patient_id": pid,
            "lesion_id": le.id,
            "source": le.source,
            **_lesion_values(ctx, le, calls),
        }
        for le in record.lesions
    ]
    rows.add("lesions", lesions)
    for table in rows.tables.values():
        for row in table:
            row["pk"] = key
    return rows


def record_row(record: PatientRecord, key: int) -> Row:
    """The record as read, kept beside the tables so the store can be seen again at any as-of date."""
    return {"pk": key, "patient_id": record.patient_id, "record": record.model_dump_json()}


def _counts(ctx: Context) -> Row:
    return {
        "patient_id": ctx.record.patient_id,
        "n_condition": len(ctx.conditions),
        "n_drug": len(ctx.medications),
        "n_procedure": len(ctx.procedures),
        "n_lesion": len(ctx.record.lesions),
    }


def with_ancestors(concept: str | None, library: ConceptLibrary) -> list[str]:
    """The concept and every broader one (empty for a fact outside the library)."""
    if concept is None or concept not in library.ids():
        return []
    return [concept, *sorted(library.ancestors(concept))]


def _latest(ctx: Context, library: ConceptLibrary) -> dict[str, Measurement]:
    """Per concept, the measurement ``latest`` reads at the store's as-of: the last usable one with a value
    in the context's order (the evaluator's ``usable[-1]``), among those whose concept is-a it."""
    found: dict[str, Measurement] = {}
    for m in ctx.measurements:
        if measured_value(m) is not None:
            for concept in with_ancestors(m.concept, library):
                found[concept] = m
    return found


def _latest_values(latest: dict[str, Measurement], concepts: frozenset[str], library: ConceptLibrary) -> Row:
    """The latest reading of each concept the store pivots, in its columns (NULL without one)."""
    row: Row = {}
    for concept in sorted(concepts):
        m = latest.get(concept)
        number, unit, high = _canonical(m, library) if m is not None else (None, None, None)
        parts = {
            "value": number,
            "category": None if m is None else _category(measured_value(m)),
            "unit": unit,
            "high": high,
            "date": None if m is None else m.date,
        }
        row.update({column: parts[part] for part, column in latest_columns(concept)})
    return row


def _measurement_rows(
    pid: str, measurements: Iterable[Measurement], latest: dict[str, Measurement], library: ConceptLibrary
) -> list[Row]:
    rows: list[Row] = []
    for m in measurements:
        value = measured_value(m)
        number, unit, high = _canonical(m, library)
        base = {
            "patient_id": pid,
            "fact_concept": m.concept,
            "value": number,
            "value_text": m.value_text,
            "category": None if value is None else _category(value),
            "unit": unit,
            "high": high,
            "date": m.date,
            "status": m.status,
            "implausible": "implausible" in m.flags,
            "source": m.source,
        }
        concepts: list[str | None] = [*with_ancestors(m.concept, library)] or [None]  # unrecognised: kept, unmatched
        rows.extend({**base, "concept": c, "latest": c is not None and latest.get(c) is m} for c in concepts)
    return rows


def _canonical(m: Measurement, library: ConceptLibrary) -> tuple[float | None, str | None, float | None]:
    """Value and high in the concept's canonical unit, as the evaluator converts them (as recorded if it cannot)."""
    if m.value is None or m.unit is None or m.concept is None or m.concept not in library.ids():
        return m.value, m.unit, m.high
    concept = library.get(m.concept)
    if concept.unit is None or concept.unit == m.unit:
        return m.value, m.unit, m.high
    try:
        high = None if m.high is None else convert(m.high, m.unit, concept.unit, concept.molar_mass)
        return convert(m.value, m.unit, concept.unit, concept.molar_mass), concept.unit, high
    except UnitError:
        return m.value, m.unit, m.high


def _event_rows(
    pid: str,
    facts: list[tuple[ConditionFact | MedicationFact | ProcedureFact, tuple[str | None, ...]]],
    library: ConceptLibrary,
) -> list[Row]:
    rows: list[Row] = []
    for fact_id, (fact, concepts) in enumerate(facts):
        possible = not any(concepts)
        for own in possible_of(fact) if possible else concepts:
            ep = _episode(fact, own or "")
            base = {**_episode_row(pid, fact_id, own, ep), "possible": possible}
            rows.extend({**base, "concept": c} for c in with_ancestors(own, library))
        if possible and not possible_of(fact):
            # Kept with no concept (no rule matches it): every record read is in the store or in rejects.csv.
            rows.append({**_episode_row(pid, fact_id, None, _episode(fact, "")), "possible": False, "concept": None})
    return rows


def possible_of(fact: ConditionFact | MedicationFact | ProcedureFact) -> tuple[str, ...]:
    """The concepts an unrecognised fact's displays may name (what the evaluator reads as unknown)."""
    domain = (
        "condition" if isinstance(fact, ConditionFact) else "procedure" if isinstance(fact, ProcedureFact) else "drug"
    )
    return tuple(dict.fromkeys(p for c in fact.codes for p in possible_concepts(domain, c.display)))


def _episode(fact: ConditionFact | MedicationFact | ProcedureFact, concept: str) -> Episode:
    if isinstance(fact, ConditionFact):
        return condition_episode(fact, concept)
    return event_episode(fact, concept)


def _episode_row(pid: str, fact_id: int, own: str | None, ep: Episode) -> Row:
    return {
        "patient_id": pid,
        "fact_id": fact_id,
        "fact_concept": own,
        "first_date": ep.first,
        "last_date": ep.last,
        "since_date": ep.since,
        "ongoing": ep.ongoing,
        "status_recorded": ep.status_recorded,
        "source": ep.source,
    }


def _value_columns(call: Call, dv: DerivedValue) -> Row:
    """A derived value in its call's columns: the flag's boolean, or number, normalized category and unit."""
    value = dv.value
    parts = {
        "num": float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None,
        "cat": None if value is None else _category(value),
        "bool": value if isinstance(value, bool) else None,
        "unit": dv.unit,
    }
    return {column: parts[part] for part, column in call_columns(call)}


def _derived_values(ctx: Context, calls: frozenset[Call]) -> Row:
    row: Row = {}
    for call in sorted(calls):
        row.update(_value_columns(call, derive.derive_in(ctx, call[0], parse_key(call[1]))))
    return row


def _lesion_values(ctx: Context, lesion: Lesion, calls: Calls) -> Row:
    row: Row = {}
    for call in sorted(calls.lesion):
        row.update(_value_columns(call, derive.derive_lesion_in(ctx, call[0], lesion, parse_key(call[1]))))
    return row
