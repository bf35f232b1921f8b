"""The four-valued logic obeys the laws the screening-result contract states, by table and by property."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.engine.logic import Status, all_of, any_of, from_bool, negate

MET, NOT_MET, UNKNOWN, REVIEW = Status.MET, Status.NOT_MET, Status.UNKNOWN, Status.REVIEW
statuses = st.sampled_from(list(Status))
status_lists = st.lists(statuses, min_size=1, max_size=6)

# Pairwise tables written out from the contract (screening-result.schema.json, criterion_result.status).
ALL_TABLE = {
    (MET, MET): MET,
    (MET, REVIEW): REVIEW,
    (MET, UNKNOWN): UNKNOWN,
    (MET, NOT_MET): NOT_MET,
    (REVIEW, REVIEW): REVIEW,
    (REVIEW, UNKNOWN): UNKNOWN,
    (REVIEW, NOT_MET): NOT_MET,
    (UNKNOWN, UNKNOWN): UNKNOWN,
    (UNKNOWN, NOT_MET): NOT_MET,
    (NOT_MET, NOT_MET): NOT_MET,
}
ANY_TABLE = {
    (MET, MET): MET,
    (MET, REVIEW): MET,
    (MET, UNKNOWN): MET,
    (MET, NOT_MET): MET,
    (REVIEW, REVIEW): REVIEW,
    (REVIEW, UNKNOWN): UNKNOWN,
    (REVIEW, NOT_MET): REVIEW,
    (UNKNOWN, UNKNOWN): UNKNOWN,
    (UNKNOWN, NOT_MET): UNKNOWN,
    (NOT_MET, NOT_MET): NOT_MET,
}
NOT_TABLE = {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN, REVIEW: REVIEW}


@pytest.mark.parametrize(("pair", "expected"), ALL_TABLE.items())
def test_all_table(pair: tuple[Status, Status], expected: Status) -> None:
    assert all_of(pair) is expected
    assert all_of(reversed(pair)) is expected


@pytest.mark.parametrize(("pair", "expected"), ANY_TABLE.items())
def test_any_table(pair: tuple[Status, Status], expected: Status) -> None:
    assert any_of(pair) is expected
    assert any_of(reversed(pair)) is expected


@pytest.mark.parametrize(("status", "expected"), NOT_TABLE.items())
def test_not_table(status: Status, expected: Status) -> None:
    assert negate(status) is expected


def test_tables_cover_every_pair() -> None:
    pairs = {frozenset(p) for p in itertools.product(Status, repeat=2)}
    assert pairs == {frozenset(p) for p in ALL_TABLE} == {frozenset(p) for p in ANY_TABLE}


def test_from_bool() -> None:
    assert [from_bool(v) for v in (True, False, None)] == [MET, NOT_MET, UNKNOWN]


def test_empty_combination_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        all_of([])


@given(status_lists)
def test_de_morgan(items: list[Status]) -> None:
    assert negate(all_of(items)) is any_of(negate(s) for s in items)
    assert negate(any_of(items)) is all_of(negate(s) for s in items)


@given(statuses)
def test_double_negation(status: Status) -> None:
    assert negate(negate(status)) is status


@given(status_lists)
def test_identity_and_annihilator(items: list[Status]) -> None:
    assert all_of([*items, MET]) is all_of(items)
    assert any_of([*items, NOT_MET]) is any_of(items)
    assert all_of([*items, NOT_MET]) is NOT_MET
    assert any_of([*items, MET]) is MET


@given(status_lists.flatmap(lambda xs: st.tuples(st.just(xs), st.permutations(xs))))
def test_commutative(lists: tuple[list[Status], list[Status]]) -> None:
    items, shuffled = lists
    assert all_of(shuffled) is all_of(items)
    assert any_of(shuffled) is any_of(items)


@given(status_lists, status_lists)
def test_associative(left: list[Status], right: list[Status]) -> None:
    assert all_of([all_of(left), all_of(right)]) is all_of(left + right)
    assert any_of([any_of(left), any_of(right)]) is any_of(left + right)


@given(status_lists)
def test_idempotent(items: list[Status]) -> None:
    assert all_of(items + items) is all_of(items)
    assert any_of(items + items) is any_of(items)


@given(status_lists)
def test_unknown_outranks_review_but_not_the_deciding_value(items: list[Status]) -> None:
    with_unknown = [*items, UNKNOWN]
    assert all_of(with_unknown) is (NOT_MET if NOT_MET in items else UNKNOWN)
    assert any_of(with_unknown) is (MET if MET in items else UNKNOWN)


@given(st.lists(st.sampled_from([MET, REVIEW]), min_size=1))
def test_review_only_where_nothing_else_decides(items: list[Status]) -> None:
    assert all_of(items) is (REVIEW if REVIEW in items else MET)
    assert any_of([NOT_MET, *[REVIEW if s is MET else s for s in items]]) is REVIEW
