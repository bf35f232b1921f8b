"""Hypothesis cohorts (patient records) and the cell-by-cell check shared by the DuckDB and Spark tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pyarrow.parquet as pq
from hypothesis import strategies as st
from sqlglot import exp

from trialmatch.cohort import status as sql_status
from trialmatch.cohort.calls import Calls
from trialmatch.cohort.compiler import Compiler
from trialmatch.cohort.dialects import DIALECTS, CompileError
from trialmatch.cohort.engines import DuckDBEngine, Engine
from trialmatch.cohort.ingest import store_calls, store_records
from trialmatch.cohort.screen import screen_store
from trialmatch.engine.answers import SiteAnswers
from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.screening import screen_trial
from trialmatch.errors import RuleError, UnitError
from trialmatch.patients.model import (
    Coding,
    ConditionFact,
    Lesion,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)
from trialmatch.rules import ast as r
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.testing import EVENTS, MEASURED
from trialmatch.terminology.concepts import default_library

T = TypeVar("T")

AS_OF = dt.date(2024, 6, 15)
LIB = default_library()
DRUGS = ("drug.trastuzumab", "drug.lapatinib", "drug.paclitaxel", "drug.pertuzumab")
CONDITIONS = (*EVENTS["condition"], "condition.metastasis.liver", "condition.metastasis.bone", "condition.hypertension")
PROCEDURES = ("procedure.major_surgery", "procedure.radiotherapy", "procedure.brain_radiotherapy", "procedure.biopsy")


def days() -> st.SearchStrategy[dt.date]:
    """Dates around the as-of date, some after it (which every reader must ignore)."""
    return st.integers(-2000, 60).map(lambda n: AS_OF + dt.timedelta(days=n))


def maybe_days() -> st.SearchStrategy[dt.date | None]:
    return st.none() | days()


def measurement(n: int) -> st.SearchStrategy[Measurement]:
    def build(
        concept: str,
        value: float | None,
        text: str | None,
        other_unit: bool,
        high: float | None,
        date: dt.date,
        status: str,
        bad: bool,
    ) -> Measurement:
        unit = LIB.get(concept).unit
        return Measurement(
            concept=concept,
            value=value,
            value_text=text if value is None else None,
            unit=None if value is None else ("mmol/L" if other_unit and concept == "lab.creatinine" else unit),
            high=high,
            date=date,
            status=status,
            flags=("implausible",) if bad else (),
            source=f"Observation/m{n}",
        )

    return st.builds(
        build,
        st.sampled_from(MEASURED),
        st.none() | st.sampled_from([0.5, 1.0, 1.5, 2.0, 18.0, 50.0, 140.0]) | st.floats(0, 500, allow_nan=False),
        st.sampled_from(["positive", "Not detected", "3+"]),
        st.booleans().filter(lambda b: not b) | st.just(True),
        st.none() | st.sampled_from([1.0, 1.2, 40.0]),
        days(),
        st.sampled_from(["final", "final", "amended", "cancelled"]),
        st.booleans(),
    )


# Codes a site never mapped: some name a concept in their display (possible facts, only ever unknown).
UNMAPPED_CONDITIONS = ("Papillary thyroid carcinoma", "Viral sinusitis")
UNMAPPED_PROCEDURES = ("Palliative radiotherapy to spine", "Physiotherapy session")


def _unmapped(display: str | None) -> tuple[Coding, ...]:
    return () if display is None else (Coding(system="http://hospital.example.org/codes", code="X1", display=display),)


def condition(n: int) -> st.SearchStrategy[ConditionFact]:
    return st.builds(
        lambda c, s, o, a, rec: ConditionFact(
            concept=c if c in CONDITIONS else None,
            codes=_unmapped(None if c in CONDITIONS else c),
            clinical_status=s,
            onset=o,
            abatement=a,
            recorded=rec,
            source=f"Condition/c{n}",
        ),
        st.sampled_from(CONDITIONS + UNMAPPED_CONDITIONS),
        st.none() | st.sampled_from(["active", "resolved", "remission", "recurrence"]),
        maybe_days(),
        maybe_days(),
        maybe_days(),
    )


def medication(n: int) -> st.SearchStrategy[MedicationFact]:
    return st.builds(
        lambda cs, t, s, a, b: MedicationFact(
            concepts=tuple(cs), record_type=t, status=s, start=a, end=b, source=f"MedicationRequest/d{n}"
        ),
        st.lists(st.sampled_from(DRUGS), min_size=1, max_size=2, unique=True),
        st.sampled_from(["request", "administration", "statement"]),
        st.none() | st.sampled_from(["active", "completed", "stopped", "entered-in-error"]),
        maybe_days(),
        maybe_days(),
    )


def procedure(n: int) -> st.SearchStrategy[ProcedureFact]:
    return st.builds(
        lambda c, s, a, b: ProcedureFact(
            concept=c if c in PROCEDURES else None,
            codes=_unmapped(None if c in PROCEDURES else c),
            status=s,
            start=a,
            end=b,
            source=f"Procedure/p{n}",
        ),
        st.sampled_from(PROCEDURES + UNMAPPED_PROCEDURES),
        st.none() | st.sampled_from(["completed", "in-progress", "not-done"]),
        maybe_days(),
        maybe_days(),
    )


def lesion(n: int) -> st.SearchStrategy[Lesion]:
    return st.builds(
        lambda node, irr, conf: Lesion(
            id=f"les-{n}",
            is_lymph_node=node,
            previously_irradiated=irr,
            confluent=conf,
            source=f"BodyStructure/les-{n}",
        ),
        st.booleans(),
        st.none() | st.booleans(),
        st.none() | st.booleans(),
    )


def facts(factory: Callable[[int], st.SearchStrategy[T]], most: int) -> st.SearchStrategy[tuple[T, ...]]:
    """Up to ``most`` facts, the n-th built by ``factory(n)`` (sources stay unique within a record)."""
    return st.integers(0, most).flatmap(lambda k: st.tuples(*(factory(i) for i in range(k))))


@st.composite
def records(draw: st.DrawFn, size: int = 6, drugs: int = 3) -> list[PatientRecord]:
    out = []
    for i in range(size):
        out.append(
            PatientRecord(
                patient_id=f"p{i}'; DROP TABLE x; --",
                birth_date=draw(st.none() | st.dates(dt.date(1940, 1, 1), dt.date(2006, 12, 31))),
                sex=draw(st.sampled_from(["female", "male", None])),
                measurements=draw(facts(measurement, 6)),
                conditions=draw(facts(condition, 3)),
                medications=draw(facts(medication, drugs)),
                procedures=draw(facts(procedure, 2)),
                lesions=draw(facts(lesion, 3)),
            )
        )
    return out


def sql_statuses(
    engine: Engine, compiler: Compiler, rules: list[r.Condition]
) -> tuple[dict[tuple[str, int], str], dict[int, str]]:
    """Each compilable rule's status per patient from SQL, and the compile error of the others."""
    columns, errors = [], {}
    for n, rule in enumerate(rules):
        try:
            columns.append(exp.alias_(sql_status.name_of(compiler.compile(rule)), f"r{n}", quoted=True))
        except CompileError as exc:
            errors[n] = str(exc)
    if not columns:
        return {}, errors
    table = engine.arrow(compiler.frame.select("patients", columns).sql(dialect=engine.dialect))
    cells = {
        (row["patient_id"], int(name[1:])): row[name]
        for row in table.to_pylist()
        for name in row
        if name != "patient_id"
    }
    return cells, errors


def check_cohort(
    engine_factory: type[DuckDBEngine] | object,
    tmp: Path,
    people: list[PatientRecord],
    rules: list[r.Condition],
    dialect: str,
    pivot_latest: bool = True,
) -> None:
    """Every cell: SQL status equals the evaluator's; uncompilable rules are reported, never run. Without
    ``pivot_latest`` the store keeps no latest-reading columns, so ``latest`` reads the measurements table."""
    calls = store_calls(rules)
    if not pivot_latest:
        calls = Calls(calls.patient, calls.lesion)
    store_records(people, tmp, AS_OF, calls)
    engine = engine_factory(tmp)  # type: ignore[operator]
    compiler = Compiler(DIALECTS[dialect], AS_OF, LIB, calls)
    cells, errors = sql_statuses(engine, compiler, rules)
    for n, rule in enumerate(rules):
        for person in people:
            try:
                expected = evaluate(rule, person, AS_OF).status.value
            except (RuleError, UnitError):
                continue  # the evaluator itself rejects this rule on this record's data
            except ValueError as exc:
                # Known evaluator limit: age against a threshold of ~1e5 years or more overflows the birthday
                # timeline (engine/measurements.py Comparison.birthdays); statuses are not at stake here.
                assert "out of range" in str(exc)
                continue
            if n in errors:
                assert (
                    "cannot" in errors[n] or "not supported" in errors[n] or "only" in errors[n] or "needs" in errors[n]
                )
                continue
            assert cells[(person.patient_id, n)] == expected, (n, rule, person.patient_id)
    engine.close()


def trial_rules(trials: Sequence[TrialRules]) -> list[r.Condition]:
    """Every bound rule of the trials (what ingest stores derived facts for)."""
    return [x for b in trials for c in b.trial.all_criteria() if (x := b.rule_for(c.id)) is not None]


def assert_store_screens_as_records(
    store: Path, out: Path, trials: Sequence[TrialRules], records: list[PatientRecord], as_of: dt.date
) -> set[tuple[str, str]]:
    """``screen_store`` gives each record's per-patient screening, criterion by criterion and verdict by verdict;
    the (trial, criterion) pairs it could not compile."""
    result = screen_store(store, trials, out, as_of=as_of)
    uncompiled = {(t.trial_id, criterion_id) for t in result.trials for criterion_id, _ in t.not_compiled}
    criteria = {
        (row["patient_id"], row["trial_id"], row["criterion_id"]): row["status"]
        for row in pq.read_table(out / "criteria.parquet").to_pylist()
    }
    verdicts = {
        (row["patient_id"], row["trial_id"]): row for row in pq.read_table(out / "verdicts.parquet").to_pylist()
    }
    for record in records:
        for bound in trials:
            outcome = screen_trial(record, bound, as_of, SiteAnswers())
            trial = bound.trial.trial_id
            for c in outcome.criteria:
                expected = "not_compiled" if (trial, c.id) in uncompiled else c.status.value
                assert criteria[(record.patient_id, trial, c.id)] == expected, (record.patient_id, trial, c.id)
            row = verdicts[(record.patient_id, trial)]
            if not any(t == trial for t, _ in uncompiled):
                assert (row["verdict"], row["failed"]) == (outcome.verdict, ";".join(outcome.failed))
            else:
                assert row["not_compiled"] == ";".join(cid for t, cid in sorted(uncompiled) if t == trial)
    return uncompiled
