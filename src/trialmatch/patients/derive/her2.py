"""HER2 status per specimen (ASCO/CAP by test date, or the report's own call) and at patient level.

Guidelines by date: a specimen is read with the rule set in force on its latest result date. ASCO/CAP 2018
(published online 30 May 2018) applies from 1 June 2018, 2013 (published online 7 October 2013) from
1 November 2013, 2007 before that. A reported overall interpretation (marker.her2_interpretation) wins; a
reported ISH call (marker.her2_ish: amplified / not amplified / equivocal) is used instead of re-deriving
the ISH result from ratio and copy number. REFERENCE §1.2–1.6 are implemented as tables below.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, DerivedValue, fmt, polarity, source_list, unknown
from trialmatch.patients.derive.specimens import Specimen, group_specimens, select
from trialmatch.patients.model import Measurement

CONCEPTS = (
    "marker.her2_ihc",
    "marker.her2_ish_ratio",
    "marker.her2_copy_number",
    "marker.her2_interpretation",
    "marker.her2_ish",
)
PRIORITY = ("positive", "equivocal", "negative")
ASCO_2018, ASCO_2013, ASCO_2007 = "ASCO/CAP 2018", "ASCO/CAP 2013", "ASCO/CAP 2007"
_FROM_2018 = dt.date(2018, 6, 1)
_FROM_2013 = dt.date(2013, 11, 1)
_IHC = re.compile(r"(?<![\d.])([0-3])(?![\d.%])")


def rule_set_for(day: dt.date) -> str:
    """The ASCO/CAP rule set in force on ``day``."""
    if day >= _FROM_2018:
        return ASCO_2018
    return ASCO_2013 if day >= _FROM_2013 else ASCO_2007


def ihc_score(m: Measurement) -> str | None:
    """The IHC score (``0``, ``1+``, ``2+``, ``3+``) from a coded/text or numeric result."""
    if m.value is not None and m.value in (0, 1, 2, 3):
        n = int(m.value)
    else:
        text = m.value_text or (m.value_code.display if m.value_code else None) or ""
        match = _IHC.search(text)
        if match is None:
            return None
        n = int(match.group(1))
    return "0" if n == 0 else f"{n}+"


@dataclass(frozen=True)
class IshCall:
    """An ISH result: status (None = not determinable), how it was read, and what would settle it."""

    status: str | None
    detail: str
    missing: str | None = None


def dual_probe_group(ratio: float, copies: float) -> int:
    """ASCO/CAP 2018 dual-probe group 1–5 (REFERENCE §1.2)."""
    if ratio >= 2.0:
        return 1 if copies >= 4.0 else 2
    if copies >= 6.0:
        return 3
    return 4 if copies >= 4.0 else 5


def resolve_group_2018(group: int, ihc: str | None) -> str | None:
    """Group 1–5 with concurrent IHC (§1.3); None when a blinded recount or the IHC is still needed."""
    if group in (1, 5):
        return "positive" if group == 1 else "negative"
    if ihc == "3+":
        return "positive"
    if ihc in ("0", "1+"):
        return "negative"
    return None


def _ish_2018(ratio: float | None, copies: float | None, ihc: str | None) -> IshCall:
    if ratio is None:
        return _single_probe_2018(copies, ihc)
    if copies is None:
        groups = (1, 2) if ratio >= 2.0 else (3, 4, 5)
        outcomes = {resolve_group_2018(g, ihc) for g in groups}
        status = outcomes.pop() if len(outcomes) == 1 else None
        return IshCall(status, f"ISH HER2/CEP17 ratio {fmt(ratio)}", None if status else "HER2 copy number per cell")
    group = dual_probe_group(ratio, copies)
    detail = f"ISH HER2/CEP17 ratio {fmt(ratio)} and {fmt(copies)} copies/cell (group {group})"
    status = resolve_group_2018(group, ihc)
    if status is not None:
        return IshCall(status, detail)
    if ihc is None:
        return IshCall(None, detail, f"concurrent HER2 IHC on the same specimen (ISH group {group})")
    return IshCall(None, detail, f"blinded ISH recount or the report's final HER2 call (group {group}, IHC 2+)")


def _single_probe_2018(copies: float | None, ihc: str | None) -> IshCall:
    assert copies is not None
    detail = f"single-probe ISH {fmt(copies)} copies/cell"
    if copies >= 6.0 or copies < 4.0:
        return IshCall("positive" if copies >= 6.0 else "negative", detail)
    if ihc in ("3+", "0", "1+"):
        return IshCall("positive" if ihc == "3+" else "negative", detail)
    need = "dual-probe ISH for the IHC 2+ specimen" if ihc == "2+" else "concurrent HER2 IHC on the same specimen"
    return IshCall(None, detail, need)


def _ish_2013(ratio: float | None, copies: float | None) -> IshCall:
    detail = _numbers(ratio, copies)
    if ratio is not None and ratio >= 2.0:
        return IshCall("positive", detail)
    if copies is None:
        return IshCall(None, detail, "HER2 copy number per cell")
    if copies >= 6.0:
        return IshCall("positive", detail)
    return IshCall("equivocal" if copies >= 4.0 else "negative", detail)


def _ish_2007(ratio: float | None, copies: float | None) -> IshCall:
    detail = _numbers(ratio, copies)
    if ratio is not None:
        return IshCall("positive" if ratio > 2.2 else "equivocal" if ratio >= 1.8 else "negative", detail)
    assert copies is not None
    return IshCall("positive" if copies > 6.0 else "equivocal" if copies >= 4.0 else "negative", detail)


def _numbers(ratio: float | None, copies: float | None) -> str:
    parts = [
        f"HER2/CEP17 ratio {fmt(ratio)}" if ratio is not None else "",
        f"{fmt(copies)} copies/cell" if copies is not None else "",
    ]
    return "ISH " + " and ".join(p for p in parts if p)


def ish_call(rule_set: str, ratio: float | None, copies: float | None, ihc: str | None) -> IshCall | None:
    """The ISH result from raw numbers under ``rule_set``; None when neither number is recorded."""
    if ratio is None and copies is None:
        return None
    if rule_set == ASCO_2018:
        return _ish_2018(ratio, copies, ihc)
    return _ish_2013(ratio, copies) if rule_set == ASCO_2013 else _ish_2007(ratio, copies)


@dataclass(frozen=True)
class Her2Specimen:
    """One specimen's HER2 reading: IHC score, ISH call and overall status."""

    ihc: str | None
    ish: IshCall | None
    status: DerivedValue


def read_specimen(specimen: Specimen) -> Her2Specimen:
    """Read IHC and ISH of one specimen and combine them (REFERENCE §1.6)."""
    ihc_m = specimen.latest("marker.her2_ihc")
    ihc = ihc_score(ihc_m) if ihc_m else None
    ish = _reported_ish(specimen) or _derived_ish(specimen, ihc)
    return Her2Specimen(ihc, ish, _status(specimen, ihc, ish))


def _reported_ish(specimen: Specimen) -> IshCall | None:
    m = specimen.latest("marker.her2_ish")
    call = polarity(m) if m else None
    return IshCall(call, f"ISH reported {call}") if call else None


def _derived_ish(specimen: Specimen, ihc: str | None) -> IshCall | None:
    """The ISH call under the guideline of the test's date, held against the 2018 rules trials mean.

    "HER2-positive per ASCO/CAP" in a current protocol means the 2018 rules (REFERENCE §1.8). An older test is
    read under its own rules, but where the 2018 rules would call the same numbers differently (a 2013 group 2
    "positive" with IHC 1+, say) the call is left undetermined rather than presented as settled.
    """
    ratio_m = specimen.latest("marker.her2_ish_ratio")
    copies_m = specimen.latest("marker.her2_copy_number")
    ratio, copies = (ratio_m.value if ratio_m else None), (copies_m.value if copies_m else None)
    historical = ish_call(rule_set_for(specimen.date), ratio, copies, ihc)
    if historical is None or rule_set_for(specimen.date) == ASCO_2018:
        return historical
    current = ish_call(ASCO_2018, ratio, copies, ihc)
    if current is None or current.status == historical.status:
        return historical
    missing = "a HER2 call for this older test under ASCO/CAP 2018 (the older and current rules disagree)"
    detail = f"{historical.detail}: {historical.status} under its own rules, {current.status} under ASCO/CAP 2018"
    return IshCall(None, detail, missing)


def _status(specimen: Specimen, ihc: str | None, ish: IshCall | None) -> DerivedValue:
    sources = source_list(m.source for m in specimen.measurements)
    interpretation = specimen.latest("marker.her2_interpretation")
    reported = polarity(interpretation) if interpretation else None
    if interpretation is not None and reported is not None:
        text = f"HER2 {reported} per the report's own interpretation, {specimen.label}"
        return DerivedValue(value=reported, date=specimen.date, sources=(interpretation.source,), explanation=text)
    value, missing = _combine(ihc, ish)
    parts = [f"HER2 IHC {ihc}" if ihc else "HER2", ish.detail if ish else ""]
    read = " with ".join(p for p in parts if p)
    rule_set = rule_set_for(specimen.date)
    if value is None:
        return unknown(
            f"{read} {specimen.label}: not determinable under {rule_set}.",
            missing or "",
            sources=sources,
            rule_set=rule_set,
        )
    return DerivedValue(
        value=value,
        date=specimen.date,
        sources=sources,
        explanation=f"{read} {specimen.label}: {value} per {rule_set}",
        rule_set=rule_set,
        missing=missing,
    )


def _combine(ihc: str | None, ish: IshCall | None) -> tuple[str | None, str | None]:
    """Overall specimen status and what is missing (REFERENCE §1.6; ISH equivocal only under 2007/2013)."""
    if ihc == "3+" or (ish is not None and ish.status == "positive"):
        return "positive", None
    if ish is not None and ish.status in ("negative", "equivocal"):
        missing = "a repeat HER2 test for the equivocal ISH result" if ish.status == "equivocal" else None
        return ish.status, missing
    if ish is not None:
        return None, ish.missing
    if ihc == "2+":
        return "equivocal", "HER2 ISH result for the IHC 2+ specimen"
    if ihc in ("0", "1+"):
        return "negative", None
    return None, "HER2 IHC score or ISH result"


def her2(ctx: Context, specimen: str) -> DerivedValue:
    """Patient-level HER2 status for the chosen specimen."""
    value = select(_specimens(ctx), lambda s: read_specimen(s).status, specimen, PRIORITY, "HER2")
    return _with_skipped(ctx, value)


def her2_low(ctx: Context, specimen: str) -> DerivedValue:
    """HER2-low: IHC 1+, or IHC 2+ with negative ISH (never when HER2-positive)."""
    value = select(_specimens(ctx), _low, specimen, (True, False), "HER2")
    return _with_skipped(ctx, value)


def _low(specimen: Specimen) -> DerivedValue:
    reading = read_specimen(specimen)
    status = reading.status
    if status.value == "negative" and reading.ihc is None:
        return status.model_copy(
            update={
                "value": None,
                "missing": "HER2 IHC score (0, 1+ or 2+)",
                "explanation": status.explanation + "; HER2-low needs the IHC score.",
            }
        )
    if status.value not in ("positive", "negative"):
        return status.model_copy(update={"value": None})
    low = status.value == "negative" and reading.ihc in ("1+", "2+")
    return status.model_copy(
        update={"value": low, "explanation": f"{status.explanation}; HER2-low: {'yes' if low else 'no'}"}
    )


def _specimens(ctx: Context) -> list[Specimen]:
    return group_specimens(ctx.observed(*CONCEPTS))


def _with_skipped(ctx: Context, value: DerivedValue) -> DerivedValue:
    note = ctx.skipped(*CONCEPTS)
    return value.model_copy(update={"explanation": value.explanation + note}) if note else value
