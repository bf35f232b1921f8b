"""Brain metastases and their state: any, active, treated and stable, symptomatic.

No FHIR element states the state of brain metastases (codes.md §1.2), so it is read from four kinds of
evidence, per brain-metastasis condition:

- local therapy: a brain radiotherapy, or surgery/radiotherapy with a brain body site, on or after the
  metastasis was diagnosed;
- the condition's clinical status (remission / resolved / inactive count as controlled);
- the latest cancer disease status focused on that condition (after local therapy, when treated);
- corticosteroid use on as-of or in the 28 days before (a proxy for symptoms; note that dexamethasone is
  also given as premedication with taxanes, which this cannot tell apart).

Decision table per metastasis: untreated and not in remission → active; treated (or in remission) with a
worsened status → active; treated with stable/improved status, or in remission with no status → stable;
treated with no status since → unknown. Patient level: active if any metastasis is active; treated_stable
if every metastasis is stable and no corticosteroid is in use; symptomatic if a corticosteroid is in use,
otherwise unknown (symptoms are not recorded). Leptomeningeal disease is not a brain metastasis here.
"""

from __future__ import annotations

import datetime as dt

from trialmatch.patients.derive.base import (
    Context,
    DerivedValue,
    condition_date,
    disease_trend,
    refers_to,
    source_list,
    unknown,
)
from trialmatch.patients.derive.bodysites import site_of
from trialmatch.patients.derive.sites import metastases, site
from trialmatch.patients.derive.therapy import exposure
from trialmatch.patients.model import ConditionFact, ProcedureFact

STEROID_DAYS = 28
_CONTROLLED = frozenset({"remission", "resolved", "inactive"})
_STATUS_MISSING = "imaging status of the brain metastases since local therapy"


def brain_metastases(ctx: Context) -> list[ConditionFact]:
    """Recorded brain metastases."""
    return [c for c in metastases(ctx) if site(ctx, c) == "brain"]


def _local_therapy(ctx: Context, c: ConditionFact) -> list[ProcedureFact]:
    since = condition_date(c)
    return [
        p
        for p in ctx.procedures
        if (
            ctx.isa(p.concept, "procedure.brain_radiotherapy")
            or (
                (ctx.isa(p.concept, "procedure.surgery") or ctx.isa(p.concept, "procedure.radiotherapy"))
                and site_of(p.body_site) == "brain"
            )
        )
        and (since is None or p.start is None or p.start >= since)
    ]


def _state(ctx: Context, c: ConditionFact) -> tuple[str | None, str, tuple[str, ...]]:
    """(active / stable / None, reason, sources) for one brain metastasis."""
    therapy = _local_therapy(ctx, c)
    treated_on = max((p.start for p in therapy if p.start), default=None)
    statuses = [
        (m, trend)
        for m in ctx.observed("obs.cancer_disease_status")
        if refers_to(m.focus, c.source)
        and (trend := disease_trend(m)) not in (None, "undetermined")
        and (treated_on is None or (m.date is not None and m.date >= treated_on))
    ]
    sources = (c.source, *(p.source for p in therapy), *(m.source for m, _ in statuses[-1:]))
    controlled = c.clinical_status in _CONTROLLED
    if not therapy and not controlled:
        return "active", "untreated", sources
    if statuses:
        trend = statuses[-1][1]
        return ("active" if trend == "worsened" else "stable"), f"{trend} after local therapy", sources
    if controlled:
        return "stable", f"clinical status {c.clinical_status}", sources
    return None, "treated, no disease status since", sources


def _steroids(ctx: Context) -> tuple[str, ...]:
    """Sources of corticosteroid exposure on as-of or in the preceding 28 days."""
    since = ctx.as_of - dt.timedelta(days=STEROID_DAYS)
    use = exposure(ctx, "drug.class.corticosteroid")
    return tuple(s for i in use if i.end >= since for s in i.sources)


def brain_metastases_status(ctx: Context, status: str) -> DerivedValue:
    """Whether the patient has brain metastases in the given ``status``."""
    found = brain_metastases(ctx)
    if not found:
        if not ctx.conditions:
            return unknown("No diagnoses are recorded.", "diagnoses (brain metastases)")
        return DerivedValue(value=False, explanation="No record of brain metastases")
    if status == "any":
        return DerivedValue(
            value=True,
            date=condition_date(found[0]),
            sources=source_list(c.source for c in found),
            explanation=f"{len(found)} brain metastasis diagnosis(es) recorded",
        )
    states = [_state(ctx, c) for c in found]
    steroids = _steroids(ctx)
    sources = source_list([s for _, _, srcs in states for s in srcs] + list(steroids))
    summary = "; ".join(f"{state or 'unknown'} ({reason})" for state, reason, _ in states)
    steroid_text = "corticosteroid in use" if steroids else "no corticosteroid in the last 28 days"
    text = f"Brain metastases: {summary}; {steroid_text}"
    value, missing = _decide(status, [s for s, _, _ in states], bool(steroids))
    if value is None:
        return unknown(text + ".", missing, sources=sources)
    return DerivedValue(value=value, sources=sources, explanation=text)


def _decide(status: str, states: list[str | None], steroids: bool) -> tuple[bool | None, str]:
    if status == "symptomatic":
        return (True, "") if steroids else (None, "whether the brain metastases cause neurological symptoms")
    if "active" in states:
        return status == "active", ""
    if None in states:
        return None, _STATUS_MISSING
    return (status == "treated_stable" and not steroids), ""
