"""Disease progression: RECIST PD (computed or recorded) or a cancer disease status of "worsened".

Within a window, progression is true when such an event is dated in it, false when the window holds
disease assessments (response time points or disease status) and none shows progression, and unknown
when nothing was assessed in it: the absence of a scan is not the absence of progression.
"""

from __future__ import annotations

import datetime as dt

from trialmatch.patients.derive import timewindow
from trialmatch.patients.derive.base import Context, DerivedValue, disease_trend, unknown
from trialmatch.patients.derive.recist import progression_dates, time_points
from trialmatch.patients.derive.timewindow import describe
from trialmatch.rules.ast import Duration

Event = tuple[dt.date, str, tuple[str, ...]]


def progression_events(ctx: Context) -> list[Event]:
    """Every progression event up to as-of, oldest first: (date, why, sources)."""
    worsened = [
        (m.date, "disease status worsened", (m.source,))
        for m in ctx.observed("obs.cancer_disease_status")
        if m.date is not None and disease_trend(m) == "worsened"
    ]
    return sorted(worsened + progression_dates(ctx))


def assessments(ctx: Context) -> list[Event]:
    """Every disease assessment up to as-of (response time points and disease statuses)."""
    statuses = [
        (m.date, "disease status", (m.source,))
        for m in ctx.observed("obs.cancer_disease_status")
        if m.date is not None and disease_trend(m) not in (None, "undetermined")
    ]
    return sorted(statuses + [(tp.date, f"RECIST {tp.response}", tp.sources) for tp in time_points(ctx)[1]])


def progression(ctx: Context, within: Duration | None) -> DerivedValue:
    """Whether progression is recorded (in the window, when given)."""
    start = timewindow.window_start(ctx.as_of, within) if within else dt.date.min
    where = f" within {describe(within)}" if within else ""
    events = [e for e in progression_events(ctx) if e[0] >= start]
    if events:
        day, why, sources = events[-1]
        return _dated(True, day, sources, f"Progression on {day}: {why}", within)
    seen = [e for e in assessments(ctx) if e[0] >= start]
    if not seen:
        return unknown(
            f"No disease assessment is recorded{where}.",
            f"a disease assessment (imaging or disease status){where}",
        )
    day, _, sources = seen[-1]
    text = f"No progression among {len(seen)} disease assessment(s){where}, latest on {day}"
    return _dated(False, day, sources, text, within)


def _dated(value: bool, day: dt.date, sources: tuple[str, ...], text: str, within: Duration | None) -> DerivedValue:
    return DerivedValue(
        value=value,
        date=day,
        sources=sources,
        explanation=text,
        changes_on=timewindow.expires_on(day, within) if within else None,
    )
