"""ER and PR status per ASCO/CAP 2020 (REFERENCE §2), per specimen and at patient level.

A reported percentage of stained nuclei is classified with the guideline's cut-offs (< 1 % negative; ER
1–10 % low positive; otherwise positive). Without a percentage the report's own positive/negative call is
used; ER-low cannot then be told apart from ER-positive, so a "positive" call stays "positive".
"""

from __future__ import annotations

import re

from trialmatch.patients.derive.base import Context, DerivedValue, coded_text, fmt, polarity, source_list
from trialmatch.patients.derive.specimens import Specimen, group_specimens, select

RULE_SET = "ASCO/CAP 2020"
_LOW = re.compile(r"\blow\b")


def _from_percent(receptor: str, percent: float) -> str:
    if percent < 1.0:
        return "negative"
    return "low_positive" if receptor == "ER" and percent <= 10.0 else "positive"


def _reader(receptor: str) -> tuple[str, str]:
    prefix = f"marker.{receptor.lower()}"
    return prefix + "_percent", prefix


def _specimen_status(receptor: str, specimen: Specimen) -> DerivedValue:
    percent_concept, call_concept = _reader(receptor)
    percent = specimen.latest(percent_concept)
    if percent is not None and percent.value is not None:
        value = _from_percent(receptor, percent.value)
        return DerivedValue(
            value=value,
            unit=None,
            date=percent.date,
            sources=(percent.source,),
            explanation=f"{receptor} {fmt(percent.value)}% {specimen.label}: {value} per {RULE_SET}",
            rule_set=RULE_SET,
        )
    return _from_call(receptor, specimen, call_concept)


def _from_call(receptor: str, specimen: Specimen, concept: str) -> DerivedValue:
    call = specimen.latest(concept)
    reading = polarity(call) if call else None
    if call is None or reading not in ("positive", "negative"):
        return DerivedValue(
            value=None,
            sources=source_list(m.source for m in specimen.measurements),
            explanation=f"{receptor} result {specimen.label} has no percentage or positive/negative call.",
            missing=f"{receptor} percentage of stained nuclei or the report's {receptor} status",
        )
    value = "low_positive" if receptor == "ER" and reading == "positive" and _LOW.search(coded_text(call)) else reading
    return DerivedValue(
        value=value,
        date=call.date,
        sources=(call.source,),
        explanation=f"{receptor} reported {value} {specimen.label} (no percentage recorded)",
        rule_set=RULE_SET,
    )


def receptor_status(ctx: Context, receptor: str, specimen: str) -> DerivedValue:
    """Patient-level ER or PR status (``receptor`` is ``ER`` or ``PR``) for the chosen specimen."""
    concepts = _reader(receptor)
    specimens = group_specimens(ctx.observed(*concepts))
    priority = ("positive", "low_positive", "negative")
    value = select(specimens, lambda s: _specimen_status(receptor, s), specimen, priority, receptor)
    note = ctx.skipped(*concepts)
    return value.model_copy(update={"explanation": value.explanation + note}) if note else value
