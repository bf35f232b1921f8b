"""How records print phase, status, sex and age, mapped to ClinicalTrials.gov v2 values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.trials.sources.normalize import age_range, age_years, phase_values, sex_value, status_value


@pytest.mark.parametrize(
    ("text", "phases"),
    [
        ("Phase 2", ("PHASE2",)),
        ("Phase II", ("PHASE2",)),
        ("2", ("PHASE2",)),
        ("Phase 1/Phase 2", ("PHASE1", "PHASE2")),
        ("Phase I/II", ("PHASE1", "PHASE2")),
        ("Phase III", ("PHASE3",)),
        ("Not Applicable", ("NA",)),
        ("N/A", ("NA",)),
        ("Early Phase 1", ("EARLY_PHASE1",)),
        ("Phase IV", ("PHASE4",)),
    ],
)
def test_phases(text: str, phases: tuple[str, ...]) -> None:
    assert phase_values(text) == phases


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Open (Enrolling)", "RECRUITING"),
        ("Active - Recruiting", "RECRUITING"),
        ("Recruiting", "RECRUITING"),
        ("Active, not recruiting", "ACTIVE_NOT_RECRUITING"),
        ("Completed", "COMPLETED"),
        ("Not yet recruiting", "NOT_YET_RECRUITING"),
        ("Enrolling by invitation", "ENROLLING_BY_INVITATION"),
        ("Terminated", "TERMINATED"),
        ("Active", None),
        ("Last Updated:08/12/2021", None),
    ],
)
def test_statuses(text: str, status: str | None) -> None:
    assert status_value(text) == status


@pytest.mark.parametrize(
    ("text", "sex"),
    [
        ("All", "ALL"),
        ("All Genders", "ALL"),
        ("Female", "FEMALE"),
        ("Women", "FEMALE"),
        ("Male", "MALE"),
        ("Yes", None),
    ],
)
def test_sex(text: str, sex: str | None) -> None:
    assert sex_value(text) == sex


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("18 Years", (18.0, None)),
        ("18 Years and older (Adult, Older Adult)", (18.0, None)),
        ("18 Years to 75 Years", (18.0, 75.0)),
        ("6 Months", (0.5, None)),
        ("> 18", (18.0, None)),
        ("up to 65 Years", (None, 65.0)),
        ("N/A", (None, None)),
    ],
)
def test_age_ranges(text: str, limits: tuple[float | None, float | None]) -> None:
    assert age_range(text) == limits


@given(st.integers(min_value=0, max_value=120))
def test_months_are_twelfths_of_years(months: int) -> None:
    assert age_years(f"{months} Months") == pytest.approx(months / 12, abs=1e-4)
