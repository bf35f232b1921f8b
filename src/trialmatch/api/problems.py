"""RFC 9457 problem details: every error the service returns is ``application/problem+json``.

Each response names a ``type`` (a URN for problems specific to trialmatch, ``about:blank`` otherwise), the
status, a title, a detail a person can act on, and an ``instance`` that is the request id, so a user can
quote it and an operator can find the matching log line.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("trialmatch.api")


class Problem(Exception):
    """An error with its HTTP status, raised by the service and turned into a problem response."""

    def __init__(self, status: int, detail: str, *, slug: str | None = None, title: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase

    def __reduce__(self) -> tuple[type[Problem], tuple[int, str], dict[str, str | None]]:
        """Pickled whole, so a worker process can raise it to the server."""
        return (Problem, (self.status, self.detail), {"slug": self.slug, "title": self.title})


def request_id(request: Request) -> str:
    """The id the request-id middleware gave this request (``-`` before it ran)."""
    return str(getattr(request.state, "request_id", "-"))


def problem_body(
    status: int, detail: str, instance: str, *, slug: str | None = None, title: str | None = None
) -> dict[str, Any]:
    """The problem document; ``slug`` names a trialmatch problem type."""
    return {
        "type": f"urn:trialmatch:problem:{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": f"urn:uuid:{instance}",
    }


def problem_response(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem+json response for ``problem`` at this request."""
    body = problem_body(problem.status, problem.detail, request_id(request), slug=problem.slug, title=problem.title)
    return JSONResponse(body, status_code=problem.status, media_type=MEDIA_TYPE, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    """Which parameters are wrong and why, without echoing the values sent (they may be patient data)."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    headers = {"WWW-Authenticate": 'Bearer realm="trialmatch"'} if exc.status == 401 else None
    return problem_response(request, exc, headers)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail) if exc.status_code != 404 else "no such endpoint; GET /openapi.json lists the endpoints"
    return problem_response(request, Problem(exc.status_code, detail), dict(exc.headers or {}))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(request, Problem(422, _validation_detail(exc), slug="invalid-request"))


async def _on_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("request %s failed: %s", request_id(request), exc.__class__.__name__)
    detail = "the server met an unexpected error; quote the instance id to the operator"
    return problem_response(request, Problem(500, detail))


def install(app: FastAPI) -> None:
    """Route every error through the problem handlers."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(Exception, _on_error)
