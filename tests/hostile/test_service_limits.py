"""Service limits against hostile clients: no body is read before authentication, bodies are bounded in size,
pace and number, a client sending its headers too slowly is disconnected, and screening runs off the event
loop in worker processes with the same answers. Forged log lines are tried in tests/api/test_logscan.py."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from trialmatch.api import protocol
from trialmatch.api.app import create_app
from trialmatch.api.limits import RequestLimits
from trialmatch.api.protocol import HeaderDeadlineProtocol
from trialmatch.api.security import SessionStore
from trialmatch.api.service import Settings

TOKEN = "hostile-suite-token-5b1e"
EXAMPLE = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))[0]
Message = dict[str, Any]


class Recorder:
    """An ASGI app that records the body it was given, and the messages sent back."""

    def __init__(self) -> None:
        self.body: bytes | None = None
        self.sent: list[Message] = []
        self.state = type("State", (), {"sessions": SessionStore(b"k" * 32)})()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        self.body = message["body"]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def scope(headers: dict[str, str], app: Recorder, method: str = "POST") -> dict[str, Any]:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "method": method, "path": "/screen", "headers": raw, "app": app, "state": {}}


def run(limits: RequestLimits, app: Recorder, headers: dict[str, str], receive: Any) -> int:
    asyncio.run(limits(scope(headers, app), receive, app.send))
    return int(app.sent[0]["status"])


async def never(*_: object) -> Message:
    raise AssertionError("the body was read")


def test_no_body_is_read_before_authentication() -> None:
    app = Recorder()
    limits = RequestLimits(app, limit=1024, token=TOKEN)
    for headers in ({}, {"authorization": "Bearer wrong"}, {"cookie": "trialmatch_session=forged.sig"}):
        app.sent.clear()
        assert run(limits, app, {"content-length": "100", **headers}, never) == 401
        assert app.body is None and (b"www-authenticate", b'Bearer realm="trialmatch"') in app.sent[0]["headers"]


def test_a_token_or_a_live_session_may_send_a_body() -> None:
    app = Recorder()
    limits = RequestLimits(app, limit=1024, token=TOKEN)
    chunks = iter([{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.request", "body": b"c"}])

    async def receive() -> Message:
        return next(chunks)

    assert run(limits, app, {"authorization": f"Bearer {TOKEN}", "transfer-encoding": "chunked"}, receive) == 200
    assert app.body == b"abc"
    cookie, _ = app.state.sessions.create()
    app.sent.clear()

    async def one() -> Message:
        return {"type": "http.request", "body": b"x"}

    assert run(limits, app, {"cookie": f"trialmatch_session={cookie}", "content-length": "1"}, one) == 200


def test_declared_oversize_is_refused_unread_and_a_chunked_one_when_it_passes_the_limit() -> None:
    app = Recorder()
    limits = RequestLimits(app, limit=10, token=TOKEN)
    auth = {"authorization": f"Bearer {TOKEN}"}
    assert run(limits, app, {**auth, "content-length": "11"}, never) == 413
    app.sent.clear()

    async def endless() -> Message:
        return {"type": "http.request", "body": b"x" * 4, "more_body": True}

    assert run(limits, app, {**auth, "transfer-encoding": "chunked"}, endless) == 413 and app.body is None


def test_a_body_that_stops_arriving_is_cut_off() -> None:
    app = Recorder()
    limits = RequestLimits(app, limit=1024, token=TOKEN, body_timeout=0.05)

    async def stalls() -> Message:
        await asyncio.sleep(5)
        raise AssertionError("not cut off")

    assert run(limits, app, {"authorization": f"Bearer {TOKEN}", "content-length": "10"}, stalls) == 408


def test_uploads_past_the_cap_are_told_to_retry() -> None:
    app = Recorder()
    limits = RequestLimits(app, limit=1024, token=TOKEN, uploads=1)
    auth = {"authorization": f"Bearer {TOKEN}", "content-length": "1"}

    async def both() -> list[int]:
        release = asyncio.Event()

        async def slow() -> Message:
            await release.wait()
            return {"type": "http.request", "body": b"x"}

        first_app, second_app = Recorder(), Recorder()
        first = asyncio.create_task(limits(scope(auth, first_app), slow, first_app.send))
        await asyncio.sleep(0.01)
        await limits(scope(auth, second_app), never, second_app.send)
        release.set()
        await first
        assert (b"retry-after", b"1") in second_app.sent[0]["headers"]
        return [int(first_app.sent[0]["status"]), int(second_app.sent[0]["status"])]

    assert asyncio.run(both()) == [200, 503]


@pytest.fixture
def pooled(tmp_path: Path) -> Iterator[TestClient]:
    """A server screening in one worker process."""
    settings = Settings(token=TOKEN, library_root=tmp_path, audit_db=tmp_path / "audit.sqlite3", screen_workers=1)
    with TestClient(create_app(settings)) as client:
        yield client


def test_screening_in_a_worker_process_gives_the_same_answer_and_problems(pooled: TestClient, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    settings = Settings(token=TOKEN, library_root=tmp_path, audit_db=tmp_path / "audit-thread.sqlite3")
    with TestClient(create_app(settings)) as threaded:
        expected = threaded.post("/screen?as_of=2026-11-21", content=EXAMPLE.read_bytes(), headers=headers).json()
    assert pooled.post("/screen?as_of=2026-11-21", content=EXAMPLE.read_bytes(), headers=headers).json() == expected
    problem = pooled.post("/screen", content=b'{"resourceType": ', headers=headers)
    assert problem.status_code == 422 and problem.json()["type"] == "urn:trialmatch:problem:malformed-json"
    unknown = pooled.post("/screen?trial=NCT00000000", content=EXAMPLE.read_bytes(), headers=headers)
    assert unknown.status_code == 404


def test_a_client_that_sends_headers_too_slowly_is_disconnected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "HEADER_SECONDS", 0.3)
    settings = Settings(token=TOKEN, library_root=tmp_path, audit_db=tmp_path / "audit.sqlite3")
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, http=HeaderDeadlineProtocol, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            assert slow.recv(1024) == b""  # closed by the server, no answer
            assert time.monotonic() - started < 3
        with socket.create_connection(("127.0.0.1", port), timeout=5) as quick:
            quick.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert quick.recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
