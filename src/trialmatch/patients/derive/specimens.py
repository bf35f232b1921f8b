"""Tumor-marker results grouped per specimen, where each specimen came from, and the specimen a criterion asks for.

ASCO/CAP interprets IHC and ISH together only when they come from the same specimen, so markers are
grouped by ``Measurement.specimen``; results without a specimen id join the one specimen tested that day,
or else form a group of their own for that date (undated ones one group of their own: a report that gives no
date gives it for all its results). Patient-level answers pick a specimen (``latest``, ``primary``,
``metastatic``) or look across all of them (``any``).

Origin: a recorded origin (the Specimen's, or the cancer condition the result is about) decides, then the
result's body site (breast is the primary; a distant organ, bone or the brain a metastasis). A result that
says nothing about its location is from the primary tumour when it is dated on or after the primary
diagnosis and before the first record of metastatic disease (no metastasis had been found, so the tissue
tested was the primary); otherwise its origin is unknown, and "primary"/"metastatic" criteria say so.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, DerivedValue, condition_date, unknown
from trialmatch.patients.derive.bodysites import VISCERAL, site_of
from trialmatch.patients.derive.sites import metastatic_date
from trialmatch.patients.model import Measurement

UNDATED = "undated"
_DISTANT = VISCERAL | {"brain", "bone", "leptomeningeal"}


@dataclass(frozen=True)
class Specimen:
    """The marker results of one specimen; ``date`` is its latest result date (None when none is recorded)."""

    key: str
    date: dt.date | None
    site: str | None
    measurements: tuple[Measurement, ...]
    presumed: bool = False

    def latest(self, concept: str) -> Measurement | None:
        """The specimen's most recent result for ``concept`` (measurements are sorted oldest first)."""
        found = [m for m in self.measurements if m.concept == concept]
        return found[-1] if found else None

    @property
    def label(self) -> str:
        """How explanations name the specimen."""
        site = f" ({self.site})" if self.site and not self.presumed else ""
        named = "" if self.key.startswith(("date:", UNDATED)) else f"specimen {self.key}{site} "
        return f"{named}on {self.date.isoformat()}" if self.date else f"{named}(date not recorded)"


def group_specimens(ctx: Context, concepts: Sequence[str]) -> list[Specimen]:
    """The record's results of ``concepts`` (dated and undated) grouped by specimen, oldest first."""
    measurements = ctx.results(*concepts)
    groups: dict[str, list[Measurement]] = defaultdict(list)
    for m in measurements:
        if m.specimen:
            groups[m.specimen].append(m)
    for m in measurements:
        if not m.specimen:
            groups[_same_day_key(groups, m)].append(m)
    bounds = _primary_period(ctx)
    specimens = [_specimen(key, items, bounds) for key, items in groups.items()]
    return sorted(specimens, key=lambda s: (s.date or dt.date.min, s.key))


def _same_day_key(groups: dict[str, list[Measurement]], m: Measurement) -> str:
    if m.date is None:
        return UNDATED
    same_day = sorted({k for k, ms in groups.items() if any(x.date == m.date for x in ms)})
    return same_day[0] if len(same_day) == 1 else f"date:{m.date.isoformat()}"


Period = tuple[dt.date | None, dt.date | None]


def _primary_period(ctx: Context) -> Period:
    """The first primary-cancer diagnosis and the first record of metastatic disease."""
    diagnosed = [d for c in ctx.conditions if c.category == "primary-cancer" if (d := condition_date(c))]
    return min(diagnosed, default=None), metastatic_date(ctx)


def _specimen(key: str, items: list[Measurement], bounds: Period) -> Specimen:
    ordered = tuple(sorted(items, key=lambda m: (m.date or dt.date.min, m.source)))
    dates = [m.date for m in ordered if m.date is not None]
    date = max(dates, default=None)
    site, presumed = _origin(ordered, date, bounds)
    return Specimen(key=key, date=date, site=site, measurements=ordered, presumed=presumed)


def _origin(ms: Sequence[Measurement], date: dt.date | None, bounds: Period) -> tuple[str | None, bool]:
    """(primary | metastatic | None, whether presumed from dates) for one specimen's results."""
    recorded = {m.specimen_site for m in ms if m.specimen_site} | {o for m in ms if (o := _body_site_origin(m))}
    if recorded:
        return (recorded.pop(), False) if len(recorded) == 1 else (None, False)
    if any(m.body_site or m.focus for m in ms):
        return None, False
    diagnosed, metastatic = bounds
    if date is not None and diagnosed is not None and diagnosed <= date and (metastatic is None or date < metastatic):
        return "primary", True
    return None, False


def _body_site_origin(m: Measurement) -> str | None:
    where = site_of((m.body_site,)) if m.body_site else None
    if where == "breast":
        return "primary"
    return "metastatic" if where in _DISTANT else None


SpecimenStatus = Callable[[Specimen], DerivedValue]


def select(
    specimens: Sequence[Specimen],
    status: SpecimenStatus,
    mode: str,
    priority: tuple[bool | str, ...],
    what: str,
) -> DerivedValue:
    """The patient-level answer for ``mode`` (latest, any, primary, metastatic) from per-specimen answers.

    ``latest``/``primary``/``metastatic``: the most recent specimen (of that site) with a determinable
    answer. ``any``: the first category of ``priority`` any specimen shows, so with HER2's order a patient
    is negative only when every determinable specimen is negative.
    """
    pool = [s for s in specimens if mode in ("latest", "any") or s.site == mode]
    results = [(s, status(s)) for s in pool]
    determined = [(s, r) for s, r in results if r.value is not None]
    if not determined:
        if results:
            return results[-1][1]
        return _none_of(specimens, mode, what)
    if mode != "any":
        return _note_presumed(_note_newer(determined[-1], results), determined[-1][0], mode)
    for category in priority:
        hits = [(s, r) for s, r in determined if r.value == category]
        if hits:
            chosen = hits[-1][1]
            label = category.replace("_", " ") if isinstance(category, str) else ("low" if category else "not low")
            summary = f"{label} on {len(hits)} of {len(determined)} specimens with a result"
            return chosen.model_copy(update={"explanation": f"{what} {summary}; the latest: {chosen.explanation}"})
    return determined[-1][1]


def _none_of(specimens: Sequence[Specimen], mode: str, what: str) -> DerivedValue:
    """Unknown: no result at all, or none from the site asked for (saying when origins are not recorded)."""
    if mode in ("latest", "any"):
        return unknown(f"No {what} result is recorded.", f"{what} result")
    wanted = "the primary tumour" if mode == "primary" else "a metastasis"
    unplaced = [s for s in specimens if s.site is None]
    if unplaced:
        return unknown(
            f"{len(unplaced)} {what} result(s) are recorded, but not whether the tissue came from {wanted}.",
            f"whether the {what} specimen came from {wanted}",
            sources=(m.source for s in unplaced for m in s.measurements),
        )
    return unknown(f"No {what} result from {wanted} is recorded.", f"{what} result on tissue from {wanted}")


def _note_presumed(value: DerivedValue, specimen: Specimen, mode: str) -> DerivedValue:
    """Say so when the primary origin was presumed from the dates."""
    if mode != "primary" or not specimen.presumed:
        return value
    note = " Taken as the primary tumour: the result records no site and predates any record of metastasis."
    return value.model_copy(update={"explanation": value.explanation + note})


def _note_newer(chosen: tuple[Specimen, DerivedValue], results: list[tuple[Specimen, DerivedValue]]) -> DerivedValue:
    """Say so when a newer specimen exists whose result could not be determined."""
    specimen, value = chosen
    key = (specimen.date or dt.date.min, specimen.key)
    newer = [s for s, r in results if r.value is None and (s.date or dt.date.min, s.key) > key]
    if not newer:
        return value
    note = f" A newer result ({newer[-1].label}) could not be classified."
    return value.model_copy(update={"explanation": value.explanation + note})
