"""The per-patient (or per-lesion) relations a rule's leaves read, as sqlglot SELECTs over the store's tables.

Each mirrors one reader of the per-patient evaluator: ``latest``/``extreme``
(:mod:`trialmatch.engine.measurements`), ``has`` (:mod:`trialmatch.engine.history`), derived values and
lesion counts (:mod:`trialmatch.engine.evaluate`). Dates are literals: the query is compiled for one as-of.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlglot import exp

from trialmatch.cohort.status import MET, NOT_MET, REVIEW, num
from trialmatch.patients.derive.base import DROPPED_MEASUREMENT

RANK_MET, RANK_UNKNOWN, RANK_NOT_MET = 2, 1, 0
KEY = "pk"  # the store's integer patient key: every table has it, and joins and groupings use it


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference."""
    return exp.column(name, table=table, quoted=True)


def named(name: str) -> exp.Table:
    """A quoted table name."""
    return exp.Table(this=exp.to_identifier(name, quoted=True))


def table(name: str, alias: str) -> exp.Table:
    """A quoted table with an alias."""
    return exp.Table(
        this=exp.to_identifier(name, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True))
    )


def text(value: str) -> exp.Literal:
    """A string literal (sqlglot escapes quotes)."""
    return exp.Literal.string(value)


def day(value: dt.date) -> exp.Expr:
    """A DATE literal."""
    return exp.cast(text(value.isoformat()), exp.DataType.Type.DATE)


def keys_equal(left: str, right: str, keys: Sequence[str]) -> exp.Expr:
    """``left.k = right.k AND ...`` for every key column."""
    pairs: list[exp.Expr] = [exp.EQ(this=col(k, left), expression=col(k, right)) for k in keys]
    return pairs[0] if len(pairs) == 1 else exp.And(this=pairs[0], expression=keys_equal(left, right, keys[1:]))


def measurements(concept: str, as_of: dt.date, start: dt.date | None) -> exp.Select:
    """Usable numeric measurements of a concept (or narrower ones) in the window: dated, not dropped,
    plausible, with a value."""
    where = [
        exp.EQ(this=col("concept", "m"), expression=text(concept)),
        exp.LTE(this=col("date", "m"), expression=day(as_of)),
        exp.Not(this=exp.In(this=col("status", "m"), expressions=[text(s) for s in sorted(DROPPED_MEASUREMENT)])),
        exp.Not(this=col("implausible", "m")),
        exp.Not(this=exp.Is(this=col("value", "m"), expression=exp.null())),
    ]
    if start is not None:
        where.append(exp.GTE(this=col("date", "m"), expression=day(start)))
    return exp.select("*").from_(table("measurements", "m")).where(exp.and_(*where))


def latest_part(concept: str, start: dt.date | None, part: str) -> exp.Expr:
    """One part (value, category, unit, high) of the most recent usable value, as an aggregate over measurement
    rows ``f``: the row flagged ``latest`` for the concept (the store marks the one the evaluator reads at its
    as-of), if it falls in the window; the latest value overall lies outside the window only if every one does."""
    where = [exp.EQ(this=col("concept", "f"), expression=text(concept)), col("latest", "f")]
    if start is not None:
        where.append(exp.GTE(this=col("date", "f"), expression=day(start)))
    return exp.Filter(this=exp.Max(this=col(part, "f")), expression=exp.Where(this=exp.and_(*where)))


def pick_one(rows: exp.Select, order: Sequence[exp.Ordered]) -> exp.Select:
    """The first row per patient in ``order`` (the value the evaluator would read)."""
    window = exp.Window(this=exp.RowNumber(), partition_by=[col(KEY)], order=exp.Order(expressions=list(order)))
    ranked = rows.select(exp.alias_(window, "rn", quoted=True))
    columns = [col(c, "r") for c in (KEY, "value", "category", "unit", "high")]
    return (
        exp.select(*columns)
        .from_(ranked.subquery("r", copy=False))
        .where(exp.EQ(this=col("rn", "r"), expression=num(1)))
    )


def ordered(name: str, desc: bool, default: exp.Expr | None = None) -> exp.Ordered:
    """An ORDER BY item, optionally over COALESCE(column, default) as Python's sort keys read it."""
    term: exp.Expr = col(name)
    if default is not None:
        term = exp.Coalesce(this=term, expressions=[default])
    return exp.Ordered(this=term, desc=desc, nulls_first=not desc)


def extreme(function: str, concept: str, as_of: dt.date, start: dt.date | None) -> exp.Select:
    """The lowest or highest numeric value; ties go to the oldest (Python's min/max keep the first)."""
    order = [
        ordered("value", function == "max"),
        ordered("date", False),
        ordered("source", False),
        ordered("value_text", False, text("")),
    ]
    return pick_one(measurements(concept, as_of, start), order)


def matching_events(events: str, concept: str, excluded: Sequence[str], metastatic_only: bool) -> exp.Select:
    """Facts whose concept is-a ``concept`` and whose own concept is none of ``excluded`` (one row per fact and
    concept)."""
    rows = exp.select(*(col(c, "e") for c in _EPISODE)).from_(table(events, "e"))
    rows = rows.where(exp.and_(exp.EQ(this=col("concept", "e"), expression=text(concept)), kept(excluded, "e")))
    if metastatic_only:
        rows = _since_metastasis(rows)
    return rows


def kept(excluded: Sequence[str], alias: str) -> exp.Expr:
    """An event row whose fact's own concept is none of ``excluded`` (the exceptions and everything narrower:
    a fact is-a an exception exactly when its own concept is one of them)."""
    if not excluded:
        return exp.true()
    return exp.Not(this=exp.In(this=col("fact_concept", alias), expressions=[text(x) for x in excluded]))


_EPISODE = (KEY, "fact_id", "first_date", "last_date", "since_date", "ongoing", "status_recorded", "possible")
METASTASIS = "condition.metastasis"


def _since_metastasis(rows: exp.Select) -> exp.Select:
    """Keep exposures that began on/after the first dated metastasis diagnosis (none without one)."""
    first = (
        exp.select(col(KEY), exp.alias_(exp.Min(this=col("first_date")), "since", quoted=True))
        .from_(named("conditions"))
        .where(
            exp.and_(
                exp.EQ(this=col("concept"), expression=text(METASTASIS)),
                exp.Not(this=exp.Is(this=col("first_date"), expression=exp.null())),
            )
        )
        .group_by(col(KEY))
    )
    on = exp.and_(
        keys_equal("e", "s", (KEY,)),
        exp.or_(
            exp.Is(this=col("first_date", "e"), expression=exp.null()),
            exp.GTE(this=col("first_date", "e"), expression=col("since", "s")),
        ),
    )
    return rows.join(first.subquery("s", copy=False), on=on, join_type="inner")


def has(domain: str, rows: exp.Select, rank: exp.Expr, combine_all: bool) -> exp.Select:
    """Each patient's Has status: unknown with no facts in the domain, not_met with no match, else combined."""
    agg = exp.Min(this=rank) if combine_all else exp.Max(this=rank)
    grouped = (
        exp.select(col(KEY), exp.alias_(agg, "r", quoted=True)).from_(rows.subquery("f", copy=False)).group_by(col(KEY))
    )
    status = has_status(col(f"n_{domain}", "p"), col("r", "h"))
    return (
        exp.select(col(KEY, "p"), exp.alias_(status, "status", quoted=True))
        .from_(table("patients", "p"))
        .join(grouped.subquery("h", copy=False), on=keys_equal("p", "h", (KEY,)), join_type="left")
    )


def has_status(facts: exp.Expr, rank: exp.Expr) -> exp.Expr:
    """A Has status from the patient's number of facts in the domain and the combined rank of its matches:
    unknown with no facts at all, not_met with no match (closed world), else the rank's status."""
    return (
        exp.Case()
        .when(exp.EQ(this=facts, expression=num(0)), exp.null())
        .when(exp.Is(this=rank, expression=exp.null()), num(NOT_MET))
        .when(exp.EQ(this=rank.copy(), expression=num(RANK_MET)), num(MET))
        .when(exp.EQ(this=rank.copy(), expression=num(RANK_NOT_MET)), num(NOT_MET))
    )


def lesion_counts(statuses: exp.Select) -> exp.Select:
    """Per patient: lesions, lesions meeting the condition and undecided (unknown or review) lesions."""
    s = col("s", "t")
    met_sum = exp.Sum(this=exp.Case().when(exp.EQ(this=s, expression=num(MET)), num(1)).else_(num(0)))
    open_case = exp.or_(exp.Is(this=s, expression=exp.null()), exp.EQ(this=s, expression=num(REVIEW)))
    open_sum = exp.Sum(this=exp.Case().when(open_case, num(1)).else_(num(0)))
    grouped = (
        exp.select(col(KEY, "t"), exp.alias_(met_sum, "met", quoted=True), exp.alias_(open_sum, "open", quoted=True))
        .from_(statuses.subquery("t", copy=False))
        .group_by(col(KEY, "t"))
    )
    return (
        exp.select(col(KEY, "p"), col("n_lesion", "p"), col("met", "c"), col("open", "c"))
        .from_(table("patients", "p"))
        .join(grouped.subquery("c", copy=False), on=keys_equal("p", "c", (KEY,)), join_type="left")
    )
