"""PET uptake ratio: a lesion's SUVmax over a reference region's SUVmean on the same scan (REFERENCE §4).

Uptake values are ``imaging.suv`` measurements. The metric is the ``method`` (SNOMED 56851009 maximum,
373098007 mean; DICOM DCM 126031 peak is not used here). A lesion's uptake has ``focus`` = the lesion id; a
reference region has ``body_site`` SNOMED 10200004 (liver) or 32672002 (descending aorta = blood pool).
The tracer is the concept of the PET procedure named by ``part_of`` (procedure.pet_fdg or
procedure.pet_zr89_trastuzumab), or else the only PET procedure on that date. Same scan = same
``part_of``, else same date. The latest scan with both values is used.
"""

from __future__ import annotations

from trialmatch.patients.derive.base import Context, DerivedValue, fmt, refers_to, unknown
from trialmatch.patients.model import Lesion, Measurement

SUV = "imaging.suv"
SUV_MAX, SUV_MEAN = "56851009", "373098007"
REFERENCE_SITES = {"liver": "10200004", "blood_pool": "32672002"}
TRACERS = {"fdg": "procedure.pet_fdg", "zr89_trastuzumab": "procedure.pet_zr89_trastuzumab"}


def tracer(ctx: Context, m: Measurement) -> str | None:
    """The tracer (``fdg``, ``zr89_trastuzumab``) of the PET scan an uptake value came from."""
    if m.part_of:
        scans = [p for p in ctx.procedures if refers_to(m.part_of, p.source)]
    else:
        scans = [p for p in ctx.procedures if p.start == m.date and p.concept in TRACERS.values()]
    found = {name for name, concept in TRACERS.items() for p in scans if ctx.isa(p.concept, concept)}
    return found.pop() if len(found) == 1 else None


def _method(m: Measurement) -> str | None:
    return m.method.code if m.method is not None else None


def _same_scan(a: Measurement, b: Measurement) -> bool:
    if a.part_of and b.part_of:
        return a.part_of == b.part_of
    return a.date == b.date


def suv_ratio(ctx: Context, lesion: Lesion, reference: str, tracer_name: str) -> DerivedValue:
    """Lesion SUVmax / reference SUVmean on the latest ``tracer_name`` PET that has both."""
    values = [m for m in ctx.observed(SUV) if m.value is not None and tracer(ctx, m) == tracer_name]
    peaks = [m for m in values if m.focus == lesion.id and _method(m) == SUV_MAX]
    refs = [
        m
        for m in values
        if _method(m) == SUV_MEAN
        and any(c.code == REFERENCE_SITES[reference] for c in ([m.body_site] if m.body_site else []))
    ]
    scan = tracer_name.replace("_", "-").upper()
    region = reference.replace("_", " ")
    if not peaks:
        return unknown(
            f"Lesion {lesion.id} has no SUVmax on any {scan} PET{ctx.skipped(SUV)}.",
            f"SUVmax of lesion {lesion.id} on {scan} PET",
        )
    pairs = [(p, r) for p in peaks for r in refs if _same_scan(p, r) and r.value]
    if not pairs:
        return unknown(
            f"Lesion {lesion.id} SUVmax is recorded but no {region} SUVmean on the same {scan} PET.",
            f"{region} SUVmean on the same PET scan",
            sources=[p.source for p in peaks],
        )
    lesion_m, ref_m = max(pairs, key=lambda pr: (pr[0].date, pr[0].source, pr[1].source))
    assert lesion_m.value is not None and ref_m.value is not None
    ratio = lesion_m.value / ref_m.value
    return DerivedValue(
        value=ratio,
        date=lesion_m.date,
        sources=tuple(sorted({lesion_m.source, ref_m.source})),
        explanation=(
            f"Lesion {lesion.id} SUVmax {fmt(lesion_m.value)} / {region} SUVmean {fmt(ref_m.value)} "
            f"= {ratio:.2f} on the {scan} PET of {lesion_m.date}"
        ),
    )
