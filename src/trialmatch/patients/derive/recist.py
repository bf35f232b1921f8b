"""RECIST 1.1 overall response at each imaging time point, last and best (REFERENCE §3.2–3.8).

Baseline is the first imaging time point with tumour measurements on or before as-of (the record does not
say when treatment started). Targets are chosen there: measurable lesions, largest first, at most two per
organ (all nodes one organ) and five in all. Every other lesion seen at baseline (except nodes < 10 mm) is
non-target. A lesion first measured at a time point is new there (a node only from 10 mm short axis) and
means PD at that time point. After a PD, the next imaging date is a new baseline with targets chosen afresh,
as a new line of treatment would have it.

Simplifications, stated in each explanation where they apply: non-target "unequivocal progression" needs a
reader's judgement and is never derived from numbers; non-target-only disease that is neither CR nor PD is
reported as SD (RECIST calls it non-CR/non-PD); best response needs no confirmation and stops at the first
PD. A response recorded by the radiologist (``obs.recist_response``) replaces the computed one that day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction

from trialmatch.patients.derive.base import Context, DerivedValue, coded_text, fmt, unknown
from trialmatch.patients.derive.lesions import (
    RULE_SET,
    TUMOR_SIZE,
    Series,
    classify,
    irradiated,
    lesion_series,
    organ,
    site,
)

RANK = ("CR", "PR", "SD", "PD", "NE")
_RECORDED = (
    (re.compile(r"\b(cr|complete)\b"), "CR"),
    (re.compile(r"\b(pr|partial)\b"), "PR"),
    (re.compile(r"\b(sd|stable)\b"), "SD"),
    (re.compile(r"\b(pd|progressi\w*)\b"), "PD"),
    (re.compile(r"\b(ne|not evaluable|inevaluable)\b"), "NE"),
)


@dataclass(frozen=True)
class TimePoint:
    """The overall response at one imaging date and why."""

    date: dt.date
    response: str
    reason: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Baseline:
    """Target, non-target and all lesion series as chosen at baseline."""

    date: dt.date
    targets: tuple[Series, ...]
    non_targets: tuple[Series, ...]
    series: tuple[Series, ...]


def _is_node(s: Series) -> bool:
    return site(s.lesion) == "lymph_node"


def choose_baseline(ctx: Context, series: list[Series], day: dt.date | None = None) -> Baseline:
    """Baseline at ``day`` (default: the first time point); targets by size, at most 2 per organ, 5 in all (§3.2)."""
    day = day or min(d for s in series for d in s.dates)
    at_baseline = [s for s in series if day in s.sizes]
    ranked = sorted(at_baseline, key=lambda s: (-(s.size(day) or 0.0), s.lesion.id))
    targets: list[Series] = []
    for s in ranked:
        size = s.size(day) or 0.0
        eligible = classify(s.lesion, size, irradiated(ctx, s.lesion).value is True)[0] is True
        per_organ = sum(1 for t in targets if organ(t.lesion) == organ(s.lesion))
        if eligible and per_organ < 2 and len(targets) < 5:
            targets.append(s)
    non_targets = [s for s in at_baseline if s not in targets and not (_is_node(s) and (s.size(day) or 0.0) < 10)]
    return Baseline(day, tuple(targets), tuple(non_targets), tuple(series))


def _exact_sum(values: list[float]) -> Fraction:
    """Sum reported sizes exactly as written, so 28 + 21 + 14 is exactly 70 % of 90 (REFERENCE §0)."""
    return sum((Fraction(repr(v)) for v in values), Fraction(0))


def _baseline_sum(base: Baseline) -> Fraction:
    return _exact_sum([s.size(base.date) or 0.0 for s in base.targets])


def _target_response(base: Baseline, day: dt.date, nadir: Fraction) -> tuple[str, Fraction]:
    sizes = [s.size(day) for s in base.targets]
    present = [v for v in sizes if v is not None]
    total = _exact_sum(present)
    complete = len(present) == len(sizes)
    # CR first: nodal targets that all stay under 10 mm short axis are CR even if their sum grew (§3.4).
    if complete and all((v < 10 if _is_node(s) else v == 0) for s, v in zip(base.targets, present, strict=True)):
        return "CR", total
    if total * 5 >= nadir * 6 and total - nadir >= 5:  # +20 % over the nadir and +5 mm
        return "PD", total
    if not complete:
        return "NE", total
    return ("PR" if total * 10 <= _baseline_sum(base) * 7 else "SD"), total  # -30 % from baseline


def _non_target_response(base: Baseline, day: dt.date) -> str | None:
    sizes = [(s, s.size(day)) for s in base.non_targets]
    if not sizes:
        return None
    if any(v is None for _, v in sizes):
        return "NE"
    gone = all((v is not None and (v < 10 if _is_node(s) else v == 0)) for s, v in sizes)
    return "CR" if gone else "non-CR/non-PD"


def _new_lesions(base: Baseline, previous: dt.date, day: dt.date) -> list[Series]:
    """Lesions first seen at this time point (after the previous one): a new lesion means PD once, not forever."""

    def counts(s: Series) -> bool:
        first = s.dates[0]
        size = s.size(first) or 0.0
        return previous < first <= day and (size >= 10 if _is_node(s) else size > 0)

    return [s for s in base.series if counts(s)]


def _overall(target: str | None, non_target: str | None, new: bool) -> str:
    """Overall response from the §3.7 tables."""
    if new or target == "PD":
        return "PD"
    if target is None:
        return {"CR": "CR", "NE": "NE"}.get(non_target or "NE", "SD")
    if target == "CR":
        return "CR" if non_target in ("CR", None) else "PR"
    return target


def time_points(ctx: Context) -> tuple[Baseline | None, list[TimePoint]]:
    """Baseline and the overall response at each later imaging date (recorded responses replace computed)."""
    series = lesion_series(ctx)
    base = choose_baseline(ctx, series) if series else None
    computed = _computed(ctx, series, base) if base else []
    recorded = {tp.date: tp for tp in _recorded(ctx)}
    merged = {tp.date: tp for tp in computed} | recorded
    return base, [merged[d] for d in sorted(merged)]


def _computed(ctx: Context, series: list[Series], base: Baseline) -> list[TimePoint]:
    """Responses at each later date; after a PD the next imaging date is a new baseline (a new line of care)."""
    days = sorted({d for s in series for d in s.dates if d > base.date})
    sums = [_baseline_sum(base)]
    points: list[TimePoint] = []
    previous, rebaseline = base.date, False
    for day in days:
        if rebaseline:
            base, sums, previous, rebaseline = choose_baseline(ctx, series, day), [], day, False
            sums.append(_baseline_sum(base))
            continue
        nadir = min(sums)
        target, total = _target_response(base, day, nadir) if base.targets else (None, Fraction(0))
        non_target = _non_target_response(base, day)
        new = _new_lesions(base, previous, day)
        response = _overall(target, non_target, bool(new))
        if target not in (None, "NE"):
            sums.append(total)
        reason = _reason(base, target, non_target, new, total, nadir)
        sources = tuple(sorted({s.sizes[d].source for s in base.series for d in (base.date, day) if d in s.sizes}))
        points.append(TimePoint(day, response, reason, sources))
        previous, rebaseline = day, response == "PD"
    return points


def _reason(
    base: Baseline,
    target: str | None,
    non_target: str | None,
    new: list[Series],
    total: Fraction,
    nadir: Fraction,
) -> str:
    parts = []
    if target is not None:
        parts.append(
            f"sum of target diameters {fmt(float(total))} mm vs baseline {fmt(float(_baseline_sum(base)))} mm"
            f" on {base.date} and nadir {fmt(float(nadir))} mm (targets {target})"
        )
    if non_target is not None:
        parts.append(f"non-target lesions {non_target}")
    if new:
        parts.append("new lesion " + ", ".join(s.lesion.id for s in new))
    if target is None and non_target == "non-CR/non-PD" and not new:
        parts.append("non-target disease only: non-CR/non-PD reported as SD")
    return "; ".join(parts)


def _recorded(ctx: Context) -> list[TimePoint]:
    points = []
    for m in ctx.observed("obs.recist_response"):
        text = (m.value_code.code if m.value_code else "").lower() + " " + coded_text(m)
        found = next((cat for pattern, cat in _RECORDED if pattern.search(text)), None)
        if found and m.date is not None:
            points.append(TimePoint(m.date, found, "as recorded by the reader", (m.source,)))
    return points


def recist(ctx: Context, which: str) -> DerivedValue:
    """The last or best overall response up to as-of."""
    base, points = time_points(ctx)
    if not points:
        what = "tumour measurements" if base is None else "a follow-up tumour assessment after baseline"
        return unknown(
            f"No RECIST time point after a baseline is recorded{ctx.skipped(TUMOR_SIZE)}.",
            what,
            rule_set=RULE_SET,
        )
    chosen = points[-1] if which == "last" else best(points)
    label = "Latest" if which == "last" else "Best"
    words = RESPONSE_WORDS.get(chosen.response, chosen.response)
    return DerivedValue(
        value=chosen.response,
        date=chosen.date,
        sources=chosen.sources,
        explanation=f"{label} RECIST 1.1 response: {words} ({chosen.response}) on {chosen.date}; {chosen.reason}",
        rule_set=RULE_SET,
    )


RESPONSE_WORDS = {
    "CR": "complete response",
    "PR": "partial response",
    "SD": "stable disease",
    "PD": "progressive disease",
    "NE": "not evaluable",
}


def best(points: list[TimePoint]) -> TimePoint:
    """Best response up to and including the first PD, without confirmation."""
    until: list[TimePoint] = []
    for tp in points:
        until.append(tp)
        if tp.response == "PD":
            break
    return min(until, key=lambda tp: (RANK.index(tp.response), tp.date))


def progression_dates(ctx: Context) -> list[tuple[dt.date, str, tuple[str, ...]]]:
    """(date, why, sources) of each RECIST PD time point."""
    return [(tp.date, f"RECIST PD ({tp.reason})", tp.sources) for tp in time_points(ctx)[1] if tp.response == "PD"]
