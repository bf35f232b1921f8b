"""Drug exposures: when a patient took a drug (or any drug of a class), as merged date intervals.

Each medication fact becomes an interval: an administration is the day given; a request or statement
runs from start to end; with no end it runs to as-of while its status says it is ongoing (active,
in-progress, on-hold), else it is the start day alone. Intervals are clipped at as-of and merged when they
overlap or touch, and the gaps between them are kept, so the rule evaluator can answer "within 28 days",
"more than 6 months ago" and "continuously for 2 years with gaps under 3 months".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, IsA, default_is_a
from trialmatch.patients.model import MedicationFact, PatientRecord

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
    ongoing = m.end is None and m.record_type != "administration" and m.status in ONGOING
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


@dataclass(frozen=True)
class DrugExposure:
    """All exposure to a drug concept (ingredient or class) up to as-of."""

    concept: str
    intervals: tuple[Interval, ...]

    @property
    def exposed(self) -> bool:
        """Whether any exposure is recorded."""
        return bool(self.intervals)

    @property
    def first_start(self) -> dt.date | None:
        """First day of exposure."""
        return self.intervals[0].start if self.intervals else None

    @property
    def last_date(self) -> dt.date | None:
        """Last day of exposure (as-of while ongoing)."""
        return max(i.end for i in self.intervals) if self.intervals else None

    @property
    def ongoing(self) -> bool:
        """Whether the exposure continues on as-of."""
        return any(i.ongoing for i in self.intervals)

    @property
    def gaps(self) -> tuple[int, ...]:
        """Days without exposure between consecutive intervals."""
        pairs = zip(self.intervals, self.intervals[1:], strict=False)
        return tuple((b.start - a.end).days - 1 for a, b in pairs)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every medication fact the exposure came from."""
        return tuple(sorted({s for i in self.intervals for s in i.sources}))

    def longest_run(self, max_gap_days: int = 0) -> Interval | None:
        """The longest continuous exposure, bridging gaps of at most ``max_gap_days`` days."""
        runs = merge(list(self.intervals), max_gap_days + 1)
        return max(runs, key=lambda r: (r.days, r.end), default=None)


def exposure(ctx: Context, concept: str) -> DrugExposure:
    """Exposure to ``concept`` (an ingredient or a class) from the context's medication facts."""
    spans = [
        span
        for m in ctx.medications
        if any(ctx.isa(c, concept) for c in m.concepts)
        for span in [exposure_interval(m, ctx.as_of)]
        if span is not None
    ]
    return DrugExposure(concept, merge(spans))


def drug_exposures(record: PatientRecord, concept: str, as_of: dt.date, *, is_a: IsA | None = None) -> DrugExposure:
    """Exposure of ``record`` to a drug or drug class up to ``as_of`` (first/last dates, gaps, runs)."""
    return exposure(Context.build(record, as_of, is_a or default_is_a()), concept)
