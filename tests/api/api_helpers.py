"""Shared constants and helpers of the service tests: the example bundles, the token, the CLI's JSON."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free 127.0.0.1 port, stopped on exit; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
