"""Trials' screening as SQL: one wide query for every trial of a run (a status column per top-level criterion,
the leaves shared between trials), then the ``verdicts`` and the long ``criteria`` rows read from it.

Criterion statuses follow :func:`trialmatch.engine.screening.screen_criterion` (no site answers in a cohort
run): a criterion without a rule is unknown, or combines its sub-items (all for inclusion, any for
exclusion); a stale rule is unknown; an exception-granting criterion is not_met; otherwise its whole rule
(:meth:`TrialRules.rule_for`). A criterion whose rule cannot be compiled keeps a NULL column and the status
``not_compiled`` with the reason, and the verdict names it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort import status as st
from trialmatch.cohort.calls import Calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import CompileError, Dialect
from trialmatch.engine.logic import Status
from trialmatch.rules.catalog import TrialRules
from trialmatch.terminology.concepts import ConceptLibrary
from trialmatch.trials.model import Criterion, CriterionType

NOT_COMPILED = "not_compiled"


@dataclass(frozen=True)
class Column:
    """One top-level criterion's column in the wide query."""

    criterion_id: str
    inclusion: bool
    name: str
    error: str | None = None


@dataclass
class TrialQuery:
    """One trial's columns of the wide table and the queries reading them (by the wide table's name)."""

    trial_id: str
    columns: list[Column] = field(default_factory=list)

    def criteria(self, wide_table: str) -> exp.Expr:
        """One row per patient and criterion: (patient_id, trial_id, criterion_id, status)."""
        parts = [
            exp.select(
                rel.col("patient_id"),
                exp.alias_(rel.text(self.trial_id), "trial_id", quoted=True),
                exp.alias_(rel.text(c.criterion_id), "criterion_id", quoted=True),
                exp.alias_(rel.text(NOT_COMPILED) if c.error else st.name_of(rel.col(c.name)), "status", quoted=True),
            ).from_(rel.named(wide_table))
            for c in self.columns
        ]
        return _union(parts)

    def verdicts(self, wide_table: str) -> exp.Select:
        """One row per patient: verdict, failed criteria (protocol order, ``;``-joined), counts."""
        fails = [_fails(c) for c in self.columns if not c.error]
        unknown = [exp.Is(this=rel.col(c.name), expression=exp.null()) for c in self.columns if not c.error]
        failed_ids = [exp.Case().when(f, rel.text(c.criterion_id)) for c, f in zip(self.compiled, fails, strict=True)]
        verdict: exp.Expr = rel.text("eligible")  # a trial without criteria excludes no one
        if fails or unknown or self.uncompiled:
            case = exp.Case()
            if fails:
                case = case.when(exp.or_(*fails), rel.text("ineligible"))
            if unknown or self.uncompiled:
                open_ = exp.or_(*unknown, exp.true() if self.uncompiled else exp.false())
                case = case.when(open_, rel.text("possible"))
            verdict = case.else_(rel.text("eligible"))
        failed = exp.ConcatWs(expressions=[rel.text(";"), *failed_ids], coalesce=True) if failed_ids else rel.text("")
        return exp.select(
            rel.col("patient_id"),
            exp.alias_(rel.text(self.trial_id), "trial_id", quoted=True),
            exp.alias_(verdict, "verdict", quoted=True),
            exp.alias_(failed, "failed", quoted=True),
            exp.alias_(rel.text(";".join(c.criterion_id for c in self.uncompiled)), NOT_COMPILED, quoted=True),
        ).from_(rel.named(wide_table))

    @property
    def compiled(self) -> list[Column]:
        """Columns with a compiled status."""
        return [c for c in self.columns if not c.error]

    @property
    def uncompiled(self) -> list[Column]:
        """Columns whose rule could not be compiled."""
        return [c for c in self.columns if c.error]


def _fails(column: Column) -> exp.Expr:
    failing = st.NOT_MET if column.inclusion else st.MET
    return exp.EQ(this=rel.col(column.name), expression=st.num(failing))


@dataclass
class CohortQuery:
    """Every trial of a run compiled together: the wide query (its leaves joined once for all trials), then the
    verdicts and the criteria of every trial read from it."""

    dialect: Dialect
    trials: list[TrialQuery]
    wide: exp.Select

    def verdicts(self, wide_table: str) -> exp.Expr | None:
        """Every trial's verdicts, one after the other (None without trials)."""
        return _union([t.verdicts(wide_table) for t in self.trials]) if self.trials else None

    def criteria(self, wide_table: str) -> exp.Expr | None:
        """Every trial's criteria rows, one after the other (None when no trial has criteria)."""
        parts = [t.criteria(wide_table) for t in self.trials if t.columns]
        return _union(parts) if parts else None

    def sql(self, wide_table: str = "wide") -> str:
        """Every statement, as the engine runs them."""
        name = self.dialect.name
        statements = [self.wide, self.verdicts(wide_table), self.criteria(wide_table)]
        notes = [
            f"-- {t.trial_id} {c.criterion_id}: not compiled: {c.error}" for t in self.trials for c in t.uncompiled
        ]
        header = [f"-- statement 1 is materialized as {wide_table}; 2 is verdicts.parquet, 3 criteria.parquet", *notes]
        body = ";\n\n".join(x.sql(dialect=name, pretty=True) for x in statements if x is not None)
        return "\n".join(header) + "\n" + body + ";\n"


def _union(parts: Sequence[exp.Expr]) -> exp.Expr:
    """``UNION ALL`` of the parts, built in place: sqlglot copies both sides by default, which made a run of N
    trials copy the growing union N times (quadratic; minutes at 170 trials for the same SQL)."""
    query = parts[0]
    for part in parts[1:]:
        query = exp.union(query, part, distinct=False, copy=False)
    return query


MAX_BATCH_CRITERIA = 128
"""Top-level criteria compiled into one wide query. DuckDB's planning grows faster than linearly with the width
of one query (benchmarks/README.md), so a run of many trials is split into queries of bounded size, whole trials
each, and its cost grows linearly with the number of trials."""


def batches(trials: Sequence[TrialRules], limit: int = MAX_BATCH_CRITERIA) -> list[list[TrialRules]]:
    """The trials in order, grouped so that each group has at most ``limit`` top-level criteria (a larger trial
    is a group of its own)."""
    groups: list[list[TrialRules]] = []
    size = 0
    for bound in trials:
        width = len(bound.criteria)
        if not groups or size + width > limit:
            groups.append([])
            size = 0
        groups[-1].append(bound)
        size += width
    return groups


def compile_batches(
    trials: Sequence[TrialRules],
    dialect: Dialect,
    as_of: dt.date,
    library: ConceptLibrary,
    calls: Calls,
    limit: int = MAX_BATCH_CRITERIA,
) -> list[CohortQuery]:
    """The trials' SQL as wide queries of at most ``limit`` top-level criteria each, run one after the other."""
    return [compile_trials(group, dialect, as_of, library, calls) for group in batches(trials, limit)]


def compile_trials(
    trials: Sequence[TrialRules], dialect: Dialect, as_of: dt.date, library: ConceptLibrary, calls: Calls
) -> CohortQuery:
    """The trials' SQL; criteria that cannot be compiled are listed with the reason, never dropped."""
    compiler = Compiler(dialect, as_of, library, calls)
    selected: list[exp.Expr] = []
    queries = []
    for t, bound in enumerate(trials):
        query = TrialQuery(bound.trial.trial_id)
        for n, criterion in enumerate(bound.criteria):
            name = f"t{t}_c{n}"
            inclusion = criterion.type is CriterionType.INCLUSION
            frame = compiler.frame.snapshot()
            try:
                status = _criterion(compiler, bound, criterion)
            except CompileError as exc:
                compiler.frames[0] = frame  # drop joins made by the failed criterion
                query.columns.append(Column(criterion.id, inclusion, name, str(exc)))
                selected.append(exp.alias_(st.literal(Status.UNKNOWN), name, quoted=True))
                continue
            query.columns.append(Column(criterion.id, inclusion, name))
            selected.append(exp.alias_(status, name, quoted=True))
        queries.append(query)
    return CohortQuery(dialect, queries, compiler.frame.select("patients", selected))


def _criterion(compiler: Compiler, bound: TrialRules, criterion: Criterion) -> exp.Expr:
    entry = bound.entry(criterion.id)
    if entry is None:
        return _children(compiler, bound, criterion)
    if entry.text_hash != criterion.text_hash:
        return st.literal(Status.UNKNOWN)
    if entry.rule is None and not entry.parts and not entry.qualifies and criterion.children:
        return _children(compiler, bound, criterion)
    if entry.qualifies:
        return st.literal(Status.NOT_MET)
    rule = bound.rule_for(criterion.id)
    if rule is None:
        raise CompileError(f"{criterion.id}: the rule entry has no rule")
    return compiler.compile(rule)


def _children(compiler: Compiler, bound: TrialRules, criterion: Criterion) -> exp.Expr:
    """No rule of its own: unknown, or its sub-items combined (all for inclusion, any for exclusion)."""
    if not criterion.children:
        return st.literal(Status.UNKNOWN)
    children = [_criterion(compiler, bound, c) for c in criterion.children]
    return st.all_of(children) if criterion.type is CriterionType.INCLUSION else st.any_of(children)
