"""Metastatic disease and its sites: metastatic, bone-only, brain-only, visceral, brain metastasis state.

Diagnoses are read closed-world (no recorded liver metastasis means none) unless the record has no
conditions at all, which makes the answer unknown. A metastasis is any condition under
``condition.metastasis`` whatever its clinical status (a resolved metastasis still makes the disease
metastatic), or a stage recorded as M1 / stage IV. Site sets use every recorded metastasis; a metastasis
whose site cannot be read makes "only" and "visceral" answers unknown unless a known site already decides.
"""

from __future__ import annotations

import datetime as dt
import re

from trialmatch.patients.derive.base import Context, DerivedValue, condition_date, source_list, unknown
from trialmatch.patients.derive.bodysites import METASTASIS_SITES, VISCERAL, site_of
from trialmatch.patients.model import ConditionFact

METASTASIS = "condition.metastasis"
_M1 = re.compile(r"M1|^(STAGE\s*)?(IV|4)[ABC]?$")


def metastases(ctx: Context) -> list[ConditionFact]:
    """Recorded metastases (secondary malignant neoplasms), oldest first."""
    return [c for c in ctx.conditions if ctx.isa(c.concept, METASTASIS)]


def _stage_m1(c: ConditionFact) -> bool:
    return c.stage is not None and _M1.search(c.stage.strip().upper()) is not None


def metastatic_date(ctx: Context) -> dt.date | None:
    """Date of the first metastatic diagnosis (metastasis onset, or an M1 / stage IV cancer's diagnosis)."""
    dates = [d for c in ctx.conditions if ctx.isa(c.concept, METASTASIS) or _stage_m1(c) if (d := condition_date(c))]
    return min(dates, default=None)


def metastatic(ctx: Context) -> DerivedValue:
    """Whether metastatic disease is recorded."""
    evidence = [c for c in ctx.conditions if ctx.isa(c.concept, METASTASIS) or _stage_m1(c)]
    if evidence:
        first = metastatic_date(ctx)
        kinds = "metastasis" if metastases(ctx) else "M1 / stage IV staging"
        when = f", first diagnosed {first.isoformat()}" if first else ""
        return DerivedValue(
            value=True,
            date=first,
            sources=source_list(c.source for c in evidence),
            explanation=f"Recorded {kinds}{when}",
        )
    if not ctx.conditions:
        return unknown("No diagnoses are recorded.", "diagnoses (metastatic sites or stage)")
    return DerivedValue(
        value=False,
        explanation=f"No record of metastasis or M1 / stage IV among {len(ctx.conditions)} diagnoses",
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


def _not_metastatic(status: DerivedValue, consequence: str) -> DerivedValue:
    """Carry a non-metastatic (False) or unknown answer over, naming the consequence when False."""
    if status.value is None:
        return status
    return status.model_copy(update={"explanation": f"{status.explanation}: {consequence}"})


def only(ctx: Context, wanted: str) -> DerivedValue:
    """Whether every metastatic site is ``wanted`` (bone, brain)."""
    status = metastatic(ctx)
    if status.value is not True:
        return _not_metastatic(status, f"not {wanted}-only")
    known, unknown_count, sources = _sites(ctx)
    listed = ", ".join(sorted(known)) or "none"
    if known - {wanted}:
        return DerivedValue(
            value=False,
            sources=sources,
            explanation=f"Metastatic sites recorded: {listed}; not {wanted}-only",
        )
    if unknown_count or not known:
        return unknown(
            f"Metastatic sites recorded: {listed}; {unknown_count or 'some'} metastasis site(s) unknown.",
            "the site of each metastasis",
            sources=sources,
        )
    return DerivedValue(value=True, sources=sources, explanation=f"All recorded metastases are in {wanted}")


def visceral_disease(ctx: Context) -> DerivedValue:
    """Whether any metastasis is visceral (see bodysites.VISCERAL for the organs)."""
    known, unknown_count, sources = _sites(ctx)
    hits = sorted(known & VISCERAL)
    if hits:
        return DerivedValue(value=True, sources=sources, explanation=f"Visceral metastasis recorded: {', '.join(hits)}")
    status = metastatic(ctx)
    if status.value is not True:
        return _not_metastatic(status, "no visceral disease")
    if unknown_count or not known:
        return unknown(
            "No visceral metastasis recorded, but some metastasis sites are unknown.",
            "the site of each metastasis",
            sources=sources,
        )
    return DerivedValue(
        value=False,
        sources=sources,
        explanation=f"Metastatic sites {', '.join(sorted(known))}: none visceral",
    )
