"""Shared constants and helpers of the service tests: the example bundles, the token, the CLI's JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from trialmatch.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO / "src" / "trialmatch" / "data" / "patients" / "examples"
SYNTHETIC = REPO / "tests" / "patients" / "fixtures" / "synthetic-bundle.json"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json")) or [SYNTHETIC]
AS_OF = "2026-11-21"
TOKEN = "test-token-9f2c51d0a7e34b6c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def cli_screen(library: Path, *inputs: Path, extra: tuple[str, ...] = ()) -> Any:
    """What ``trialmatch screen ... --format json`` prints for these inputs, parsed."""
    args = ["screen", *map(str, inputs), "--as-of", AS_OF, "--format", "json", "--library", str(library), *extra]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def post_bundle(client: TestClient, body: bytes, **params: Any) -> Any:
    """POST /screen with a FHIR JSON body as of AS_OF."""
    return client.post(
        "/screen", content=body, params={"as_of": AS_OF, **params}, headers=AUTH | {"content-type": "application/json"}
    )
