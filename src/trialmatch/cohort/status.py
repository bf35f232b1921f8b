"""Statuses in SQL: a small integer with NULL for unknown, combined in the contract's orders.

not_met = 0, review = 3, met = 6, unknown = NULL, so NULL carries unknown through the query as the
per-patient evaluator carries it (:mod:`trialmatch.engine.logic`). The codes are spaced so that each
combination is one function with every item referenced once (engines expand ``CASE x WHEN`` by copying x,
which made nested rules grow exponentially): ``all`` is LEAST with unknown read as 1 (not_met > unknown >
review > met), ``any`` is GREATEST with unknown read as 5 (met > unknown > review > not_met), ``not`` is
``6 - code``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from trialmatch.engine.logic import Status

MET, NOT_MET, REVIEW = 6, 0, 3
CODES = {Status.MET: MET, Status.NOT_MET: NOT_MET, Status.REVIEW: REVIEW}
_UNKNOWN_IN_ALL = 1  # between not_met and review: all = LEAST
_UNKNOWN_IN_ANY = 5  # between review and met: any = GREATEST


def num(value: int | float) -> exp.Expr:
    """An integer literal, or a float as CAST('repr' AS DOUBLE): bare 0.1 is a DECIMAL in DuckDB and Spark,
    and a long one overflows Spark's decimal precision; the string keeps every bit of the Python float."""
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.cast(exp.Literal.string(repr(value)), exp.DataType.Type.DOUBLE)


def _combined(items: Sequence[exp.Expr], unknown: int, pick: type[exp.Least] | type[exp.Greatest]) -> exp.Expr:
    ranks = [exp.Coalesce(this=i, expressions=[num(unknown)]) for i in items]
    best = ranks[0] if len(ranks) == 1 else pick(this=ranks[0], expressions=ranks[1:], ignore_nulls=True)
    return exp.Nullif(this=best, expression=num(unknown))


def all_of(items: Sequence[exp.Expr]) -> exp.Expr:
    """Conjunction: not_met > unknown > review > met, i.e. the least code with unknown ranked 1."""
    return _combined(items, _UNKNOWN_IN_ALL, exp.Least)


def any_of(items: Sequence[exp.Expr]) -> exp.Expr:
    """Disjunction: met > unknown > review > not_met, i.e. the greatest code with unknown ranked 5."""
    return _combined(items, _UNKNOWN_IN_ANY, exp.Greatest)


def negate(item: exp.Expr) -> exp.Expr:
    """met (6) and not_met (0) swap, review (3) stays, NULL stays: ``6 - code``."""
    return exp.Sub(this=num(MET), expression=exp.paren(item))


def when(cond: exp.Expr, then: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
    """``when(c, t, o)``: c met → t; c not_met → o; otherwise their common status, else unknown."""
    same = exp.EQ(
        this=exp.Coalesce(this=then, expressions=[num(-1)]),
        expression=exp.Coalesce(this=otherwise, expressions=[num(-1)]),
    )
    return exp.Case(this=cond).when(num(MET), then).when(num(NOT_MET), otherwise).else_(exp.Case().when(same, then))


def from_bool(test: exp.Expr) -> exp.Expr:
    """met when the test is TRUE, not_met when FALSE, unknown when NULL."""
    return exp.Case().when(test, num(MET)).when(exp.Not(this=exp.paren(test)), num(NOT_MET))


def literal(status: Status) -> exp.Expr:
    """A constant status."""
    return num(CODES[status]) if status in CODES else exp.cast(exp.null(), exp.DataType.Type.INT)


def name_of(code: exp.Expr) -> exp.Expr:
    """The status's name as the contract writes it (``met``, ``not_met``, ``review``, ``unknown``)."""
    case = exp.Case(this=code)
    for status, value in CODES.items():
        case = case.when(num(value), exp.Literal.string(status.value))
    return case.else_(exp.Literal.string(Status.UNKNOWN.value))
