"""A trial's screening as SQL: one wide query (a status column per top-level criterion), then the long
``criteria`` rows and the ``verdicts`` read from it.

Criterion statuses follow :func:`trialmatch.engine.screening.screen_criterion` (no site answers in a cohort
run): a criterion without a rule is unknown, or combines its sub-items (all for inclusion, any for
exclusion); a stale rule is unknown; an exception-granting criterion is not_met; otherwise its whole rule
(:meth:`TrialRules.rule_for`). A criterion whose rule cannot be compiled keeps a NULL column and the status
``not_compiled`` with the reason, and the verdict names it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlglot import exp

from trialmatch.cohort import relations as rel
from trialmatch.cohort import status as st
from trialmatch.cohort.calls import Calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import CompileError, Dialect
from trialmatch.engine.logic import Status
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.concepts import ConceptLibrary
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
    """The SQL of one trial: the wide query and the queries reading it (by the wide table's name)."""

    trial_id: str
    dialect: Dialect
    columns: list[Column] = field(default_factory=list)
    wide: exp.Select | None = None

    def criteria(self, wide_table: str) -> exp.Expr:
        """One row per patient and criterion: (patient_id, trial_id, criterion_id, status)."""
        parts = [
            exp.select(
                rel.col("patient_id"),
                exp.alias_(rel.text(self.trial_id), "trial_id", quoted=True),
                exp.alias_(rel.text(c.criterion_id), "criterion_id", quoted=True),
                exp.alias_(rel.text(NOT_COMPILED) if c.error else st.name_of(rel.col(c.name)), "status", quoted=True),
            ).from_(exp.to_table(wide_table, quoted=True))
            for c in self.columns
        ]
        query: exp.Expr = parts[0]
        for part in parts[1:]:
            query = exp.union(query, part, distinct=False)
        return query

    def verdicts(self, wide_table: str) -> exp.Select:
        """One row per patient: verdict, failed criteria (protocol order, ``;``-joined), counts."""
        fails = [_fails(c) for c in self.columns if not c.error]
        unknown = [exp.Is(this=rel.col(c.name), expression=exp.null()) for c in self.columns if not c.error]
        failed_ids = [exp.Case().when(f, rel.text(c.criterion_id)) for c, f in zip(self.compiled, fails, strict=True)]
        verdict = exp.Case()
        if fails:
            verdict = verdict.when(exp.or_(*fails), rel.text("ineligible"))
        if unknown or self.uncompiled:
            verdict = verdict.when(
                exp.or_(*unknown, exp.true() if self.uncompiled else exp.false()), rel.text("possible")
            )
        verdict = verdict.else_(rel.text("eligible"))
        failed = exp.ConcatWs(expressions=[rel.text(";"), *failed_ids], coalesce=True) if failed_ids else rel.text("")
        return exp.select(
            rel.col("patient_id"),
            exp.alias_(rel.text(self.trial_id), "trial_id", quoted=True),
            exp.alias_(verdict, "verdict", quoted=True),
            exp.alias_(failed, "failed", quoted=True),
            exp.alias_(rel.text(";".join(c.criterion_id for c in self.uncompiled)), NOT_COMPILED, quoted=True),
        ).from_(exp.to_table(wide_table, quoted=True))

    @property
    def compiled(self) -> list[Column]:
        """Columns with a compiled status."""
        return [c for c in self.columns if not c.error]

    @property
    def uncompiled(self) -> list[Column]:
        """Columns whose rule could not be compiled."""
        return [c for c in self.columns if c.error]

    def sql(self, wide_table: str = "wide") -> str:
        """Every statement, as the engine runs them."""
        assert self.wide is not None
        name = self.dialect.name
        statements = [
            self.wide.sql(dialect=name, pretty=True),
            self.criteria(wide_table).sql(dialect=name, pretty=True),
        ]
        statements.append(self.verdicts(wide_table).sql(dialect=name, pretty=True))
        notes = [f"-- {c.criterion_id}: not compiled: {c.error}" for c in self.uncompiled]
        header = [f"-- trial {self.trial_id}; statement 1 is materialized as {wide_table}", *notes]
        return "\n".join(header) + "\n" + ";\n\n".join(statements) + ";\n"


def _fails(column: Column) -> exp.Expr:
    failing = st.NOT_MET if column.inclusion else st.MET
    return exp.EQ(this=rel.col(column.name), expression=st.num(failing))


def compile_trial(
    bound: TrialRules, dialect: Dialect, as_of: dt.date, library: ConceptLibrary, calls: Calls
) -> TrialQuery:
    """The trial's SQL; criteria that cannot be compiled are listed with the reason, never dropped."""
    query = TrialQuery(bound.trial.trial_id, dialect)
    compiler = Compiler(dialect, as_of, library, calls)
    selected: list[exp.Expr] = []
    for n, criterion in enumerate(bound.trial.criteria):
        name = f"c{n}"
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
    query.wide = compiler.frame.select("patients", selected)
    return query


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
