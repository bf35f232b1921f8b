"""ASGI middleware: a request id, security headers and an access log line per request (the limits on request
bodies are in :mod:`trialmatch.api.limits`).

The access log names method, path (never the query string, which may hold the login token), status and
request id; nothing from the body. Method and path are printed escaped (:func:`printable`): a ``%0A`` or an
escape sequence in a URL cannot forge or colour a log line.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from trialmatch.api.security import SECURITY_HEADERS
from trialmatch.identifiers import printable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("trialmatch.api")
_HEADERS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]


class RequestContext:
    """Give each request an id (``X-Request-ID``), add the security headers, log one line when done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra, (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            method, path = printable(str(scope["method"])[:16]), printable(str(scope["path"])[:512])
            log.info("request %s %s %s -> %s (%.0f ms)", rid, method, path, status, elapsed)
