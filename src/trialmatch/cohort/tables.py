"""The facts store's tables: their Arrow schemas, shared by ingest, synth and the SQL compiler.

Every table has the patient's ``patient_id`` and an integer key ``pk``, unique in the store, which screening
joins and groups on (integers hash and compare much faster than identifiers). Derived values and the latest
reading of each measured concept sit beside the patient (``patients``) or lesion (``lesions``) they describe,
one group of columns per derived call (:func:`derived_column`), so a rule reads them without a join. Fact
tables carry one row per (fact, concept it is-a): the fact's own concept and each ancestor in ``concept``, so
SQL matches a rule's concept with equality. Event tables (conditions, medications, procedures) hold the fact
as an *episode* resolved at the store's as-of (:mod:`trialmatch.engine.history`): first and last dates,
ongoing, and the date ``before`` reads.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache

import pyarrow as pa

from trialmatch.cohort.calls import Call, Calls
from trialmatch.rules.vocabulary import lookup

KEY_COLUMN: tuple[str, pa.DataType] = ("pk", pa.int64())  # the patient's integer key, in every table
PATIENT_COLUMNS: list[tuple[str, pa.DataType]] = [
    KEY_COLUMN,
    ("patient_id", pa.string()),
    ("n_condition", pa.int32()),
    ("n_drug", pa.int32()),
    ("n_procedure", pa.int32()),
    ("n_lesion", pa.int32()),
]
LESION_COLUMNS: list[tuple[str, pa.DataType]] = [
    KEY_COLUMN,
    ("patient_id", pa.string()),
    ("lesion_id", pa.string()),
    ("source", pa.string()),
]

MEASUREMENTS = pa.schema(
    [
        KEY_COLUMN,
        ("patient_id", pa.string()),
        ("concept", pa.string()),
        ("fact_concept", pa.string()),
        ("value", pa.float64()),
        ("value_text", pa.string()),
        ("category", pa.string()),
        ("unit", pa.string()),
        ("high", pa.float64()),
        ("date", pa.date32()),
        ("status", pa.string()),
        ("implausible", pa.bool_()),
        ("source", pa.string()),
        ("latest", pa.bool_()),
    ]
)

EVENTS = pa.schema(
    [
        KEY_COLUMN,
        ("patient_id", pa.string()),
        ("fact_id", pa.int32()),
        ("concept", pa.string()),
        ("fact_concept", pa.string()),
        ("first_date", pa.date32()),
        ("last_date", pa.date32()),
        ("since_date", pa.date32()),
        ("ongoing", pa.bool_()),
        ("status_recorded", pa.bool_()),
        ("possible", pa.bool_()),  # an unrecognised fact whose display names the concept: only ever unknown
        ("source", pa.string()),
    ]
)

# A derived value's parts: number, normalized category and unit for values; a boolean for flags.
VALUE_PARTS: tuple[tuple[str, pa.DataType], ...] = (("num", pa.float64()), ("cat", pa.string()), ("unit", pa.string()))
FLAG_PARTS: tuple[tuple[str, pa.DataType], ...] = (("bool", pa.bool_()),)


def derived_column(call: Call, part: str) -> str:
    """The column holding one part of a derived call: ``<name>_<part>``, or ``<name>__<key>_<digest>_<part>``
    with the key's letters and digits (the digest tells apart keys that differ only in punctuation)."""
    name, key = call
    if not key:
        return f"{name}_{part}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    return f"{name}__{re.sub('[^a-z0-9]+', '_', key.lower()).strip('_')}_{digest}_{part}"


# The latest reading of a measured concept, beside the patient: what ``latest(...)`` reads at the store's as-of.
LATEST_PARTS: tuple[tuple[str, pa.DataType], ...] = (
    ("value", pa.float64()),
    ("category", pa.string()),
    ("unit", pa.string()),
    ("high", pa.float64()),
    ("date", pa.date32()),
)
MEASURED_KINDS = frozenset({"lab", "vital", "score", "observation", "marker", "imaging"})


def latest_column(concept: str, part: str) -> str:
    """The column holding one part of a concept's latest reading."""
    return derived_column(("latest", concept), part)


@cache
def call_columns(call: Call) -> tuple[tuple[str, str], ...]:
    """Each stored part of a derived call with its column name (named once per process, not once per row)."""
    return tuple((part, derived_column(call, part)) for part, _ in derived_parts(call))


@cache
def latest_columns(concept: str) -> tuple[tuple[str, str], ...]:
    """Each part of a concept's latest reading with its column name."""
    return tuple((part, latest_column(concept, part)) for part, _ in LATEST_PARTS)


def derived_parts(call: Call) -> tuple[tuple[str, pa.DataType], ...]:
    """The parts stored for a call: the flag's boolean, or a value's number, category and unit."""
    spec = lookup(call[0])
    return FLAG_PARTS if spec is not None and spec.type == "boolean" else VALUE_PARTS


def _derived_fields(calls: Iterable[Call]) -> list[tuple[str, pa.DataType]]:
    return [(derived_column(c, part), kind) for c in sorted(calls) for part, kind in derived_parts(c)]


def _latest_fields(concepts: Iterable[str]) -> list[tuple[str, pa.DataType]]:
    return [(latest_column(c, part), kind) for c in sorted(concepts) for part, kind in LATEST_PARTS]


TABLES = ("patients", "measurements", "conditions", "medications", "procedures", "lesions")
RECORDS = "records"
"""Beside the tables, not screened: each patient's record as read (JSON of the model), for other as-of dates."""
RECORD_SCHEMA = pa.schema([KEY_COLUMN, ("patient_id", pa.string()), ("record", pa.string())])
RECORD_ROWS = {RECORDS: 500}
"""Records a part writer queues before writing them (a record is a few kilobytes of text)."""
EVENT_TABLES = {"condition": "conditions", "drug": "medications", "procedure": "procedures"}


def store_schemas(calls: Calls, *, records: bool = False) -> dict[str, pa.Schema]:
    """Every table's schema for a store holding ``calls`` (and, with ``records``, the records it was read from)."""
    kept = {RECORDS: RECORD_SCHEMA} if records else {}
    return {
        **kept,
        "patients": pa.schema(PATIENT_COLUMNS + _derived_fields(calls.patient) + _latest_fields(calls.latest)),
        "measurements": MEASUREMENTS,
        "conditions": EVENTS,
        "medications": EVENTS,
        "procedures": EVENTS,
        "lesions": pa.schema(LESION_COLUMNS + _derived_fields(calls.lesion)),
    }
