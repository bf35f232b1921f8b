"""Metastatic sites, visceral disease, brain metastasis state, progression, PET uptake ratio."""

from __future__ import annotations

import pytest
from derive_factory import coded, condition, lesion, lesion_value, measure, med, procedure, record, snomed, value

from trialmatch.patients.derive.stage import m_in, stage_in

BREAST = condition("condition.breast_cancer", "2020-01-01")
BRAIN = condition("condition.metastasis.brain", "2023-01-10", source="Condition/brain-1")
BONE = condition("condition.metastasis.bone", "2022-05-01")
LIVER = condition("condition.metastasis.liver", "2022-05-01")


SITE_FLAGS = ("metastatic", "bone_only", "brain_only", "visceral_disease")
M1_ONLY = condition("condition.breast_cancer", "2020-01-01", stage="cT2N1M1")
SITE_UNKNOWN = condition("condition.metastasis", "2022-06-01")
LUNG_BY_BODY_SITE = condition("condition.metastasis", "2022-06-01", body_site=(snomed("39607008", "Lung"),))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((BREAST, BONE), (True, True, False, False)),
        ((BREAST, BONE, LIVER), (True, False, False, True)),
        ((BREAST, BRAIN), (True, False, True, False)),
        ((BREAST,), (False, False, False, False)),
        ((), (None, None, None, None)),
        ((M1_ONLY,), (True, None, None, None)),
        ((BREAST, BONE, SITE_UNKNOWN), (True, None, False, None)),
        ((BREAST, LUNG_BY_BODY_SITE), (True, False, False, True)),
    ],
)
def test_metastatic_site_flags(facts: tuple, expected: tuple) -> None:
    rec = record(*facts)
    assert tuple(value(name, rec).value for name in SITE_FLAGS) == expected


BRAIN_RT = procedure("procedure.brain_radiotherapy", "2023-02-01")
STABLE = coded("obs.cancer_disease_status", "2023-05-01", "Stable", focus="brain-1")
WORSE = coded("obs.cancer_disease_status", "2023-05-01", "Worsened", focus="brain-1")
STEROID = med("drug.dexamethasone", "2024-05-01", status="active")
STATUSES = ("any", "active", "treated_stable", "symptomatic")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((BREAST, BRAIN), (True, True, False, None)),  # untreated
        ((BREAST, BRAIN, BRAIN_RT, STABLE), (True, False, True, None)),  # treated, stable, off steroids
        ((BREAST, BRAIN, BRAIN_RT, STABLE, STEROID), (True, False, False, True)),  # stable but on steroids
        ((BREAST, BRAIN, BRAIN_RT, WORSE), (True, True, False, None)),  # progressing after treatment
        ((BREAST, BRAIN, BRAIN_RT), (True, None, None, None)),  # treated, no status since
        ((BREAST, BONE), (False, False, False, False)),
    ],
)
def test_brain_metastases_decision_table(facts: tuple, expected: tuple) -> None:
    rec = record(*facts)
    assert tuple(value("brain_metastases", rec, status=s).value for s in STATUSES) == expected


def test_progression_within_window() -> None:
    rec = record(
        coded("obs.cancer_disease_status", "2024-01-15", "Stable"),
        coded("obs.cancer_disease_status", "2024-04-20", "Worsened"),
    )
    recent = value("progression", rec, within="3mo")
    assert (recent.value, recent.changes_on) == (True, recent.changes_on)
    assert str(recent.changes_on) == "2024-07-21"
    assert value("progression", rec, within="28d").value is None
    stable_only = record(coded("obs.cancer_disease_status", "2024-05-15", "Stable"))
    assert value("progression", stable_only, within="28d").value is False
    assert value("progression", record()).missing == "a disease assessment (imaging or disease status)"


PET_FDG = procedure("procedure.pet_fdg", "2024-04-01", source="Procedure/pet-1")
PET_ZR = procedure("procedure.pet_zr89_trastuzumab", "2024-04-20", source="Procedure/pet-2")
MAX, MEAN = snomed("56851009", "Maximum"), snomed("373098007", "Mean")


def _suv(v: float, date: str, part_of: str, **fields: object) -> object:
    return measure("imaging.suv", date, v, part_of=part_of, **fields)


def test_suv_ratio_against_liver_and_blood_pool_per_tracer() -> None:
    rec = record(
        PET_FDG,
        PET_ZR,
        _suv(8.0, "2024-04-01", "pet-1", focus="L1", method=MAX),
        _suv(2.0, "2024-04-01", "pet-1", method=MEAN, body_site=snomed("10200004", "Liver")),
        _suv(1.6, "2024-04-01", "pet-1", method=MEAN, body_site=snomed("32672002", "Descending aorta")),
        _suv(6.0, "2024-04-20", "pet-2", focus="L1", method=MAX),
        lesions=(lesion("L1"),),
    )
    assert lesion_value("suv_ratio", "L1", rec).value == 4.0
    assert lesion_value("suv_ratio", "L1", rec, reference="blood_pool").value == 5.0
    zr = lesion_value("suv_ratio", "L1", rec, tracer="zr89_trastuzumab")
    assert (zr.value, zr.missing) == (None, "liver SUVmean on the same PET scan")
    assert "SUVmax 8 / liver SUVmean 2 = 4.00" in lesion_value("suv_ratio", "L1", rec).explanation
    assert lesion_value("suv_ratio", "L1", record(lesions=(lesion("L1"),))).value is None


@pytest.mark.parametrize(
    ("text", "stage", "m"),
    [
        ("Stage 4 (qualifier value)", "IV", None),
        ("Stage IV", "IV", None),
        ("stage 2B", "IIB", None),
        ("Stage IIIA", "IIIA", None),
        ("c4", "IV", None),
        ("pIIIC", "IIIC", None),
        ("iv", "IV", None),
        ("M1 category (finding)", None, "M1"),
        ("cM1", None, "M1"),
        ("pM0", None, "M0"),
        ("M1b", None, "M1"),
        ("T2N1M1", None, "M1"),
        ("cMX", None, None),
        ("Stage 10", None, None),
        ("stage", None, None),
    ],
)
def test_stage_and_m_category_texts(text: str, stage: str | None, m: str | None) -> None:
    assert stage_in([text]) == stage
    assert m_in([text]) == m
