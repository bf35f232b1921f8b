"""The JSON API in-process: every endpoint, the token, problem documents, and the CLI's exact JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from api_helpers import AS_OF, AUTH, EXAMPLES, REPO, cli_screen, post_bundle
from fastapi.testclient import TestClient

TRIAL_FIXTURES = REPO / "tests" / "trials" / "fixtures"


@pytest.fixture
def result_schema(shared_dir: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((shared_dir / "contracts" / "screening-result.schema.json").read_text())
    return schema


def _validate(payload: Any, schema: dict[str, Any]) -> None:
    for item in payload if isinstance(payload, list) else [payload]:
        jsonschema.validate(item, schema, format_checker=jsonschema.FormatChecker())


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    assert body["instance"] == f"urn:uuid:{response.headers['x-request-id']}"
    return body


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/screen"),
        ("GET", "/trials"),
        ("GET", "/trials/NCT01565200"),
        ("POST", "/trials"),
        ("GET", "/openapi.json"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_every_endpoint_but_health_needs_the_token(
    client: TestClient, method: str, path: str, headers: dict[str, str]
) -> None:
    response = client.request(method, path, headers=headers | {"content-type": "application/json"}, content=b"{}")
    body = _problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "Bearer" in body["detail"] or "not valid" in body["detail"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_screen_gives_the_cli_json(
    client: TestClient, library: Path, example: Path, result_schema: dict[str, Any]
) -> None:
    response = post_bundle(client, example.read_bytes())
    assert response.status_code == 200, response.text
    _validate(response.json(), result_schema)
    assert response.json() == cli_screen(library, example)


def _ndjson_of(bundles: list[Path]) -> bytes:
    lines = [json.dumps(e["resource"]) for b in bundles for e in json.loads(b.read_text())["entry"]]
    return ("\n".join(lines) + "\n").encode()


def test_ndjson_with_several_patients_gives_an_array_like_the_cli(
    client: TestClient, library: Path, tmp_path: Path, result_schema: dict[str, Any]
) -> None:
    body = _ndjson_of(EXAMPLES[:3])
    response = client.post(
        "/screen", content=body, params={"as_of": AS_OF}, headers=AUTH | {"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert isinstance(payload, list) and len(payload) >= 2
    _validate(payload, result_schema)
    export = tmp_path / "export.ndjson"
    export.write_bytes(body)
    assert payload == cli_screen(library, export)


def _open_criteria(outcome: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for trial in outcome["trials"]:
        for criterion in trial["criteria"]:
            if criterion["status"] in ("review", "unknown"):
                yield trial["trial_id"], criterion["id"]


def test_answers_in_the_envelope_act_as_the_cli_answers_file(
    client: TestClient, library: Path, tmp_path: Path, result_schema: dict[str, Any]
) -> None:
    example = EXAMPLES[0]
    before = post_bundle(client, example.read_bytes()).json()
    first = before[0] if isinstance(before, list) else before
    answered = list(_open_criteria(first))[:3]
    assert answered, "the example needs an open criterion to answer"
    answers = [
        {"trial_id": t, "criterion_id": c, "status": "met", "by": "Research nurse", "date": "2026-11-20"}
        for t, c in answered
    ]
    envelope = {"bundle": json.loads(example.read_text()), "answers": answers}
    response = post_bundle(client, json.dumps(envelope).encode())
    assert response.status_code == 200, response.text
    _validate(response.json(), result_schema)
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(yaml.safe_dump({"answers": answers}))
    assert response.json() == cli_screen(library, example, extra=("--answers", str(answers_file)))
    after = response.json()[0] if isinstance(response.json(), list) else response.json()
    by_id = {(t["trial_id"], c["id"]): c for t in after["trials"] for c in t["criteria"]}
    assert all("Research nurse" in (by_id[key]["answered_by"] or "") for key in answered)


def test_trial_filter_screens_only_the_trials_named(client: TestClient) -> None:
    wanted = [client.get("/trials", headers=AUTH).json()[i]["trial_id"] for i in (0, 1)]
    response = post_bundle(client, EXAMPLES[0].read_bytes(), trial=[wanted[0], wanted[1].lower()])
    payload = response.json()
    first = payload[0] if isinstance(payload, list) else payload
    assert sorted(t["trial_id"] for t in first["trials"]) == sorted(wanted)


def test_unknown_trial_is_404(client: TestClient) -> None:
    body = _problem(post_bundle(client, EXAMPLES[0].read_bytes(), trial="NCT00000000"), 404)
    detail = _problem(client.get("/trials/NCT00000000", headers=AUTH), 404)["detail"]
    for said in (body["detail"], detail):  # what was asked for is not echoed
        assert "no trial with that id or alias" in said and "NCT00000000" not in said


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"resourceType": "Bundle", "entry": [', "line 1, column"),
        (b'{"entry": []}', "resourceType"),
        (b"[1, 2, 3]", "FHIR"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "no patient"),
        (b'{"bundle": {"resourceType": "Bundle"}, "answers": [{"trial_id": "X"}]}', "answer 1"),
        (b'{"bundle": {"resourceType": "Bundle"}, "extra": 1}', "extra"),
    ],
    ids=["truncated-json", "no-resource-type", "json-array", "no-patient", "bad-answer", "bad-envelope"],
)
def test_malformed_fhir_is_422_with_an_actionable_detail(client: TestClient, body: bytes, expected: str) -> None:
    detail = _problem(post_bundle(client, body), 422)["detail"]
    assert expected in detail
    assert "/tmp" not in detail and "trialmatch-upload" not in detail


def test_bad_as_of_is_422(client: TestClient) -> None:
    response = client.post(
        "/screen",
        params={"as_of": "21/11/2026"},
        content=EXAMPLES[0].read_bytes(),
        headers=AUTH | {"content-type": "application/json"},
    )
    assert "YYYY-MM-DD" in _problem(response, 422)["detail"]


def test_other_media_types_are_415(client: TestClient) -> None:
    response = client.post("/screen", content=b"patient_id,sex\n1,F\n", headers=AUTH | {"content-type": "text/csv"})
    _problem(response, 415)


def test_oversize_body_is_413(client: TestClient, settings: Any) -> None:
    too_big = b" " * (settings.max_body + 1)
    body = _problem(post_bundle(client, too_big), 413)
    assert str(settings.max_body) in body["detail"]

    def chunks() -> Iterator[bytes]:
        for _ in range(settings.max_body // 65536 + 2):
            yield b" " * 65536

    streamed = client.post("/screen", content=chunks(), headers=AUTH | {"content-type": "application/json"})
    _problem(streamed, 413)


def test_trials_list_and_detail(client: TestClient) -> None:
    listed = client.get("/trials", headers=AUTH).json()
    assert listed and all(
        t["coverage"]["total"] >= t["criteria"]["inclusion"] + t["criteria"]["exclusion"] for t in listed
    )
    first = listed[0]
    detail = client.get(f"/trials/{first['trial_id']}", headers=AUTH).json()
    assert detail["trial_id"] == first["trial_id"]
    assert detail["coverage"] == first["coverage"]

    def walk(criteria: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for criterion in criteria:
            yield criterion
            yield from walk(criterion["children"])

    criteria = list(walk(detail["criteria"]))
    assert len(criteria) == detail["coverage"]["total"]
    assert any(c["rule"] for c in criteria) and all(c["text"] for c in criteria)


def test_post_trials_imports_into_the_library(client: TestClient, library: Path) -> None:
    listing = (TRIAL_FIXTURES / "listing_synthetic.txt").read_bytes()
    response = client.post(
        "/trials", params={"filename": "../listing.txt"}, content=listing, headers=AUTH | {"content-type": "text/plain"}
    )
    assert response.status_code == 201, response.text
    imported = response.json()["imported"]
    assert imported and all(t["inclusion"] + t["exclusion"] > 0 for t in imported)
    ids = {t["trial_id"] for t in client.get("/trials", headers=AUTH).json()}
    assert {t["trial_id"] for t in imported} <= ids
    assert (library / "trials").is_dir() and not (library.parent / "listing.txt").exists()
    shown = client.get(f"/trials/{imported[0]['trial_id']}", headers=AUTH)
    assert shown.status_code == 200


def test_post_trials_with_draft_drafts_rules_the_library_then_uses(client: TestClient, library: Path) -> None:
    listing = (TRIAL_FIXTURES / "listing_synthetic.txt").read_bytes()
    response = client.post(
        "/trials", params={"draft": "true"}, content=listing, headers=AUTH | {"content-type": "text/plain"}
    )
    assert response.status_code == 201, response.text
    [line] = response.json()["drafted"]
    assert line.startswith("NCT90000009: drafted")
    assert (library / "rules" / "NCT90000009.rules.yaml").is_file()
    detail = client.get("/trials/NCT90000009", headers=AUTH).json()
    assert detail["coverage"]["computable"] > 0


def test_post_trials_rejects_what_is_not_a_trial(client: TestClient) -> None:
    body = (TRIAL_FIXTURES / "not_a_study.json").read_bytes()
    response = client.post(
        "/trials", params={"filename": "study.json"}, content=body, headers=AUTH | {"content-type": "application/json"}
    )
    detail = _problem(response, 422)["detail"]
    assert detail.startswith("study.json:") and "trialmatch-trial" not in detail


def test_openapi_spec_describes_the_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json", headers=AUTH).json()
    assert {"/health", "/screen", "/trials", "/trials/{trial_id}"} <= set(spec["paths"])
    assert "application/x-ndjson" in spec["paths"]["/screen"]["post"]["requestBody"]["content"]


def test_responses_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/health").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    detail = _problem(client.get("/nowhere", headers=AUTH), 404)["detail"]
    assert detail.startswith("no such endpoint") and "/nowhere" not in detail
