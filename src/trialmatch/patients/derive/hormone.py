"""ER and PR status per ASCO/CAP 2020 (REFERENCE §2), per specimen and at patient level.

A reported percentage of stained nuclei is classified with the guideline's cut-offs (< 1 % negative; ER
1–10 % low positive; otherwise positive); a reported positive/negative call that disagrees is shown, and the
guideline reading wins. Without a percentage the lab's reported call is used, and the evidence says so; ER-low
cannot then be told apart from ER-positive, so a "positive" call stays "positive". A combined ER+PR result
(one stain for both receptors) that is negative makes each negative; a positive one says only that at least
one of them is positive, so each alone stays unknown.
"""

from __future__ import annotations

import re

from trialmatch.patients.derive.base import Context, DerivedValue, coded_text, fmt, polarity, source_list
from trialmatch.patients.derive.specimens import Specimen, group_specimens, select
from trialmatch.patients.model import Measurement

RULE_SET = "ASCO/CAP 2020"
COMBINED = "marker.er_pr"
_LOW = re.compile(r"\blow\b")


def _from_percent(receptor: str, percent: float) -> str:
    if percent < 1.0:
        return "negative"
    return "low_positive" if receptor == "ER" and percent <= 10.0 else "positive"


def _reader(receptor: str) -> tuple[str, str]:
    prefix = f"marker.{receptor.lower()}"
    return prefix + "_percent", prefix


def _call(receptor: str, m: Measurement | None) -> str | None:
    """A reported positive / low_positive / negative call, or None when the result says neither."""
    reading = polarity(m) if m else None
    if m is None or reading not in ("positive", "negative"):
        return None
    return "low_positive" if receptor == "ER" and reading == "positive" and _LOW.search(coded_text(m)) else reading


def _specimen_status(receptor: str, specimen: Specimen) -> DerivedValue:
    percent_concept, call_concept = _reader(receptor)
    percent = specimen.latest(percent_concept)
    call_m = specimen.latest(call_concept)
    call = _call(receptor, call_m)
    if percent is not None and percent.value is not None:
        value = _from_percent(receptor, percent.value)
        differs = (
            f" The lab reported {call.replace('_', ' ')}; the guideline reading is used."
            if call and (call != value)
            else ""
        )
        return DerivedValue(
            value=value,
            date=percent.date,
            sources=(percent.source,),
            explanation=f"{receptor} {fmt(percent.value)}% {specimen.label}: {value} per {RULE_SET}.{differs}",
            rule_set=RULE_SET,
        )
    if call is not None and call_m is not None:
        return DerivedValue(
            value=call,
            date=call_m.date,
            sources=(call_m.source,),
            explanation=f"{receptor} {call.replace('_', ' ')} as reported by the lab {specimen.label} "
            "(no percentage recorded).",
            rule_set=RULE_SET,
        )
    return _from_combined(receptor, specimen)


def _from_combined(receptor: str, specimen: Specimen) -> DerivedValue:
    combined = specimen.latest(COMBINED)
    reading = polarity(combined) if combined else None
    sources = source_list(m.source for m in specimen.measurements)
    if combined is not None and reading == "negative":
        return DerivedValue(
            value="negative",
            date=combined.date,
            sources=(combined.source,),
            explanation=f"Combined ER+PR result negative {specimen.label}: {receptor} negative as reported by the lab.",
            rule_set=RULE_SET,
        )
    if combined is not None and reading == "positive":
        return DerivedValue(
            value=None,
            sources=sources,
            explanation=f"Combined ER+PR result positive {specimen.label}: at least one receptor is positive, "
            f"but not which.",
            missing=f"a separate {receptor} result",
        )
    return DerivedValue(
        value=None,
        sources=sources,
        explanation=f"{receptor} result {specimen.label} has no percentage or positive/negative call.",
        missing=f"{receptor} percentage of stained nuclei or the lab's {receptor} status",
    )


def receptor_status(ctx: Context, receptor: str, specimen: str) -> DerivedValue:
    """Patient-level ER or PR status (``receptor`` is ``ER`` or ``PR``) for the chosen specimen."""
    concepts = (*_reader(receptor), COMBINED)
    specimens = group_specimens(ctx, concepts)
    priority = ("positive", "low_positive", "negative")
    value = select(specimens, lambda s: _specimen_status(receptor, s), specimen, priority, receptor)
    note = ctx.skipped(*concepts)
    return value.model_copy(update={"explanation": value.explanation + note}) if note else value
