"""Age, sex, menopause, childbearing potential, pregnancy and breast-feeding (REFERENCE §10).

Conventions (documented in docs/derivations.md):
- Age is whole years at as-of; someone born on 29 February has birthdays on 28 February in common years.
- Postmenopausal (NCCN): bilateral oophorectomy, or age >= 60. The record model carries no menstrual history,
  FSH or estradiol, so women of 45–59 are unknown; under 45 with no oophorectomy is presumed premenopausal
  (natural menopause before 45 is early menopause), and the explanation says it is a presumption.
- Permanent sterility (CTFG): hysterectomy, bilateral oophorectomy or bilateral salpingectomy, read from
  procedure codes and displays because the concept library has no concept for them yet.
- Pregnancy and breast-feeding are current states: only evidence from the last 28 days (pregnancy test or
  status) or 90 days (breast-feeding status) is used; a recorded active pregnancy counts for 300 days.
"""

from __future__ import annotations

import datetime as dt

from trialmatch.patients.derive.base import Context, DerivedValue, condition_date, polarity, unknown
from trialmatch.patients.derive.timewindow import add_months
from trialmatch.patients.model import ProcedureFact

PREMENOPAUSAL_BELOW = 45
NCCN_AGE = 60
PREGNANCY_EVIDENCE_DAYS = 28
BREASTFEEDING_EVIDENCE_DAYS = 90
PREGNANCY_CONDITION_DAYS = 300
_HYSTERECTOMY = frozenset({"236886002"})
_BILATERAL_OOPHORECTOMY = frozenset({"29827000"})


def age_years(birth: dt.date, as_of: dt.date) -> int:
    """Whole years from ``birth`` to ``as_of`` (birthdays clamped at month end)."""
    years = as_of.year - birth.year
    return years if add_months(birth, 12 * years) <= as_of else years - 1


def age(ctx: Context) -> DerivedValue:
    """Age in whole years at as-of; changes on the next birthday."""
    birth = ctx.record.birth_date
    if birth is None:
        return unknown("The date of birth is not recorded.", "date of birth")
    years = age_years(birth, ctx.as_of)
    at_death = " (the date of death: age stops there)" if ctx.record.died_by(ctx.as_of) else ""
    return DerivedValue(
        value=float(years),
        unit="a",
        date=birth,
        explanation=f"Age {years} years on {ctx.as_of.isoformat()} from the recorded date of birth{at_death}",
        changes_on=None if at_death else add_months(birth, 12 * (years + 1)),
    )


def sex(ctx: Context) -> DerivedValue:
    """Administrative sex as recorded."""
    value = ctx.record.sex
    if value not in ("female", "male", "other"):
        return unknown("Administrative sex is not recorded.", "administrative sex")
    return DerivedValue(value=value, explanation=f"Administrative sex recorded as {value}")


def lower_first(text: str) -> str:
    """A sentence continued after a semicolon: its first letter in lower case."""
    return text[:1].lower() + text[1:]


def _text(p: ProcedureFact) -> str:
    return " ".join(c.display or "" for c in p.codes).lower()


def _codes(p: ProcedureFact) -> set[str]:
    return {c.code for c in p.codes}


def oophorectomy(ctx: Context) -> ProcedureFact | None:
    """The first recorded bilateral oophorectomy (including salpingo-oophorectomy)."""
    for p in ctx.procedures:
        text = _text(p)
        if _codes(p) & _BILATERAL_OOPHORECTOMY or ("bilateral" in text and "oophorectomy" in text):
            return p
    return None


def sterilising_procedure(ctx: Context) -> ProcedureFact | None:
    """A procedure that makes a woman permanently sterile (CTFG): hysterectomy, bilateral oophorectomy or
    salpingectomy. Tubal ligation is contraception, not sterility."""
    for p in ctx.procedures:
        text = _text(p)
        if _codes(p) & _HYSTERECTOMY or "hysterectomy" in text or ("bilateral" in text and "salpingectomy" in text):
            return p
    return oophorectomy(ctx)


def postmenopausal(ctx: Context) -> DerivedValue:
    """Postmenopausal per NCCN, as far as the record can tell."""
    if ctx.record.sex == "male":
        return DerivedValue(value=False, explanation="Recorded sex is male; menopause does not apply")
    surgery = oophorectomy(ctx)
    if surgery is not None:
        return DerivedValue(
            value=True,
            date=surgery.start,
            sources=(surgery.source,),
            explanation="Bilateral oophorectomy recorded: postmenopausal per NCCN",
            rule_set="NCCN",
        )
    return _menopause_by_age(ctx)


def _menopause_by_age(ctx: Context) -> DerivedValue:
    birth = ctx.record.birth_date
    if birth is None:
        return unknown(
            "Neither the date of birth nor a bilateral oophorectomy is recorded.",
            "date of birth or menopausal status",
        )
    years = age_years(birth, ctx.as_of)
    sixtieth = add_months(birth, 12 * NCCN_AGE)
    if years >= NCCN_AGE:
        return DerivedValue(
            value=True, explanation=f"Age {years} (60 or over): postmenopausal per NCCN", rule_set="NCCN"
        )
    if years < PREMENOPAUSAL_BELOW:
        return DerivedValue(
            value=False,
            explanation=f"Age {years}, no oophorectomy or menopause recorded: presumed premenopausal",
            rule_set="NCCN",
            changes_on=add_months(birth, 12 * PREMENOPAUSAL_BELOW),
        )
    result = unknown(
        f"Age {years} (under 60), no bilateral oophorectomy; menses and FSH/estradiol are not recorded.",
        "menopausal status (12 months of amenorrhoea with FSH and estradiol in the postmenopausal range)",
        rule_set="NCCN",
    )
    return result.model_copy(update={"changes_on": sixtieth})


def childbearing_potential(ctx: Context) -> DerivedValue:
    """Woman of childbearing potential (CTFG): female, not permanently sterile, not postmenopausal."""
    if ctx.record.sex == "male":
        return DerivedValue(value=False, explanation="Recorded sex is male")
    if ctx.record.sex != "female":
        return unknown("Administrative sex is not recorded as female or male.", "administrative sex")
    surgery = sterilising_procedure(ctx)
    if surgery is not None:
        return DerivedValue(
            value=False,
            date=surgery.start,
            sources=(surgery.source,),
            explanation="Permanently sterile: hysterectomy, bilateral oophorectomy or salpingectomy recorded",
            rule_set="CTFG",
        )
    menopause = postmenopausal(ctx)
    if menopause.value is None:
        return menopause.model_copy(
            update={"explanation": menopause.explanation + " Childbearing potential is therefore unknown."}
        )
    if not ctx.procedures:
        return unknown(
            "No procedures are recorded, so sterilising surgery cannot be ruled out.",
            "surgical history (hysterectomy or bilateral oophorectomy)",
        )
    return DerivedValue(
        value=not menopause.value,
        explanation=f"Female, no sterilising surgery recorded; {lower_first(menopause.explanation)}",
        rule_set="CTFG",
        changes_on=menopause.changes_on,
    )


Evidence = tuple[dt.date, str, str, int]
"""(date, positive/negative, source, days the evidence stays current)."""


def _recent(ctx: Context, concepts: tuple[str, ...], days: int) -> list[Evidence]:
    """Coded evidence from the last ``days`` days."""
    start = ctx.as_of - dt.timedelta(days=days)
    out = []
    for m in ctx.observed(*concepts):
        reading = polarity(m)
        if m.date is not None and m.date >= start and reading in ("positive", "negative"):
            out.append((m.date, reading, m.source, days))
    return out


def _from_evidence(evidence: list[Evidence], what: str) -> DerivedValue:
    day, reading, source, days = max(evidence)
    dated = day != dt.date.min
    return DerivedValue(
        value=reading == "positive",
        date=day if dated else None,
        sources=(source,),
        explanation=f"{what} {reading}{f' on {day.isoformat()}' if dated else ''}",
        changes_on=day + dt.timedelta(days=days + 1) if dated else None,
    )


def pregnant(ctx: Context) -> DerivedValue:
    """Currently pregnant: the latest of a recent pregnancy test/status or an active pregnancy condition."""
    if ctx.record.sex == "male":
        return DerivedValue(value=False, explanation="Recorded sex is male")
    evidence = _recent(ctx, ("obs.pregnancy_status", "lab.hcg_urine", "lab.hcg_serum"), PREGNANCY_EVIDENCE_DAYS)
    start = ctx.as_of - dt.timedelta(days=PREGNANCY_CONDITION_DAYS)
    for c in ctx.conditions:
        day = condition_date(c)
        if (
            ctx.isa(c.concept, "condition.pregnancy")
            and c.abatement is None
            and (day is None or day >= start)
            and c.clinical_status in (None, "active")
        ):
            evidence.append((day or dt.date.min, "positive", c.source, PREGNANCY_CONDITION_DAYS))
    if evidence:
        return _from_evidence(evidence, "Pregnancy evidence")
    potential = childbearing_potential(ctx)
    if potential.value is False:
        return potential.model_copy(update={"explanation": potential.explanation + "; not of childbearing potential"})
    return unknown(
        f"No pregnancy test, status or active pregnancy in the last {PREGNANCY_EVIDENCE_DAYS} days.",
        f"a pregnancy test or pregnancy status from the last {PREGNANCY_EVIDENCE_DAYS} days",
    )


def breastfeeding(ctx: Context) -> DerivedValue:
    """Currently breast-feeding, from a recent breast-feeding status observation."""
    if ctx.record.sex == "male":
        return DerivedValue(value=False, explanation="Recorded sex is male")
    evidence = _recent(ctx, ("obs.breastfeeding_status",), BREASTFEEDING_EVIDENCE_DAYS)
    if not evidence:
        menopause = postmenopausal(ctx)
        if menopause.value is True:
            # Lactation after menopause is not a real possibility; sterilisation alone does not rule it out.
            return menopause.model_copy(
                update={"value": False, "explanation": menopause.explanation + "; not lactating"}
            )
        return unknown(
            f"No breast-feeding status recorded in the last {BREASTFEEDING_EVIDENCE_DAYS} days.",
            "current breast-feeding status",
        )
    return _from_evidence(evidence, "Breast-feeding status")
