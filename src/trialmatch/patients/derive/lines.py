"""Lines of therapy (REFERENCE §8): anticancer drug episodes → regimens → lines, per disease setting.

1. Only anticancer drugs count (``drug.class.anticancer``: chemotherapy, anti-HER2, CDK4/6, endocrine ...).
2. A drug's exposures separated by at most 120 days form one episode (a holiday and restart is not new).
3. Episodes starting within 28 days of a regimen's first start form one regimen.
4. Clinical rule (the record has disease assessments): a regimen starts a new line only when progression
   (RECIST PD, disease status worsened, or the metastatic diagnosis) is dated after the current line began
   and on or before the regimen's start. Switching for toxicity, adding maintenance or dropping a drug
   without progression stays in the same line.
5. RWD fallback (no disease assessments at all), in the metastatic setting only (the curative-intent
   (neo)adjuvant course is one line, e.g. AC followed by paclitaxel + trastuzumab): a regimen also starts
   a new line when it adds a drug
   that is not a like-for-like substitute (taxane ↔ taxane, anthracycline ↔ anthracycline, cisplatin ↔
   carboplatin) nor endocrine maintenance added to anti-HER2 therapy, or when it follows more than 120
   days without anticancer therapy. Explanations say when the fallback was used.
6. Setting: lines starting on or after the first metastatic diagnosis are metastatic; an earlier
   ((neo)adjuvant) line counts as metastatic when its non-endocrine drugs ended within 6 months before
   that diagnosis, or were still given then (REFERENCE §8.3, the 6-month rule of the T-DM1 trials).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, DerivedValue, unknown
from trialmatch.patients.derive.progression import assessments, progression_events
from trialmatch.patients.derive.sites import metastatic, metastatic_date
from trialmatch.patients.derive.therapy import Interval, exposure_interval, merge
from trialmatch.patients.derive.timewindow import add_months

ANTICANCER = "drug.class.anticancer"
EPISODE_GAP_DAYS = 120
REGIMEN_WINDOW_DAYS = 28
RELAPSE_MONTHS = 6
_SUBSTITUTES = ("drug.class.taxane", "drug.class.anthracycline")
_PLATINUM = frozenset({"drug.cisplatin", "drug.carboplatin"})


@dataclass(frozen=True)
class Episode:
    """Continuous use of one drug."""

    drug: str
    span: Interval


@dataclass(frozen=True)
class Line:
    """A line of therapy: its drugs, dates, why it started, and whether it counts as metastatic."""

    number: int
    start: dt.date
    episodes: tuple[Episode, ...]
    reason: str
    metastatic: bool = False

    @property
    def drugs(self) -> tuple[str, ...]:
        """The line's drug concepts, sorted."""
        return tuple(sorted({e.drug for e in self.episodes}))

    @property
    def end(self) -> dt.date:
        """Last day any of the line's drugs was given."""
        return max(e.span.end for e in self.episodes)


def episodes(ctx: Context) -> list[Episode]:
    """Anticancer drug episodes, oldest first."""
    spans: dict[str, list[Interval]] = {}
    for m in ctx.medications:
        span = exposure_interval(m, ctx.as_of)
        for drug in m.concepts:
            if span is not None and ctx.isa(drug, ANTICANCER):
                spans.setdefault(drug, []).append(span)
    found = [Episode(drug, s) for drug, items in spans.items() for s in merge(items, EPISODE_GAP_DAYS)]
    return sorted(found, key=lambda e: (e.span.start, e.drug))


def regimens(found: list[Episode]) -> list[list[Episode]]:
    """Group episodes starting within 28 days of a regimen's first start."""
    groups: list[list[Episode]] = []
    for e in found:
        if groups and (e.span.start - groups[-1][0].span.start).days <= REGIMEN_WINDOW_DAYS:
            groups[-1].append(e)
        else:
            groups.append([e])
    return groups


def _substitute(ctx: Context, a: str, b: str) -> bool:
    if a == b or {a, b} <= _PLATINUM:
        return True
    return any(ctx.isa(a, cls) and ctx.isa(b, cls) for cls in _SUBSTITUTES)


def _fallback_reason(ctx: Context, line: list[Episode], regimen: list[Episode]) -> str | None:
    """Why the RWD fallback starts a new line with ``regimen`` (None: same line)."""
    gap = (regimen[0].span.start - max(e.span.end for e in line)).days
    if gap > EPISODE_GAP_DAYS:
        return f"restart after {gap} days without therapy"
    her2_maintenance = any(ctx.isa(e.drug, "drug.class.anti_her2") for e in line)
    for e in regimen:
        if any(_substitute(ctx, e.drug, old.drug) for old in line):
            continue
        if her2_maintenance and ctx.isa(e.drug, "drug.class.endocrine"):
            continue
        return f"new drug {e.drug.removeprefix('drug.')} added"
    return None


def build_lines(ctx: Context) -> tuple[list[Line], bool]:
    """The patient's lines of therapy up to as-of, and whether the RWD fallback was used."""
    met = metastatic_date(ctx)
    events = [day for day, _, _ in progression_events(ctx)] + ([met] if met else [])
    fallback = not assessments(ctx)
    lines: list[tuple[dt.date, list[Episode], str]] = []
    for regimen in regimens(episodes(ctx)):
        start = regimen[0].span.start
        reason = (
            "first anticancer regimen"
            if not lines
            else _new_line_reason(ctx, lines[-1], regimen, events, fallback and met is not None and start >= met)
        )
        if reason is None:
            lines[-1][1].extend(regimen)
        else:
            carried = [e for e in lines[-1][1] if e.span.end >= start] if lines else []
            lines.append((start, [*regimen, *carried], reason))
    return [_line(ctx, i + 1, start, eps, reason, met) for i, (start, eps, reason) in enumerate(lines)], fallback


def _new_line_reason(
    ctx: Context,
    line: tuple[dt.date, list[Episode], str],
    regimen: list[Episode],
    events: list[dt.date],
    fallback: bool,
) -> str | None:
    start = regimen[0].span.start
    progressed = [d for d in events if line[0] < d <= start]
    if progressed:
        return f"after progression on {max(progressed)}"
    return _fallback_reason(ctx, line[1], regimen) if fallback else None


def _line(ctx: Context, number: int, start: dt.date, eps: list[Episode], reason: str, met: dt.date | None) -> Line:
    if met is None or start >= met:
        return Line(number, start, tuple(eps), reason, metastatic=met is not None)
    ends = [e.span.end for e in eps if not ctx.isa(e.drug, "drug.class.endocrine")]
    relapse_soon = bool(ends) and max(ends) >= add_months(met, -RELAPSE_MONTHS)
    return Line(number, start, tuple(eps), reason, metastatic=relapse_soon)


def _describe(index: int, line: Line) -> str:
    names = " + ".join(d.removeprefix("drug.") for d in line.drugs)
    return f"{index}) {names} from {line.start} ({line.reason})"


def lines(ctx: Context, setting: str, drug: str | None) -> DerivedValue:
    """The number of lines in ``setting`` (metastatic or any), optionally only lines with ``drug``."""
    if setting == "metastatic":
        status = metastatic(ctx)
        if status.value is None:
            return unknown(status.explanation, "diagnoses (whether and when the disease became metastatic)")
        if status.value is False:
            return DerivedValue(value=0.0, explanation=f"{status.explanation}: no line in the metastatic setting")
        if metastatic_date(ctx) is None:
            return unknown("Metastatic disease is recorded without a date.", "date of the metastatic diagnosis")
    if not ctx.medications:
        return unknown("No medications are recorded.", "medication history (anticancer therapy)")
    built, fallback = build_lines(ctx)
    chosen = [line for line in built if setting == "any" or line.metastatic]
    if drug:
        chosen = [line for line in chosen if any(ctx.isa(d, drug) for d in line.drugs)]
    scope = " in the metastatic setting" if setting == "metastatic" else ""
    with_drug = f" including {drug}" if drug else ""
    listed = "; ".join(_describe(i, line) for i, line in enumerate(chosen, 1)) or "none"
    note = " (RWD fallback: no disease assessments recorded, so drug changes and gaps start lines)" if fallback else ""
    return DerivedValue(
        value=float(len(chosen)),
        sources=tuple(sorted({s for line in chosen for e in line.episodes for s in e.span.sources})),
        explanation=f"{len(chosen)} {'line' if len(chosen) == 1 else 'lines'} of therapy{scope}{with_drug}: "
        f"{listed}{note}",
        rule_set="lines of therapy: RWD fallback" if fallback else "lines of therapy: progression-based",
    )
