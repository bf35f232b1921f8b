"""Performance status on the ECOG scale (REFERENCE §5).

WHO and Zubrod scores are the ECOG scale grade for grade and arrive as ``score.ecog``. A Karnofsky score is
mapped with the ECOG-ACRIN table (90–100 → 0, 70–80 → 1, 50–60 → 2, 30–40 → 3, 10–20 → 4, 0 → 5; values
between bands go to the worse grade) and the explanation says so, flagging KPS 70 and 50 whose wording
straddles two grades. The latest assessment wins; on the same day a recorded ECOG beats a mapped KPS.
"""

from __future__ import annotations

from trialmatch.patients.derive import timewindow
from trialmatch.patients.derive.base import Context, DerivedValue, fmt, unknown
from trialmatch.patients.model import Measurement
from trialmatch.rules.ast import Duration

ECOG, KARNOFSKY = "score.ecog", "score.karnofsky"
_KPS_BANDS = ((90, 0), (70, 1), (50, 2), (30, 3), (10, 4), (0, 5))


def karnofsky_to_ecog(kps: float) -> int:
    """ECOG grade for a Karnofsky score (ECOG-ACRIN table)."""
    return next(grade for floor, grade in _KPS_BANDS if kps >= floor)


def _usable(m: Measurement) -> bool:
    if m.value is None:
        return False
    top = 5 if m.concept == ECOG else 100
    return 0 <= m.value <= top


def ecog(ctx: Context, within: Duration | None) -> DerivedValue:
    """Latest performance status as an ECOG grade, optionally only from the ``within`` window."""
    start = timewindow.window_start(ctx.as_of, within) if within else None
    found = [
        m
        for m in ctx.observed(ECOG, KARNOFSKY)
        if _usable(m) and (start is None or (m.date is not None and m.date >= start))
    ]
    where = f" within {timewindow.describe(within)}" if within else ""
    note = ctx.skipped(ECOG, KARNOFSKY)
    if not found:
        return unknown(
            f"No ECOG or Karnofsky performance status is recorded{where}{note}.",
            f"ECOG performance status{where}",
        )
    # Latest date first; on a tie prefer the directly recorded ECOG grade.
    chosen = max(found, key=lambda m: (m.date, m.concept == ECOG, m.source))
    assert chosen.value is not None and chosen.date is not None
    changes = timewindow.expires_on(chosen.date, within) if within else None
    if chosen.concept == ECOG:
        grade, text, rule = chosen.value, f"ECOG {fmt(chosen.value)}", "ECOG"
    else:
        grade = float(karnofsky_to_ecog(chosen.value))
        edge = " (band edge: low-confidence conversion)" if chosen.value in (70, 50) else ""
        text = f"Karnofsky {fmt(chosen.value)}% mapped to ECOG {fmt(grade)}{edge}"
        rule = "Karnofsky→ECOG (ECOG-ACRIN table)"
    return DerivedValue(
        value=grade,
        date=chosen.date,
        sources=(chosen.source,),
        explanation=f"{text} on {chosen.date.isoformat()}{note}",
        rule_set=rule,
        changes_on=changes,
    )
