"""No patient value reaches the server log or the audit database after screening the example patients."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import AS_OF, EXAMPLES, TOKEN, post_bundle
from fastapi.testclient import TestClient


def _patient_values(bundle: dict[str, Any]) -> Iterator[str]:
    """Values that identify or describe the patient: names, birth date, identifiers, measured values."""
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            yield resource["id"]
            if "birthDate" in resource:
                yield resource["birthDate"]
            for name in resource.get("name", []):
                yield from [name.get("family", ""), *name.get("given", [])]
            yield from (i["value"] for i in resource.get("identifier", []) if "value" in i)
        quantities = [
            resource.get("valueQuantity", {}),
            *(c.get("valueQuantity", {}) for c in resource.get("component", [])),
        ]
        for quantity in quantities:
            value = quantity.get("value")
            if isinstance(value, float) and not value.is_integer():
                yield str(value)


def _server_log(caplog: pytest.LogCaptureFixture) -> str:
    """What the server logged (the test client's own request log is not the server's)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("trialmatch", "uvicorn", "fastapi")))


def _found(values: set[str], text: str) -> list[str]:
    return [v for v in values if v and re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", text)]


def test_screening_logs_and_audits_no_patient_value(
    client: TestClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    values: set[str] = set()
    caplog.set_level(logging.DEBUG)
    client.get(f"/login?token={TOKEN}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui").text)
    assert csrf
    for example in EXAMPLES:
        values |= set(_patient_values(json.loads(example.read_text())))
        assert post_bundle(client, example.read_bytes()).status_code == 200
        files = {"bundle_file": (example.name, example.read_bytes(), "application/json")}
        assert client.post("/ui/screen", data={"csrf": csrf.group(1), "as_of": AS_OF}, files=files).status_code == 200
    assert any("-" in v and len(v) == 10 for v in values), "the examples should carry birth dates"
    assert any("." in v for v in values), "the examples should carry lab values"
    server_log = _server_log(caplog)
    assert "screening" in server_log and "patient" in server_log
    assert _found(values, server_log) == []
    with sqlite3.connect(settings.audit_db) as connection:
        dump = "\n".join(connection.iterdump())
    assert dump.count("INSERT INTO") >= 2 * len(EXAMPLES)
    assert _found(values, dump) == []
    assert TOKEN not in server_log and TOKEN not in dump


def test_the_log_names_request_hashed_patient_trials_and_verdicts(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="trialmatch.api")
    payload = post_bundle(client, EXAMPLES[0].read_bytes()).json()
    outcome = payload[0] if isinstance(payload, list) else payload
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("screening ")]
    assert len(lines) == 1
    for trial in outcome["trials"]:
        assert f"{trial['trial_id']}={trial['verdict']}" in lines[0]
    assert outcome["patient_id"] not in lines[0]
    assert re.match(r"screening [0-9a-f]{32} patient [0-9a-f]{32}: ", lines[0])


def test_the_worklist_logs_and_audits_no_patient_value(
    client: TestClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Adding patients, recording statuses and answers with notes, re-screening: page and command line."""
    from typer.testing import CliRunner

    from trialmatch.cli import app as cli_app

    caplog.set_level(logging.DEBUG)  # SQLAlchemy logs statements at INFO: its parameters must stay out
    values: set[str] = set()
    client.get(f"/login?token={TOKEN}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/ui/worklist").text)
    assert csrf
    files = [("files", (e.name, e.read_bytes(), "application/json")) for e in EXAMPLES]
    for example in EXAMPLES:
        values |= set(_patient_values(json.loads(example.read_text())))
    assert client.post("/ui/worklist/add", data={"csrf": csrf.group(1), "as_of": AS_OF}, files=files).status_code == 200
    patient = re.search(r'<th scope="row"><a href="([^"]+)">', client.get("/ui/worklist").text)
    assert patient
    status = {"csrf": csrf.group(1), "trial_id": "NCT03530696", "status": "contacted", "by": "rc", "note": "LVEF 61.5"}
    assert client.post(patient.group(1) + "/status", data=status).status_code == 200
    form = {"csrf": csrf.group(1), "trial_id": "NCT03530696", "by": "rc", "answer:inc-1": "met", "note:inc-1": "61.5"}
    assert client.post(patient.group(1) + "/answers", data=form).status_code == 200
    assert client.post("/ui/worklist/rescreen", data={"csrf": csrf.group(1), "as_of": AS_OF}).status_code == 200
    db = ["--db", f"sqlite:///{settings.library_root / 'worklist.sqlite3'}", "--library", str(settings.library_root)]
    for args in (["add", *map(str, EXAMPLES), "--as-of", AS_OF], ["rescreen", "--as-of", AS_OF]):
        assert CliRunner().invoke(cli_app, ["worklist", *args, *db]).exit_code == 0
    values.add("61.5")
    server_log = (
        _server_log(caplog)
        + "\n"
        + "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("sqlalchemy", "alembic")))
    )
    assert "worklist" in server_log and "answer inc-1 met" in server_log
    assert _found(values, server_log) == []
    with sqlite3.connect(settings.audit_db) as connection:
        assert _found(values, "\n".join(connection.iterdump())) == []
