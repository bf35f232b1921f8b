"""Screening one patient against trials: criterion statuses, verdicts, missing data and time windows.

For each trial the curated (or drafted) rule of every criterion is evaluated on the patient's facts at the
as-of date. Criterion statuses combine into a verdict exactly as the shared contract defines it; site answers
settle review and unknown criteria; the time windows in the rules give ``eligible_from`` and ``valid_until``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trialmatch import __version__
from trialmatch.engine.answers import SiteAnswers
from trialmatch.engine.deceased import death_of, gate, gate_criterion
from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status, all_of, any_of
from trialmatch.engine.outcome import CriterionOutcome, EvidenceItem, ScreeningOutcome, TrialOutcome, Verdict
from trialmatch.engine.result import NodeResult
from trialmatch.patients.model import PatientRecord
from trialmatch.rules.ast import Condition
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.printer import print_rule
from trialmatch.rules.rulefile import CriterionRules
from trialmatch.trials.model import Criterion, CriterionType


@dataclass(frozen=True)
class Context:
    """What every criterion of one screening shares."""

    record: PatientRecord
    as_of: dt.date
    answers: SiteAnswers
    bound: TrialRules


def _evidence(result: NodeResult) -> tuple[EvidenceItem, ...]:
    seen: dict[tuple[str, str | None, str | None], EvidenceItem] = {}
    stack = [result]
    while stack:
        node = stack.pop()
        for item in node.evidence:
            key = (item.fact, item.source, item.date.isoformat() if item.date else None)
            seen.setdefault(
                key,
                EvidenceItem(fact=item.fact, value=item.value, unit=item.unit, date=key[2], source=item.source),
            )
        stack.extend(node.children)
    return tuple(seen.values())


@functools.lru_cache(maxsize=4096)
def _printed(rule: Condition) -> str:
    """Rule text for reports; the same rule is printed once per process, not once per patient."""
    return print_rule(rule)


def _from_result(
    cid: str,
    ctype: CriterionType,
    text: str,
    rule: Condition,
    result: NodeResult,
    entry: CriterionRules | None,
) -> CriterionOutcome:
    missing = (entry.missing,) if entry and entry.missing and result.status is Status.UNKNOWN else result.missing
    return CriterionOutcome(
        id=cid,
        type=ctype.value,
        text=text,
        status=result.status,
        reason=result.reason[:1].upper() + result.reason[1:],
        evidence=_evidence(result),
        rule=_printed(rule),
        missing=tuple(missing) if result.status is Status.UNKNOWN else (),
        changes_on=result.changes_on,
        time_bound=result.time_bound,
    )


def _evaluate_entry(ctx: Context, criterion: Criterion, entry: CriterionRules) -> CriterionOutcome:
    ctype = criterion.type
    base = {"computability": entry.computability, "drafted": entry.drafted}
    if entry.qualifies:
        return CriterionOutcome(
            id=criterion.id,
            type=ctype.value,
            text=criterion.text,
            status=Status.NOT_MET,
            reason=f"Grants an exception to {entry.qualifies}; it is evaluated there and excludes no one on its own.",
            **base,
        )
    rule = ctx.bound.rule_for(criterion.id)
    assert rule is not None  # an entry has a rule, parts, or qualifies (validated on load)
    whole = _from_result(criterion.id, ctype, criterion.text, rule, _eval(ctx, rule), entry).model_copy(update=base)
    if not entry.parts:
        return whole
    parts = tuple(
        _from_result(p.id, ctype, p.label or criterion.text, p.rule, _eval(ctx, p.rule), entry).model_copy(
            update={"drafted": entry.drafted}
        )
        for p in entry.parts
    )
    deciding = [p for p in parts if p.status is whole.status]
    update = {"parts": parts, "reason": _parts_reason(whole.status, deciding), "rule": None, "evidence": ()}
    return whole.model_copy(update=update)  # each part carries its own evidence


def _eval(ctx: Context, rule: Condition) -> NodeResult:
    return evaluate(rule, ctx.record, ctx.as_of)


def _parts_reason(status: Status, deciding: Sequence[CriterionOutcome]) -> str:
    """Name the parts that decide the status, with their own reasons (all of them when every part is met)."""
    if not deciding:
        return f"{status.value.replace('_', ' ').capitalize()} because of the exception it is qualified by."
    if status is Status.MET and all(p.status is Status.MET for p in deciding):
        names = ", ".join(p.id.split("/", 1)[-1] for p in deciding)
        return f"All parts met ({names})."
    return " ".join(f"[{p.id.split('/', 1)[-1]}] {p.reason.rstrip('.')}." for p in deciding)


def _earliest(dates: Iterable[dt.date | None]) -> dt.date | None:
    present = [d for d in dates if d is not None]
    return min(present) if present else None


def _unevaluated(criterion: Criterion, reason: str, missing: str, **flags: bool) -> CriterionOutcome:
    """A criterion whose rule cannot be used: unknown, never review, saying what would let it be evaluated."""
    return CriterionOutcome(
        id=criterion.id,
        type=criterion.type.value,
        text=criterion.text,
        status=Status.UNKNOWN,
        reason=reason,
        missing=(missing,),
        **flags,
    )


def _combine_children(criterion: Criterion, children: tuple[CriterionOutcome, ...]) -> CriterionOutcome:
    """A parent stated only through its sub-items: all must hold (inclusion), any excludes (exclusion)."""
    inclusion = criterion.type is CriterionType.INCLUSION
    status = all_of(c.status for c in children) if inclusion else any_of(c.status for c in children)
    word = "all" if inclusion else "any"
    return CriterionOutcome(
        id=criterion.id,
        type=criterion.type.value,
        text=criterion.text,
        status=status,
        reason=f"Combines its sub-items ({word} of {', '.join(c.id for c in children)}): {status.value}.",
        children=children,
        missing=tuple(m for c in children for m in c.missing),
        changes_on=_earliest(c.changes_on for c in children),
        time_bound=status is not Status.UNKNOWN and all(c.time_bound for c in children if c.status is status),
    )


def screen_criterion(ctx: Context, criterion: Criterion) -> CriterionOutcome:
    """Status of one criterion (with its sub-items), site answers applied."""
    children = tuple(screen_criterion(ctx, child) for child in criterion.children)
    entry = ctx.bound.entry(criterion.id)
    if entry is None:
        outcome = (
            _combine_children(criterion, children)
            if children
            else _unevaluated(
                criterion,
                "No computable rule has been written for this criterion yet.",
                f"a rule (or a site answer) for {criterion.id}",
            )
        )
    elif entry.text_hash != criterion.text_hash:
        outcome = _unevaluated(
            criterion,
            "The rule was written for a different wording of this criterion (stale); it needs re-curation.",
            f"a rule re-curated for the current text of {criterion.id}",
            stale=True,
            drafted=entry.drafted,
        )
    elif entry.rule is None and not entry.parts and not entry.qualifies and children:
        outcome = _combine_children(criterion, children).model_copy(update={"computability": entry.computability})
    else:
        outcome = _evaluate_entry(ctx, criterion, entry)
    if children and not outcome.children:
        outcome = outcome.model_copy(update={"children": children})
    return apply_answer(ctx, outcome)


def apply_answer(ctx: Context, outcome: CriterionOutcome) -> CriterionOutcome:
    """Settle a review or unknown status with the site's answer; never override the records silently."""
    parts = tuple(apply_answer(ctx, p) for p in outcome.parts)
    if parts != outcome.parts:
        combine = all_of if outcome.type == "inclusion" else any_of
        outcome = outcome.model_copy(update={"parts": parts, "status": combine(p.status for p in parts)})
    answer = ctx.answers.lookup(ctx.record.patient_id, ctx.bound.trial.trial_id, outcome.id)
    if answer is None:
        return outcome
    if outcome.status in (Status.REVIEW, Status.UNKNOWN):
        note = f" ({answer.note})" if answer.note else ""
        return outcome.model_copy(
            update={
                "status": answer.status,
                "reason": f"Answered by the site: {answer.status.value}{note}. Records: {outcome.reason}",
                "answered_by": answer.answered_by,
                "missing": (),
            }
        )
    if answer.status is outcome.status:
        return outcome.model_copy(update={"answered_by": answer.answered_by})
    return outcome.model_copy(
        update={
            "reason": f"{outcome.reason} The site answered {answer.status.value} ({answer.answered_by}), "
            "which disagrees with the records; the records' result is kept."
        }
    )


def verdict_of(criteria: Sequence[CriterionOutcome]) -> tuple[Verdict, tuple[str, ...]]:
    """The contract's verdict and the ids of the criteria that make the patient ineligible."""
    failed = tuple(c.id for c in criteria if _fails(c))
    if failed:
        return "ineligible", failed
    if any(c.status is Status.UNKNOWN for c in criteria):
        return "possible", ()
    return "eligible", ()


def _fails(c: CriterionOutcome) -> bool:
    failing = Status.NOT_MET if c.type == "inclusion" else Status.MET
    return c.status is failing


def _passes(c: CriterionOutcome) -> bool:
    passing = Status.MET if c.type == "inclusion" else Status.NOT_MET
    return c.status is passing


def eligible_from(criteria: Sequence[CriterionOutcome]) -> dt.date | None:
    """When every failing criterion is a time window that passes by itself, the first date all have passed."""
    failing = [c for c in criteria if _fails(c)]
    if not failing or not all(c.time_bound and c.changes_on for c in failing):
        return None
    return max(c.changes_on for c in failing if c.changes_on)


def valid_until(criteria: Sequence[CriterionOutcome]) -> dt.date | None:
    """The first date a passing criterion stops passing by the passage of time alone."""
    return _earliest(c.changes_on for c in criteria if _passes(c) and c.changes_on)


def screen_trial(record: PatientRecord, bound: TrialRules, as_of: dt.date, answers: SiteAnswers) -> TrialOutcome:
    """One patient against one trial."""
    ctx = Context(record=record, as_of=as_of, answers=answers, bound=bound)
    criteria = tuple(screen_criterion(ctx, c) for c in bound.criteria)
    verdict, failed = verdict_of(criteria)
    flat = [d for c in criteria for d in walk(c)]
    # For a failed trial the failing criteria are what matter: no data would make the patient eligible.
    unknowns = () if verdict == "ineligible" else (c for c in criteria if c.status is Status.UNKNOWN)
    missing = tuple(dict.fromkeys(m for c in unknowns for m in c.missing))
    trial = bound.trial
    return TrialOutcome(
        trial_id=trial.trial_id,
        aliases=trial.aliases,
        title=trial.title,
        recruitment_status=trial.recruitment_status,
        rules_version=bound.version,
        verdict=verdict,
        failed=failed,
        missing=missing,
        needs_review=tuple(c.id for c in criteria if c.status is Status.REVIEW),
        eligible_from=eligible_from(criteria) if verdict == "ineligible" else None,
        valid_until=valid_until(criteria) if verdict != "ineligible" else None,
        rests_on_drafts=any(d.drafted for d in flat),
        stale_rules=tuple(d.id for d in flat if d.stale),
        criteria=criteria,
    )


def walk(c: CriterionOutcome) -> list[CriterionOutcome]:
    """A criterion outcome followed by all its sub-items and parts."""
    out = [c]
    for sub in (*c.children, *c.parts):
        out.extend(walk(sub))
    return out


def screen_patient(
    record: PatientRecord,
    trials: Sequence[TrialRules],
    as_of: dt.date,
    answers: SiteAnswers | None = None,
    concepts_version: str | None = None,
) -> ScreeningOutcome:
    """One patient against every given trial, best candidates first."""
    from trialmatch.engine.ranking import rank

    day = record.last_alive(as_of)
    outcomes = [screen_trial(record, bound, day, answers or SiteAnswers()) for bound in trials]
    died = record.died_by(as_of)
    if died:
        criterion = gate_criterion(record)
        outcomes = [gate(o, criterion) for o in outcomes]
    return ScreeningOutcome(
        patient_id=record.patient_id,
        as_of=as_of,
        engine_version=__version__,
        concepts_version=concepts_version,
        trials=tuple(rank(outcomes)),
        input_problems=record.problems,
        deceased=death_of(record) if died else None,
    )
