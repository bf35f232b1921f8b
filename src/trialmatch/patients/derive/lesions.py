"""Lesion attributes: size series, RECIST 1.1 measurability, and where the lesion is.

Sizes come from ``imaging.tumor_size`` measurements whose ``focus`` is the lesion id (longest diameter, or
short axis for lymph nodes); one per date, the last source winning. For eligibility the "baseline" of a
lesion is its latest measurement on or before as-of: screening asks about disease now.

Measurability (REFERENCE §3.1): a node is a measurable target at short axis >= 15 mm, pathological but
non-measurable at 10–<15 mm, and normal below 10 mm; a lesion in a previously irradiated field is not
measurable; a bone lesion is measurable only as a lytic/mixed lesion's soft-tissue component, which
records do not state, so a bone lesion of >= 10 mm is unknown; any other lesion is measurable at >= 10 mm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, DerivedValue, fmt, refers_to, unknown
from trialmatch.patients.derive.bodysites import VISCERAL, site_of
from trialmatch.patients.model import Lesion, Measurement

TUMOR_SIZE = "imaging.tumor_size"
RULE_SET = "RECIST 1.1"
NODE_TARGET_MM = 15.0
MIN_MM = 10.0


@dataclass(frozen=True)
class Series:
    """A lesion and its sizes by imaging date."""

    lesion: Lesion
    sizes: dict[dt.date, Measurement]

    @property
    def dates(self) -> list[dt.date]:
        """Imaging dates the lesion was measured on, oldest first."""
        return sorted(self.sizes)

    def size(self, day: dt.date) -> float | None:
        """The size in mm on ``day`` (None when not measured that day)."""
        m = self.sizes.get(day)
        return m.value if m is not None else None


def lesion_series(ctx: Context) -> list[Series]:
    """Every lesion with at least one size measurement up to as-of, by lesion id.

    Measurements whose focus names no recorded lesion are tracked as a lesion of unknown location.
    """
    known = {lesion.id: lesion for lesion in ctx.record.lesions}
    sizes: dict[str, dict[dt.date, Measurement]] = {}
    for m in ctx.observed(TUMOR_SIZE):
        if m.focus and m.value is not None and m.date is not None:
            sizes.setdefault(m.focus, {})[m.date] = m
    return [
        Series(known.get(focus) or Lesion(id=focus, source=by_date[min(by_date)].source), by_date)
        for focus, by_date in sorted(sizes.items())
    ]


def site(lesion: Lesion) -> str | None:
    """The lesion's anatomical site (lymph_node, liver, bone ...)."""
    return "lymph_node" if lesion.is_lymph_node else site_of(lesion.location, lesion.location_text)


def organ(lesion: Lesion) -> str:
    """The organ for RECIST's two-per-organ rule (all lymph nodes are one organ)."""
    return site(lesion) or f"lesion {lesion.id}"


def classify(lesion: Lesion, size: float, irradiated: bool | None) -> tuple[bool | None, str]:
    """(measurable, reason) for a lesion of ``size`` mm (REFERENCE §3.1)."""
    if site(lesion) == "lymph_node":
        if size >= NODE_TARGET_MM:
            return True, f"lymph node short axis {fmt(size)} mm (>= 15 mm)"
        kind = "pathological, non-measurable" if size >= MIN_MM else "normal size"
        return False, f"lymph node short axis {fmt(size)} mm ({kind})"
    if irradiated:
        return False, "in a previously irradiated field"
    if size < MIN_MM:
        return False, f"longest diameter {fmt(size)} mm (< 10 mm)"
    if site(lesion) == "bone":
        return None, f"bone lesion of {fmt(size)} mm; measurable only with a lytic soft-tissue component"
    return True, f"longest diameter {fmt(size)} mm (>= 10 mm)"


def irradiated(ctx: Context, lesion: Lesion) -> DerivedValue:
    """Whether the lesion was irradiated: its own flag, or radiotherapy aimed at it or its body site."""
    codes = {c.code for c in lesion.location}
    hits = [
        p
        for p in ctx.procedures
        if ctx.isa(p.concept, "procedure.radiotherapy")
        and (any(refers_to(f, lesion.id) for f in p.focus) or codes & {c.code for c in p.body_site})
    ]
    if lesion.previously_irradiated or hits:
        sources = (lesion.source, *(p.source for p in hits))
        return DerivedValue(
            value=True,
            sources=tuple(sorted(set(sources))),
            explanation=f"Lesion {lesion.id} was previously irradiated",
        )
    if lesion.previously_irradiated is False:
        return DerivedValue(
            value=False,
            sources=(lesion.source,),
            explanation=f"Lesion {lesion.id} is recorded as not irradiated",
        )
    if not ctx.procedures:
        return unknown(f"No procedures are recorded for lesion {lesion.id}.", "radiotherapy history")
    return DerivedValue(
        value=False, sources=(lesion.source,), explanation=f"No record of radiotherapy to lesion {lesion.id}"
    )


def _latest(ctx: Context, lesion: Lesion) -> Measurement | None:
    series = next((s for s in lesion_series(ctx) if s.lesion.id == lesion.id), None)
    return series.sizes[series.dates[-1]] if series else None


def diameter(ctx: Context, lesion: Lesion) -> DerivedValue:
    """The lesion's latest size (longest diameter; short axis for nodes)."""
    m = _latest(ctx, lesion)
    if m is None or m.value is None or m.date is None:
        return unknown(
            f"Lesion {lesion.id} has no size measurement{ctx.skipped(TUMOR_SIZE)}.",
            f"size of lesion {lesion.id} on imaging",
        )
    axis = "short axis" if site(lesion) == "lymph_node" else "longest diameter"
    return DerivedValue(
        value=m.value,
        unit="mm",
        date=m.date,
        sources=(m.source,),
        explanation=f"Lesion {lesion.id} {axis} {fmt(m.value)} mm on {m.date.isoformat()}",
    )


def measurable(ctx: Context, lesion: Lesion) -> DerivedValue:
    """RECIST 1.1 measurability at the lesion's latest measurement."""
    size = diameter(ctx, lesion)
    if not isinstance(size.value, float):
        return size
    field = irradiated(ctx, lesion)
    value, reason = classify(lesion, size.value, field.value is True)
    text = f"Lesion {lesion.id} on {size.date}: {reason}"
    if value is None:
        return unknown(
            text + ".",
            "whether the bone lesion has a measurable soft-tissue component",
            sources=size.sources,
            rule_set=RULE_SET,
        )
    return size.model_copy(update={"value": value, "unit": None, "explanation": text, "rule_set": RULE_SET})


def measurable_disease(ctx: Context) -> DerivedValue:
    """At least one RECIST 1.1 measurable lesion, each lesion read at its latest measurement."""
    results = [measurable(ctx, s.lesion) for s in lesion_series(ctx)]
    if not results:
        return unknown(
            f"No tumour measurements are recorded{ctx.skipped(TUMOR_SIZE)}.",
            "tumour measurements on CT or MRI",
        )
    measurable_ones = [r for r in results if r.value is True]
    if measurable_ones:
        best = measurable_ones[-1]
        return best.model_copy(update={"explanation": "Measurable disease: " + best.explanation})
    undecided = [r for r in results if r.value is None]
    if undecided:
        last = undecided[-1]
        text = "No lesion is known to be measurable; " + last.explanation
        return unknown(text, last.missing or "", sources=last.sources, rule_set=RULE_SET)
    sources = tuple(sorted({s for r in results for s in r.sources}))
    return DerivedValue(
        value=False,
        sources=sources,
        rule_set=RULE_SET,
        explanation=f"None of {len(results)} measured lesions is measurable",
    )


def location_flag(ctx: Context, lesion: Lesion, name: str) -> DerivedValue:
    """``nodal``, ``bone`` or ``visceral`` from the lesion's location."""
    where = site(lesion)
    if where is None:
        return unknown(f"Lesion {lesion.id} has no recognised location.", f"location of lesion {lesion.id}")
    value = {"nodal": where == "lymph_node", "bone": where == "bone", "visceral": where in VISCERAL}[name]
    return DerivedValue(
        value=value,
        sources=(lesion.source,),
        explanation=f"Lesion {lesion.id} is located in {where.replace('_', ' ')}",
    )


def confluent(lesion: Lesion) -> DerivedValue:
    """Whether the lesion is confluent with an adjacent one, as recorded."""
    if lesion.confluent is None:
        return unknown(f"Lesion {lesion.id} does not record confluence.", f"whether lesion {lesion.id} is confluent")
    return DerivedValue(
        value=lesion.confluent,
        sources=(lesion.source,),
        explanation=f"Lesion {lesion.id} recorded as {'' if lesion.confluent else 'not '}confluent",
    )
