"""Service limits, checked before the app sees a request: who may send a body, how large, how slowly, how many
at once.

An anonymous client must not make the server hold memory: a request that carries a body is refused with 401
unless it bears the API token or a live session cookie, *before* a byte of the body is read. Then the
declared size is checked (413), the number of bodies being read at once is capped (503 with Retry-After, so
no more than ``uploads`` bodies are ever buffered), and each chunk must arrive within ``body_timeout``
seconds (408). The body is read whole here, so a chunked body is bounded too, and replayed to the app.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from trialmatch.api.middleware import ASGIApp, Message, Receive, Scope, Send
from trialmatch.api.problems import MEDIA_TYPE, problem_body
from trialmatch.api.security import COOKIE, SessionStore, token_matches

DEFAULT_UPLOADS = 8
"""Bodies read at once: with the 10 MB default body limit, at most 80 MB of request bodies in memory."""
DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds to wait for each chunk of a body (a client that stops sending is cut off)."""
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Refusal:
    """A problem response sent instead of reading the request."""

    status: int
    slug: str
    detail: str
    headers: tuple[tuple[bytes, bytes], ...] = ()


class RequestLimits:
    """Authenticate, then bound the size, pace and number of request bodies (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        token: str,
        uploads: int = DEFAULT_UPLOADS,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        self.app = app
        self.limit = limit
        self.token = token
        self.body_timeout = body_timeout
        self._slots = asyncio.Semaphore(uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        refusal = self._before_body(scope)
        if refusal is not None:
            await _refuse(scope, send, refusal)
            return
        if self._slots.locked():
            detail = "the server is reading as many uploads as it takes at once; retry in a moment"
            await _refuse(scope, send, Refusal(503, "busy", detail, ((b"retry-after", b"1"),)))
            return
        async with self._slots:
            body = await self._read(receive)
        if isinstance(body, Refusal):
            await _refuse(scope, send, body)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    def _before_body(self, scope: Scope) -> Refusal | None:
        """401 for a caller with neither the token nor a session; 413 for a declared size over the limit."""
        if not self._authorized(scope):
            detail = "send the API token as 'Authorization: Bearer <token>' (or log in) before sending a body"
            return Refusal(401, "no-token", detail, ((b"www-authenticate", b'Bearer realm="trialmatch"'),))
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return self._too_large()
        return None

    def _authorized(self, scope: Scope) -> bool:
        scheme, _, given = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token_matches(self.token, given.strip()):
            return True
        sessions = getattr(getattr(scope.get("app"), "state", None), "sessions", None)
        return isinstance(sessions, SessionStore) and sessions.get(_cookie(scope)) is not None

    def _too_large(self) -> Refusal:
        detail = (
            f"the request body is larger than this server's limit of {self.limit} bytes; send fewer patients "
            "per request, or start the server with a larger --max-body"
        )
        return Refusal(413, "body-too-large", detail)

    async def _read(self, receive: Receive) -> bytes | Refusal:
        """The whole body; a refusal as soon as it is too large or a chunk is too slow."""
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                detail = f"the request body did not arrive within {self.body_timeout:g} seconds"
                return Refusal(408, "body-timeout", detail)
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return self._too_large()
            if not message.get("more_body", False):
                return b"".join(chunks)


def _has_body(scope: Scope) -> bool:
    declared = _header(scope, b"content-length")
    chunked = (_header(scope, b"transfer-encoding") or "").lower() == "chunked"
    return scope["method"] in _BODY_METHODS or chunked or (declared is not None and declared != "0")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope) -> str | None:
    try:
        morsel = SimpleCookie(_header(scope, b"cookie") or "").get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


async def _refuse(scope: Scope, send: Send, refusal: Refusal) -> None:
    """Send the problem and close the connection (the unread body is never read)."""
    rid = scope.get("state", {}).get("request_id", uuid.uuid4().hex)
    payload = json.dumps(problem_body(refusal.status, refusal.detail, rid, slug=refusal.slug)).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
        *refusal.headers,
    ]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
