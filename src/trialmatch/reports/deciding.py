"""Which criteria decide a trial's verdict, said in words: what a coordinator reads first.

Ineligible: the failing criteria. Possible: the unknown ones (with what would settle them). Eligible: the
criteria only the site can confirm. Each is told by its text and its reason, never by its id alone.
"""

from __future__ import annotations

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, TrialOutcome

_KIND = {"ineligible": "fails", "possible": "unknown", "eligible": "to confirm"}


def deciding_criteria(trial: TrialOutcome) -> list[CriterionOutcome]:
    """The top-level criteria that decide the verdict, in checklist order."""
    if trial.verdict == "ineligible":
        failed = set(trial.failed)
        return [c for c in trial.criteria if c.id in failed]
    wanted = Status.UNKNOWN if trial.verdict == "possible" else Status.REVIEW
    return [c for c in trial.criteria if c.status is wanted]


def in_words(criterion: CriterionOutcome) -> str:
    """A criterion as a sentence: its text, then why it has its status."""
    text = " ".join(criterion.text.split())
    return f"{text} — {criterion.reason}"


def first_deciding(trial: TrialOutcome) -> str:
    """The first deciding criterion in words, prefixed with what it does to the verdict ('' when none)."""
    deciding = deciding_criteria(trial)
    if not deciding:
        return ""
    more = f" (+{len(deciding) - 1} more)" if len(deciding) > 1 else ""
    return f"{_KIND[trial.verdict]}: {in_words(deciding[0])}{more}"


def still_open(trial: TrialOutcome) -> bool:
    """Whether the trial is still open to the patient, so asking for missing data makes sense.

    A trial the patient fails only until a date (a washout) is still open; one failed for good is not.
    """
    return trial.verdict != "ineligible" or trial.eligible_from is not None
