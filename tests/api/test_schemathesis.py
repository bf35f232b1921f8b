"""Property-based testing of the served OpenAPI spec (schemathesis, in-process ASGI): no server errors.

Each operation's cases are drawn by Hypothesis from the spec the server serves at /openapi.json, with a fixed
number of examples and a derandomized (deterministic) search.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from api_helpers import AUTH
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

schemathesis.serializer("application/x-ndjson")(lambda ctx, value: str(value).encode())

EXAMPLES_PER_OPERATION = 40


def test_no_operation_gives_a_server_error(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/health", "/screen", "/trials", "/trials/{trial_id}"}
    seen: list[tuple[str, int]] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(headers=AUTH)
            seen.append((case.path, response.status_code))
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"
            if response.status_code >= 400:
                assert response.headers["content-type"][0] == "application/problem+json"

        check()
    assert {status for _, status in seen} & {400, 404, 413, 415, 422}, "the cases never reached an error path"
