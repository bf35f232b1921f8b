"""CSV input: the shipped template reads cleanly; bad cells are reported as "line N, column X"."""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources
from pathlib import Path

import pytest

from trialmatch.errors import RecordError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.patients.sources.tabular_columns import all_columns

TEMPLATE = Path(str(resources.files("trialmatch") / "data" / "patients" / "template.csv"))


def _write(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "patients.csv"
    columns = list(dict.fromkeys(c for row in rows for c in row))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read_one(path: Path) -> PatientRecord:
    (record,) = read_patients(path)
    return record


def test_template_header_is_the_documented_layout_and_reads_without_problems() -> None:
    header = TEMPLATE.read_text().splitlines()[0].split(",")
    assert tuple(header) == all_columns()
    problems: list[InputProblem] = []
    (record,) = read_patients(TEMPLATE, problems=problems)
    assert problems == [] and record.problems == ()
    assert record.birth_date is not None and record.sex == "female"


@pytest.mark.parametrize(
    ("cells", "concept", "value", "high"),
    [
        ({"anc_value": "1.5", "anc_unit": "10*9/L", "anc_uln": "7.5"}, "lab.anc", 1.5, 7.5),
        ({"anc_value": "1500", "anc_unit": "/uL"}, "lab.anc", 1.5, None),
        (
            {"creatinine_value": "177", "creatinine_unit": "umol/L", "creatinine_uln": "90"},
            "lab.creatinine",
            2.0,
            1.02,
        ),
        ({"hemoglobin_value": "80", "hemoglobin_unit": "g/L"}, "lab.hemoglobin", 8.0, None),
        ({"ecog": "2"}, "score.ecog", 2, None),
        ({"her2_ish_ratio": "1.98"}, "marker.her2_ish_ratio", 1.98, None),
    ],
)
def test_numbers_convert_to_canonical_units(
    tmp_path: Path, cells: dict[str, str], concept: str, value: float, high: float | None
) -> None:
    record = _read_one(_write(tmp_path, [{"patient_id": "p1", "birth_date": "1970-01-01", **cells}]))
    (m,) = [m for m in record.measurements if m.concept == concept]
    assert m.value == pytest.approx(value, abs=0.005)
    assert m.high == (pytest.approx(high, abs=0.005) if high is not None else None)


@pytest.mark.parametrize(
    ("cells", "category"),
    [
        ({"her2_ihc": "2+"}, "2+"),
        ({"her2_ish": "not amplified"}, "not_amplified"),
        ({"er_status": "Positive"}, "positive"),
    ],
)
def test_coded_cells_become_categories(tmp_path: Path, cells: dict[str, str], category: str) -> None:
    record = _read_one(_write(tmp_path, [{"patient_id": "p1", "birth_date": "1970-01-01", **cells}]))
    (m,) = record.measurements
    assert m.value_code is not None and m.value_code.code == category


def test_lists_give_drugs_sites_and_brain_state(tmp_path: Path) -> None:
    row = {
        "patient_id": "p1",
        "birth_date": "1970-01-01",
        "drugs": "trastuzumab:2023-01-05..2024-02-01; lapatinib:2024-03-01",
        "metastatic_sites": "bone;liver:2023-02-01",
        "brain_metastases": "treated_stable",
    }
    record = _read_one(_write(tmp_path, [row]))
    drugs = {m.concepts[0]: (m.start, m.end) for m in record.medications}
    assert drugs == {
        "drug.trastuzumab": (dt.date(2023, 1, 5), dt.date(2024, 2, 1)),
        "drug.lapatinib": (dt.date(2024, 3, 1), None),
    }
    sites = {c.concept: c.clinical_status for c in record.conditions}
    assert sites == {
        "condition.metastasis.bone": "active",
        "condition.metastasis.liver": "active",
        "condition.metastasis.brain": "remission",
    }


def test_bad_cells_are_reported_by_line_and_column(tmp_path: Path) -> None:
    rows = [
        {"patient_id": "ok", "birth_date": "1970-01-01", "anc_value": "", "drugs": "", "mystery": ""},
        {
            "patient_id": "bad",
            "birth_date": "12/03/1970",
            "anc_value": "lots",
            "drugs": "unobtainium",
            "mystery": "x",
        },
    ]
    problems: list[InputProblem] = []
    records = list(read_patients(_write(tmp_path, rows), problems=problems))
    assert [p.source for p in problems] == ["column mystery"]
    assert records[0].problems == ()
    sources = sorted(p.source or "" for p in records[1].problems)
    assert sources == ["line 3, column anc_value", "line 3, column birth_date", "line 3, column drugs"]


def test_implausible_value_is_flagged(tmp_path: Path) -> None:
    record = _read_one(_write(tmp_path, [{"patient_id": "p", "birth_date": "1970-01-01", "lvef": "140"}]))
    (m,) = record.measurements
    assert "implausible" in m.flags
    assert [p.problem for p in record.problems] == ["obs.lvef: value outside physiological range; not used"]


def test_csv_without_patient_id_column_is_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("name,patient_id_x\nA,1\n")
    with pytest.raises(RecordError, match=r"x\.csv"):
        list(read_patients(path))
