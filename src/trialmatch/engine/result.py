"""The result of evaluating one rule node for one patient: status, reason, evidence, and how time changes it.

Time is modelled as a *timeline*: the changes of status that the passage of time alone will bring, given the
facts known at the as-of date (a washout passing, a lab ageing out of its window, a birthday). Composite nodes
combine their children's timelines exactly (status is recomputed at every child change date), so a parent's
``changes_on`` is a real change of its own status, not merely the earliest change somewhere below it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from trialmatch.engine.logic import Status

_FLIP = frozenset({Status.MET, Status.NOT_MET})


class Evidence(BaseModel):
    """One patient fact a result rests on, citing the input record it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fact: str
    value: Any = None
    unit: str | None = None
    date: dt.date | None = None
    source: str | None = None


class Change(BaseModel):
    """From ``date`` on (inclusive), the node's status becomes ``status``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    status: Status


Timeline = tuple[Change, ...]


class NodeResult(BaseModel):
    """The evaluation of one rule node; ``children`` follow the rule's sub-conditions (or, for a lesion count,
    the per-lesion results)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Status
    reason: str
    evidence: tuple[Evidence, ...] = ()
    children: tuple[NodeResult, ...] = ()
    missing: tuple[str, ...] = ()
    timeline: Timeline = ()

    @property
    def changes_on(self) -> dt.date | None:
        """The first date after as-of on which this node's status changes by the passage of time alone."""
        return self.timeline[0].date if self.timeline else None

    @property
    def time_bound(self) -> bool:
        """Whether today's met/not_met is a time window that flips by itself on ``changes_on``."""
        return bool(self.timeline) and {self.status, self.timeline[0].status} == _FLIP


def compress(status: Status, changes: Sequence[tuple[dt.date, Status]]) -> Timeline:
    """Keep only the dated entries that actually change the status, in date order."""
    out: list[Change] = []
    current = status
    for date, new in sorted(changes, key=lambda c: c[0]):
        if new is not current:
            out.append(Change(date=date, status=new))
            current = new
    return tuple(out)


def status_at(status: Status, timeline: Timeline, date: dt.date) -> Status:
    """The status on ``date`` given today's status and its timeline."""
    for change in timeline:
        if change.date > date:
            break
        status = change.status
    return status


def combine(
    parts: Sequence[tuple[Status, Timeline]], rule: Callable[[Sequence[Status]], Status]
) -> tuple[Status, Timeline]:
    """Combine parts with a status rule, today and at every date one of the parts changes."""
    now = rule([s for s, _ in parts])
    dates = sorted({c.date for _, timeline in parts for c in timeline})
    later = [(d, rule([status_at(s, t, d) for s, t in parts])) for d in dates]
    return now, compress(now, later)
