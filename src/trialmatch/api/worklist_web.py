"""The work-list pages for coordinators: the patients × trials board and its trial-centric twin, the patient
page (verdicts and the criteria that decide them first, the timeline, status and answer forms), the audit
trail, a print view for the investigator's signature, and CSV/JSON downloads.

Everything is read from and written to the work-list store, so it survives logout and restart. Statuses and
answers are appended with who and when; the server log names patients only by their keyed hash.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from trialmatch.api import service
from trialmatch.api.problems import Problem, request_id
from trialmatch.api.web import PostDep, SessionDep, WebError, open_criteria, render
from trialmatch.engine.logic import Status
from trialmatch.errors import WorklistError
from trialmatch.reports.deciding import deciding_criteria, first_deciding, in_words, still_open
from trialmatch.reports.timeline import render_timeline, timeline_marks, timeline_rows
from trialmatch.worklist import export
from trialmatch.worklist.model import Pair, PairStatus
from trialmatch.worklist.service import Rescreened, Worklist
from trialmatch.worklist.store import WorklistStore

log = logging.getLogger("trialmatch.api")
BASE = "/ui/worklist"
_SORTS = ("patient", "eligible", "changed")
_ANSWERS = (Status.MET, Status.NOT_MET)


def open_for(app: FastAPI) -> Worklist:
    """The server's work-list: the settings' database, else ``TRIALMATCH_WORKLIST_DB``, else the library's file."""
    settings: service.Settings = app.state.settings
    store = WorklistStore(settings.worklist_url, home=settings.library_root)
    return Worklist(store, lambda: service.bound_trials(settings))


def _worklist(request: Request) -> Worklist:
    worklist: Worklist = request.app.state.worklist
    return worklist


def _back(path: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(path + (f"#{anchor}" if anchor else ""), status_code=303)


def patient_key(request: Request, patient_id: str) -> str:
    """What stands for a patient in addresses: its keyed hash, so that no id reaches a URL, a log or a history."""
    key: str = request.app.state.audit.patient_hash(patient_id)
    return key


def patient_url(request: Request, patient_id: str) -> str:
    """The patient page's address."""
    return f"{BASE}/patients/{patient_key(request, patient_id)}"


def _patient_id(request: Request, key: str) -> str:
    """The patient on the work-list whose key this is; a 404 page when none is."""
    for patient_id in _worklist(request).store.patient_ids():
        if patient_key(request, patient_id) == key:
            return patient_id
    raise WebError(404, "This patient is not on the work-list.")


def _audit(request: Request, result: Rescreened) -> None:
    service.audit(request.app.state.audit, result.outcomes, actor="web worklist", request_id=request_id(request))


def _log_change(request: Request, what: str, patient_id: str, trial_id: str) -> None:
    hashed = request.app.state.audit.patient_hash(patient_id)
    log.info("worklist %s %s patient %s trial %s", request_id(request), what, hashed, trial_id)


# the board


def _board(pairs: Sequence[Pair], sort: str) -> tuple[list[str], list[tuple[str, dict[str, Pair]]]]:
    """Trials (columns) and patients (rows, each with its pairs by trial), sorted as asked."""
    trials = list(dict.fromkeys(p.trial_id for p in pairs))
    rows: dict[str, dict[str, Pair]] = {}
    for pair in pairs:
        rows.setdefault(pair.patient_id, {})[pair.trial_id] = pair
    ordered = list(rows.items())
    if sort == "eligible":
        ordered.sort(key=lambda r: -sum(p.screening.verdict == "eligible" for p in r[1].values()))
    elif sort == "changed":
        ordered.sort(key=lambda r: max(p.screening.screened_at for p in r[1].values()), reverse=True)
    else:
        ordered.sort(key=lambda r: r[0])
    return trials, ordered


def _filtered(pairs: list[Pair], verdict: str, status: str) -> list[Pair]:
    wanted = PairStatus.parse(status) if status else None
    return [
        p
        for p in pairs
        if (not verdict or p.screening.verdict == verdict) and (wanted is None or p.current_status is wanted)
    ]


def _page_context(request: Request, session: Any, **more: Any) -> dict[str, Any]:
    return {
        "session": session,
        "statuses": list(PairStatus),
        "answers": _ANSWERS,
        "first_deciding": first_deciding,
        "patient_url": lambda patient_id: patient_url(request, patient_id),
        "patient_key": lambda patient_id: patient_key(request, patient_id),
        "base": BASE,
        "today": dt.date.today().isoformat(),
    } | more


def _board_pages(app: FastAPI) -> None:
    @app.get(BASE, include_in_schema=False)
    def board(
        request: Request, session: SessionDep, verdict: str = "", status: str = "", sort: str = "patient"
    ) -> HTMLResponse:
        try:
            pairs = _filtered(_worklist(request).pairs(), verdict, status)
        except ValueError as exc:
            raise WebError(422, str(exc)) from exc
        trials, rows = _board(pairs, sort if sort in _SORTS else "patient")
        context = _page_context(
            request, session, trials=trials, rows=rows, chosen_verdict=verdict, chosen_status=status, sort=sort
        )
        return render("worklist_board.html.j2", **context)

    @app.get(BASE + "/trials/{trial_id}", include_in_schema=False)
    def trial_board(request: Request, session: SessionDep, trial_id: str, verdict: str = "") -> HTMLResponse:
        pairs = [p for p in _worklist(request).pairs(trial=trial_id) if not verdict or p.screening.verdict == verdict]
        if not pairs and not verdict:
            raise WebError(404, f"No patient on the work-list has been screened for {trial_id}.")
        order = {"eligible": 0, "possible": 1, "ineligible": 2}
        pairs.sort(key=lambda p: (order[p.screening.verdict], p.screening.outcome.eligible_from or dt.date.max))
        title = pairs[0].screening.outcome.title if pairs else trial_id
        context = _page_context(request, session, trial_id=trial_id, title=title, pairs=pairs, chosen_verdict=verdict)
        return render("worklist_trial.html.j2", **context)

    @app.post(BASE + "/add", include_in_schema=False)
    def add(
        request: Request,
        _: PostDep,
        files: list[UploadFile],
        as_of: Annotated[str, Form()] = "",
        by: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        date = _as_of(as_of)
        worklist = _worklist(request)
        who = by.strip() or "web worklist"
        errors = []
        for upload in files:
            if not upload.filename:
                continue
            # a plain function: FastAPI runs it in a worker thread, so screening does not block the event loop
            result = worklist.add_content(upload.filename, upload.file.read(), as_of=date, by=who)
            errors += result.errors
            service.audit(request.app.state.audit, result.outcomes, actor=who, request_id=request_id(request))
        if errors:
            raise WebError(422, "Not added: " + "; ".join(errors))
        return _back(BASE)

    @app.post(BASE + "/rescreen", include_in_schema=False)
    def rescreen(request: Request, _: PostDep, as_of: Annotated[str, Form()] = "") -> Response:
        result = _worklist(request).rescreen(_as_of(as_of))
        _audit(request, result)
        return _back(BASE + "?sort=changed")


def _as_of(text: str) -> dt.date:
    try:
        return service.parse_as_of(text)
    except Problem as exc:
        raise WebError(422, "Give the screening date as YYYY-MM-DD.") from exc


# the patient page


def _patient_context(worklist: Worklist, patient_id: str) -> dict[str, Any]:
    pairs = worklist.pairs(patient=patient_id)
    if not pairs:
        raise WebError(404, "This patient is not on the work-list.")
    order = {"eligible": 0, "possible": 1, "ineligible": 2}
    pairs.sort(key=lambda p: (not still_open(p.screening.outcome), order[p.screening.verdict], p.trial_id))
    as_of = max(p.screening.as_of for p in pairs)
    records, _ = worklist.records([patient_id])
    marks = timeline_marks(records[0], as_of) if records else []
    statuses = worklist.store.status_history(patient_id)
    answers = worklist.store.answer_history(patient_id)
    return {
        "patient_id": patient_id,
        "pairs": pairs,
        "as_of": as_of,
        "timeline": render_timeline(patient_id, marks, as_of),
        "timeline_rows": timeline_rows(marks),
        "history": sorted(
            [(e.at, e.by, f"{e.trial_id}: status {e.status.value}", e.note) for e in statuses]
            + [(e.at, e.by, f"{e.trial_id} {e.criterion_id}: answered {e.status.value}", e.note) for e in answers],
            key=lambda h: h[0],
        ),
        "deciding_criteria": deciding_criteria,
        "in_words": in_words,
        "still_open": still_open,
        "open_criteria": open_criteria,
        "icons": {"met": "✔", "not_met": "✘", "unknown": "?", "review": "●"},
        "labels": {"met": "met", "not_met": "not met", "unknown": "unknown", "review": "site review"},
    }


def _answers_from(form: Any) -> list[tuple[str, Status, str | None]]:
    """The (criterion, status, note) answers a form carries: one ``answer:<id>`` select per criterion."""
    given = []
    for key, value in form.multi_items():
        if not key.startswith("answer:") or not value:
            continue
        criterion_id = key.removeprefix("answer:")
        try:
            status = Status(str(value))
        except ValueError as exc:
            raise WebError(422, f"An answer must be met or not met, not {value!r}.") from exc
        note = str(form.get(f"note:{criterion_id}", "")).strip()[:2000] or None
        given.append((criterion_id, status, note))
    return given


def _patient_pages(app: FastAPI) -> None:
    @app.get(BASE + "/patients/{key}", include_in_schema=False)
    def patient(request: Request, session: SessionDep, key: str) -> HTMLResponse:
        context = _patient_context(_worklist(request), _patient_id(request, key))
        return render("worklist_patient.html.j2", **_page_context(request, session, **context))

    @app.get(BASE + "/patients/{key}/print", include_in_schema=False)
    def print_view(request: Request, session: SessionDep, key: str, trial: str = "") -> HTMLResponse:
        context = _patient_context(_worklist(request), _patient_id(request, key))
        if trial:
            context["pairs"] = [p for p in context["pairs"] if p.trial_id.casefold() == trial.casefold()]
        return render("worklist_print.html.j2", **_page_context(request, session, **context))

    @app.post(BASE + "/patients/{key}/status", include_in_schema=False)
    def set_status(
        request: Request,
        _: PostDep,
        key: str,
        trial_id: Annotated[str, Form()],
        status: Annotated[str, Form()],
        by: Annotated[str, Form(min_length=1, max_length=200)],
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        patient_id = _patient_id(request, key)
        try:
            given = PairStatus.parse(status)
            _worklist(request).set_status(patient_id, trial_id, given, by=by.strip(), note=note.strip() or None)
        except (ValueError, WorklistError) as exc:
            raise WebError(422, str(exc)) from exc
        _log_change(request, f"status {given.value}", patient_id, trial_id)
        return _back(patient_url(request, patient_id), f"trial-{trial_id}")

    @app.post(BASE + "/patients/{key}/answers", include_in_schema=False)
    async def answer(request: Request, _: PostDep, key: str) -> Response:
        patient_id = _patient_id(request, key)
        form = await request.form()
        trial_id, by = str(form.get("trial_id", "")), str(form.get("by", "")).strip()[:200]
        if not by:
            raise WebError(422, "Say who is answering (the 'Who' field).")
        given = [(trial_id, cid, status, note) for cid, status, note in _answers_from(form)]
        if not given:
            return _back(patient_url(request, patient_id), f"trial-{trial_id}")
        try:
            result = _worklist(request).answer(patient_id, given, by=by)
        except WorklistError as exc:
            raise WebError(422, str(exc)) from exc
        _audit(request, result)
        for _trial, criterion_id, status, _note in given:
            _log_change(request, f"answer {criterion_id} {status.value}", patient_id, trial_id)
        return _back(patient_url(request, patient_id), f"trial-{trial_id}")


# the audit trail and downloads


def _other_pages(app: FastAPI) -> None:
    @app.get(BASE + "/history", include_in_schema=False)
    def history(request: Request, session: SessionDep) -> HTMLResponse:
        store = _worklist(request).store
        rows = sorted(
            [
                (e.at, e.by, e.patient_id, f"{e.trial_id}: status {e.status.value}", e.note)
                for e in store.status_history()
            ]
            + [
                (e.at, e.by, e.patient_id, f"{e.trial_id} {e.criterion_id}: answered {e.status.value}", e.note)
                for e in store.answer_history()
            ],
            key=lambda h: h[0],
            reverse=True,
        )
        return render("worklist_history.html.j2", **_page_context(request, session, rows=rows))

    @app.get(BASE + "/export.csv", include_in_schema=False)
    def export_csv(request: Request, _: SessionDep, patient: str = "") -> Response:
        pairs = _worklist(request).pairs(patient=_patient_id(request, patient) if patient else None)
        return _download(export.pairs_csv(pairs), "text/csv", "worklist.csv")

    @app.get(BASE + "/export.json", include_in_schema=False)
    def export_json(request: Request, _: SessionDep, patient: str = "") -> Response:
        pairs = _worklist(request).pairs(patient=_patient_id(request, patient) if patient else None)
        document = [export.pair_row(p) | {"outcome": p.screening.outcome.model_dump(mode="json")} for p in pairs]
        return _download(json.dumps(document, ensure_ascii=False, indent=2), "application/json", "worklist.json")


def _download(text: str, media_type: str, name: str) -> Response:
    return Response(text, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def install(app: FastAPI) -> None:
    """Add the work-list pages to the app, on the server's work-list database."""
    app.state.worklist = open_for(app)
    _board_pages(app)
    _patient_pages(app)
    _other_pages(app)
