"""Hostile and sloppy dates: only whole FHIR dates are read, partial ones by the documented rule, invalid
ones reported and ignored, and birth dates in the future or after death give an unknown age, never a
confident verdict."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import weight
from trialmatch.cli import app
from trialmatch.patients.sources import read_patients
from trialmatch.patients.sources.fhir_dates import date_problems, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20", dt.date(2026, 11, 20)),
        ("2026-11", dt.date(2026, 11, 1)),
        ("2026", dt.date(2026, 1, 1)),
        ("2026-11-20T10:00:00Z", dt.date(2026, 11, 20)),
        ("2026-11-20T23:59:60.123+14:00", dt.date(2026, 11, 20)),
        ("2026-11-20T10:00:00", dt.date(2026, 11, 20)),
        ("20261120", None),
        ("2026-02-30", None),
        ("2026-13-01", None),
        ("2026-11-20 10:00", None),
        ("2026-11-20T25:00:00Z", None),
        ("26-11-20", None),
        ("0000", None),
        (" 2026-11-20", None),
        ("2026-11-20\n", None),
        (20261120, None),
    ],
)
def test_only_whole_fhir_dates_are_read(text: object, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@given(st.dates(min_value=dt.date(1000, 1, 1)), st.sampled_from(["", "T08:30:00Z", "T00:00:00.5-05:00"]))
def test_every_calendar_date_reads_back(day: dt.date, time: str) -> None:
    assert parse_date(day.isoformat() + time) == day


def test_invalid_and_partial_dates_are_reported_by_element_never_by_value() -> None:
    resource = {"effectiveDateTime": "20261120", "effectivePeriod": {"start": "2026-11", "end": "2026-11-31"}}
    problems = list(date_problems(resource))
    assert problems == [
        ("effectiveDateTime is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)", "date ignored"),
        ("effectivePeriod.start is a partial date", "read as the first day of its period"),
        ("effectivePeriod.end is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)", "date ignored"),
    ]
    assert not any("2026" in p for p, _ in problems)


def bundle(patient: dict[str, Any]) -> dict[str, Any]:
    reading = weight("p", 60, effectiveDateTime="20261120")
    return {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p", **patient}}, {"resource": reading}],
    }


@pytest.mark.parametrize(
    ("patient", "problem"),
    [
        ({"birthDate": "2999-01-01"}, "birthDate is in the future; age unknown"),
        ({"birthDate": "1980-05-01", "deceasedDateTime": "1979-01-01"}, "deceasedDateTime is before birthDate"),
        ({"birthDate": "19800501"}, "birthDate not a FHIR date; age unknown"),
    ],
)
def test_impossible_birth_dates_give_an_unknown_age(tmp_path: Path, patient: dict[str, Any], problem: str) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle(patient)))
    [record] = read_patients(path)
    assert record.birth_date is None
    assert any(problem in p.problem for p in record.problems)
    assert any(p.problem.startswith("effectiveDateTime is not a FHIR date") for p in record.problems)
    result = CliRunner().invoke(app, ["screen", str(path), "--as-of", "2026-11-21", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    criteria = [c for t in json.loads(result.stdout)["trials"] for c in t["criteria"]]
    about_age = [c for c in criteria if "date of birth" in c["reason"]]
    assert about_age and all(c["status"] == "unknown" for c in about_age)


def test_a_birth_after_the_screening_date_is_an_unknown_age(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle({"birthDate": "2020-01-01"})))
    result = CliRunner().invoke(app, ["screen", str(path), "--as-of", "2010-01-01", "--format", "json"])
    criteria = [c for t in json.loads(result.stdout)["trials"] for c in t["criteria"]]
    assert any("after the screening date" in c["reason"] and c["status"] == "unknown" for c in criteria)
