"""HER2 status per specimen (ASCO/CAP by test date, or the lab's reported status) and at patient level.

Measurements are classified by the guideline of the test's date (:mod:`.ish`): an IHC score, ISH numbers, or
an ISH call (amplified / not amplified). A qualitative result — an interpretation observation, or an IHC
observation whose value is "Positive"/"Negative" rather than a score — is the lab's reported status: it counts
as such, and the evidence says it was reported rather than classified. When the guideline reading of the
measurements settles the status (positive or negative) it wins, and a disagreeing reported status is shown;
when it does not, the reported status is used. REFERENCE §1.2–1.6 are implemented as tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, DerivedValue, polarity, source_list, unknown
from trialmatch.patients.derive.ish import ASCO_2018, IshCall, Number, ish_call, rule_set_for
from trialmatch.patients.derive.specimens import Specimen, group_specimens, select
from trialmatch.patients.model import Measurement
from trialmatch.patients.sources.facts import number_from_text

CONCEPTS = (
    "marker.her2_ihc",
    "marker.her2_ish_ratio",
    "marker.her2_copy_number",
    "marker.her2_interpretation",
    "marker.her2_ish",
)
PRIORITY = ("positive", "equivocal", "negative")
SETTLED = ("positive", "negative")
_IHC = re.compile(r"(?<![\d.])([0-3])(?![\d.%])")
_CENSORED = "censored "


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
class Her2Specimen:
    """One specimen's HER2 reading: IHC score, ISH call and overall status."""

    ihc: str | None
    ish: IshCall | None
    status: DerivedValue


def read_specimen(specimen: Specimen) -> Her2Specimen:
    """Read IHC and ISH of one specimen and combine them (REFERENCE §1.6)."""
    ihc_m = specimen.latest("marker.her2_ihc")
    ihc = ihc_score(ihc_m) if ihc_m else None
    ish = _ish(specimen, ihc)
    return Her2Specimen(ihc, ish, _status(specimen, ihc, ish))


def _ish(specimen: Specimen, ihc: str | None) -> IshCall | None:
    """The ISH call from the numbers; the reported call (amplified / not) when the numbers do not settle it."""
    derived = _derived_ish(specimen, ihc)
    reported_m = specimen.latest("marker.her2_ish")
    call = polarity(reported_m) if reported_m else None
    if call is None:
        return derived
    if derived is None or derived.status is None:
        return IshCall(call, f"ISH reported {call}")
    if derived.status != call:
        return IshCall(derived.status, f"{derived.detail} (the report's ISH call, {call}, disagrees)")
    return derived


def _number(m: Measurement | None) -> Number | None:
    """A measured number with its censoring, or the number an ISH text gives ("greater than 2.2")."""
    if m is None:
        return None
    if m.value is not None:
        comparator = next((f.removeprefix(_CENSORED) for f in m.flags if f.startswith(_CENSORED)), None)
        return Number(m.value, comparator)
    parsed = number_from_text(m.value_text)
    return Number(parsed.value, parsed.comparator) if parsed else None


def _derived_ish(specimen: Specimen, ihc: str | None) -> IshCall | None:
    """The ISH call under the guideline of the test's date, held against the 2018 rules trials mean.

    "HER2-positive per ASCO/CAP" in a current protocol means the 2018 rules (REFERENCE §1.8). An older test is
    read under its own rules, but where the 2018 rules would call the same numbers differently (a 2013 group 2
    "positive" with IHC 1+, say) the call is left undetermined rather than presented as settled. A number
    written as the text of an ISH observation (no ratio observation) is read as the HER2/CEP17 ratio, the
    figure ISH reports state.
    """
    ish_text = specimen.latest("marker.her2_ish")
    ratio = _number(specimen.latest("marker.her2_ish_ratio")) or _number(ish_text if ish_text else None)
    copies = _number(specimen.latest("marker.her2_copy_number"))
    rule_set = rule_set_for(specimen.date)
    historical = ish_call(rule_set, ratio, copies, ihc)
    if historical is None or rule_set == ASCO_2018:
        return historical
    current = ish_call(ASCO_2018, ratio, copies, ihc)
    if current is None or current.status == historical.status:
        return historical
    missing = "a HER2 call for this older test under ASCO/CAP 2018 (the older and current rules disagree)"
    detail = f"{historical.detail}: {historical.status} under its own rules, {current.status} under ASCO/CAP 2018"
    return IshCall(None, detail, missing)


def _reported(specimen: Specimen, ihc: str | None) -> tuple[str, Measurement] | None:
    """The lab's own status: an interpretation, else a qualitative IHC result that gives no score."""
    interpretation = specimen.latest("marker.her2_interpretation")
    if interpretation is not None and (call := polarity(interpretation)) is not None:
        return call, interpretation
    ihc_m = specimen.latest("marker.her2_ihc")
    if ihc is None and ihc_m is not None and (call := polarity(ihc_m)) is not None:
        return call, ihc_m
    return None


def _status(specimen: Specimen, ihc: str | None, ish: IshCall | None) -> DerivedValue:
    sources = source_list(m.source for m in specimen.measurements)
    value, missing = _combine(ihc, ish)
    read = " with ".join(p for p in (f"HER2 IHC {ihc}" if ihc else "HER2", ish.detail if ish else "") if p)
    rule_set = rule_set_for(specimen.date)
    reported = _reported(specimen, ihc)
    if value in SETTLED or reported is None:
        if value is None:
            text = f"{read} {specimen.label}: not determinable under {rule_set}."
            return unknown(text, missing or "", sources=sources, rule_set=rule_set)
        differs = (
            f" The lab reported {reported[0]}; the guideline reading is used."
            if reported and (reported[0] != value)
            else ""
        )
        explanation = f"{read} {specimen.label}: {value} per {rule_set}.{differs}"
        return DerivedValue(
            value=value,
            date=specimen.date,
            sources=sources,
            explanation=explanation,
            rule_set=rule_set,
            missing=missing,
        )
    call, m = reported
    kind = "interpretation" if m.concept == "marker.her2_interpretation" else "qualitative IHC result"
    measured = f" ({read} alone: {value or 'not determinable'} under {rule_set})" if ihc or ish else ""
    explanation = f"HER2 {call} as reported by the lab ({kind}) {specimen.label}{measured}."
    return DerivedValue(value=call, date=specimen.date, sources=sources, explanation=explanation)


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
    """HER2-low: IHC 1+, or IHC 2+ with negative ISH (never when HER2-positive); a reported status is not enough."""
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
                "explanation": status.explanation.rstrip(".") + "; HER2-low needs the IHC score.",
            }
        )
    if status.value not in SETTLED:
        return status.model_copy(update={"value": None})
    low = status.value == "negative" and reading.ihc in ("1+", "2+")
    return status.model_copy(
        update={"value": low, "explanation": f"{status.explanation.rstrip('.')}; HER2-low: {'yes' if low else 'no'}"}
    )


def _specimens(ctx: Context) -> list[Specimen]:
    return group_specimens(ctx, CONCEPTS)


def _with_skipped(ctx: Context, value: DerivedValue) -> DerivedValue:
    note = ctx.skipped(*CONCEPTS)
    return value.model_copy(update={"explanation": value.explanation + note}) if note else value
