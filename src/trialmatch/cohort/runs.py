"""``has(..., continuous=D, max_gap=G)`` in SQL: exposure runs as gaps-and-islands over the event episodes.

Mirrors :func:`trialmatch.engine.history.evaluate_continuous`. Dated episodes are ordered by start; one
starts a new run unless an earlier one is ongoing or it starts no later than ``G`` plus a day after the
latest end so far. The latest end of *all* earlier episodes may be used instead of the run's own, as the
Python loop does: an earlier run's end already lies more than ``G`` before this run's first start, so it can
never decide a merge the run's own end would refuse. Only a current run (ongoing, or ended no more than
``G`` before as-of) that spans ``D`` up to as-of makes the patient met; otherwise an undated matching
exposure makes it unknown.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

from trialmatch.cohort.relations import KEY, col, day, keys_equal, table
from trialmatch.cohort.status import MET, NOT_MET, num
from trialmatch.patients.derive.timewindow import shift
from trialmatch.rules.ast import Duration

_DATE = exp.DataType.Type.DATE
_ORDER = (("first_date", False), ("ongoing", True), ("end_date", True), ("fact_id", False))


def plus(date: exp.Expr, duration: Duration, days: int = 0) -> exp.Expr:
    """``date`` moved by ``duration`` (months clamped at month end, as ``timewindow.shift``) plus ``days``."""
    amount, unit = duration.amount, {"d": "DAY", "w": "DAY", "mo": "MONTH", "y": "MONTH"}[duration.unit]
    amount *= {"d": 1, "w": 7, "mo": 1, "y": 12}[duration.unit]
    moved = exp.cast(exp.DateAdd(this=date, expression=num(amount), unit=exp.Var(this=unit)), _DATE)
    if days == 0:
        return moved
    return exp.cast(exp.DateAdd(this=moved, expression=num(days), unit=exp.Var(this="DAY")), _DATE)


def _over(function: exp.Expr, through_current: bool) -> exp.Window:
    """``function`` over the patient's earlier episodes (and this one when ``through_current``), by start."""
    order = exp.Order(expressions=[exp.Ordered(this=col(c), desc=d, nulls_first=not d) for c, d in _ORDER])
    if through_current:
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
    else:
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end=num(1), end_side="PRECEDING")
    return exp.Window(this=function, partition_by=[col(KEY)], order=order, spec=spec)


def _episodes(rows: exp.Select) -> exp.Select:
    """One row per dated matching fact: start, end (NULL while ongoing), ongoing."""
    end = (
        exp.Case()
        .when(col("ongoing", "f"), exp.null())
        .else_(exp.Coalesce(this=col("last_date", "f"), expressions=[col("first_date", "f")]))
    )
    return (
        exp.select(
            col(KEY, "f"),
            col("fact_id", "f"),
            col("first_date", "f"),
            col("ongoing", "f"),
            exp.alias_(end, "end_date", quoted=True),
        )
        .distinct()
        .from_(rows.subquery("f"))
        .where(exp.Not(this=exp.Is(this=col("first_date", "f"), expression=exp.null())))
    )


def _islands(rows: exp.Select, gap: Duration) -> exp.Select:
    """Each dated episode with the number of the run it belongs to."""
    ongoing_int = exp.Case().when(col("ongoing"), num(1)).else_(num(0))
    flagged = exp.select(
        "*",
        exp.alias_(_over(exp.Count(this=exp.Star()), False), "n_before", quoted=True),
        exp.alias_(_over(exp.Max(this=ongoing_int), False), "on_before", quoted=True),
        exp.alias_(_over(exp.Max(this=col("end_date")), False), "end_before", quoted=True),
    ).from_(_episodes(rows).subquery("e"))
    starts = exp.or_(
        exp.EQ(this=col("n_before"), expression=num(0)),
        exp.and_(
            exp.EQ(this=col("on_before"), expression=num(0)),
            exp.GT(this=col("first_date"), expression=plus(col("end_before"), gap, days=1)),
        ),
    )
    new_run = exp.Case().when(starts, num(1)).else_(num(0))
    marked = exp.select("*", exp.alias_(new_run, "new_run", quoted=True)).from_(flagged.subquery("g"))
    run_id = _over(exp.Sum(this=col("new_run")), True)
    return exp.select("*", exp.alias_(run_id, "run_id", quoted=True)).from_(marked.subquery("k"))


def _runs_met(rows: exp.Select, duration: Duration, gap: Duration, as_of: dt.date) -> exp.Select:
    """Per patient with a dated exposure: 1 when a current run spans ``duration`` up to as-of, else 0."""
    ongoing = exp.EQ(this=exp.Max(this=exp.Case().when(col("ongoing"), num(1)).else_(num(0))), expression=num(1))
    runs = (
        exp.select(
            col(KEY),
            exp.alias_(exp.Min(this=col("first_date")), "run_start", quoted=True),
            exp.alias_(ongoing, "run_ongoing", quoted=True),
            exp.alias_(exp.Max(this=col("end_date")), "run_end", quoted=True),
        )
        .from_(_islands(rows, gap).subquery("i"))
        .group_by(col(KEY), col("run_id"))
    )
    current_from = as_of - (shift(as_of, gap) - as_of)
    upto = (
        exp.Case().when(col("run_ongoing"), day(as_of)).else_(exp.Least(this=col("run_end"), expressions=[day(as_of)]))
    )
    spans = exp.and_(
        exp.or_(col("run_ongoing"), exp.GTE(this=col("run_end"), expression=day(current_from))),
        exp.GTE(this=upto, expression=plus(col("run_start"), duration)),
    )
    met = exp.Max(this=exp.Case().when(spans, num(1)).else_(num(0)))
    return exp.select(col(KEY), exp.alias_(met, "met", quoted=True)).from_(runs.subquery("u")).group_by(col(KEY))


def continuous(
    domain: str, rows: exp.Select, duration: Duration, max_gap: Duration | None, as_of: dt.date
) -> exp.Select:
    """Each patient's status for a continuous-exposure rule over the matching episodes ``rows``."""
    gap = max_gap or Duration(amount=0, unit="d")
    undated = exp.Max(this=exp.Case().when(exp.Is(this=col("first_date"), expression=exp.null()), num(1)).else_(num(0)))
    matched = (
        exp.select(col(KEY), exp.alias_(undated, "undated", quoted=True)).from_(rows.subquery("f")).group_by(col(KEY))
    )
    status = (
        exp.Case()
        .when(exp.EQ(this=col(f"n_{domain}", "p"), expression=num(0)), exp.null())
        .when(exp.Is(this=col("undated", "h"), expression=exp.null()), num(NOT_MET))
        .when(exp.EQ(this=col("met", "m"), expression=num(1)), num(MET))
        .when(exp.EQ(this=col("undated", "h"), expression=num(1)), exp.null())
        .else_(num(NOT_MET))
    )
    on_patient = keys_equal("p", "h", (KEY,))
    return (
        exp.select(col(KEY, "p"), exp.alias_(status, "status", quoted=True))
        .from_(table("patients", "p"))
        .join(matched.subquery("h", copy=False), on=on_patient, join_type="left")
        .join(
            _runs_met(rows, duration, gap, as_of).subquery("m", copy=False),
            on=keys_equal("p", "m", (KEY,)),
            join_type="left",
        )
    )
