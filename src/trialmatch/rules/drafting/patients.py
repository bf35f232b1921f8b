"""Test patients for comparing drafted with curated rules: a few hand-built ones and a seeded generator of facts
that exercise every concept the seed trials' rules use (labs with reference ranges, cardiac events, drugs ...)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator

from trialmatch.patients.model import ConditionFact, Measurement, MedicationFact, PatientRecord, ProcedureFact
from trialmatch.terminology.concepts import ConceptLibrary, default_library

AS_OF = dt.date(2026, 11, 21)
# concept -> (low, high of the reference range, canonical unit, plausible low, plausible high)
LABS: dict[str, tuple[float | None, float | None, str, float, float]] = {
    "lab.anc": (1.8, 7.5, "10*3/uL", 0.5, 6.0),
    "lab.platelets": (150, 400, "10*3/uL", 50, 350),
    "lab.hemoglobin": (12, 16, "g/dL", 7, 15),
    "lab.bilirubin_total": (0.1, 1.0, "mg/dL", 0.2, 3.5),
    "lab.ast": (10, 40, "U/L", 15, 250),
    "lab.alt": (7, 40, "U/L", 10, 250),
    "lab.alp": (40, 120, "U/L", 50, 700),
    "lab.creatinine": (0.5, 1.1, "mg/dL", 0.5, 2.6),
    "lab.creatinine_clearance": (None, None, "mL/min", 30, 120),
    "lab.inr": (0.8, 1.2, "{INR}", 0.8, 2.5),
    "lab.aptt": (25, 35, "s", 22, 60),
    "obs.lvef": (None, None, "%", 35, 70),
    "vital.bp_systolic": (None, None, "mm[Hg]", 100, 180),
    "vital.bp_diastolic": (None, None, "mm[Hg]", 60, 115),
}
CONDITIONS = (
    "condition.metastasis.bone",
    "condition.metastasis.liver",
    "condition.metastasis.lung",
    "condition.metastasis.brain",
    "condition.metastasis.leptomeningeal",
    "condition.heart_failure",
    "condition.nyha_class_3",
    "condition.myocardial_infarction",
    "condition.unstable_angina",
    "condition.stroke",
    "condition.hiv",
    "condition.hepatitis_b",
    "condition.hepatitis_c",
    "condition.malignancy",
    "condition.nonmelanoma_skin_cancer",
    "condition.gilbert_syndrome",
    "condition.interstitial_lung_disease",
)
DRUGS = (
    "drug.trastuzumab",
    "drug.pertuzumab",
    "drug.trastuzumab_emtansine",
    "drug.lapatinib",
    "drug.palbociclib",
    "drug.paclitaxel",
    "drug.letrozole",
    "drug.dexamethasone",
    "drug.warfarin",
)
PROCEDURES = ("procedure.major_surgery", "procedure.radiotherapy", "procedure.brain_radiotherapy", "procedure.ct")


def _ago(days: int) -> dt.date:
    return AS_OF - dt.timedelta(days=days)


def _measure(concept: str, value: float, age_days: int) -> Measurement:
    low, high, unit, _, _ = LABS[concept]
    return Measurement(
        concept=concept, value=value, unit=unit, low=low, high=high, date=_ago(age_days), source=f"obs/{concept}"
    )


def _category(concept: str, text: str, age_days: int) -> Measurement:
    return Measurement(concept=concept, value_text=text, date=_ago(age_days), source=f"obs/{concept}")


def _condition(concept: str, onset_days: int, active: bool) -> ConditionFact:
    category = "secondary-cancer" if concept.startswith("condition.metastasis") else "comorbidity"
    return ConditionFact(
        concept=concept,
        category=category,
        clinical_status="active" if active else "resolved",
        onset=_ago(onset_days),
        abatement=None if active else _ago(max(onset_days - 60, 1)),
        source=f"cond/{concept}",
    )


def _drug(concept: str, start_days: int, stop_days: int | None) -> MedicationFact:
    return MedicationFact(
        concepts=(concept,),
        record_type="administration",
        status="active" if stop_days is None else "completed",
        start=_ago(start_days),
        end=None if stop_days is None else _ago(stop_days),
        source=f"med/{concept}",
    )


def generated(count: int, seed: int = 20261121) -> Iterator[PatientRecord]:
    """``count`` random but plausible records; the same seed always gives the same records."""
    rng = random.Random(seed)
    for n in range(count):
        facts_m = [
            _measure(c, round(rng.uniform(lo, hi), 1), rng.choice((3, 10, 20, 45)))
            for c, (_, _, _, lo, hi) in LABS.items()
            if rng.random() < 0.85
        ]
        facts_m.append(_category("score.ecog", str(rng.choice((0, 1, 2, 3))), rng.choice((5, 40))))
        facts_m.append(_category("marker.her2_interpretation", rng.choice(("positive", "negative")), 400))
        conditions = [
            ConditionFact(concept="condition.breast_cancer", category="primary-cancer", onset=_ago(1500), source="bc")
        ]
        conditions += [
            _condition(c, rng.choice((30, 120, 400, 2500)), rng.random() < 0.7)
            for c in CONDITIONS
            if rng.random() < 0.15
        ]
        drugs = [
            _drug(c, rng.choice((60, 400, 900)), rng.choice((None, 5, 20, 200))) for c in DRUGS if rng.random() < 0.3
        ]
        procedures = [
            ProcedureFact(concept=c, status="completed", start=_ago(d), end=_ago(d), source=f"proc/{c}")
            for c in PROCEDURES
            if rng.random() < 0.2
            for d in (rng.choice((7, 30, 200)),)
        ]
        yield PatientRecord(
            patient_id=f"gen-{n}",
            birth_date=AS_OF.replace(year=AS_OF.year - rng.choice((17, 18, 35, 52, 70, 81))),
            sex=rng.choice(("female", "female", "male")),
            measurements=tuple(facts_m),
            conditions=tuple(conditions),
            medications=tuple(drugs) or (_drug("drug.letrozole", 900, 400),),
            procedures=tuple(procedures),
        )


def hand_built() -> list[PatientRecord]:
    """Edge cases by hand: a fit HER2+ woman, one with abnormal labs, one with recent cardiac events."""
    fit = next(generated(1, seed=1))
    labs = tuple(_measure(c, hi, 3) for c, (_, hi, _, _, _) in LABS.items() if hi is not None)
    cardiac = (
        _condition("condition.myocardial_infarction", 40, True),
        _condition("condition.unstable_angina", 20, True),
        _condition("condition.metastasis.brain", 100, True),
    )
    return [
        fit.model_copy(update={"patient_id": "hand-fit"}),
        fit.model_copy(update={"patient_id": "hand-at-uln", "measurements": labs}),
        fit.model_copy(update={"patient_id": "hand-cardiac", "conditions": fit.conditions + cardiac}),
    ]


def _any_fact(
    concept: str, rng: random.Random, library: ConceptLibrary
) -> Measurement | ConditionFact | MedicationFact | ProcedureFact:
    """One random fact of ``concept``: a measurement, condition, drug or procedure."""
    domain = concept.split(".")[0]
    if domain == "condition":
        return _condition(concept, rng.choice((30, 120, 400, 2500)), rng.random() < 0.7)
    if domain == "drug":
        return _drug(concept, rng.choice((60, 400, 900)), rng.choice((None, 5, 20, 200)))
    if domain == "procedure":
        when = rng.choice((7, 30, 200))
        return ProcedureFact(concept=concept, status="completed", start=_ago(when), end=_ago(when), source="proc")
    found = library.get(concept)
    age = rng.choice((3, 10, 20, 45))
    if found.value_type == "coded":
        categories = sorted({a.category for a in found.answers if a.category}) or ["positive", "negative"]
        return _category(concept, rng.choice(categories), age)
    low, high = found.plausible or (0.0, 100.0)
    value = round(rng.uniform(low, high), 1)
    return Measurement(concept=concept, value=value, unit=found.unit, date=_ago(age), source=f"obs/{concept}")


def generated_for(concepts: Iterable[str], count: int, seed: int = 20261121) -> Iterator[PatientRecord]:
    """``generated(count, seed)`` with, for each record, random facts of every further concept named (each present
    in about half of the records), so rules about any concept of the library meet both outcomes."""
    library = default_library()
    extra = sorted(set(concepts) - set(LABS) - set(CONDITIONS) - set(DRUGS) - set(PROCEDURES))
    rng = random.Random(seed + 1)
    for record in generated(count, seed):
        facts = [f for c in extra if c in library.ids() and rng.random() < 0.5 for f in [_any_fact(c, rng, library)]]
        yield record.model_copy(
            update={
                "measurements": record.measurements + tuple(f for f in facts if isinstance(f, Measurement)),
                "conditions": record.conditions + tuple(f for f in facts if isinstance(f, ConditionFact)),
                "medications": record.medications + tuple(f for f in facts if isinstance(f, MedicationFact)),
                "procedures": record.procedures + tuple(f for f in facts if isinstance(f, ProcedureFact)),
            }
        )
