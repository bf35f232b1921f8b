"""Why a pair's verdict changed between two screenings: one reason per kind of change, table-tested."""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, TrialOutcome
from trialmatch.worklist.changes import verdict_change

DAY = dt.date(2026, 11, 27)


def _criterion(cid: str, status: Status, *, answered_by: str | None = None, reason: str = "") -> CriterionOutcome:
    ctype = "exclusion" if cid.startswith("exc") else "inclusion"
    return CriterionOutcome(id=cid, type=ctype, text=cid, status=status, reason=reason or cid, answered_by=answered_by)


def _trial(verdict: str, *criteria: CriterionOutcome, **fields: object) -> TrialOutcome:
    failed = tuple(c.id for c in criteria if c.status is (Status.MET if c.type == "exclusion" else Status.NOT_MET))
    base: dict[str, object] = {"trial_id": "NCT1", "title": "t", "verdict": verdict, "failed": failed}
    return TrialOutcome.model_validate(base | {"criteria": criteria, "rules_version": "v1"} | fields)


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (
            _trial("ineligible", _criterion("exc-15", Status.MET), eligible_from=DAY),
            _trial("eligible", _criterion("exc-15", Status.NOT_MET)),
            "eligible from 2026-11-27 has passed",
        ),
        (
            _trial("possible", _criterion("inc-5", Status.UNKNOWN)),
            _trial("eligible", _criterion("inc-5", Status.MET, answered_by="Dr Two on 2026-11-22")),
            "inc-5 settled met (answered by Dr Two on 2026-11-22)",
        ),
        (
            _trial("possible", _criterion("inc-5", Status.UNKNOWN)),
            _trial("ineligible", _criterion("inc-5", Status.NOT_MET, reason="LVEF 45% is below 50%")),
            "inc-5 settled not_met (from new data); inc-5 now fails: LVEF 45% is below 50%",
        ),
        (
            _trial("eligible", _criterion("inc-6", Status.MET), valid_until=DAY),
            _trial("possible", _criterion("inc-6", Status.UNKNOWN, reason="no ANC within 28 days")),
            "valid until 2026-11-27 has passed; inc-6 now unknown: no ANC within 28 days",
        ),
        (
            _trial("eligible", _criterion("inc-1", Status.MET)),
            _trial("ineligible", _criterion("inc-1", Status.NOT_MET, reason="age 17"), rules_version="v2"),
            "rules changed (v1 → v2); inc-1 now fails: age 17",
        ),
    ],
)
def test_each_kind_of_change_is_named(old: TrialOutcome, new: TrialOutcome, why: str) -> None:
    assert verdict_change(old, new, DAY) == why


def test_no_change_of_verdict_and_a_first_screening_are_not_changes() -> None:
    same = _trial("possible", _criterion("inc-5", Status.UNKNOWN))
    assert verdict_change(same, same, DAY) is None
    assert verdict_change(None, same, DAY) is None
