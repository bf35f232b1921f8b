"""Screening requests off the event loop: a ``POST /screen`` body is read, screened and rendered to JSON in a
pool of worker processes, so the server keeps answering (``/health`` included) while it screens, and several
requests are screened side by side.

A job carries the request body and its parameters; the worker returns the response's JSON bytes and one audit
row per patient and trial (the audit log itself, with its secret salt, stays in the server process). Workers
are started with the server, load the concept library, the bundled trials and their rules once, and die with
the server. With ``workers=0`` (tests, small machines) jobs run in a thread of the server process instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

from anyio import to_thread

from trialmatch.api import service
from trialmatch.api.problems import Problem
from trialmatch.api.service import Settings
from trialmatch.audit import ScreeningRow, screening_rows
from trialmatch.engine.answers import SiteAnswers
from trialmatch.processes import die_with_parent

JSON_TYPES = ("application/json", "application/fhir+json")
NDJSON_TYPES = ("application/x-ndjson", "application/fhir+ndjson", "application/ndjson")


@dataclass(frozen=True)
class ScreenJob:
    """One ``POST /screen`` request: what a worker needs to answer it."""

    body: bytes
    media_type: str
    as_of: dt.date
    trials: tuple[str, ...] = ()
    recruiting_only: bool = False
    country: str | None = None


@dataclass(frozen=True)
class ScreenAnswer:
    """The response body and the audit rows of one screened request."""

    body: bytes
    rows: list[ScreeningRow]


def run_job(settings: Settings, job: ScreenJob) -> ScreenAnswer:
    """Read, screen and render one request (in a worker); a Problem for anything the caller must fix."""
    if job.media_type in JSON_TYPES:
        data, answers = service.split_envelope(job.body)
        records, _ = service.read_fhir(data)
    elif job.media_type in NDJSON_TYPES:
        records, _ = service.read_upload(job.body, "ndjson")
        answers = SiteAnswers()
    else:
        raise Problem(415, "send application/json (a FHIR Bundle) or application/x-ndjson", slug="media-type")
    trials = service.bound_trials(settings, list(job.trials), recruiting_only=job.recruiting_only, country=job.country)
    outcomes = service.screen(records, trials, job.as_of, answers)
    payload = [o.to_json_dict() for o in outcomes]
    text = json.dumps(payload[0] if len(payload) == 1 else payload, ensure_ascii=False, separators=(",", ":"))
    return ScreenAnswer(text.encode("utf-8"), screening_rows(outcomes))


WORKER_NICENESS = 5
"""Workers run below the server process, so accepting requests and answering ``/health`` come first."""


def _warm(settings: Settings) -> None:
    """Worker initializer: die with the server, yield the processor to it, and load what every job reads
    (concepts, trials, rules)."""
    die_with_parent()
    os.nice(WORKER_NICENESS)
    service.bound_trials(settings)


class Screener:
    """Runs screening jobs in worker processes (or a thread when ``workers`` is 0)."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self.settings = settings
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_warm, initargs=(self.settings,)
            )
        return self._pool

    async def start(self) -> None:
        """Start the workers now (they take a second or two to load), not on the first request.

        Called on the event loop's thread, which lives as long as the server: the kernel ends a worker when
        the *thread* that started it ends (``PR_SET_PDEATHSIG``), so no short-lived thread may start them."""
        if self.workers > 0:
            executor = self._executor()
            warming = [executor.submit(service.bound_trials, self.settings) for _ in range(self.workers)]
            await asyncio.gather(*map(asyncio.wrap_future, warming))

    async def screen(self, job: ScreenJob) -> ScreenAnswer:
        """The job's answer, computed off the event loop; 503 when a worker died (the pool is started again)."""
        if self.workers == 0:
            return await to_thread.run_sync(run_job, self.settings, job)
        try:
            answer: ScreenAnswer = await asyncio.wrap_future(self._executor().submit(run_job, self.settings, job))
        except BrokenProcessPool as exc:
            self.close()
            raise Problem(503, "a screening worker stopped; it has been restarted, send the request again") from exc
        return answer

    def close(self) -> None:
        """Stop the workers."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
