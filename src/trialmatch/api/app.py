"""The FastAPI application: the JSON API (screen, trials, health, OpenAPI) and the web page.

Every endpoint but ``/health`` needs ``Authorization: Bearer <token>``; the web page under ``/ui`` uses a
session cookie instead. Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse

from trialmatch import __version__
from trialmatch.api import problems, service, web, worklist_web
from trialmatch.api.middleware import BodyLimit, RequestContext
from trialmatch.api.problems import Problem, request_id
from trialmatch.api.security import SessionStore, require_token
from trialmatch.api.service import Settings
from trialmatch.engine.answers import SiteAnswers
from trialmatch.errors import CuratedTrialError, InputError, LibraryError, RuleError
from trialmatch.reports.trials import annotations_for, trial_json
from trialmatch.rules.catalog import Coverage, TrialRules
from trialmatch.rules.drafting.library import draft_into_library
from trialmatch.trials.model import Trial

Token = Annotated[str, Depends(require_token)]
_JSON_TYPES = ("application/json", "application/fhir+json")
_NDJSON_TYPES = ("application/x-ndjson", "application/fhir+ndjson", "application/ndjson")
_SCREEN_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": 'A FHIR R4 Bundle (or resource), or {"bundle": <Bundle>, "answers": [site answers]}',
            }
        },
        "application/x-ndjson": {"schema": {"type": "string", "description": "FHIR resources, one JSON object a line"}},
    },
}
_TRIAL_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object", "description": "A ClinicalTrials.gov API v2 study"}},
        "text/plain": {"schema": {"type": "string", "description": "A trial page's text with its criteria"}},
    },
}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _coverage_json(coverage: Coverage) -> dict[str, int]:
    return {
        "computable": coverage.computable,
        "partial": coverage.partial,
        "review": coverage.review,
        "unknown": coverage.unknown,
        "no_rule": coverage.no_rule,
        "stale": coverage.stale,
        "total": coverage.total,
    }


def trial_summary(bound: TrialRules) -> dict[str, Any]:
    """One line of ``GET /trials``: what ``trialmatch trials list`` shows, as JSON."""
    trial = bound.trial
    inclusion, exclusion = trial.counts()
    return {
        "trial_id": trial.trial_id,
        "acronym": trial.acronym,
        "title": trial.title,
        "phases": list(trial.phases),
        "recruitment_status": trial.recruitment_status,
        "criteria": {"inclusion": inclusion, "exclusion": exclusion},
        "coverage": _coverage_json(bound.coverage()),
        "rules_version": bound.version,
    }


def trial_detail(bound: TrialRules) -> dict[str, Any]:
    """``GET /trials/{id}``: the record with each criterion's rule (as ``trials show``), and coverage."""
    detail = trial_json(bound.trial, annotations_for(bound))
    return detail | {"rules_version": bound.version, "coverage": _coverage_json(bound.coverage())}


def _upload_name(filename: str | None, media_type: str) -> str:
    default = "upload.json" if media_type in _JSON_TYPES else "upload.txt"
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename or "").name).lstrip(".")
    return cleaned or default


def import_trials(settings: Settings, body: bytes, name: str, *, replace_bundled: bool, actor: str) -> list[Trial]:
    """Store the trials in an uploaded record in the server's library; unreadable content is a 422, a curated
    trial replaced without ``replace_bundled`` a 409."""
    with tempfile.TemporaryDirectory(prefix="trialmatch-trial-") as folder:
        path = Path(folder) / name
        path.write_bytes(body)
        try:
            return service.library(settings).import_file(path, replace_bundled=replace_bundled, actor=actor)
        except InputError as exc:
            raise Problem(422, str(exc).replace(folder + "/", ""), slug="unreadable-trial") from exc
        except CuratedTrialError as exc:
            raise Problem(409, str(exc), slug="curated-trial") from exc
        except LibraryError as exc:
            raise Problem(
                503, "the server cannot write to its trial library; tell the operator", slug="library"
            ) from exc


def draft_rules(settings: Settings, trial: Trial, actor: str) -> str:
    """Draft rules for an imported trial into the server's library; says what was done (or why not)."""
    try:
        return draft_into_library(service.library(settings), trial, actor=actor)
    except (LibraryError, RuleError) as exc:
        raise Problem(
            503, f"{trial.trial_id} was imported, but its rules could not be drafted: {exc}", slug="draft"
        ) from exc


def _api_routes(app: FastAPI) -> None:
    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Liveness: no token needed, nothing about patients or trials."""
        return {"status": "ok", "version": __version__}

    @app.post("/screen", tags=["screening"], openapi_extra={"requestBody": _SCREEN_BODY})
    async def screen(
        request: Request,
        token: Token,
        as_of: Annotated[str | None, Query(description="Screening date YYYY-MM-DD (default today)")] = None,
        trial: Annotated[list[str] | None, Query(description="Trial id or alias (repeat); default all")] = None,
        recruiting_only: Annotated[bool, Query(description="Only trials open to enrolment")] = False,
        country: Annotated[str | None, Query(description="Only trials with a site in this country")] = None,
    ) -> JSONResponse:
        """Screen the patients in the body: one result object for one patient, an array for several."""
        settings: Settings = request.app.state.settings
        date = service.parse_as_of(as_of)
        media_type, body = _media_type(request), await request.body()
        if media_type in _JSON_TYPES:
            body, answers = service.split_envelope(body)
            records, _ = service.read_upload(body, "fhir-json")
        elif media_type in _NDJSON_TYPES:
            records, _ = service.read_upload(body, "ndjson")
            answers = SiteAnswers()
        else:
            raise Problem(415, "send application/json (a FHIR Bundle) or application/x-ndjson", slug="media-type")
        trials = service.bound_trials(settings, trial or [], recruiting_only=recruiting_only, country=country)
        outcomes = service.screen(records, trials, date, answers)
        service.audit(request.app.state.audit, outcomes, actor=token, request_id=request_id(request))
        payload = [o.to_json_dict() for o in outcomes]
        return JSONResponse(payload[0] if len(payload) == 1 else payload)

    @app.get("/trials", tags=["trials"], dependencies=[Depends(require_token)])
    def list_trials(request: Request) -> list[dict[str, Any]]:
        """Every trial in the library (bundled and imported), with status and rule coverage."""
        return [trial_summary(b) for b in service.bound_trials(request.app.state.settings)]

    @app.get("/trials/{trial_id}", tags=["trials"], dependencies=[Depends(require_token)])
    def get_trial(request: Request, trial_id: str) -> dict[str, Any]:
        """One trial by id or alias: its record, each criterion's rule, and coverage."""
        return trial_detail(service.bound_trials(request.app.state.settings, [trial_id])[0])

    @app.post("/trials", tags=["trials"], status_code=201, openapi_extra={"requestBody": _TRIAL_BODY})
    async def post_trial(
        request: Request,
        token: Token,
        filename: Annotated[str | None, Query(description="Name to keep the record under")] = None,
        draft: Annotated[bool, Query(description="Draft rules for trials nobody has curated")] = False,
        replace_bundled: Annotated[
            bool, Query(description="Let the record replace a bundled, curated trial (audited)")
        ] = False,
    ) -> dict[str, Any]:
        """Import a ClinicalTrials.gov v2 JSON study or a trial page's text into the library (and draft rules)."""
        media_type = _media_type(request)
        if media_type not in (*_JSON_TYPES, "text/plain"):
            raise Problem(
                415, "send application/json (CT.gov v2 study) or text/plain (trial page text)", slug="media-type"
            )
        settings = request.app.state.settings
        body, name = await request.body(), _upload_name(filename, media_type)
        trials = import_trials(settings, body, name, replace_bundled=replace_bundled, actor=token)
        imported = [{"trial_id": t.trial_id, "inclusion": t.counts()[0], "exclusion": t.counts()[1]} for t in trials]
        if not draft:
            return {"imported": imported}
        return {"imported": imported, "drafted": [draft_rules(settings, t, token) for t in trials]}

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_token)])
    def openapi(request: Request) -> dict[str, Any]:
        spec: dict[str, Any] = request.app.openapi()
        return spec

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=303)


def create_app(settings: Settings) -> FastAPI:
    """The service as an ASGI app: FastAPI wrapped in the request-id and body-limit middleware."""
    app = FastAPI(
        title="trialmatch",
        version=__version__,
        description="Screen cancer patients against clinical-trial eligibility criteria.",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.audit = service.library(settings).audit
    app.state.sessions = SessionStore()
    problems.install(app)
    _api_routes(app)
    web.install(app)
    worklist_web.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body)
    app.add_middleware(RequestContext)
    return app
