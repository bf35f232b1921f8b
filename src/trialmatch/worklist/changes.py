"""What changed a pair's verdict between two screenings, in one line a coordinator can act on."""

from __future__ import annotations

import datetime as dt

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, TrialOutcome

_OPEN = (Status.UNKNOWN, Status.REVIEW)


def _by_id(trial: TrialOutcome) -> dict[str, CriterionOutcome]:
    return {c.id: c for c in trial.criteria}


def _settled(old: TrialOutcome, new: TrialOutcome) -> list[str]:
    """Criteria that were open (unknown or review) and now have an answer from the records or the site."""
    before = _by_id(old)
    out = []
    for cid, now in _by_id(new).items():
        was = before.get(cid)
        if was is not None and was.status in _OPEN and now.status not in _OPEN:
            how = f"answered by {now.answered_by}" if now.answered_by else "from new data"
            out.append(f"{cid} settled {now.status.value} ({how})")
    return out


def _reopened(old: TrialOutcome, new: TrialOutcome) -> list[str]:
    """Criteria the records settled before and no longer do (a measurement aged out of its window)."""
    before = _by_id(old)
    return [
        f"{cid} now unknown: {now.reason}"
        for cid, now in _by_id(new).items()
        if now.status is Status.UNKNOWN and cid in before and before[cid].status not in _OPEN
    ]


def _windows_passed(old: TrialOutcome, as_of: dt.date) -> list[str]:
    passed = []
    if old.eligible_from is not None and as_of >= old.eligible_from:
        passed.append(f"eligible from {old.eligible_from.isoformat()} has passed")
    if old.valid_until is not None and as_of >= old.valid_until:
        passed.append(f"valid until {old.valid_until.isoformat()} has passed")
    return passed


def _failing(old: TrialOutcome, new: TrialOutcome) -> list[str]:
    now = _by_id(new)
    started = [f"{cid} now fails: {now[cid].reason}" for cid in new.failed if cid not in old.failed]
    ended = [f"{cid} no longer fails" for cid in old.failed if cid not in new.failed]
    return started + ended


def verdict_change(old: TrialOutcome | None, new: TrialOutcome, as_of: dt.date) -> str | None:
    """Why the verdict changed since ``old`` (None when it did not, or when there was no screening before)."""
    if old is None or old.verdict == new.verdict:
        return None
    reasons = []
    if old.rules_version != new.rules_version:
        reasons.append(f"rules changed ({old.rules_version} → {new.rules_version})")
    reasons += _windows_passed(old, as_of)
    reasons += _settled(old, new) + _reopened(old, new)
    if not reasons or new.verdict == "ineligible":
        reasons += _failing(old, new)
    return "; ".join(reasons) or "the records changed"
