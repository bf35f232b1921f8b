"""Kleene three-valued logic with *review* as a fourth value (shared contract ``screening-result.schema.json``).

``all``: not_met > unknown > review > met.  ``any``: met > unknown > review > not_met.  ``not`` swaps met and
not_met and leaves unknown and review alone. Unknown (the data is missing) outranks review (only the site can
answer) in both, because a missing measurement may still decide the outcome, whereas review never blocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """Whether a criterion's statement holds for a patient."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    REVIEW = "review"


_ALL_ORDER = (Status.NOT_MET, Status.UNKNOWN, Status.REVIEW, Status.MET)
_ANY_ORDER = (Status.MET, Status.UNKNOWN, Status.REVIEW, Status.NOT_MET)


def _first_present(statuses: Iterable[Status], order: tuple[Status, ...]) -> Status:
    present = set(statuses)
    if not present:
        raise ValueError("cannot combine an empty list of statuses")
    return next(s for s in order if s in present)


def all_of(statuses: Iterable[Status]) -> Status:
    """Conjunction: not_met if any is not_met, else unknown, else review, else met."""
    return _first_present(statuses, _ALL_ORDER)


def any_of(statuses: Iterable[Status]) -> Status:
    """Disjunction: met if any is met, else unknown, else review, else not_met."""
    return _first_present(statuses, _ANY_ORDER)


def negate(status: Status) -> Status:
    """Negation: met and not_met swap; unknown and review stay."""
    if status is Status.MET:
        return Status.NOT_MET
    if status is Status.NOT_MET:
        return Status.MET
    return status


def from_bool(value: bool | None) -> Status:
    """met for True, not_met for False, unknown for None (missing data)."""
    if value is None:
        return Status.UNKNOWN
    return Status.MET if value else Status.NOT_MET
