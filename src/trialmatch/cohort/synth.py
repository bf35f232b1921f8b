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

from trialmatch.cohort.store import REJECTS, Manifest, PartWriter
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


def _lab_rows(c: Cohort, concept: str, values: np.ndarray, unit: str, high: float | None) -> pa.Table:
    lib = default_library()
    concepts = [concept, *sorted(lib.ancestors(concept))]
    n = len(c.ids)
    dates = np.datetime64(c.as_of.isoformat()) - c.lab_age.astype("timedelta64[D]")
    base = {
        "patient_id": c.ids,
        "fact_concept": np.full(n, concept),
        "value": values.astype(float),
        "value_text": pa.nulls(n, pa.string()),
        "category": pa.array([_number_category(v) for v in values.astype(float)]),
        "unit": np.full(n, unit),
        "high": pa.nulls(n, pa.float64()) if high is None else np.full(n, high),
        "date": dates,
        "status": np.full(n, "final"),
        "implausible": np.zeros(n, dtype=bool),
        "source": np.char.add("Observation/", np.char.add(c.ids.astype(str), "-" + concept)),
    }
    tables = [pa.table({**base, "concept": np.full(n, k)}) for k in concepts]
    return pa.concat_tables(tables)


def _number_category(value: float) -> str:
    from trialmatch.engine.measurements import _category

    return _category(value)


def _derived(c: Cohort, name: str, args: str, values: pa.Array, unit: str | None = None) -> pa.Table:
    n = len(c.ids)
    num = values if pa.types.is_floating(values.type) else pa.nulls(n, pa.float64())
    boolean = values if pa.types.is_boolean(values.type) else pa.nulls(n, pa.bool_())
    category = values.cast(pa.string()) if pa.types.is_string(values.type) else pa.nulls(n, pa.string())
    return pa.table(
        {
            "patient_id": c.ids,
            "name": np.full(n, name),
            "args": np.full(n, args),
            "value_num": num,
            "category": category,
            "value_bool": boolean,
            "unit": pa.nulls(n, pa.string()) if unit is None else np.full(n, unit),
            "changes_on": pa.nulls(n, pa.date32()),
        }
    )


def write_store(c: Cohort, out: Path) -> Manifest:
    """The cohort as a facts store, table by table."""
    writer = PartWriter(out, "00000", batch=250_000)
    n = len(c.ids)
    zeros = np.zeros(n, dtype=np.int32)
    writer.write_table(
        "patients",
        pa.table(
            {
                "patient_id": c.ids,
                "n_condition": zeros + 1,
                "n_drug": c.lines.astype(np.int32),
                "n_procedure": zeros,
                "n_lesion": c.lesions.astype(np.int32),
            }
        ),
    )
    for concept, values, unit, high in (
        ("lab.anc", c.anc, "10*3/uL", None),
        ("lab.bilirubin_total", c.bilirubin, "mg/dL", 1.2),
        ("lab.creatinine", c.creatinine, "mg/dL", 1.1),
        ("obs.lvef", c.lvef, "%", None),
    ):
        writer.write_table("measurements", _lab_rows(c, concept, values, unit, high))
    her2 = np.where(c.subtype == "positive", "positive", "negative")
    for specimen in ("latest", "any", "primary", "metastatic"):
        writer.write_table("derived", _derived(c, "her2", f"specimen={specimen}", pa.array(her2)))
        writer.write_table("derived", _derived(c, "her2_low", f"specimen={specimen}", pa.array(c.subtype == "low")))
    writer.write_table("derived", _derived(c, "age", "", pa.array(c.age.astype(float)), "a"))
    writer.write_table("derived", _derived(c, "ecog", "", pa.array(c.ecog.astype(float))))
    writer.write_table("derived", _derived(c, "sex", "", pa.array(np.full(n, "female"))))
    writer.write_table("derived", _derived(c, "metastatic", "", pa.array(np.ones(n, dtype=bool))))
    writer.write_table("derived", _derived(c, "lines", "setting=metastatic", pa.array(c.lines.astype(float))))
    for status in ("any", "active"):
        writer.write_table("derived", _derived(c, "brain_metastases", f"status={status}", pa.array(c.brain)))
    writer.write_table("conditions", _metastases(c))
    writer.close()
    manifest = Manifest(
        as_of=c.as_of, concepts_version=default_library().version, patients_read=n, patients_stored=n, source="synth"
    )
    manifest.derived_calls = sorted([name, args] for name, args in _SYNTH_CALLS)
    (out / REJECTS).write_text("record,reason\n", encoding="utf-8")
    manifest.write(out)
    return manifest


_SYNTH_CALLS = frozenset(
    {("her2", f"specimen={s}") for s in ("latest", "any", "primary", "metastatic")}
    | {("her2_low", f"specimen={s}") for s in ("latest", "any", "primary", "metastatic")}
    | {("age", ""), ("ecog", ""), ("sex", ""), ("metastatic", ""), ("lines", "setting=metastatic")}
    | {("brain_metastases", "status=any"), ("brain_metastases", "status=active")}
)


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
