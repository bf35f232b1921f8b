"""Hostile patient inputs: huge integers, deep nesting, control characters in ids, BOMs, truncated lines and
over-long CSV fields. Each bad record is rejected with a one-line reason, every other record is read, and
nothing ends in a traceback, whether read by ``cohort ingest``, ``screen`` or the API."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from trialmatch import limits
from trialmatch.api.app import create_app
from trialmatch.api.service import Settings
from trialmatch.cli import app
from trialmatch.cohort.store import read_manifest
from trialmatch.errors import RecordError

TOKEN = "hostile-suite-token-5b1e"
AUTH = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
HUGE = "9" * 5000
DEEP = "[" * 5000 + "]" * 5000


def patient(pid: str) -> str:
    return json.dumps({"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1970-01-01"})


BAD_LINES = {
    "huge integer": '{"resourceType": "Observation", "id": "o1", "valueInteger": ' + HUGE + "}",
    "deep nesting": '{"resourceType": "Observation", "id": "o2", "extension": ' + DEEP + "}",
    "escape in id": patient("p\x1b]0;owned\x07"),
    "newline in id": json.dumps({"resourceType": "Patient", "id": "p\nforged log line"}),
    "truncated": '{"resourceType": "Patient", "id": "cut',
    "not a resource": "[1, 2, 3]",
    "NaN": '{"resourceType": "Observation", "id": "o3", "valueQuantity": {"value": NaN}}',
}
REASONS = {
    "huge integer": "a number longer than 100 characters",
    "deep nesting": "nested deeper than 100 levels",
    "escape in id": "patient id 'p\\x1b]0;owned\\x07' is not allowed: it holds control characters",
    "newline in id": "patient id 'p\\nforged log line' is not allowed",
    "truncated": "not valid JSON (line 1, column",
    "not a resource": "not a JSON FHIR resource",
    "NaN": "NaN is not a JSON number",
}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (HUGE, "a number longer than 100 characters"),
        (DEEP, "JSON nested deeper than 100 levels"),
        ("[" * 150 + "]" * 150, "JSON nested deeper than 100 levels"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": 1', "not valid JSON (line 1, column 8)"),
        (b'{"a": "\xff"}', "not UTF-8 text"),
    ],
)
def test_limits_name_what_was_exceeded(text: str | bytes, reason: str) -> None:
    with pytest.raises(RecordError) as caught:
        limits.loads(text)
    assert str(caught.value).startswith(reason) and "\n" not in str(caught.value)


def test_limits_read_what_real_records_hold() -> None:
    assert limits.loads(b'\xef\xbb\xbf{"value": 12.5e-3, "n": 123456789012345678}') == {
        "value": 0.0125,
        "n": 123456789012345678,
    }
    assert limits.loads("\ufeff[1]") == [1]


def test_one_bad_line_rejects_only_itself_in_an_ingest(tmp_path: Path) -> None:
    lines = ["\ufeff" + patient("good0"), *BAD_LINES.values(), *(patient(f"good{n}") for n in range(1, 5))]
    export = tmp_path / "export.ndjson"
    export.write_text("\n".join(lines), encoding="utf-8")  # no newline after the last line
    result = CliRunner().invoke(
        app, ["cohort", "ingest", str(export), "--out", str(tmp_path / "store"), "--workers", "1"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    manifest = read_manifest(tmp_path / "store")
    assert (manifest.patients_stored, manifest.records_rejected) == (5, len(BAD_LINES))
    with (tmp_path / "store" / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    for (name, reason), row in zip(REASONS.items(), rejects, strict=True):
        assert reason in row["reason"], name
        assert "\x1b" not in row["record"] + row["reason"] and "\n" not in row["record"] + row["reason"]


def test_a_huge_number_in_a_bundle_is_one_clear_error_naming_the_file(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "n": ' + HUGE + "}}]}"
    )
    result = CliRunner().invoke(app, ["screen", str(bundle), "--as-of", "2026-11-21"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    first, *_ = result.stderr.splitlines()
    assert "bundle.json" in first and "a number longer than 100 characters" in first


def test_csv_rows_over_the_field_limit_or_with_bad_ids_are_rejected_alone(tmp_path: Path) -> None:
    table = tmp_path / "cohort.csv"
    rows = [
        "patient_id,sex,birth_date",
        "c1,female,1960-01-01",
        "c2,female," + "x" * 200_000,
        "c\x1b[2J,female,1960-01-01",
    ]
    table.write_text("\n".join([*rows, "c4,female,1961-02-03"]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["cohort", "ingest", str(table), "--out", str(tmp_path / "store"), "--workers", "1"]
    )
    assert result.exit_code == 1, result.output
    manifest = read_manifest(tmp_path / "store")
    assert (manifest.patients_stored, manifest.records_rejected) == (2, 2)
    reasons = (tmp_path / "store" / "rejects.csv").read_text(encoding="utf-8")
    assert "line 3,not a CSV row: field larger than field limit" in reasons
    assert "patient id 'c\\x1b[2J' is not allowed" in reasons


@pytest.mark.parametrize("body", [HUGE, DEEP, '{"resourceType": "Bundle", "entry": ' + DEEP + "}"])
def test_the_api_answers_a_4xx_problem_never_a_500(tmp_path: Path, body: str) -> None:
    settings = Settings(token=TOKEN, library_root=tmp_path, audit_db=tmp_path / "audit.sqlite3")
    with TestClient(create_app(settings)) as client:
        response = client.post("/screen", content=body, headers=AUTH)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        envelope = '{"bundle": ' + body + ', "answers": []}'
        assert client.post("/screen", content=envelope, headers=AUTH).status_code == 422
        assert client.get("/health").status_code == 200
