"""Tumor-marker results grouped per specimen, and the choice of specimen a criterion asks for.

ASCO/CAP interprets IHC and ISH together only when they come from the same specimen, so markers are
grouped by ``Measurement.specimen``; results without a specimen id join the one specimen tested that day,
or else form a group of their own for that date. Patient-level answers pick a specimen (``latest``,
``primary``, ``metastatic``) or look across all of them (``any``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trialmatch.patients.derive.base import DerivedValue, unknown
from trialmatch.patients.model import Measurement


@dataclass(frozen=True)
class Specimen:
    """The marker results of one specimen; ``date`` is its latest result date."""

    key: str
    date: dt.date
    site: str | None
    measurements: tuple[Measurement, ...]

    def latest(self, concept: str) -> Measurement | None:
        """The specimen's most recent result for ``concept`` (measurements are sorted oldest first)."""
        found = [m for m in self.measurements if m.concept == concept]
        return found[-1] if found else None

    @property
    def label(self) -> str:
        """How explanations name the specimen."""
        site = f" ({self.site})" if self.site else ""
        named = "" if self.key.startswith("date:") else f"specimen {self.key}{site} "
        return f"{named}on {self.date.isoformat()}"


def group_specimens(measurements: Sequence[Measurement]) -> list[Specimen]:
    """Group sorted marker measurements by specimen (falling back to the test date); oldest first."""
    groups: dict[str, list[Measurement]] = defaultdict(list)
    for m in measurements:
        if m.specimen:
            groups[m.specimen].append(m)
    for m in measurements:
        if not m.specimen:
            assert m.date is not None  # Context keeps dated measurements only
            same_day = sorted({k for k, ms in groups.items() if any(x.date == m.date for x in ms)})
            key = same_day[0] if len(same_day) == 1 else f"date:{m.date.isoformat()}"
            groups[key].append(m)
    specimens = [_specimen(key, items) for key, items in groups.items()]
    return sorted(specimens, key=lambda s: (s.date, s.key))


def _specimen(key: str, items: list[Measurement]) -> Specimen:
    ordered = tuple(sorted(items, key=lambda m: (m.date or dt.date.min, m.source)))
    sites = sorted({m.specimen_site for m in ordered if m.specimen_site})
    return Specimen(
        key=key,
        date=max(m.date or dt.date.min for m in ordered),
        site=sites[0] if len(sites) == 1 else None,
        measurements=ordered,
    )


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
        where = "" if mode in ("latest", "any") else f" on a {mode}-site specimen"
        return unknown(f"No {what} result is recorded{where}.", f"{what} result{where}")
    if mode != "any":
        return _note_newer(determined[-1], results)
    for category in priority:
        hits = [(s, r) for s, r in determined if r.value == category]
        if hits:
            chosen = hits[-1][1]
            label = category if isinstance(category, str) else ("yes" if category else "no")
            summary = f"{len(hits)} of {len(determined)} determinable specimens: {label}"
            return chosen.model_copy(
                update={"explanation": f"Any specimen: {summary}; latest such: {chosen.explanation}"}
            )
    return determined[-1][1]


def _note_newer(chosen: tuple[Specimen, DerivedValue], results: list[tuple[Specimen, DerivedValue]]) -> DerivedValue:
    """Say so when a newer specimen exists whose result could not be determined."""
    specimen, value = chosen
    newer = [s for s, r in results if r.value is None and (s.date, s.key) > (specimen.date, specimen.key)]
    if not newer:
        return value
    note = f" A newer result ({newer[-1].label}) could not be classified."
    return value.model_copy(update={"explanation": value.explanation + note})
