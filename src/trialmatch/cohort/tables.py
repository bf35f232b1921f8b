"""The facts store's tables: their Arrow schemas, shared by ingest, synth and the SQL compiler.

Every table has a ``patient_id`` column. Fact tables carry one row per (fact, concept it is-a): the fact's
own concept and each ancestor in ``concept``, so SQL matches a rule's concept with equality. Event tables
(conditions, medications, procedures) hold the fact as an *episode* resolved at the store's as-of
(:mod:`trialmatch.engine.history`): first and last dates, ongoing, and the date ``before`` reads.
"""

from __future__ import annotations

import pyarrow as pa

PATIENTS = pa.schema(
    [
        ("patient_id", pa.string()),
        ("n_condition", pa.int32()),
        ("n_drug", pa.int32()),
        ("n_procedure", pa.int32()),
        ("n_lesion", pa.int32()),
    ]
)

MEASUREMENTS = pa.schema(
    [
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
    ]
)

EVENTS = pa.schema(
    [
        ("patient_id", pa.string()),
        ("fact_id", pa.int32()),
        ("concept", pa.string()),
        ("fact_concept", pa.string()),
        ("first_date", pa.date32()),
        ("last_date", pa.date32()),
        ("since_date", pa.date32()),
        ("ongoing", pa.bool_()),
        ("status_recorded", pa.bool_()),
        ("source", pa.string()),
    ]
)

LESIONS = pa.schema([("patient_id", pa.string()), ("lesion_id", pa.string()), ("source", pa.string())])

_DERIVED_VALUES: list[tuple[str, pa.DataType]] = [
    ("name", pa.string()),
    ("args", pa.string()),
    ("value_num", pa.float64()),
    ("category", pa.string()),
    ("value_bool", pa.bool_()),
    ("unit", pa.string()),
    ("changes_on", pa.date32()),
]
DERIVED = pa.schema([("patient_id", pa.string()), *_DERIVED_VALUES])
LESION_DERIVED = pa.schema([("patient_id", pa.string()), ("lesion_id", pa.string()), *_DERIVED_VALUES])

EVENT_TABLES = {"condition": "conditions", "drug": "medications", "procedure": "procedures"}
SCHEMAS: dict[str, pa.Schema] = {
    "patients": PATIENTS,
    "measurements": MEASUREMENTS,
    "conditions": EVENTS,
    "medications": EVENTS,
    "procedures": EVENTS,
    "lesions": LESIONS,
    "derived": DERIVED,
    "lesion_derived": LESION_DERIVED,
}
