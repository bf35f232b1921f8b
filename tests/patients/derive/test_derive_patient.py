"""Performance status, ER/PR, demographics, menopause, WOCBP, pregnancy (REFERENCE §2, §5, §10)."""

from __future__ import annotations

import datetime as dt

import pytest
from derive_factory import coded, condition, measure, procedure, record, snomed, value


@pytest.mark.parametrize(
    ("kps", "grade"),
    [(100, 0), (90, 0), (80, 1), (70, 1), (60, 2), (50, 2), (40, 3), (30, 3), (20, 4), (10, 4), (0, 5)],
)
def test_karnofsky_maps_to_ecog(kps: float, grade: int) -> None:
    result = value("ecog", record(measure("score.karnofsky", "2024-05-20", kps)))
    assert result.value == grade
    assert result.rule_set == "Karnofsky→ECOG (ECOG-ACRIN table)"
    assert ("low-confidence" in result.explanation) is (kps in (70, 50))


def test_ecog_latest_within_window_and_when_it_goes_stale() -> None:
    rec = record(measure("score.ecog", "2024-01-10", 2), measure("score.ecog", "2024-05-20", 1))
    latest = value("ecog", rec, within="28d")
    assert (latest.value, latest.date, latest.changes_on) == (1, dt.date(2024, 5, 20), dt.date(2024, 6, 18))
    assert value("ecog", rec, as_of=dt.date(2024, 6, 18), within="28d").value is None
    assert (
        value("ecog", rec, as_of=dt.date(2024, 6, 18), within="28d").missing == "ECOG performance status within 28 days"
    )
    assert value("ecog", record()).missing == "ECOG performance status"


def test_same_day_ecog_beats_mapped_karnofsky() -> None:
    rec = record(measure("score.karnofsky", "2024-05-20", 60), measure("score.ecog", "2024-05-20", 1))
    assert value("ecog", rec).value == 1


@pytest.mark.parametrize(
    ("receptor", "percent", "expected"),
    [("er", 0.5, "negative"), ("er", 1, "low_positive"), ("er", 10, "low_positive"), ("er", 10.5, "positive"),
     ("pr", 0.9, "negative"), ("pr", 1, "positive"), ("pr", 5, "positive")],
)  # fmt: skip
def test_hormone_receptor_percent_cutoffs(receptor: str, percent: float, expected: str) -> None:
    rec = record(measure(f"marker.{receptor}_percent", "2023-02-01", percent, specimen="S1"))
    result = value(receptor, rec)
    assert (result.value, result.rule_set) == (expected, "ASCO/CAP 2020")


def test_hormone_receptor_from_report_call() -> None:
    rec = record(measure("marker.er", "2023-02-01", value_code=snomed("10828004", "Positive")))
    assert value("er", rec).value == "positive"
    assert value("pr", rec).missing == "PR result"


def test_age_whole_years_and_next_birthday() -> None:
    rec = record(birth="1964-06-02")
    result = value("age", rec)
    assert (result.value, result.changes_on) == (59, dt.date(2024, 6, 2))
    assert value("age", rec, as_of=dt.date(2024, 6, 2)).value == 60
    leap = record(birth="2004-02-29")
    assert value("age", leap, as_of=dt.date(2023, 2, 28)).value == 19
    assert value("age", record(birth=None)).missing == "date of birth"


def test_sex() -> None:
    assert value("sex", record(sex="male")).value == "male"
    assert value("sex", record(sex="unknown")).value is None


BIOPSY = procedure("procedure.biopsy", "2023-01-01")
HYSTERECTOMY = procedure(None, "2015-01-01", codes=(snomed("236886002", "Hysterectomy"),))
BSO = procedure(None, "2015-01-01", codes=(snomed("X", "Bilateral salpingo-oophorectomy"),))


@pytest.mark.parametrize(
    ("rec", "expected"),
    [
        (record(BIOPSY, sex="male"), False),
        (record(BIOPSY, birth="1990-01-01"), True),
        (record(birth="1990-01-01"), None),  # no procedures recorded: sterilising surgery not ruled out
        (record(BIOPSY, HYSTERECTOMY, birth="1990-01-01"), False),
        (record(BSO, birth="1975-01-01"), False),
        (
            record(BIOPSY, procedure(None, "2015-01-01", codes=(snomed("Y", "Tubal ligation"),)), birth="1990-01-01"),
            True,
        ),
        (record(BIOPSY, birth="1960-01-01"), False),  # age 64: postmenopausal per NCCN
        (record(BIOPSY, birth="1974-01-01"), None),  # age 50: menopausal status unknown
        (record(BIOPSY, birth=None), None),
        (record(BIOPSY, sex=None, birth="1990-01-01"), None),
    ],
)
def test_childbearing_potential(rec: object, expected: bool | None) -> None:
    result = value("childbearing_potential", rec)
    assert result.value is expected
    assert result.value is not None or result.missing


def test_postmenopausal() -> None:
    assert value("postmenopausal", record(birth="1960-01-01")).value is True
    assert value("postmenopausal", record(BSO, birth="1980-01-01")).value is True
    fifty = value("postmenopausal", record(birth="1974-03-10"))
    assert (fifty.value, fifty.changes_on) == (None, dt.date(2034, 3, 10))
    assert value("postmenopausal", record(birth="1990-01-01")).value is False


def test_pregnancy_and_breastfeeding() -> None:
    positive = record(BIOPSY, coded("lab.hcg_serum", "2024-05-25", "Positive"), birth="1990-01-01")
    assert value("pregnant", positive).value is True
    negative = record(BIOPSY, coded("obs.pregnancy_status", "2024-05-25", "Not pregnant"), birth="1990-01-01")
    assert (value("pregnant", negative).value, value("pregnant", negative).changes_on) == (False, dt.date(2024, 6, 23))
    stale = record(BIOPSY, coded("lab.hcg_urine", "2024-03-01", "Negative"), birth="1990-01-01")
    assert value("pregnant", stale).value is None
    assert value("pregnant", record(condition("condition.pregnancy", "2024-03-01"), birth="1990-01-01")).value is True
    assert value("pregnant", record(BIOPSY, birth="1955-01-01")).value is False
    assert value("pregnant", record(sex="male")).value is False
    feeding = record(coded("obs.breastfeeding_status", "2024-04-01", "Currently breastfeeding"))
    assert value("breastfeeding", feeding).value is True
    assert value("breastfeeding", record()).missing == "current breast-feeding status"
