"""Rule trees to SQL: one ``visit_<Node>`` per node kind, each returning a sqlglot status expression.

Compilation is fail-closed: a node kind with no visitor, or a comparison the evaluator itself would reject,
raises :class:`CompileError` naming the node, so no condition is ever silently dropped. Leaves (measurements,
history, derived values, lesion counts) become LEFT JOINed relations of the frame being compiled (the patient,
or the lesion inside ``count_lesions``); conditions are expressions over their columns
(:mod:`trialmatch.cohort.status`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort import runs
from trialmatch.cohort import status as st
from trialmatch.cohort.calls import Call, Calls, args_key
from trialmatch.cohort.dialects import CompileError, Dialect
from trialmatch.cohort.tables import EVENT_TABLES, derived_column, latest_column
from trialmatch.engine.logic import Status
from trialmatch.engine.measurements import _UNSETTLED, _category
from trialmatch.errors import ConceptError, UnitError
from trialmatch.patients.derive.timewindow import window_start
from trialmatch.rules import ast as r
from trialmatch.rules.vocabulary import lookup
from trialmatch.terminology.concepts import ConceptLibrary
from trialmatch.terminology.units import convert

_NUMERIC: dict[str, type[exp.Binary]] = {
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
    "==": exp.EQ,
    "!=": exp.NEQ,
}


@dataclass
class Group:
    """Leaves read from one store table, computed together: one aggregate column each, one GROUP BY scan."""

    table: str
    alias: str
    columns: dict[object, tuple[str, exp.Expr]] = field(default_factory=dict)
    concepts: set[str] = field(default_factory=set)

    def relation(self) -> exp.Select:
        """``SELECT pk, aggregates FROM table AS f WHERE concept IN (the leaves' concepts) GROUP BY pk``: each
        aggregate reads only rows of its own concept, so rows of other concepts are dropped before grouping."""
        aggregates = [exp.alias_(agg, name, quoted=True) for name, agg in self.columns.values()]
        asked = exp.In(this=rel.col("concept", "f"), expressions=[rel.text(c) for c in sorted(self.concepts)])
        return (
            exp.select(rel.col(rel.KEY, "f"), *aggregates)
            .from_(rel.table(self.table, "f"))
            .where(asked)
            .group_by(rel.col(rel.KEY, "f"))
        )


@dataclass
class Frame:
    """What a condition is evaluated on: the patient (``p``) or a lesion (``l``), with its joined leaves."""

    alias: str
    keys: tuple[str, ...]
    joins: list[tuple[exp.Subquery, exp.Expr]] = field(default_factory=list)
    aliases: dict[object, str] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)

    def snapshot(self) -> Frame:
        """A copy to restore when a criterion fails to compile (its leaves must not stay joined)."""
        groups = {k: Group(g.table, g.alias, dict(g.columns), set(g.concepts)) for k, g in self.groups.items()}
        return Frame(self.alias, self.keys, list(self.joins), dict(self.aliases), groups)

    def select(self, base: str, columns: list[exp.Expr]) -> exp.Select:
        """``SELECT keys, columns FROM base LEFT JOIN leaves``."""
        query = exp.select(*(rel.col(k, self.alias) for k in self.keys), *columns)
        query = query.from_(rel.table(base, self.alias), copy=False)
        joins = [*self.joins]
        for group in self.groups.values():
            if group.columns:
                on = rel.keys_equal(self.alias, group.alias, (rel.KEY,))
                joins.append((group.relation().subquery(group.alias, copy=False), on))
        for subquery, on in joins:
            query = query.join(subquery, on=on, join_type="left", copy=False)
        return query


@dataclass
class Compiler:
    """Compiles conditions for one dialect, one as-of date and the derived calls a store holds."""

    dialect: Dialect
    as_of: dt.date
    library: ConceptLibrary
    calls: Calls
    frames: list[Frame] = field(default_factory=lambda: [Frame("p", ("patient_id",))])
    counter: list[int] = field(default_factory=lambda: [0])

    @property
    def frame(self) -> Frame:
        """The frame being compiled."""
        return self.frames[-1]

    def visit(self, node: r.Node) -> exp.Expr:
        """The status expression of a condition node."""
        visitor: Callable[[r.Node], exp.Expr] | None = getattr(self, f"visit_{type(node).__name__}", None)
        if visitor is None:
            raise CompileError(f"the SQL compiler has no visitor for rule node '{type(node).__name__}'")
        return visitor(node)

    def _name(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}{self.counter[0]}"

    def leaf(self, key: object, relation: exp.Select, keys: tuple[str, ...]) -> str:
        """Join a leaf relation to the current frame once; its alias."""
        frame = self.frame
        if key not in frame.aliases:
            alias = self._name("x")
            on = rel.keys_equal(frame.alias, alias, keys)
            frame.joins.append((relation.subquery(alias, copy=False), on))
            frame.aliases[key] = alias
        return frame.aliases[key]

    def aggregate(self, table: str, concept: str, key: object, make: Callable[[], exp.Expr]) -> exp.Column:
        """A per-patient aggregate over the rows of ``concept`` in ``table`` (aliased ``f``), computed in the
        table's group; its column."""
        frame = self.frame
        group = frame.groups.get(table)
        if group is None:
            group = frame.groups[table] = Group(table, self._name("g"))
        if key not in group.columns:
            group.columns[key] = (self._name("a"), make())
            group.concepts.add(concept)
        return rel.col(group.columns[key][0], group.alias)

    # ---------------------------------------------------------------------------------------------------------
    # Logic

    def visit_All(self, node: r.All) -> exp.Expr:
        return st.all_of([self.visit(i) for i in node.items])

    def visit_Any(self, node: r.Any) -> exp.Expr:
        return st.any_of([self.visit(i) for i in node.items])

    def visit_Not(self, node: r.Not) -> exp.Expr:
        return st.negate(self.visit(node.item))

    def visit_Review(self, node: r.Review) -> exp.Expr:
        return st.num(st.REVIEW)

    def visit_Unknown(self, node: r.Unknown) -> exp.Expr:
        return st.literal(Status.UNKNOWN)

    def visit_When(self, node: r.When) -> exp.Expr:
        otherwise = self.visit(node.otherwise) if node.otherwise else st.num(st.MET)
        return st.when(self.visit(node.condition), self.visit(node.then), otherwise)

    def visit_Unless(self, node: r.Unless) -> exp.Expr:
        return st.any_of([self.visit(node.rule), self.visit(node.exception)])

    # ---------------------------------------------------------------------------------------------------------
    # History

    def visit_Has(self, node: r.Has) -> exp.Expr:
        if node.setting is not None and node.setting != "metastatic":
            raise CompileError(f"Has: drug setting '{node.setting}' is not supported (only 'metastatic')")
        timing = node.timing
        if timing.mode == "continuous" and timing.duration is None:
            raise CompileError(f"Has: timing 'continuous' needs a duration for {node.domain} '{node.concept}'")
        rank, combine_all = (None, False) if timing.mode == "continuous" else self._episode_rank(node)
        if rank is not None and node.setting is None and self.frame.alias == "p":
            return self._grouped_has(node, rank, combine_all)
        excluded = self._excluded(node.exceptions)
        rows = rel.matching_events(EVENT_TABLES[node.domain], node.concept, excluded, node.setting is not None)
        if rank is None:
            assert timing.duration is not None
            relation = runs.continuous(node.domain, rows, timing.duration, timing.max_gap, self.as_of)
        else:
            relation = rel.has(node.domain, rows, rank, combine_all)
        return rel.col("status", self.leaf(("has", node), relation, (rel.KEY,)))

    def _grouped_has(self, node: r.Has, rank: exp.Expr, combine_all: bool) -> exp.Expr:
        """The common case (no setting, patient frame): one aggregate in the domain's group."""
        excluded = self._excluded(node.exceptions)

        def combined() -> exp.Expr:
            concept = exp.EQ(this=rel.col("concept", "f"), expression=rel.text(node.concept))
            matching = exp.and_(concept, rel.kept(excluded, "f")) if excluded else concept
            picked = exp.Case().when(matching, rank)
            return exp.Min(this=picked) if combine_all else exp.Max(this=picked)

        best = self.aggregate(EVENT_TABLES[node.domain], node.concept, ("has", node), combined)
        return rel.has_status(rel.col(f"n_{node.domain}", "p"), best)

    def _excluded(self, exceptions: tuple[str, ...]) -> list[str]:
        """The fact concepts an exception rules out: each exception and every narrower concept."""
        known = self.library.ids()
        return sorted({x for e in exceptions for x in (e, *(self.library.descendants(e) if e in known else ()))})

    def _episode_rank(self, node: r.Has) -> tuple[exp.Expr, bool]:
        """Each episode's status as a rank (not_met 0 < unknown 1 < met 2); ``before`` combines with MIN."""
        timing = node.timing

        def c(name: str) -> exp.Column:
            return rel.col(name, "f")

        met, unknown, not_met = st.num(rel.RANK_MET), st.num(rel.RANK_UNKNOWN), st.num(rel.RANK_NOT_MET)
        if timing.mode == "ever":
            return met, False
        if timing.mode == "active":
            live = exp.or_(c("ongoing"), exp.GTE(this=c("last_date"), expression=rel.day(self.as_of)))
            return exp.Case().when(live, met).else_(not_met), False
        if timing.duration is None or timing.mode not in ("within", "before"):
            raise CompileError(
                f"Has: timing '{timing.mode}' cannot be compiled to SQL for {node.domain} '{node.concept}'"
            )
        start = rel.day(window_start(self.as_of, timing.duration))
        null = exp.null()
        if timing.mode == "within":
            case = (
                exp.Case()
                .when(exp.and_(c("ongoing"), c("status_recorded")), met)
                .when(exp.Is(this=c("last_date"), expression=null), unknown)
                .when(exp.LT(this=c("last_date"), expression=start), not_met)
                .else_(met)
            )
            return case, False
        undated_ongoing = exp.and_(c("ongoing"), exp.Not(this=exp.Is(this=c("first_date"), expression=null)))
        case = (
            exp.Case()
            .when(exp.and_(exp.Is(this=c("since_date"), expression=null), undated_ongoing), not_met)
            .when(exp.Is(this=c("since_date"), expression=null), unknown)
            .when(exp.LT(this=c("since_date"), expression=start), met)
            .else_(not_met)
        )
        return case, True

    # ---------------------------------------------------------------------------------------------------------
    # Derived facts

    def _derived_call(self, name: str, args: tuple[tuple[str, str], ...], want_bool: bool) -> tuple[Call, str | None]:
        """A derived call the store holds, usable here (as a flag or a value); the call and its canonical unit."""
        spec = lookup(name)
        if spec is None:
            raise CompileError(f"unknown derived name '{name}'")
        if (spec.type == "boolean") != want_bool:
            raise CompileError(f"'{name}' is a {spec.type}, not usable as {'a flag' if want_bool else 'a value'}")
        lesion = spec.scope == "lesion"
        if lesion != (self.frame.alias == "l"):
            where = "only allowed inside" if lesion else "not allowed inside"
            raise CompileError(f"'{name}' describes a {spec.scope}: {where} count_lesions(where=...)")
        key = args_key(name, args)
        held = self.calls.lesion if lesion else self.calls.patient
        if (name, key) not in held:
            raise CompileError(f"the facts store holds no derived '{name}({key})'; re-ingest with the trial's rules")
        return (name, key), spec.unit

    def visit_Flag(self, node: r.Flag) -> exp.Expr:
        call, _ = self._derived_call(node.name, node.args, want_bool=True)
        return st.from_bool(rel.col(derived_column(call, "bool"), self.frame.alias))

    # ---------------------------------------------------------------------------------------------------------
    # Comparisons

    def visit_Compare(self, node: r.Compare) -> exp.Expr:
        value = node.value
        if isinstance(value, r.CountLesions):
            return self._count(value, node.op, node.threshold)
        if isinstance(value, r.Derived):
            call, canon = self._derived_call(value.name, value.args, want_bool=False)
            parts = {"value": "num", "category": "cat", "unit": "unit"}
            alias = self.frame.alias

            def derived(part: str) -> exp.Expr | None:
                return rel.col(derived_column(call, parts[part]), alias) if part in parts else None

            return self._judge(derived, node, canon, None)
        if isinstance(value, r.Latest | r.Extreme):
            return self._measured(value, node)
        raise CompileError(f"the SQL compiler has no reader for value node '{type(value).__name__}'")

    def _measured(self, value: r.Latest | r.Extreme, node: r.Compare) -> exp.Expr:
        try:
            concept = self.library.get(value.concept)
        except ConceptError as exc:
            raise CompileError(f"{type(value).__name__}: {exc}") from exc
        start = window_start(self.as_of, value.within) if value.within is not None else None
        if isinstance(value, r.Latest) and value.concept in self.calls.latest and self.frame.alias == "p":

            def part(name: str) -> exp.Expr | None:
                return _in_window(rel.col(latest_column(value.concept, name), "p"), value.concept, start)

        elif isinstance(value, r.Latest):

            def part(name: str) -> exp.Expr | None:
                read = partial(rel.latest_part, value.concept, start, name)
                return self.aggregate("measurements", value.concept, ("latest", value, name), read)

        else:
            relation = rel.extreme(value.function, value.concept, self.as_of, start)
            alias = self.leaf((type(value).__name__, value), relation, (rel.KEY,))

            def part(name: str) -> exp.Expr | None:
                return rel.col(name, alias)

        return self._judge(part, node, concept.unit, concept.molar_mass)

    def _judge(
        self, part: Callable[[str], exp.Expr | None], node: r.Compare, canon: str | None, molar: float | None
    ) -> exp.Expr:
        """The comparison's status over a value's parts (``value``, ``category``, ``unit``, ``high``)."""
        threshold, op = node.threshold, node.op
        if isinstance(threshold, r.Category | r.CategorySet):
            return _category_status(_present(part("category")), op, threshold)
        if op not in _NUMERIC:
            raise CompileError(f"Compare: operator '{op}' needs a set of categories, not a number")
        v = _present(part("value"))
        if isinstance(threshold, r.UlnMultiple):
            high = part("high")
            if high is None:
                return st.literal(Status.UNKNOWN)
            limit: exp.Expr = exp.Mul(this=st.num(float(threshold.factor)), expression=high)
        else:
            limit = _limit(_present(part("unit")), threshold, canon, molar)
        return st.from_bool(_NUMERIC[op](this=_snap(v, limit), expression=limit))

    def _count(self, value: r.CountLesions, op: str, threshold: r.Threshold) -> exp.Expr:
        if not isinstance(threshold, r.Quantity) or threshold.unit is not None or op not in _NUMERIC:
            raise CompileError("Compare: count_lesions can only be compared with a plain number in SQL")
        if self.frame.alias != "p":
            raise CompileError("count_lesions is not allowed inside count_lesions(where=...)")
        if value.where is None:  # every lesion counts: the patient's own count
            lo, count = rel.col("n_lesion", "p"), rel.col("n_lesion", "p")
            hi: exp.Expr = rel.col("n_lesion", "p")
        else:
            alias = self._lesion_counts(value.where)
            lo = rel.col("met", alias)
            hi = exp.Add(this=lo.copy(), expression=rel.col("open", alias))
            count = rel.col("n_lesion", alias)
        known = exp.GT(this=count, expression=st.num(0))
        return exp.Case().when(known, _range_status(lo, hi, op, threshold.value))

    def _lesion_counts(self, where: r.Condition) -> str:
        """Join the per-patient lesion counts (met and undecided under ``where``); their alias."""
        self.frames.append(Frame("l", (rel.KEY, "lesion_id")))
        try:
            condition = self.visit(where)
            statuses = self.frame.select("lesions", [exp.alias_(condition, "s", quoted=True)])
        finally:
            self.frames.pop()
        return self.leaf(("count", where), rel.lesion_counts(statuses), (rel.KEY,))

    def compile(self, rule: r.Condition) -> exp.Expr:
        """The status expression of a whole rule in the patient frame."""
        return self.visit(rule)


def _in_window(column: exp.Expr, concept: str, start: dt.date | None) -> exp.Expr:
    """A part of a pivoted latest reading, NULL when the reading is older than the window's start."""
    if start is None:
        return column
    recent = exp.GTE(this=rel.col(latest_column(concept, "date"), "p"), expression=rel.day(start))
    return exp.Case().when(recent, column)


def _present(column: exp.Expr | None) -> exp.Expr:
    if column is None:
        raise CompileError("Compare: the value has no such part")
    return column


def _snap(value: exp.Expr, limit: exp.Expr) -> exp.Expr:
    """A value equal to the limit up to float rounding counts as equal (as ``math.isclose``, rel_tol 1e-9)."""
    diff = exp.Abs(this=exp.Sub(this=value, expression=limit))
    scale = exp.Greatest(this=exp.Abs(this=value.copy()), expressions=[exp.Abs(this=limit.copy())], ignore_nulls=False)
    close = exp.LTE(this=diff, expression=exp.Mul(this=st.num(1e-9), expression=scale))
    return exp.Case().when(close, limit.copy()).else_(value.copy())


def _limit(unit: exp.Expr, threshold: r.Quantity, canon: str | None, molar: float | None) -> exp.Expr:
    """The threshold in the row's unit: as written when units agree, converted to the canonical unit else."""
    _finite(threshold.value)
    if threshold.unit is None:
        return st.num(float(threshold.value))
    case = exp.Case().when(exp.EQ(this=unit, expression=rel.text(threshold.unit)), st.num(float(threshold.value)))
    if canon is None:
        raise CompileError(f"Compare: a value without a unit is compared with {threshold.unit}")
    if canon != threshold.unit:
        try:
            converted = convert(threshold.value, threshold.unit, canon, molar)
        except UnitError as exc:
            raise CompileError(f"Compare: {exc}") from exc
        case = case.when(exp.EQ(this=unit.copy(), expression=rel.text(canon)), st.num(_finite(converted)))
    return case


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise CompileError("Compare: a threshold that is not a finite number cannot be compiled")
    return float(value)


def _category_status(category: exp.Expr, op: str, threshold: r.Category | r.CategorySet) -> exp.Expr:
    if isinstance(threshold, r.CategorySet):
        if op != "in":
            raise CompileError(f"Compare: a set of categories needs 'in', not '{op}'")
        values, want = sorted({_category(v) for v in threshold.values}), True
    else:
        if op not in ("==", "!="):
            raise CompileError(f"Compare: a category can only be compared with == or !=, not '{op}'")
        values, want = [_category(threshold.value)], op == "=="
    inside = exp.In(this=category, expressions=[rel.text(v) for v in values])
    status = st.from_bool(inside if want else exp.Not(this=inside))
    unsettled = sorted(_UNSETTLED - set(values))  # equivocal is neither side until settled, as the evaluator says
    if not unsettled:
        return status
    pending = exp.In(this=category.copy(), expressions=[rel.text(v) for v in unsettled])
    return exp.Case().when(pending, st.literal(Status.UNKNOWN)).else_(status)


def _range_status(lo: exp.Expr, hi: exp.Expr, op: str, limit: float) -> exp.Expr:
    """A count known to lie in [lo, hi]: decided only when every whole number in the range agrees."""
    if op in ("==", "!="):
        # A count is a small whole number: a limit beyond 2**31 equals none of the range's values.
        whole = {math.floor(limit), math.ceil(limit)} if abs(limit) < 2**31 else set()
        near = [k for k in whole if math.isclose(k, limit, rel_tol=1e-9)]
        met_if_eq = (
            exp.false()
            if not near
            else exp.and_(exp.EQ(this=lo, expression=st.num(near[0])), exp.EQ(this=hi, expression=st.num(near[0])))
        )
        inside = (
            exp.false()
            if not near
            else exp.and_(
                exp.LTE(this=lo.copy(), expression=st.num(near[0])), exp.GTE(this=hi.copy(), expression=st.num(near[0]))
            )
        )
        eq = exp.Case().when(met_if_eq, st.num(st.MET)).when(exp.Not(this=exp.paren(inside)), st.num(st.NOT_MET))
        return eq if op == "==" else st.negate(eq)
    limit_expr = st.num(float(limit))
    test = _NUMERIC[op]
    at_lo = test(this=_snap(lo, limit_expr), expression=limit_expr.copy())
    at_hi = test(this=_snap(hi, limit_expr.copy()), expression=limit_expr.copy())
    return (
        exp.Case()
        .when(exp.and_(at_lo, at_hi), st.num(st.MET))
        .when(
            exp.and_(exp.Not(this=exp.paren(at_lo.copy())), exp.Not(this=exp.paren(at_hi.copy()))), st.num(st.NOT_MET)
        )
    )
