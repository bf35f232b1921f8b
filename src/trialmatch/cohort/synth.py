"""Synthetic metastatic breast cancer cohorts: HER2-positive, HER2-low and HER2-negative populations.

Distributions (documented in ``docs/cohort.md``), all drawn with numpy from one seed, so a seed gives the same
cohort on every machine: HER2 subtype 20% positive / 45% low / 35% negative; age uniform 28-85; ECOG 0/1/2/3
at 45/35/15/5%; LVEF normal(60, 7)%; ANC lognormal around 3.5 10*3/uL; bilirubin lognormal around 0.6 mg/dL
(ULN 1.2); creatinine lognormal around 0.8 mg/dL; 0-3 prior metastatic lines; anti-HER2 drugs for HER2-positive
patients with prior lines; brain metastases in 15%; 1-4 lesions. ``write_store`` writes the facts store
directly (vectorised, fast): its derived values are the generator's own ground truth, not re-derived.
:func:`trialmatch.cohort.synth_fhir.write_fhir` writes the same patients, with a drawn history, as FHIR
NDJSON, which ``cohort ingest`` reads with the real derivations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from trialmatch.cohort.calls import Call, Calls
from trialmatch.cohort.store import REJECTS, Manifest, PartWriter
from trialmatch.cohort.tables import LATEST_PARTS, derived_column, derived_parts, latest_column, store_schemas
from trialmatch.engine.measurements import _category
from trialmatch.rules.concepts import default_library

SUBTYPES = np.array(["positive", "low", "negative"])
SUBTYPE_P = (0.20, 0.45, 0.35)
ECOG_P = (0.45, 0.35, 0.15, 0.05)


@dataclass(frozen=True)
class Cohort:
    """Column arrays of one synthetic cohort (index = patient)."""

    ids: np.ndarray
    age: np.ndarray
    subtype: np.ndarray
    ecog: np.ndarray
    lvef: np.ndarray
    anc: np.ndarray
    bilirubin: np.ndarray
    creatinine: np.ndarray
    lines: np.ndarray
    brain: np.ndarray
    lesions: np.ndarray
    lab_age: np.ndarray
    as_of: dt.date


def generate(patients: int, seed: int, as_of: dt.date) -> Cohort:
    """Draw a cohort."""
    rng = np.random.default_rng(seed)
    subtype = rng.choice(SUBTYPES, size=patients, p=SUBTYPE_P)
    return Cohort(
        ids=np.array([f"syn-{seed}-{i:07d}" for i in range(patients)]),
        age=rng.integers(28, 86, size=patients),
        subtype=subtype,
        ecog=rng.choice(4, size=patients, p=ECOG_P),
        lvef=np.clip(rng.normal(60, 7, size=patients).round(), 20, 80),
        anc=rng.lognormal(np.log(3.5), 0.45, size=patients).round(2),
        bilirubin=rng.lognormal(np.log(0.6), 0.5, size=patients).round(2),
        creatinine=rng.lognormal(np.log(0.8), 0.3, size=patients).round(2),
        lines=rng.integers(0, 4, size=patients),
        brain=rng.random(patients) < 0.15,
        lesions=rng.integers(1, 5, size=patients),
        lab_age=rng.integers(0, 60, size=patients),
        as_of=as_of,
    )


def _keys(c: Cohort) -> np.ndarray:
    """The store's integer patient keys: the patients' positions."""
    return np.arange(len(c.ids), dtype=np.int64)


def _labs(c: Cohort) -> list[tuple[str, np.ndarray, str, float | None]]:
    """The labs every synthetic patient has: concept, values, unit, upper limit of normal."""
    return [
        ("lab.anc", c.anc, "10*3/uL", None),
        ("lab.bilirubin_total", c.bilirubin, "mg/dL", 1.2),
        ("lab.creatinine", c.creatinine, "mg/dL", 1.1),
        ("obs.lvef", c.lvef, "%", None),
    ]


def _lab_dates(c: Cohort) -> np.ndarray:
    return np.datetime64(c.as_of.isoformat()) - c.lab_age.astype("timedelta64[D]")


def _latest_columns(c: Cohort, concepts: frozenset[str]) -> dict[str, pa.Array]:
    """The pivoted latest reading of each concept: the patient's one value of each lab, NULL for the others."""
    n = len(c.ids)
    labs: dict[str, dict[str, pa.Array]] = {}
    for concept, values, unit, high in _labs(c):
        numbers = values.astype(float)
        labs[concept] = {
            "value": pa.array(numbers),
            "category": pa.array([_category(v) for v in numbers.tolist()]),
            "unit": pa.array(np.full(n, unit)),
            "high": pa.nulls(n, pa.float64()) if high is None else pa.array(np.full(n, high)),
            "date": pa.array(_lab_dates(c)),
        }
    return {
        latest_column(concept, part): labs[concept][part] if concept in labs else pa.nulls(n, kind)
        for concept in sorted(concepts)
        for part, kind in LATEST_PARTS
    }


def _lab_rows(c: Cohort, concept: str, values: np.ndarray, unit: str, high: float | None) -> pa.Table:
    lib = default_library()
    concepts = [concept, *sorted(lib.ancestors(concept))]
    n = len(c.ids)
    dates = _lab_dates(c)
    base = {
        "pk": _keys(c),
        "patient_id": c.ids,
        "fact_concept": np.full(n, concept),
        "value": values.astype(float),
        "value_text": pa.nulls(n, pa.string()),
        "category": pa.array([_category(v) for v in values.astype(float).tolist()]),
        "unit": np.full(n, unit),
        "high": pa.nulls(n, pa.float64()) if high is None else np.full(n, high),
        "date": dates,
        "status": np.full(n, "final"),
        "implausible": np.zeros(n, dtype=bool),
        "source": np.char.add("Observation/", np.char.add(c.ids.astype(str), "-" + concept)),
    }
    # Each patient has one value per lab, so a row is the latest of its concept unless labs share an ancestor.
    if len(concepts) > 1:
        raise ValueError(f"synthetic lab {concept} has broader concepts; the latest flag would need recomputing")
    tables = [pa.table({**base, "concept": np.full(n, k), "latest": np.ones(n, dtype=bool)}) for k in concepts]
    return pa.concat_tables(tables)


def _derived_category(value: float | bool | str) -> str:
    """A derived value's category as ingest stores it (whole numbers are the deriver's ints)."""
    if isinstance(value, float) and value.is_integer():
        return _category(int(value))
    return _category(value)


def _simulated(c: Cohort) -> dict[Call, tuple[np.ndarray, str | None]]:
    """The derived values the generator models (its ground truth), with their units."""
    n = len(c.ids)
    her2 = np.where(c.subtype == "positive", "positive", "negative")
    values: dict[Call, tuple[np.ndarray, str | None]] = {}
    for specimen in ("latest", "any", "primary", "metastatic"):
        values[("her2", f"specimen={specimen}")] = (her2, None)
        values[("her2_low", f"specimen={specimen}")] = (c.subtype == "low", None)
    values[("age", "")] = (c.age.astype(float), "a")
    values[("ecog", "")] = (c.ecog.astype(float), None)
    values[("sex", "")] = (np.full(n, "female"), None)
    values[("metastatic", "")] = (np.ones(n, dtype=bool), None)
    values[("lines", "setting=metastatic")] = (c.lines.astype(float), None)
    for status in ("any", "active"):
        values[("brain_metastases", f"status={status}")] = (c.brain, None)
    return values


def _derived_columns(c: Cohort, calls: frozenset[Call]) -> dict[str, pa.Array]:
    """Every held call's columns: the generator's value where it models the call, unknown (NULL) elsewhere."""
    simulated = _simulated(c)
    return {
        derived_column(call, part): _part(simulated.get(call), part, kind, len(c.ids))
        for call in sorted(calls)
        for part, kind in derived_parts(call)
    }


def _part(value: tuple[np.ndarray, str | None] | None, part: str, kind: pa.DataType, n: int) -> pa.Array:
    """One part of a simulated value (NULL when the value has no such part)."""
    if value is None:
        return pa.nulls(n, kind)
    values, unit = value
    if (part, values.dtype.kind) in (("num", "f"), ("bool", "b")):
        return pa.array(values)
    if part == "cat":
        return pa.array([_derived_category(v) for v in values.tolist()], pa.string())
    if part == "unit" and unit is not None:
        return pa.array(np.full(n, unit))
    return pa.nulls(n, kind)


def write_store(c: Cohort, out: Path, calls: Calls) -> Manifest:
    """The cohort as a facts store holding ``calls``, table by table."""
    writer = PartWriter(out, "00000", store_schemas(calls), batch=250_000)
    n = len(c.ids)
    zeros = np.zeros(n, dtype=np.int32)
    writer.write_table(
        "patients",
        pa.table(
            {
                "pk": _keys(c),
                "patient_id": c.ids,
                "n_condition": zeros + 1,
                "n_drug": c.lines.astype(np.int32),
                "n_procedure": zeros,
                "n_lesion": c.lesions.astype(np.int32),
                **_derived_columns(c, calls.patient),
                **_latest_columns(c, calls.latest),
            }
        ),
    )
    for concept, values, unit, high in _labs(c):
        writer.write_table("measurements", _lab_rows(c, concept, values, unit, high))
    writer.write_table("conditions", _metastases(c))
    writer.close()
    manifest = Manifest(
        as_of=c.as_of, concepts_version=default_library().version, patients_read=n, patients_stored=n, source="synth"
    )
    manifest.hold(calls)
    (out / REJECTS).write_text("record,reason\n", encoding="utf-8")
    manifest.write(out)
    return manifest


def _metastases(c: Cohort) -> pa.Table:
    """One metastasis diagnosis per patient (brain or bone), active, diagnosed a year before as-of."""
    lib = default_library()
    site = np.where(c.brain, "condition.metastasis.brain", "condition.metastasis.bone")
    n = len(c.ids)
    onset = np.full(n, np.datetime64((c.as_of - dt.timedelta(days=365)).isoformat()))
    tables = []
    for concept in ("condition.metastasis.brain", "condition.metastasis.bone"):
        mask = site == concept
        for k in [concept, *sorted(lib.ancestors(concept))]:
            m = int(mask.sum())
            tables.append(
                pa.table(
                    {
                        "pk": _keys(c)[mask],
                        "patient_id": c.ids[mask],
                        "fact_id": np.zeros(m, dtype=np.int32),
                        "concept": np.full(m, k),
                        "fact_concept": np.full(m, concept),
                        "first_date": onset[mask],
                        "last_date": pa.nulls(m, pa.date32()),
                        "since_date": onset[mask],
                        "ongoing": np.ones(m, dtype=bool),
                        "status_recorded": np.ones(m, dtype=bool),
                        "source": np.char.add("Condition/", c.ids[mask].astype(str)),
                    }
                )
            )
    return pa.concat_tables(tables)
