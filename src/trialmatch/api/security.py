"""Who may call the service: the API token, web sessions with CSRF tokens, and request-level protections.

The token comes from ``TRIALMATCH_API_TOKEN`` or a token file. Without one, a server on a loopback address
makes one up and prints a login URL (the way Jupyter does); a server on any other address refuses to start.
The web page trades the token for a session: a random id in a signed, HttpOnly, SameSite=Strict cookie.
Everything a session holds (answers, the uploaded bundle) stays in server memory, never in the cookie.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from trialmatch.api.problems import Problem
from trialmatch.engine.answers import SiteAnswer
from trialmatch.engine.outcome import ScreeningOutcome
from trialmatch.patients.model import InputProblem

TOKEN_ENV = "TRIALMATCH_API_TOKEN"
COOKIE = "trialmatch_session"
SESSION_SECONDS = 8 * 3600
MAX_SESSIONS = 256


class ConfigurationError(Exception):
    """The server cannot start as configured (the message says what to change)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configured_token(token_file: Path | None, environ: dict[str, str] | None = None) -> str | None:
    """The token from the token file (first line) or ``TRIALMATCH_API_TOKEN``; None when neither is set."""
    if token_file is not None:
        try:
            lines = token_file.read_text(encoding="utf-8").strip().splitlines()
        except OSError as exc:
            raise ConfigurationError(f"{token_file}: cannot read the token file ({exc.strerror})") from exc
        if not lines:
            raise ConfigurationError(f"{token_file}: the token file is empty")
        return lines[0].strip()
    value = (environ if environ is not None else dict(os.environ)).get(TOKEN_ENV, "").strip()
    return value or None


def resolve_token(host: str, token_file: Path | None, environ: dict[str, str] | None = None) -> tuple[str, bool]:
    """The token to require, and whether it was generated here (then the caller prints a login URL)."""
    token = configured_token(token_file, environ)
    if token is not None:
        return token, False
    if not is_loopback(host):
        raise ConfigurationError(
            f"refusing to listen on {host} without a token: set {TOKEN_ENV} or pass --token-file, "
            "or listen on 127.0.0.1"
        )
    return secrets.token_urlsafe(32), True


def token_id(token: str) -> str:
    """A short, non-secret name for a token, for the audit log."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def token_matches(expected: str, given: str) -> bool:
    """Whether ``given`` is the server's token (constant-time comparison)."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def require_token(request: Request) -> str:
    """The caller's token id; 401 unless the request carries ``Authorization: Bearer <token>``."""
    expected: str = request.app.state.settings.token
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Problem(401, "send the API token as 'Authorization: Bearer <token>'", slug="no-token")
    if not token_matches(expected, given.strip()):
        raise Problem(401, "the API token is not valid for this server", slug="bad-token")
    return token_id(expected)


@dataclass
class Session:
    """One browser's state: its CSRF token, its site answers, the last upload and its outcomes."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    expires: float = field(default_factory=lambda: time.monotonic() + SESSION_SECONDS)
    answers: list[SiteAnswer] = field(default_factory=list)
    upload: bytes | None = None
    as_of: dt.date | None = None
    outcomes: list[ScreeningOutcome] = field(default_factory=list)
    unowned: list[InputProblem] = field(default_factory=list)


class SessionStore:
    """Sessions in memory, keyed by a random id that the cookie carries signed (oldest dropped past a cap)."""

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def _sign(self, sid: str) -> str:
        return hmac.new(self._secret, sid.encode(), hashlib.sha256).hexdigest()

    def create(self) -> tuple[str, Session]:
        """A new session and the cookie value that names it."""
        sid = secrets.token_urlsafe(24)
        session = self._sessions[sid] = Session()
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return f"{sid}.{self._sign(sid)}", session

    def get(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (unsigned, forged, unknown or expired)."""
        sid, _, signature = (cookie or "").partition(".")
        if not sid or not hmac.compare_digest(signature, self._sign(sid)):
            return None
        session = self._sessions.get(sid)
        if session is None or session.expires < time.monotonic():
            self._sessions.pop(sid, None)
            return None
        return session

    def drop(self, cookie: str | None) -> None:
        """End the session a cookie names (logout)."""
        self._sessions.pop((cookie or "").partition(".")[0], None)


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a form carries its session's CSRF token."""
    return bool(given) and hmac.compare_digest(str(given).encode(), session.csrf.encode())


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}
