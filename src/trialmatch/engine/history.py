"""Event history: whether a condition, drug or procedure is on record with the timing a rule asks for.

History is read closed-world (DESIGN.md): no record of the concept means not_met ("no record of ..."), unless
the patient has no facts at all in that domain up to as-of, which makes the answer unknown. Facts dated after
as-of are ignored. Facts whose concept is-a one of the rule's exceptions do not count.

Every matching fact becomes an *episode* (first date, last date, ongoing) and is judged on its own; the
episodes then combine with ``any`` (``before``: with ``all``, since "more than 6 months ago" also means
"not since"). A fact whose needed date is missing is unknown, never a silent pass.

- ``ever``: any record.
- ``active``: conditions with clinical status active/recurrence/relapse, or with no status and no abatement
  up to as-of; drugs and procedures ongoing at as-of (no end and an active status, or an end on/after as-of).
- ``within D``: the episode's last date is inside the window, or it is ongoing. A condition recorded as active
  counts as within any window (a cancer diagnosed 8 years ago that is still active is "within 5 years"); one
  with neither a clinical status nor an end date is dated by its onset. A
  condition's last date is the latest of onset, recorded and abatement. A drug's is the last dose or end of
  exposure (a request or statement without end and with a completed status counts at its start).
- ``before D``: the last event (for conditions: the onset, else recorded date) is before the window.
- ``continuous D, max_gap G`` (drugs): some run of exposures, each starting at most G after the previous
  one ended, spans at least D up to as-of.
- ``setting=metastatic`` (drugs): only exposures starting on/after the first metastasis diagnosis count.

Time: a met ``within`` flips to not_met on the day the last date leaves the window (a washout ending); a
not_met ``before`` flips to met on that day; an exposure with a planned end stops being active the day after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from trialmatch.engine.logic import Status, all_of, any_of
from trialmatch.engine.result import Change, Evidence, NodeResult, Timeline, combine
from trialmatch.errors import RuleError
from trialmatch.patients.derive.base import Context, condition_date
from trialmatch.patients.derive.timewindow import describe, expires_on, shift, window_start
from trialmatch.patients.model import ConditionFact, MedicationFact, ProcedureFact
from trialmatch.rules.ast import Duration, Has, Timing

Domain = Literal["condition", "drug", "procedure"]
DAY = dt.timedelta(days=1)
_ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
_ONGOING = frozenset({"active", "in-progress", "on-hold"})
_EMPTY_MISSING = {
    "condition": "diagnosis history",
    "drug": "medication history",
    "procedure": "procedure history",
}
METASTASIS = "condition.metastasis"


@dataclass(frozen=True)
class Episode:
    """A fact as a span: ``first``/``last`` known dates, ``ongoing`` at as-of, ``since`` for ``before``."""

    concept: str
    first: dt.date | None
    last: dt.date | None
    ongoing: bool
    since: dt.date | None
    source: str
    status_recorded: bool = True


@dataclass(frozen=True)
class Judged:
    """An episode's status for the rule's timing, with its timeline and a clause for the reason."""

    episode: Episode
    status: Status
    timeline: Timeline
    clause: str


def condition_episode(fact: ConditionFact, concept: str) -> Episode:
    """A condition (already seen as of as-of) as an episode."""
    start = condition_date(fact)
    status = fact.clinical_status
    if not status and fact.abatement is None:
        # No status and no end: taken as still present, but dated by its onset, so that an event such as a
        # myocardial infarction recorded years ago is not "within 6 months" merely for lacking a status.
        return Episode(concept, start, start, True, start, fact.source, status_recorded=False)
    ongoing = status in _ACTIVE_CONDITION if status else False
    dates = [d for d in (fact.onset, fact.recorded, fact.abatement) if d is not None]
    return Episode(concept, start, None if ongoing else max(dates, default=None), ongoing, start, fact.source)


def event_episode(fact: MedicationFact | ProcedureFact, concept: str) -> Episode:
    """A drug exposure or procedure as an episode: open-ended while its status says it is going on and no end
    is recorded, whatever the record type (an in-progress administration over an open period is ongoing)."""
    open_ended = fact.end is None and fact.status in _ONGOING
    last = None if open_ended else (fact.end or fact.start)
    return Episode(concept, fact.start, last, open_ended, last, fact.source)


def _is_active(ep: Episode, as_of: dt.date) -> tuple[Status, Timeline]:
    if ep.ongoing:
        return Status.MET, ()
    if ep.last is not None and ep.last >= as_of:
        return Status.MET, (Change(date=ep.last + DAY, status=Status.NOT_MET),)
    return Status.NOT_MET, ()


def _within(ep: Episode, span_start: dt.date, timing: Timing) -> tuple[Status, Timeline]:
    if ep.ongoing and ep.status_recorded:
        return Status.MET, ()
    if ep.last is None:
        return Status.UNKNOWN, ()
    if ep.last < span_start:
        return Status.NOT_MET, ()
    assert timing.duration is not None
    return Status.MET, (Change(date=expires_on(ep.last, timing.duration), status=Status.NOT_MET),)


def _before(ep: Episode, span_start: dt.date, timing: Timing) -> tuple[Status, Timeline]:
    if ep.since is None:
        # An exposure going on now is not "more than D ago"; an undated diagnosis cannot be placed.
        return (Status.NOT_MET if ep.ongoing and ep.first is not None else Status.UNKNOWN), ()
    if ep.since < span_start:
        return Status.MET, ()
    assert timing.duration is not None
    return Status.NOT_MET, (Change(date=expires_on(ep.since, timing.duration), status=Status.MET),)


def judge(ep: Episode, timing: Timing, as_of: dt.date, labels: Wording) -> Judged:
    """One episode against the timing: status, timeline and the clause that explains it."""
    name = labels.event(ep.concept)
    if timing.mode == "ever":
        return Judged(ep, Status.MET, (), f"{name} is recorded{_on(ep.first or ep.last)}")
    if timing.mode == "active":
        status, timeline = _is_active(ep, as_of)
        state = "is active" if status is Status.MET else "is recorded but not active"
        return Judged(ep, status, timeline, f"{name}{_on(ep.last or ep.first)} {state}")
    if timing.duration is None:
        raise RuleError(f"timing '{timing.mode}' needs a duration")
    span = describe(timing.duration)
    start = window_start(as_of, timing.duration)
    if timing.mode == "within":
        status, timeline = _within(ep, start, timing)
        return Judged(ep, status, timeline, _within_clause(name, ep, status, timeline, span, labels))
    if timing.mode == "before":
        status, timeline = _before(ep, start, timing)
        return Judged(ep, status, timeline, _before_clause(name, ep, status, timeline, span))
    raise RuleError(f"timing '{timing.mode}' is only defined for drugs")


def _on(day: dt.date | None) -> str:
    return f" on {day.isoformat()}" if day else ""


def _within_clause(name: str, ep: Episode, status: Status, tl: Timeline, span: str, labels: Wording) -> str:
    if ep.ongoing:
        return f"{name} is ongoing, so within {span}"
    if status is Status.UNKNOWN:
        return f"the date of {name} is not recorded"
    if status is Status.NOT_MET:
        return f"{name}{_on(ep.last)} is more than {span} ago"
    return f"{name}{_on(ep.last)} is within {span} ({labels.window_word} ends {tl[0].date.isoformat()})"


def _before_clause(name: str, ep: Episode, status: Status, tl: Timeline, span: str) -> str:
    if status is Status.UNKNOWN:
        return f"the date of {name} is not recorded"
    if status is Status.MET:
        return f"{name}{_on(ep.since)} is more than {span} ago"
    if not tl:
        return f"{name} is ongoing, not more than {span} ago"
    return f"{name}{_on(ep.since)} is not more than {span} ago (it will be on {tl[0].date.isoformat()})"


@dataclass(frozen=True)
class Wording:
    """How a rule's facts are named in reasons: "last dose of lapatinib", and what its window is called."""

    label: Callable[[str], str]
    prefix: str = ""
    window_word: str = "window"

    def event(self, concept: str) -> str:
        """A fact's concept as the reason names it."""
        return f"{self.prefix}{self.label(concept)}"


def wording(domain: Domain, timing: Timing, label: Callable[[str], str]) -> Wording:
    """Drug windows are washouts and name the last dose."""
    if domain == "drug":
        return Wording(label, "last dose of " if timing.mode in ("within", "before") else "", "washout")
    return Wording(label)


Fact = ConditionFact | MedicationFact | ProcedureFact


@dataclass
class HistoryIndex:
    """One record's history as of a date, with each (domain, concept, exceptions) match computed once."""

    context: Context
    _cache: dict[tuple[str, str, tuple[str, ...]], tuple[Episode, ...]] = field(default_factory=dict)

    def facts(self, domain: Domain) -> Sequence[Fact]:
        """All usable facts of a domain up to as-of."""
        ctx = self.context
        if domain == "condition":
            return ctx.conditions
        return ctx.medications if domain == "drug" else ctx.procedures

    def episodes(self, domain: Domain, concept: str, exceptions: tuple[str, ...]) -> tuple[Episode, ...]:
        """Episodes of facts whose concept is-a ``concept`` and is-a none of ``exceptions``."""
        key = (domain, concept, exceptions)
        if key not in self._cache:
            self._cache[key] = tuple(self._match(domain, concept, exceptions))
        return self._cache[key]

    def _match(self, domain: Domain, concept: str, exceptions: tuple[str, ...]) -> list[Episode]:
        isa = self.context.isa
        out: list[Episode] = []
        for fact in self.facts(domain):
            concepts = fact.concepts if isinstance(fact, MedicationFact) else (fact.concept,)
            hit = next(
                (c for c in concepts if c and isa(c, concept) and not any(isa(c, e) for e in exceptions)),
                None,
            )
            if hit is not None:
                out.append(
                    condition_episode(fact, hit) if isinstance(fact, ConditionFact) else event_episode(fact, hit)
                )
        return out

    def metastatic_since(self) -> dt.date | None:
        """The first metastasis diagnosis date, or None."""
        dates = [e.first for e in self.episodes("condition", METASTASIS, ()) if e.first is not None]
        return min(dates, default=None)


def evaluate_has(node: Has, history: HistoryIndex, label: Callable[[str], str]) -> NodeResult:
    """A Has node: closed-world history with the node's timing, exceptions and setting."""
    what = label(node.concept) + _except_phrase(node.exceptions, label)
    if not history.facts(node.domain):
        return NodeResult(
            status=Status.UNKNOWN,
            reason=f"no {_EMPTY_MISSING[node.domain]} is recorded, so {what} cannot be ruled out",
            missing=(_EMPTY_MISSING[node.domain],),
        )
    episodes = history.episodes(node.domain, node.concept, node.exceptions)
    if node.setting is not None:
        episodes, reason = _in_setting(node.setting, episodes, history)
        what += reason
    if not episodes:
        return NodeResult(status=Status.NOT_MET, reason=f"no record of {what}")
    as_of = history.context.as_of
    if node.timing.mode == "continuous":
        return evaluate_continuous(node.timing, episodes, as_of, label(node.concept))
    words = wording(node.domain, node.timing, label)
    judged = [judge(ep, node.timing, as_of, words) for ep in episodes]
    status, timeline = combine(
        [(j.status, j.timeline) for j in judged], all_of if node.timing.mode == "before" else any_of
    )
    decider = pick(judged, status) or judged[-1]
    missing = (f"date of {label(decider.episode.concept)}",) if status is Status.UNKNOWN else ()
    return NodeResult(
        status=status, reason=decider.clause, evidence=evidence_of(judged), missing=missing, timeline=timeline
    )


def _except_phrase(exceptions: tuple[str, ...], label: Callable[[str], str]) -> str:
    if not exceptions:
        return ""
    names = [label(e) for e in exceptions]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f" other than {joined}"


def _in_setting(setting: str, episodes: tuple[Episode, ...], history: HistoryIndex) -> tuple[tuple[Episode, ...], str]:
    """Keep exposures that began in the metastatic setting (on/after the first metastasis diagnosis)."""
    if setting != "metastatic":
        raise RuleError(f"drug setting '{setting}' is not supported (only 'metastatic')")
    since = history.metastatic_since()
    if since is None:
        return (), " in the metastatic setting (no metastatic disease is recorded)"
    kept = tuple(e for e in episodes if e.first is None or e.first >= since)
    return kept, f" in the metastatic setting (since {since.isoformat()})"


def pick(judged: Sequence[Judged], status: Status) -> Judged | None:
    """The episode that decides ``status``: the most recent one having it."""
    having = [j for j in judged if j.status is status]
    return max(having, key=lambda j: j.episode.last or j.episode.first or dt.date.min, default=None)


def evidence_of(judged: Sequence[Judged]) -> tuple[Evidence, ...]:
    """Each judged episode as evidence, its status as the value."""
    return tuple(
        Evidence(
            fact=j.episode.concept,
            value=j.status.value,
            date=j.episode.last or j.episode.first,
            source=j.episode.source,
        )
        for j in judged
    )


@dataclass(frozen=True)
class Run:
    """Exposures joined across gaps no longer than the allowed one; ``end`` None while ongoing."""

    start: dt.date
    end: dt.date | None
    sources: tuple[str, ...]


def exposure_runs(episodes: Sequence[Episode], max_gap: Duration | None) -> list[Run]:
    """Join dated exposures, in start order, whenever the next starts within ``max_gap`` of the run's end."""
    gap = max_gap or Duration(amount=0, unit="d")
    runs: list[Run] = []
    for ep in sorted((e for e in episodes if e.first is not None), key=lambda e: e.first or dt.date.min):
        assert ep.first is not None
        end = None if ep.ongoing else (ep.last or ep.first)
        last = runs[-1] if runs else None
        if last is not None and (last.end is None or ep.first <= shift(last.end, gap) + DAY):
            later = None if last.end is None or end is None else max(last.end, end)
            runs[-1] = Run(last.start, later, (*last.sources, ep.source))
        else:
            runs.append(Run(ep.first, end, (ep.source,)))
    return runs


def evaluate_continuous(timing: Timing, episodes: Sequence[Episode], as_of: dt.date, name: str) -> NodeResult:
    """Met when the current run of exposures spans ``timing.duration``; an ongoing run may get there later.

    Only a run still going at as-of (ended no more than ``max_gap`` before it) counts: "on maintenance for at
    least 2 years" is about the present treatment, not a course that ended years ago.
    """
    if timing.duration is None:
        raise RuleError("timing 'continuous' needs a duration")
    gap = timing.max_gap or Duration(amount=0, unit="d")
    span = f"{describe(timing.duration)} with gaps of at most {describe(gap)}"
    current_from = as_of - (shift(as_of, gap) - as_of)
    runs = [r for r in exposure_runs(episodes, timing.max_gap) if r.end is None or r.end >= current_from]
    evidence = tuple(Evidence(fact=e.concept, date=e.last or e.first, source=e.source) for e in episodes)
    for run in runs:
        upto = as_of if run.end is None else min(run.end, as_of)
        if upto >= shift(run.start, timing.duration):
            reason = f"{name} taken continuously from {run.start.isoformat()} to {upto.isoformat()} ({span})"
            return NodeResult(status=Status.MET, reason=reason, evidence=evidence)
    if any(e.first is None for e in episodes):
        return NodeResult(
            status=Status.UNKNOWN,
            reason=f"start dates of some {name} exposures are not recorded, so continuity cannot be judged",
            evidence=evidence,
            missing=(f"start dates of {name} exposures",),
        )
    reaches = [
        shift(r.start, timing.duration) for r in runs if r.end is None or r.end >= shift(r.start, timing.duration)
    ]
    timeline = (Change(date=min(reaches), status=Status.MET),) if reaches else ()
    longest = max(runs, key=lambda r: ((r.end or as_of) - r.start).days, default=None)
    detail = f" (longest run {longest.start.isoformat()} to {(longest.end or as_of).isoformat()})" if longest else ""
    reason = f"no current continuous exposure to {name} lasting {span}{detail}"
    return NodeResult(status=Status.NOT_MET, reason=reason, evidence=evidence, timeline=timeline)
