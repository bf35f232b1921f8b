"""Feasibility numbers from a wide status table: a hand-worked table, and properties over random cohorts."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as hs

from trialmatch.cohort.feasibility import TrialFeasibility, csv_rows, short_label, summarize
from trialmatch.cohort.plan import Column, TrialQuery
from trialmatch.cohort.status import MET, NOT_MET, REVIEW
from trialmatch.rules.catalog import TrialRules
from trialmatch.trials.model import Criterion, CriterionType, Trial, TrialSource

INC, EXC = CriterionType.INCLUSION, CriterionType.EXCLUSION
U = None  # unknown (NULL)


def _trial(types: list[CriterionType], uncompiled: int = 0) -> tuple[TrialRules, TrialQuery]:
    criteria = tuple(
        Criterion(id=f"{t.value[:3]}-{n}", type=t, text=f"Criterion number {n} of a synthetic trial, {t.value}")
        for n, t in enumerate(types, start=1)
    )
    trial = Trial(trial_id="T-1", title="A trial", source=TrialSource(format="test"), criteria=criteria)
    columns = [
        Column(c.id, c.type is INC, f"c{n}", "no visitor" if n < uncompiled else None) for n, c in enumerate(criteria)
    ]
    return TrialRules(trial, None), TrialQuery("T-1", columns)


def _wide(rows: list[list[int | None]], width: int) -> pa.Table:
    return pa.table({f"c{k}": pa.array([r[k] for r in rows], pa.int32()) for k in range(width)})


def test_hand_worked_cohort() -> None:
    """Five patients, inclusion then exclusion then inclusion; every number worked out by hand."""
    rules, query = _trial([INC, EXC, INC])
    rows = [
        [MET, NOT_MET, MET],  # eligible
        [NOT_MET, MET, MET],  # excluded by inc-1 and exc-2
        [MET, MET, U],  # excluded by exc-2 only
        [U, NOT_MET, MET],  # possible: inc-1 unknown
        [MET, REVIEW, U],  # possible: inc-3 unknown (review does not make a patient possible)
    ]
    t = summarize(rules, query, _wide(rows, 3))
    assert (t.patients, t.eligible, t.possible, t.excluded) == (5, 1, 2, 2)
    assert [(s.criterion_id, s.remaining_before, s.excluded, s.unknown, s.remaining_after) for s in t.steps] == [
        ("inc-1", 5, 1, 1, 4),
        ("exc-2", 4, 1, 0, 3),
        ("inc-3", 3, 0, 1, 3),  # patient 3 left at exc-2
    ]
    assert [(x.criterion_id, x.fails, x.only_reason) for x in t.excluders] == [("exc-2", 2, 1), ("inc-1", 1, 0)]
    assert [(m.criterion_id, m.open_in, m.settles) for m in t.missing] == [("inc-1", 1, 1), ("inc-3", 1, 1)]
    assert t.missing[0].items == ("an answer to the criterion",)  # no rule: someone must answer it


def test_an_uncompiled_criterion_keeps_everyone_possible_and_settles_no_one() -> None:
    rules, query = _trial([INC, INC], uncompiled=1)
    t = summarize(rules, query, _wide([[None, MET], [None, U], [None, NOT_MET]], 2))
    assert (t.eligible, t.possible, t.excluded) == (0, 2, 1)
    assert t.not_compiled == [("inc-1", "no visitor")]
    assert [s.criterion_id for s in t.steps] == ["inc-2"]
    assert all(m.settles == 0 for m in t.missing)


def test_short_label_cuts_at_a_word() -> None:
    assert short_label("Age ≥ 18 years") == "Age ≥ 18 years"
    label = short_label("Adequate organ function, evidenced by the following laboratory results within 14 days")
    assert label == "Adequate organ function, evidenced by the following…" and len(label) <= 60


STATUS = hs.sampled_from([MET, NOT_MET, REVIEW, None])


@settings(max_examples=60, deadline=None)
@given(
    types=hs.lists(hs.sampled_from([INC, EXC]), min_size=1, max_size=6),
    data=hs.data(),
)
def test_the_numbers_agree_with_each_patients_verdict(types: list[CriterionType], data: hs.DataObject) -> None:
    rules, query = _trial(types)
    rows = data.draw(hs.lists(hs.lists(STATUS, min_size=len(types), max_size=len(types)), max_size=40))
    t = summarize(rules, query, _wide(rows, len(types)))
    verdicts = [_verdict(types, row) for row in rows]
    assert (t.eligible, t.possible, t.excluded) == tuple(verdicts.count(v) for v in ("eligible", "possible", "out"))
    before = t.patients
    for step in t.steps:
        assert step.remaining_before == before and step.remaining_after == before - step.excluded
        assert step.unknown <= step.remaining_before
        before = step.remaining_after
    assert before == t.patients - t.excluded
    for m in t.missing:
        assert m.settles <= m.open_in <= t.possible
    _assert_csv_carries_the_numbers(t)


def _verdict(types: list[CriterionType], row: list[int | None]) -> str:
    """The per-patient verdict rule (engine.screening.verdict_of) applied to one row of statuses."""
    if any(s == (NOT_MET if t is INC else MET) for t, s in zip(types, row, strict=True)):
        return "out"
    return "possible" if None in row else "eligible"


def _assert_csv_carries_the_numbers(t: TrialFeasibility) -> None:
    rows = list(csv_rows([t], {"patients_stored": t.patients}, []))
    headline = {r[3]: r[6] for r in rows if r[1] == "headline"}
    assert headline == {"patients": t.patients, "eligible": t.eligible, "possible": t.possible, "excluded": t.excluded}
    after = [r[6] for r in rows if r[1] == "attrition" and r[5] == "remaining_after"]
    assert after == [s.remaining_after for s in t.steps]
