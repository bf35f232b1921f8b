"""Metastatic disease, its sites and its date: metastatic, stage, bone-only, brain-only, visceral.

Diagnoses are read closed-world (no recorded liver metastasis means none) unless the record has no
conditions at all, which makes the answer unknown. Metastatic disease is any of: a condition under
``condition.metastasis`` or recorded as a secondary cancer (mCODE SecondaryCancerCondition) whatever its
clinical status (a resolved metastasis still makes the disease metastatic); a stage group IV or M1 category,
observed or in a condition's stage summary (:mod:`.stage`). "Metastatic since" is the earliest date among
them; when only undated evidence exists the disease is metastatic with an unknown date, and facts that need
the date are unknown. Site sets use every recorded metastasis; a metastasis whose site cannot be read makes
"only" and "visceral" answers unknown unless a known site already decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from trialmatch.patients.derive.base import Context, DerivedValue, condition_date, source_list, unknown
from trialmatch.patients.derive.bodysites import METASTASIS_SITES, VISCERAL, site_of
from trialmatch.patients.derive.stage import StageRecord, main_group, stage_records
from trialmatch.patients.model import ConditionFact

METASTASIS = "condition.metastasis"


def metastases(ctx: Context) -> list[ConditionFact]:
    """Recorded metastases (secondary malignant neoplasms), oldest first."""
    return [c for c in ctx.conditions if ctx.isa(c.concept, METASTASIS) or c.category == "secondary-cancer"]


def _staged_metastatic(ctx: Context) -> list[StageRecord]:
    return [r for r in stage_records(ctx) if r.metastatic]


def metastatic_date(ctx: Context) -> dt.date | None:
    """The first dated record of metastatic disease (a metastasis, or stage IV / M1), None when none is dated."""
    dates = [condition_date(c) for c in metastases(ctx)] + [r.date for r in _staged_metastatic(ctx)]
    return min((d for d in dates if d is not None), default=None)


def metastatic(ctx: Context) -> DerivedValue:
    """Whether metastatic disease is recorded, and since when."""
    found, staged = metastases(ctx), _staged_metastatic(ctx)
    if found or staged:
        first = metastatic_date(ctx)
        kinds = [*(["metastasis"] if found else []), *sorted({r.words for r in staged})]
        when = f", first recorded {first.isoformat()}" if first else " (date not recorded)"
        return DerivedValue(
            value=True,
            date=first,
            sources=source_list([*(c.source for c in found), *(r.source for r in staged)]),
            explanation=f"Metastatic disease: {', '.join(kinds)} recorded{when}.",
        )
    if not ctx.conditions and not stage_records(ctx):
        return unknown("No diagnoses are recorded.", "diagnoses (metastatic sites or stage)")
    return DerivedValue(
        value=False,
        explanation=f"No record of metastasis or of stage IV / M1 among {len(ctx.conditions)} diagnoses.",
    )


def stage_group(ctx: Context) -> DerivedValue:
    """The stage group (0, I–IV) of the latest recorded stage; IV once metastatic disease is recorded, because a
    recurrence with distant metastases is stage IV disease whatever the stage at diagnosis."""
    recorded = sorted((r for r in stage_records(ctx) if r.stage), key=lambda r: (r.date or dt.date.min, r.source))
    status = metastatic(ctx)
    if status.value is True:
        before = f"Stage {recorded[-1].stage} was recorded; " if recorded and recorded[-1].stage != "IV" else ""
        text = status.explanation[0].lower() + status.explanation[1:].rstrip(".")
        return status.model_copy(update={"value": "IV", "explanation": f"{before}{text}: stage IV."})
    if not recorded:
        return unknown("No stage group is recorded.", "the cancer's stage group (TNM)")
    latest = recorded[-1]
    assert latest.stage is not None
    when = f"on {latest.date.isoformat()}" if latest.date else "(date not recorded)"
    return DerivedValue(
        value=main_group(latest.stage),
        date=latest.date,
        sources=(latest.source,),
        explanation=f"Stage {latest.stage} recorded {when}.",
    )


def site(ctx: Context, c: ConditionFact) -> str | None:
    """The site of a metastasis, from its concept or else its body site."""
    named = next((s for s in METASTASIS_SITES if ctx.isa(c.concept, f"{METASTASIS}.{s}")), None)
    return named or site_of(c.body_site)


def _sites(ctx: Context) -> tuple[set[str], int, tuple[str, ...]]:
    """Known metastatic sites, the number of metastases of unknown site, and the sources read."""
    found = metastases(ctx)
    sites = [site(ctx, c) for c in found]
    return {s for s in sites if s}, sum(1 for s in sites if s is None), source_list(c.source for c in found)


def _named(sites: Iterable[str]) -> str:
    """Sites as words, in order: "liver, lymph node"."""
    return ", ".join(sorted(s.replace("_", " ") for s in sites))


def _not_metastatic(status: DerivedValue, consequence: str) -> DerivedValue:
    """Carry a non-metastatic (False) or unknown answer over, naming the consequence when False."""
    if status.value is None:
        return status
    return status.model_copy(update={"explanation": f"{status.explanation.rstrip('.')}: {consequence}."})


def only(ctx: Context, wanted: str) -> DerivedValue:
    """Whether every metastatic site is ``wanted`` (bone, brain)."""
    status = metastatic(ctx)
    if status.value is not True:
        return _not_metastatic(status, f"not {wanted}-only")
    known, unknown_count, sources = _sites(ctx)
    listed = _named(known) or "none"
    if known - {wanted}:
        return DerivedValue(
            value=False,
            sources=sources,
            explanation=f"Metastatic sites recorded: {listed}; not {wanted}-only.",
        )
    if unknown_count or not known:
        return unknown(
            f"Metastatic sites recorded: {listed}; {unknown_count or 'some'} metastasis site(s) unknown.",
            "the site of each metastasis",
            sources=sources or status.sources,
        )
    return DerivedValue(value=True, sources=sources, explanation=f"All recorded metastases are in {wanted}.")


def visceral_disease(ctx: Context) -> DerivedValue:
    """Whether any metastasis is visceral (see bodysites.VISCERAL for the organs)."""
    known, unknown_count, sources = _sites(ctx)
    hits = sorted(known & VISCERAL)
    if hits:
        return DerivedValue(value=True, sources=sources, explanation=f"Visceral metastasis recorded: {_named(hits)}.")
    status = metastatic(ctx)
    if status.value is not True:
        return _not_metastatic(status, "no visceral disease")
    if unknown_count or not known:
        return unknown(
            "No visceral metastasis recorded, but some metastasis sites are unknown.",
            "the site of each metastasis",
            sources=sources or status.sources,
        )
    return DerivedValue(
        value=False,
        sources=sources,
        explanation=f"Metastatic sites {_named(known)}: none visceral.",
    )
