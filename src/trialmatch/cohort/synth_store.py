"""Facts-store rows built from column arrays, vectorised: what ``facts.py`` makes one patient at a time.

A synthetic cohort describes its facts as *segments* (one fact kind for a subset of patients, with dates as
``datetime64[D]`` arrays) and its measurements as *readings*; this module turns them into the store's tables
with the same conventions as ingest: each fact repeated under every broader concept, facts numbered per patient
in the order :class:`~trialmatch.patients.derive.base.Context` sorts them (date, then source), the ``latest``
flag, the pivoted latest-reading columns and derived values split into their parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trialmatch.cohort.calls import Call
from trialmatch.cohort.facts import with_ancestors
from trialmatch.cohort.tables import EVENTS, LATEST_PARTS, MEASUREMENTS, derived_column, derived_parts, latest_column
from trialmatch.engine.measurements import _category
from trialmatch.terminology.concepts import ConceptLibrary

NAT = np.datetime64("NaT")


def dates(values: np.ndarray) -> pa.Array:
    """``datetime64[D]`` values as date32, NaT as NULL."""
    return pa.array(values.astype("datetime64[D]"), pa.date32(), mask=np.isnat(values))


def categories(values: np.ndarray) -> pa.Array:
    """Each value's normalized category, computed once per distinct value (values repeat a lot)."""
    distinct, index = np.unique(values, return_inverse=True)
    return pa.array([_category(v) for v in distinct.tolist()], pa.string()).take(pa.array(index.ravel()))


@dataclass(frozen=True)
class Segment:
    """One event fact (its name in the resource id, and concept) for the patients at ``rows``."""

    name: str
    concept: str
    rows: np.ndarray
    first: np.ndarray
    last: np.ndarray  # NaT while ongoing
    since: np.ndarray  # the date ``before`` reads: a condition's onset, an event's last date
    ongoing: np.ndarray


def event_table(ids: pa.Array, kind: str, segments: Sequence[Segment], library: ConceptLibrary) -> pa.Table:
    """Event rows (schema EVENTS) as ``facts._event_rows`` writes them: ``fact_id`` numbers a patient's facts
    by (date, source), the order ``Context`` sorts them in."""
    if not segments:
        return EVENTS.empty_table()
    names = sorted({s.name for s in segments})
    rows = np.concatenate([s.rows for s in segments])
    name = np.concatenate([np.full(len(s.rows), names.index(s.name)) for s in segments])
    first = np.concatenate([s.first for s in segments])
    order = np.lexsort((name, first, rows))
    fact_id = _rank(rows[order])
    last = np.concatenate([s.last for s in segments])
    ongoing = np.concatenate([s.ongoing for s in segments])
    since = np.concatenate([s.since for s in segments])
    kinds = np.concatenate([np.full(len(s.rows), i) for i, s in enumerate(segments)])
    tables = []
    for i, s in enumerate(segments):
        pick = order[kinds[order] == i]
        base = {
            "pk": rows[pick].astype(np.int64),
            "patient_id": ids.take(pa.array(rows[pick])),
            "fact_id": fact_id[kinds[order] == i].astype(np.int32),
            "fact_concept": pa.array(np.full(len(pick), s.concept)),
            "first_date": dates(first[pick]),
            "last_date": dates(last[pick]),
            "since_date": dates(since[pick]),
            "ongoing": ongoing[pick],
            "status_recorded": np.ones(len(pick), dtype=bool),
            "possible": np.zeros(len(pick), dtype=bool),
        }
        base["source"] = pc.binary_join_element_wise(f"{kind}/", base["patient_id"], f"-{s.name}", "")
        tables += [
            pa.table({**base, "concept": pa.array(np.full(len(pick), k))}) for k in with_ancestors(s.concept, library)
        ]
    return pa.concat_tables(t.select(EVENTS.names).cast(EVENTS) for t in tables)


def _rank(sorted_rows: np.ndarray) -> np.ndarray:
    """Each row's position among its patient's rows (``sorted_rows`` grouped by patient)."""
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    counts = np.diff(np.r_[starts, len(sorted_rows)])
    return np.arange(len(sorted_rows)) - np.repeat(starts, counts)


@dataclass(frozen=True)
class Reading:
    """One measurement per patient at ``rows``: a number with its unit and upper limit, or a coded answer."""

    name: str
    concept: str
    rows: np.ndarray
    date: np.ndarray
    value: np.ndarray | None = None
    answer: np.ndarray | None = None  # the coded answer as the reader presents it (``measured_value``)
    text: bool = False  # whether the answer is the record's value text
    unit: str | None = None
    high: float | None = None

    def parts(self) -> dict[str, pa.Array]:
        """The reading's measured parts (value, category, unit, high, date), as ``facts`` stores them."""
        n = len(self.rows)
        number = pa.nulls(n, pa.float64()) if self.value is None else pa.array(self.value.astype(float))
        shown = self.value.astype(float) if self.value is not None else self.answer
        assert shown is not None
        return {
            "value": number,
            "category": categories(shown),
            "unit": pa.nulls(n, pa.string()) if self.unit is None else pa.array(np.full(n, self.unit)),
            "high": pa.nulls(n, pa.float64()) if self.high is None else pa.array(np.full(n, self.high)),
            "date": dates(self.date),
        }


def measurement_table(ids: pa.Array, readings: Sequence[Reading], library: ConceptLibrary) -> pa.Table:
    """Measurement rows (schema MEASUREMENTS); each reading is its patient's only one of its concept, so latest."""
    tables = []
    for r in readings:
        n = len(r.rows)
        if library.ancestors(r.concept):
            raise ValueError(f"synthetic reading {r.concept} has broader concepts; latest would need recomputing")
        patient_id = ids.take(pa.array(r.rows))
        text = pa.array(r.answer) if r.text else pa.nulls(n, pa.string())
        extra = {
            "pk": r.rows.astype(np.int64),
            "patient_id": patient_id,
            "concept": pa.array(np.full(n, r.concept)),
            "fact_concept": pa.array(np.full(n, r.concept)),
            "value_text": text,
            "status": pa.array(np.full(n, "final")),
            "implausible": np.zeros(n, dtype=bool),
            "source": pc.binary_join_element_wise("Observation/", patient_id, f"-{r.name}", ""),
            "latest": np.ones(n, dtype=bool),
        }
        tables.append(pa.table({**r.parts(), **extra}).select(MEASUREMENTS.names).cast(MEASUREMENTS))
    return pa.concat_tables(tables) if tables else MEASUREMENTS.empty_table()


def latest_columns(n: int, readings: Sequence[Reading], concepts: frozenset[str]) -> dict[str, pa.Array]:
    """The pivoted latest reading of each concept in ``concepts``: the patient's reading, NULL without one."""
    by_concept = {r.concept: r for r in readings}
    out: dict[str, pa.Array] = {}
    for concept in sorted(concepts):
        r = by_concept.get(concept)
        parts = r.parts() if r is not None else {}
        for part, kind in LATEST_PARTS:
            out[latest_column(concept, part)] = pa.nulls(n, kind) if r is None else _spread(parts[part], r.rows, n)
    return out


def _spread(values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """Values for ``rows`` as a column over all ``n`` patients, NULL elsewhere."""
    index = np.full(n, -1)
    index[rows] = np.arange(len(rows))
    return values.take(pa.array(index, mask=index < 0))


@dataclass(frozen=True)
class Derived:
    """A derived value per patient (float, bool or str), unknown where ``known`` is False."""

    values: np.ndarray
    known: np.ndarray | None = None
    unit: str | None = None


def derived_columns(n: int, calls: frozenset[Call], values: dict[Call, Derived]) -> dict[str, pa.Array]:
    """Every call's columns as ``facts._value_columns`` fills them: NULL for the calls ``values`` lacks."""
    return {
        derived_column(call, part): _part(values.get(call), part, kind, n)
        for call in sorted(calls)
        for part, kind in derived_parts(call)
    }


def _part(value: Derived | None, part: str, kind: pa.DataType, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, kind)
    unknown = None if value.known is None else ~value.known
    dtype = value.values.dtype.kind
    if (part, dtype) in (("num", "f"), ("bool", "b")):
        return pa.array(value.values, mask=unknown)
    if part == "cat":
        cats = categories(value.values)
        return cats if unknown is None else pc.if_else(pa.array(unknown), pa.scalar(None, pa.string()), cats)
    if part == "unit" and value.unit is not None:
        return pa.array(np.full(n, value.unit), mask=unknown)
    return pa.nulls(n, kind)
