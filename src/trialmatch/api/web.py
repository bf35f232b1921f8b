"""The web page for research coordinators: upload or pick a patient, read one card per trial, answer the
criteria only the site can settle and screen again; browse the trials with each criterion beside its rule.

Server-rendered (Jinja2, the report's look), usable without JavaScript. The login URL's token is traded for
a session cookie; every form carries the session's CSRF token; answers and uploads stay in server memory.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from trialmatch.api import service
from trialmatch.api.problems import Problem, request_id
from trialmatch.api.security import COOKIE, SESSION_SECONDS, Session, SessionStore, csrf_ok, token_matches
from trialmatch.engine.answers import SiteAnswer, SiteAnswers
from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, TrialOutcome
from trialmatch.reports.trials import annotations_for

ACTOR = "web session"
_STATIC = {"web.css": "text/css", "web.js": "text/javascript"}
_env = Environment(
    loader=ChoiceLoader(
        [PackageLoader("trialmatch.api", "templates"), PackageLoader("trialmatch.reports", "templates")]
    ),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class WebError(Exception):
    """An error shown to a person as a page (the API answers problem+json instead)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from the web templates."""
    return HTMLResponse(_env.get_template(name).render(**context), status_code=status)


def _store(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def current_session(request: Request) -> Session:
    """The caller's session; a page asking to log in when there is none."""
    session = _store(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise WebError(401, "Open the login link that `trialmatch serve` printed (it ends in /login?token=…).")
    return session


def checked_session(request: Request, csrf: Annotated[str, Form()] = "") -> Session:
    """The session of a form post whose CSRF token matches."""
    session = current_session(request)
    if not csrf_ok(session, csrf):
        raise WebError(403, "This form's security token is missing or stale. Reload the page and try again.")
    return session


SessionDep = Annotated[Session, Depends(current_session)]
PostDep = Annotated[Session, Depends(checked_session)]


def open_criteria(trial: TrialOutcome) -> list[CriterionOutcome]:
    """The criteria, sub-items and parts a site answer could settle (review or unknown), in checklist order."""
    found: list[CriterionOutcome] = []
    stack = list(reversed(trial.criteria))
    while stack:
        criterion = stack.pop()
        if criterion.status in (Status.REVIEW, Status.UNKNOWN):
            found.append(criterion)
        stack.extend(reversed([*criterion.parts, *criterion.children]))
    return found


def _rescreen(request: Request, session: Session) -> None:
    """Screen the session's upload again with its answers, and audit it."""
    if session.upload is None or session.as_of is None:
        raise WebError(409, "There is no patient to screen yet: upload a bundle or pick an example first.")
    records, session.unowned = service.read_upload(session.upload, "fhir-json")
    trials = service.bound_trials(request.app.state.settings)
    session.outcomes = service.screen(records, trials, session.as_of, SiteAnswers(answers=tuple(session.answers)))
    service.audit(request.app.state.audit, session.outcomes, actor=ACTOR, request_id=request_id(request))


async def _chosen_bundle(bundle_file: UploadFile | None, bundle_text: str, example: str) -> bytes:
    """The bundle a coordinator gave: an uploaded file, else pasted text, else a bundled example."""
    if bundle_file is not None and bundle_file.filename:
        return await bundle_file.read()
    if bundle_text.strip():
        return bundle_text.encode("utf-8")
    examples = service.example_patients()
    if example in examples:
        return examples[example].read_bytes()
    raise Problem(422, "Choose a bundle file, paste a FHIR bundle, or pick an example patient.")


def _home(session: Session, status: int = 200, error: str | None = None, as_of: str | None = None) -> HTMLResponse:
    return render(
        "home.html.j2",
        status,
        session=session,
        examples=list(service.example_patients()),
        error=error,
        as_of=as_of or (session.as_of or dt.date.today()).isoformat(),
    )


def _pages(app: FastAPI) -> None:
    @app.get("/login", include_in_schema=False)
    def login(request: Request, token: str = "") -> Response:
        if not token_matches(request.app.state.settings.token, token):
            raise WebError(401, "This login link is not valid for this server. Use the one `trialmatch serve` printed.")
        cookie, _ = _store(request).create()
        response = RedirectResponse("/ui", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            path="/",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, _: PostDep) -> Response:
        _store(request).drop(request.cookies.get(COOKIE))
        response = RedirectResponse("/ui", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/ui", include_in_schema=False)
    def home(session: SessionDep) -> HTMLResponse:
        return _home(session)

    @app.post("/ui/screen", include_in_schema=False)
    async def screen(
        request: Request,
        session: PostDep,
        as_of: Annotated[str, Form()] = "",
        bundle_text: Annotated[str, Form()] = "",
        example: Annotated[str, Form()] = "",
        bundle_file: UploadFile | None = None,
    ) -> Response:
        try:
            date = service.parse_as_of(as_of)
            session.upload, session.as_of = await _chosen_bundle(bundle_file, bundle_text, example), date
            session.answers = []
            await to_thread.run_sync(_rescreen, request, session)  # screening must not hold the event loop
        except Problem as exc:
            session.upload = None
            return _home(session, exc.status, exc.detail.replace("request body", "bundle"), as_of)
        return RedirectResponse("/ui/results", status_code=303)

    @app.get("/ui/results", include_in_schema=False)
    def results(session: SessionDep) -> Response:
        if not session.outcomes:
            return RedirectResponse("/ui", status_code=303)
        return render(
            "results.html.j2", session=session, open_criteria=open_criteria, statuses=[Status.MET, Status.NOT_MET]
        )

    @app.post("/ui/answers", include_in_schema=False)
    def answer(
        request: Request,
        session: PostDep,
        patient_id: Annotated[str, Form()],
        trial_id: Annotated[str, Form()],
        criterion_id: Annotated[str, Form()],
        status: Annotated[Status, Form()],
        by: Annotated[str, Form(min_length=1, max_length=200)],
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        given = SiteAnswer(
            trial_id=trial_id,
            criterion_id=criterion_id,
            status=status,
            by=by.strip(),
            date=dt.date.today(),
            note=note.strip() or None,
            patient_id=patient_id,
        )
        key = (patient_id, trial_id, criterion_id)
        session.answers = [a for a in session.answers if (a.patient_id, a.trial_id, a.criterion_id) != key] + [given]
        _rescreen(request, session)
        index = next((n for n, o in enumerate(session.outcomes, start=1) if o.patient_id == patient_id), 1)
        return RedirectResponse(f"/ui/results#card-{index}-{trial_id}", status_code=303)

    @app.get("/ui/trials", include_in_schema=False)
    def trials(request: Request, session: SessionDep) -> HTMLResponse:
        bound = service.bound_trials(request.app.state.settings)
        return render("trials.html.j2", session=session, trials=bound)

    @app.get("/ui/trials/{trial_id}", include_in_schema=False)
    def trial(request: Request, session: SessionDep, trial_id: str) -> HTMLResponse:
        try:
            bound = service.bound_trials(request.app.state.settings, [trial_id])[0]
        except Problem as exc:
            raise WebError(exc.status, exc.detail) from exc
        return render("trial.html.j2", session=session, b=bound, notes=annotations_for(bound))

    @app.get("/ui/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in _STATIC:
            raise WebError(404, "No such file.")
        text = (resources.files("trialmatch.api") / "static" / name).read_text(encoding="utf-8")
        return Response(text, media_type=_STATIC[name])


async def _on_web_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, WebError)
    return render("error.html.j2", exc.status, message=exc.message, request_id=request_id(request))


def install(app: FastAPI) -> None:
    """Add the web pages and their error page to the app."""
    app.add_exception_handler(WebError, _on_web_error)
    _pages(app)
