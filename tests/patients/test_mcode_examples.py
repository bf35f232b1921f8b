"""HL7's official mCODE STU4 examples: every file reads, every problem is an expected kind; Jenny M."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.errors import InputError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients

# What the examples legitimately contain that screening does not use (genomics, staging, practitioners...).
EXPECTED_PROBLEMS = (
    "resource type not used for screening",
    "not linked to a patient",
    "code not in the concept library",
    "no Patient resource in the input",
    "radiotherapy treatment volume, not a lesion",
    "medication code not in the concept library",
    "value outside physiological range; not used",  # the 3000 x10^3/uL neutrophil authoring slip
    "no code given",
    "condition recorded as absent",  # mCODE "no history of metastatic cancer"
)


def _examples(shared_dir: Path) -> list[Path]:
    return sorted((shared_dir / "fixtures" / "mcode-ig").glob("*.json"))


def _unexpected(problems: list[InputProblem]) -> list[InputProblem]:
    return [p for p in problems if not any(kind in p.problem for kind in EXPECTED_PROBLEMS)]


def test_every_example_reads_without_an_unexplained_problem(shared_dir: Path) -> None:
    files = _examples(shared_dir)
    assert len(files) > 100
    unexplained: dict[str, list[InputProblem]] = {}
    for path in files:
        problems: list[InputProblem] = []
        try:
            for record in read_patients(path, problems=problems):
                problems.extend(record.problems)
        except InputError as exc:  # pragma: no cover - reported below
            pytest.fail(f"{path.name}: {exc}")
        if _unexpected(problems):
            unexplained[path.name] = _unexpected(problems)
    assert unexplained == {}


@pytest.fixture
def jenny(shared_dir: Path) -> PatientRecord:
    (record,) = read_patients(shared_dir / "fixtures" / "mcode-ig" / "Bundle-mcode-patient-bundle-jenny-m.json")
    return record


@pytest.mark.parametrize(
    ("concept", "category"),
    [("marker.er", "positive"), ("marker.pr", "negative"), ("marker.her2_interpretation", "negative")],
)
def test_jenny_receptor_status(jenny: PatientRecord, concept: str, category: str) -> None:
    (marker,) = [m for m in jenny.measurements if m.concept == concept]
    assert marker.value_code is not None and marker.value_code.code == category


def test_jenny_ecog_demographics_and_neutrophil_slip(jenny: PatientRecord) -> None:
    assert (jenny.patient_id, jenny.sex, str(jenny.birth_date)) == (
        "cancer-patient-jenny-m",
        "female",
        "1965-01-01",
    )
    (ecog,) = [m for m in jenny.measurements if m.concept == "score.ecog"]
    assert ecog.value == 0
    (anc,) = [m for m in jenny.measurements if m.concept == "lab.anc"]
    assert "implausible" in anc.flags


def test_jenny_medications(jenny: PatientRecord) -> None:
    drugs = sorted((m.concepts, m.record_type, str(m.start)) for m in jenny.medications)
    assert drugs == [
        (("drug.anastrozole",), "request", "2018-09-30"),
        (("drug.cyclophosphamide",), "request", "2018-04-01"),
        (("drug.doxorubicin",), "request", "2018-04-01"),
        (("drug.paclitaxel",), "request", "2018-04-12"),
    ]


def test_jenny_cancer_and_tumor_size(jenny: PatientRecord) -> None:
    (cancer,) = jenny.conditions
    assert (cancer.concept, cancer.category, cancer.clinical_status) == (
        "condition.breast_cancer",
        "primary-cancer",
        "remission",
    )
    (size,) = [m for m in jenny.measurements if m.concept == "imaging.tumor_size"]
    assert (size.value, size.unit, size.original_unit) == (25.0, "mm", "cm")


@pytest.mark.parametrize(
    ("name", "concepts"),
    [
        ("Observation-history-of-cancer-metastatic-to-liver.json", ["condition.metastasis.liver"]),
        ("Observation-no-history-of-metastatic-cancer.json", []),
    ],
)
def test_history_of_metastatic_cancer_is_a_condition(shared_dir: Path, name: str, concepts: list[str]) -> None:
    (record,) = read_patients(shared_dir / "fixtures" / "mcode-ig" / name)
    assert [c.concept for c in record.conditions] == concepts
    assert all(c.category == "secondary-cancer" for c in record.conditions)
