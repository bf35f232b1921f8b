"""Drug exposures: when a patient took a drug (or any drug of a class), as merged date intervals.

Each medication fact becomes an interval from start to end (an administration at one instant is that day);
with no end it runs to as-of while its status says it is ongoing (active, in-progress, on-hold: for a
request, statement or administration alike), else it is the start day alone. Intervals are clipped at
as-of and merged when they overlap or touch. Lines of therapy and the brain-metastasis status (steroid use) read them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context
from trialmatch.patients.model import MedicationFact

ONGOING = frozenset({"active", "in-progress", "on-hold"})


@dataclass(frozen=True)
class Interval:
    """A span of exposure, inclusive of both ends, and the facts it came from."""

    start: dt.date
    end: dt.date
    sources: tuple[str, ...]
    ongoing: bool = False

    @property
    def days(self) -> int:
        """Length in days, counting both ends."""
        return (self.end - self.start).days + 1


def exposure_interval(m: MedicationFact, as_of: dt.date) -> Interval | None:
    """The interval one medication fact covers up to ``as_of`` (None without a start date)."""
    if m.start is None or m.start > as_of:
        return None
    ongoing = m.end is None and m.status in ONGOING
    end = as_of if ongoing or (m.end is not None and m.end > as_of) else (m.end or m.start)
    return Interval(m.start, max(end, m.start), (m.source,), ongoing or (m.end is not None and m.end >= as_of))


def merge(intervals: list[Interval], max_gap_days: int = 1) -> tuple[Interval, ...]:
    """Merge intervals separated by at most ``max_gap_days`` (1: only overlapping or touching ones)."""
    merged: list[Interval] = []
    for i in sorted(intervals, key=lambda i: (i.start, i.end, i.sources)):
        last = merged[-1] if merged else None
        if last is not None and (i.start - last.end).days <= max_gap_days:
            merged[-1] = Interval(
                last.start,
                max(last.end, i.end),
                tuple(sorted({*last.sources, *i.sources})),
                last.ongoing or i.ongoing,
            )
        else:
            merged.append(i)
    return tuple(merged)


def exposure(ctx: Context, concept: str) -> tuple[Interval, ...]:
    """Merged exposure intervals to ``concept`` (an ingredient or a class) from the context's medication facts."""
    spans = [
        span
        for m in ctx.medications
        if any(ctx.isa(c, concept) for c in m.concepts)
        for span in [exposure_interval(m, ctx.as_of)]
        if span is not None
    ]
    return merge(spans)
