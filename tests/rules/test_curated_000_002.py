"""Curated rule files of seeds 000-002 (ZEPHIR, MSKCC 14-156, IMPACT-MBC): they load, cover every criterion
the trial reader yields with a matching text hash, and their key rules decide realistic patients as the
criteria text says."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trialmatch
from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.patients.model import (
    Coding,
    ConditionFact,
    Lesion,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)
from trialmatch.rules.ast import Condition, Not
from trialmatch.rules.rulefile import RuleFile, load_rule_file
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.model import CriterionType, Trial
from trialmatch.trials.sources import read_trials

DATA = Path(trialmatch.__file__).parent / "data"
AS_OF = dt.date(2026, 11, 21)
SNOMED = "http://snomed.info/sct"
SUV_MAX, SUV_MEAN = "56851009", "373098007"
MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.REVIEW

# trial id -> (seed number, expected top-level (inclusion, exclusion) counts)
TRIALS = {
    "NCT01565200": ("000", (12, 16)),
    "NCT02286843": ("001", (4, 4)),
    "NCT01957332": ("002", (10, 5)),
}


@functools.cache
def rules(trial_id: str) -> RuleFile:
    """The bundled rule file, checked against the concept library."""
    path = DATA / "rules" / f"{trial_id}.rules.yaml"
    return load_rule_file(path, concepts=default_library().ids())


@functools.cache
def trial(trial_id: str) -> Trial:
    """The trial as the listing-text reader reads its bundled seed document."""
    (read,) = read_trials(next((DATA / "trials" / "seeds").glob(f"{TRIALS[trial_id][0]}_*.txt")))
    return read


def rule(trial_id: str, rule_id: str) -> Condition:
    """A part's rule (``inc-8/anc``) or a criterion's full rule (``inc-2``, children folded in)."""
    criterion_id = rule_id.split("/")[0]
    if "/" in rule_id:
        return next(p.rule for p in rules(trial_id).criterion(criterion_id).parts if p.id == rule_id)
    resolved = rules(trial_id).resolved_rule(criterion_id)
    assert resolved is not None
    return resolved


def status(trial_id: str, rule_id: str, record: PatientRecord) -> Status:
    """The status a curated rule gives the record on the fixed screening date."""
    return evaluate(rule(trial_id, rule_id), record, AS_OF).status


def days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def years_ago(n: int) -> dt.date:
    return AS_OF.replace(year=AS_OF.year - n)


def measured(concept: str, value: float, unit: str, age_days: int = 7, **extra: object) -> Measurement:
    return Measurement(
        concept=concept,
        value=value,
        unit=unit,
        date=days_ago(age_days),
        source=f"Observation/{concept}",
        **extra,
    )


def diagnosis(concept: str, onset: dt.date = dt.date(2025, 3, 1), **extra: object) -> ConditionFact:
    category = "secondary-cancer" if concept.startswith("condition.metastasis") else "comorbidity"
    return ConditionFact(concept=concept, category=category, onset=onset, source=f"Condition/{concept}", **extra)


def given_drug(concept: str, start: dt.date, end: dt.date) -> MedicationFact:
    return MedicationFact(
        concepts=(concept,),
        record_type="administration",
        status="completed",
        start=start,
        end=end,
        source=f"Med/{concept}",
    )


BREAST = ConditionFact(
    concept="condition.breast_cancer",
    category="primary-cancer",
    onset=dt.date(2022, 5, 1),
    source="Condition/bc",
)
LETROZOLE = given_drug("drug.letrozole", dt.date(2022, 9, 1), dt.date(2024, 9, 1))


def patient(
    *facts: Measurement | ConditionFact | MedicationFact | ProcedureFact | Lesion, **extra: object
) -> PatientRecord:
    """A woman of 52 with breast cancer on record, plus the given facts."""
    fields: dict[str, object] = {"patient_id": "p1", "birth_date": dt.date(1974, 3, 2), "sex": "female"}
    kinds = {Measurement: "measurements", ConditionFact: "conditions", MedicationFact: "medications"}
    kinds |= {ProcedureFact: "procedures", Lesion: "lesions"}
    grouped: dict[str, list[object]] = {name: [] for name in kinds.values()}
    grouped["conditions"].append(BREAST)
    for fact in facts:
        grouped[kinds[type(fact)]].append(fact)
    return PatientRecord(**(fields | {k: tuple(v) for k, v in grouped.items()} | extra))


# ------------------------------------------------------------------------------------------------------------
# Coverage: every criterion the reader yields has a rule written for its current text


@pytest.mark.parametrize("trial_id", TRIALS)
def test_rule_file_covers_every_criterion_with_its_text_hash(trial_id: str) -> None:
    assert trial(trial_id).trial_id == rules(trial_id).trial_id == trial_id
    assert trial(trial_id).counts() == TRIALS[trial_id][1]
    curated = {c.id: c.text_hash for c in rules(trial_id).criteria}
    assert curated == {c.id: c.text_hash for c in trial(trial_id).all_criteria()}


@pytest.mark.parametrize("trial_id", TRIALS)
def test_exclusions_state_the_excluding_condition_positively(trial_id: str) -> None:
    for criterion in trial(trial_id).criteria:
        if criterion.type is CriterionType.EXCLUSION:
            assert not isinstance(rules(trial_id).resolved_rule(criterion.id), Not), criterion.id


# ------------------------------------------------------------------------------------------------------------
# Seed 000, NCT01565200 (ZEPHIR)

ZEPHIR = "NCT01565200"


def bilirubin(value: float) -> Measurement:
    return measured("lab.bilirubin_total", value, "mg/dL", low=0.1, high=1.0)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((bilirubin(1.4),), MET),
        ((bilirubin(1.5),), MET),
        ((bilirubin(2.3),), NOT_MET),
        ((bilirubin(2.3), diagnosis("condition.gilbert_syndrome")), MET),
        ((measured("lab.bilirubin_total", 1.0, "mg/dL", age_days=40, high=1.0),), UNKNOWN),
    ],
)
def test_zephir_bilirubin_allows_gilbert_syndrome(
    facts: tuple[Measurement | ConditionFact, ...], expected: Status
) -> None:
    assert status(ZEPHIR, "inc-8/bilirubin", patient(*facts)) is expected


@given(value=st.floats(min_value=0.1, max_value=6.0), gilbert=st.booleans())
def test_zephir_bilirubin_property(value: float, gilbert: bool) -> None:
    facts = (bilirubin(value), diagnosis("condition.gilbert_syndrome")) if gilbert else (bilirubin(value),)
    expected = MET if gilbert or value <= 1.5 else NOT_MET
    assert status(ZEPHIR, "inc-8/bilirubin", patient(*facts)) is expected


@pytest.mark.parametrize(
    ("alp_u_l", "bone_metastases", "expected"),
    [(200, False, MET), (400, False, NOT_MET), (400, True, MET), (700, True, NOT_MET)],
)
def test_zephir_alkaline_phosphatase_limit_rises_with_bone_metastases(
    alp_u_l: float, bone_metastases: bool, expected: Status
) -> None:
    sites = (diagnosis("condition.metastasis.bone"),) if bone_metastases else (diagnosis("condition.metastasis.liver"),)
    record = patient(measured("lab.alp", alp_u_l, "U/L", low=40, high=120), *sites)
    assert status(ZEPHIR, "inc-8/alp", record) is expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((measured("obs.lvef", 58, "%"),), REVIEW),  # LVEF fine; "significant" history left to the site
        ((measured("obs.lvef", 45, "%"),), NOT_MET),
        ((measured("obs.lvef", 58, "%"), diagnosis("condition.heart_failure")), NOT_MET),
        ((measured("obs.lvef", 58, "%", age_days=60),), UNKNOWN),
    ],
)
def test_zephir_cardiac_inclusion(facts: tuple[Measurement | ConditionFact, ...], expected: Status) -> None:
    assert status(ZEPHIR, "inc-7", patient(*facts)) is expected


@given(systolic=st.integers(min_value=90, max_value=200), diastolic=st.integers(min_value=50, max_value=130))
def test_zephir_uncontrolled_hypertension_property(systolic: int, diastolic: int) -> None:
    record = patient(
        measured("vital.bp_systolic", systolic, "mm[Hg]"), measured("vital.bp_diastolic", diastolic, "mm[Hg]")
    )
    expected = MET if systolic > 150 or diastolic > 100 else NOT_MET
    assert status(ZEPHIR, "exc-4", record) is expected


@pytest.mark.parametrize(("last_dose_days_ago", "expected"), [(5, MET), (14, MET), (30, NOT_MET)])
def test_zephir_lapatinib_washout(last_dose_days_ago: int, expected: Status) -> None:
    record = patient(LETROZOLE, given_drug("drug.lapatinib", dt.date(2026, 3, 1), days_ago(last_dose_days_ago)))
    assert status(ZEPHIR, "exc-15", record) is expected


BRAIN, LIVER = "condition.metastasis.brain", "condition.metastasis.liver"
DEXAMETHASONE = MedicationFact(
    concepts=("drug.dexamethasone",),
    record_type="request",
    status="active",
    start=days_ago(10),
    source="Med/dex",
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((diagnosis(BRAIN),), MET),  # brain as the sole site
        ((diagnosis(BRAIN), diagnosis(LIVER)), UNKNOWN),  # symptoms not recorded
        ((diagnosis(BRAIN), diagnosis(LIVER), DEXAMETHASONE), MET),  # needs therapy to control symptoms
        ((diagnosis(BRAIN, clinical_status="remission"), diagnosis(LIVER)), NOT_MET),  # controlled: allowed
        ((diagnosis("condition.metastasis.lymph_node"),), NOT_MET),
    ],
)
def test_zephir_brain_metastases(facts: tuple[ConditionFact | MedicationFact, ...], expected: Status) -> None:
    assert status(ZEPHIR, "exc-3", patient(*facts)) is expected


FDG_SCAN = ProcedureFact(concept="procedure.pet_fdg", status="completed", start=days_ago(12), source="Procedure/pet")
LIVER_SITE, AORTA = Coding(system=SNOMED, code="10200004"), Coding(system=SNOMED, code="32672002")


def uptake(value: float, method: str, **where: object) -> Measurement:
    return Measurement(
        concept="imaging.suv",
        value=value,
        unit="{SUVbw}g/mL",
        method=Coding(system=SNOMED, code=method),
        date=FDG_SCAN.start,
        part_of=FDG_SCAN.source,
        source=f"Observation/suv-{value}-{where}",
        **where,
    )


def target(
    lesion_id: str, where: str, size_mm: float, suv_max: float, **lesion: object
) -> tuple[Lesion | Measurement, ...]:
    """A lesion not irradiated and not confluent (unless overridden), its CT size and its FDG SUVmax."""
    attrs: dict[str, object] = {
        "previously_irradiated": False,
        "confluent": False,
        "is_lymph_node": where == "node",
    }
    found = Lesion(id=lesion_id, location_text=where, source=f"BodyStructure/{lesion_id}", **(attrs | lesion))
    size = measured("imaging.tumor_size", size_mm, "mm", age_days=14, focus=lesion_id)
    return found, size, uptake(suv_max, SUV_MAX, focus=lesion_id)


REFERENCES = (FDG_SCAN, uptake(2.0, SUV_MEAN, body_site=LIVER_SITE), uptake(1.2, SUV_MEAN, body_site=AORTA))


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (target("L2", "node", 18, 5.0), MET),
        (target("L2", "node", 12, 5.0), NOT_MET),  # a node under 15 mm short axis is no target
        (target("L2", "node", 15, 5.0), MET),  # "more than 15 mm or more": 15 mm is accepted
        (target("L2", "node", 18, 3.0), REVIEW),  # 1.5 x liver, 2.5 x blood pool: only if liver infiltrated
        (target("L2", "node", 18, 5.0, previously_irradiated=True), NOT_MET),
        (target("L2", "node", 18, 5.0, confluent=None), UNKNOWN),
    ],
)
def test_zephir_two_target_lesions(node: tuple[Lesion | Measurement, ...], expected: Status) -> None:
    record = patient(*REFERENCES, *target("L1", "liver", 25, 6.0), *node)
    assert status(ZEPHIR, "inc-2", record) is expected


# ------------------------------------------------------------------------------------------------------------
# Seed 001, NCT02286843 (MSKCC 14-156)

MSKCC = "NCT02286843"


@pytest.mark.parametrize(
    ("sex", "birth_date", "expected"),
    [
        ("female", dt.date(1970, 1, 1), MET),
        ("male", dt.date(1970, 1, 1), NOT_MET),
        ("female", years_ago(18), MET),  # the registry's inclusive "18 Years and older"
        ("female", years_ago(18) + dt.timedelta(days=1), NOT_MET),
        ("female", None, UNKNOWN),
    ],
)
def test_mskcc_adult_women(sex: str, birth_date: dt.date | None, expected: Status) -> None:
    assert status(MSKCC, "inc-1", patient(sex=sex, birth_date=birth_date)) is expected


def her2_primary(result: str) -> Measurement:
    return Measurement(
        concept="marker.her2_interpretation",
        value_text=result,
        specimen="S1",
        specimen_site="primary",
        date=dt.date(2022, 5, 3),
        source="Observation/her2",
    )


@pytest.mark.parametrize(
    ("facts", "expected"),
    [((her2_primary("negative"),), MET), ((her2_primary("positive"),), NOT_MET), ((), UNKNOWN)],
)
def test_mskcc_her2_negative_primary(facts: tuple[Measurement, ...], expected: Status) -> None:
    assert status(MSKCC, "inc-2/her2_negative_primary", patient(*facts)) is expected


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ((12, 8, 30, 5, 14), MET),
        ((12, 8, 30, 5, 14, 9, 22), MET),
        ((12, 8, 30, 5), NOT_MET),
        ((12, 8, 30, 5, 0), NOT_MET),  # a lesion measured 0 mm is gone
        ((), UNKNOWN),
    ],
)
def test_mskcc_five_or_more_metastatic_foci(sizes: tuple[float, ...], expected: Status) -> None:
    liver = (Coding(system="http://snomed.info/sct", code="10200004"),)
    foci = [Lesion(id=f"L{i}", location=liver, source=f"BodyStructure/L{i}") for i in range(len(sizes))]
    measures = [measured("imaging.tumor_size", size, "mm", 20, focus=f"L{i}") for i, size in enumerate(sizes)]
    assert status(MSKCC, "inc-3", patient(*foci, *measures)) is expected


def test_mskcc_small_lymph_nodes_are_not_foci() -> None:
    nodes = [Lesion(id=f"N{i}", is_lymph_node=True, source=f"BodyStructure/N{i}") for i in range(5)]
    small = [measured("imaging.tumor_size", 8, "mm", 20, focus=f"N{i}") for i in range(5)]
    assert status(MSKCC, "inc-3", patient(*nodes, *small)) is NOT_MET


@pytest.mark.parametrize(
    ("ecog", "age_days", "expected"), [(0, 3, MET), (2, 20, MET), (3, 3, NOT_MET), (1, 45, UNKNOWN)]
)
def test_mskcc_performance_status(ecog: int, age_days: int, expected: Status) -> None:
    record = patient(measured("score.ecog", ecog, "{score}", age_days=age_days))
    assert status(MSKCC, "inc-4", record) is expected


# ------------------------------------------------------------------------------------------------------------
# Seed 002, NCT01957332 (IMPACT-MBC)

IMPACT = "NCT01957332"
CT, FDG_PET = "procedure.ct", "procedure.pet_fdg"


def scan(concept: str, age_days: int) -> ProcedureFact:
    return ProcedureFact(concept=concept, status="completed", start=days_ago(age_days), source=f"Procedure/{concept}")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((scan(CT, 10), scan(FDG_PET, 12)), REVIEW),  # bone scintigraphy has no concept: left to the site
        ((scan(CT, 40), scan(FDG_PET, 12)), NOT_MET),
        ((scan(CT, 10),), NOT_MET),
        ((), UNKNOWN),
    ],
)
def test_impact_recent_standard_imaging(facts: tuple[ProcedureFact, ...], expected: Status) -> None:
    assert status(IMPACT, "inc-3", patient(*facts)) is expected


@pytest.mark.parametrize(
    ("site", "expected"), [("condition.metastasis.bone", MET), ("condition.metastasis.liver", REVIEW)]
)
def test_impact_liver_test_rise_only_asked_with_liver_metastases(site: str, expected: Status) -> None:
    assert status(IMPACT, "inc-2.2", patient(diagnosis(site))) is expected


@pytest.mark.parametrize(
    ("sites", "expected"),
    [
        (("condition.metastasis.bone",), NOT_MET),
        (("condition.metastasis.bone", "condition.metastasis.liver"), REVIEW),
        (("condition.metastasis.lung",), REVIEW),
    ],
)
def test_impact_rapid_progression_exclusion_asks_only_with_visceral_disease(
    sites: tuple[str, ...], expected: Status
) -> None:
    assert status(IMPACT, "exc-5", patient(*(diagnosis(s) for s in sites))) is expected


@pytest.mark.parametrize(
    ("drug", "start", "expected"),
    [
        ("drug.docetaxel", dt.date(2022, 7, 1), MET),  # adjuvant, before the metastatic diagnosis
        ("drug.capecitabine", dt.date(2025, 4, 1), NOT_MET),  # a metastatic line already given
    ],
)
def test_impact_first_presentation_means_no_metastatic_line(drug: str, start: dt.date, expected: Status) -> None:
    record = patient(diagnosis("condition.metastasis.liver"), given_drug(drug, start, start + dt.timedelta(days=90)))
    assert status(IMPACT, "inc-1/first_presentation", record) is expected


@pytest.mark.parametrize(("birth_date", "expected"), [(dt.date(1980, 6, 1), REVIEW), (years_ago(17), NOT_MET)])
def test_impact_age_with_judged_compliance(birth_date: dt.date, expected: Status) -> None:
    assert status(IMPACT, "inc-9", patient(birth_date=birth_date)) is expected
