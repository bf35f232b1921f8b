"""Evaluation of measured values: latest in a window, min/max, units, x ULN and categories."""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.engine.measurements import fmt
from trialmatch.patients.model import Measurement, PatientRecord
from trialmatch.rules import ast as r

AS_OF = dt.date(2024, 6, 1)
D28 = r.Duration(amount=28, unit="d")


def lab(concept: str, value: float, unit: str, day: dt.date, **extra: object) -> Measurement:
    return Measurement(
        concept=concept, value=value, unit=unit, date=day, source=f"Observation/{concept}-{day}", **extra
    )  # type: ignore[arg-type]


def record(*measurements: Measurement) -> PatientRecord:
    return PatientRecord(patient_id="p1", measurements=measurements)


def latest(concept: str, op: str, threshold: r.Quantity | r.UlnMultiple | r.Category | r.CategorySet) -> r.Compare:
    return r.Compare(value=r.Latest(concept=concept, within=D28), op=op, threshold=threshold)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "op", "limit", "expected"),
    [
        (1.2, ">", 1.5, Status.NOT_MET),
        (1.5, ">=", 1.5, Status.MET),
        (1.5, ">", 1.5, Status.NOT_MET),
        (2.0, "<", 1.5, Status.NOT_MET),
        (1.4, "<=", 1.5, Status.MET),
        (1.5, "==", 1.5, Status.MET),
        (1.5, "!=", 1.5, Status.NOT_MET),
    ],
)
def test_latest_anc_against_a_threshold(value: float, op: str, limit: float, expected: Status) -> None:
    rec = record(lab("lab.anc", value, "10*3/uL", dt.date(2024, 5, 20)))
    result = evaluate(latest("lab.anc", op, r.Quantity(value=limit, unit="10*3/uL")), rec, AS_OF)
    assert result.status is expected
    assert f"{fmt(value)} 10*3/uL on 2024-05-20" in result.reason
    assert result.evidence[0].source == "Observation/lab.anc-2024-05-20"


def test_reason_names_value_date_and_threshold() -> None:
    rec = record(lab("lab.anc", 1.2, "10*3/uL", dt.date(2024, 5, 20)))
    result = evaluate(latest("lab.anc", ">", r.Quantity(value=1.5, unit="10*3/uL")), rec, AS_OF)
    assert result.reason == "Absolute neutrophil count 1.2 10*3/uL on 2024-05-20 (needed: above 1.5 10*3/uL)"


def test_latest_uses_the_most_recent_value_in_the_window() -> None:
    rec = record(
        lab("lab.anc", 2.0, "10*3/uL", dt.date(2024, 5, 10)),
        lab("lab.anc", 1.0, "10*3/uL", dt.date(2024, 5, 25)),
        lab("lab.anc", 3.0, "10*3/uL", dt.date(2024, 6, 5)),  # after as-of: ignored
        lab("lab.anc", 9.0, "10*3/uL", dt.date(2024, 5, 30), flags=("implausible",)),
    )
    result = evaluate(latest("lab.anc", ">=", r.Quantity(value=1.5, unit="10*3/uL")), rec, AS_OF)
    assert result.status is Status.NOT_MET
    assert result.evidence[0].value == 1.0


def test_missing_measurement_is_unknown_and_names_what_is_missing() -> None:
    stale = record(lab("lab.anc", 2.0, "10*3/uL", dt.date(2024, 4, 1)))
    for rec in (record(), stale):
        result = evaluate(latest("lab.anc", ">=", r.Quantity(value=1.5, unit="10*3/uL")), rec, AS_OF)
        assert result.status is Status.UNKNOWN
        assert result.missing == ("Absolute neutrophil count within the last 28 days",)


def test_a_passing_lab_is_valid_until_it_leaves_the_window() -> None:
    rec = record(lab("lab.anc", 2.0, "10*3/uL", dt.date(2024, 5, 20)))
    result = evaluate(latest("lab.anc", ">=", r.Quantity(value=1.5, unit="10*3/uL")), rec, AS_OF)
    assert result.status is Status.MET
    # 28-day window: 2024-05-20 is inside through as-of 2024-06-17.
    assert result.changes_on == dt.date(2024, 6, 18)
    assert result.timeline[0].status is Status.UNKNOWN
    assert not result.time_bound


@pytest.mark.parametrize(
    ("mg_dl", "expected"),
    [(1.1, Status.MET), (2.0, Status.MET), (2.1, Status.NOT_MET)],
)
def test_threshold_in_umol_per_litre_against_creatinine_in_mg_per_dl(mg_dl: float, expected: Status) -> None:
    # 177 umol/L / (113.12 g/mol) = 2.002 mg/dL (REFERENCE.md §6.2: divide by 88.4)
    rec = record(lab("lab.creatinine", mg_dl, "mg/dL", dt.date(2024, 5, 20)))
    result = evaluate(latest("lab.creatinine", "<", r.Quantity(value=177, unit="umol/L")), rec, AS_OF)
    assert result.status is expected
    assert "177 umol/L (2.002 mg/dL)" in result.reason


@pytest.mark.parametrize(
    ("value", "high", "factor", "expected"),
    [
        (2.1, 1.2, 1.5, Status.NOT_MET),
        (1.8, 1.2, 1.5, Status.MET),
        (1.0, 1.2, 1.0, Status.MET),
        (2.1, None, 1.5, Status.UNKNOWN),
    ],
)
def test_uln_multiple_uses_the_measurements_own_reference_range(
    value: float, high: float | None, factor: float, expected: Status
) -> None:
    rec = record(lab("lab.bilirubin_total", value, "mg/dL", dt.date(2024, 5, 1), high=high))
    rule = r.Compare(value=r.Latest(concept="lab.bilirubin_total"), op="<=", threshold=r.UlnMultiple(factor=factor))
    result = evaluate(rule, rec, AS_OF)
    assert result.status is expected
    if high is None:
        assert result.missing == ("upper limit of normal for Total bilirubin",)
    else:
        assert f"{fmt(factor)} x ULN ({fmt(factor * high)} mg/dL)" in result.reason


def test_min_and_max_over_the_window_and_as_old_values_age_out() -> None:
    rec = record(
        lab("lab.platelets", 150, "10*3/uL", dt.date(2024, 5, 28)),
        lab("lab.platelets", 90, "10*3/uL", dt.date(2024, 5, 10)),
        lab("lab.platelets", 200, "10*3/uL", dt.date(2024, 5, 20)),
        lab("lab.platelets", 50, "10*3/uL", dt.date(2024, 4, 1)),  # outside the window
    )
    low = r.Compare(
        value=r.Extreme(function="min", concept="lab.platelets", within=D28),
        op=">=",
        threshold=r.Quantity(value=100),
    )
    high = r.Compare(
        value=r.Extreme(function="max", concept="lab.platelets", within=D28),
        op="<",
        threshold=r.Quantity(value=180),
    )
    low_result, high_result = evaluate(low, rec, AS_OF), evaluate(high, rec, AS_OF)
    assert low_result.status is Status.NOT_MET
    assert len(low_result.evidence) == 3
    # The 90 taken 2024-05-10 leaves the window on 2024-06-08; the minimum is then 150.
    assert low_result.changes_on == dt.date(2024, 6, 8)
    assert low_result.time_bound
    assert high_result.status is Status.NOT_MET
    assert high_result.changes_on == dt.date(2024, 6, 18)


def test_extreme_without_values_is_unknown() -> None:
    rule = r.Compare(
        value=r.Extreme(function="max", concept="lab.alt", within=D28),
        op="<=",
        threshold=r.UlnMultiple(factor=3),
    )
    assert evaluate(rule, record(), AS_OF).status is Status.UNKNOWN


@pytest.mark.parametrize(
    ("text", "threshold", "op", "expected"),
    [
        ("Positive", r.Category(value="positive"), "==", Status.MET),
        ("Negative", r.Category(value="positive"), "==", Status.NOT_MET),
        ("Negative", r.Category(value="positive"), "!=", Status.MET),
        ("Not detected", r.CategorySet(values=("not_detected", "equivocal")), "in", Status.MET),
    ],
)
def test_category_comparisons(text: str, threshold: r.Category | r.CategorySet, op: str, expected: Status) -> None:
    m = Measurement(concept="marker.ctdna", value_text=text, date=dt.date(2024, 5, 1), source="Observation/ct")
    rule = r.Compare(value=r.Latest(concept="marker.ctdna"), op=op, threshold=threshold)  # type: ignore[arg-type]
    assert evaluate(rule, record(m), AS_OF).status is expected


@pytest.mark.parametrize(
    ("number", "text"), [(2.0, "2"), (2.0022624, "2.002"), (1.5, "1.5"), (0.0123, "0.0123"), (177.0, "177")]
)
def test_numbers_are_shown_without_spurious_decimals(number: float, text: str) -> None:
    assert fmt(number) == text


@pytest.mark.parametrize("limit", [1e5, 1e9, -5])
def test_an_age_limit_nobody_reaches_has_no_change_date(limit: float) -> None:
    record = PatientRecord(patient_id="p", birth_date=dt.date(1970, 5, 2))
    rule = r.Compare(value=r.Derived(name="age"), op="<", threshold=r.Quantity(value=limit))
    result = evaluate(rule, record, dt.date(2024, 6, 1))
    assert result.status is (Status.MET if limit > 0 else Status.NOT_MET)
    assert result.changes_on is None
