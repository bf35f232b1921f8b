"""Per-patient rule evaluation: a rule tree, a patient record and an as-of date give a result tree.

Each node kind has one ``visit_<Node>`` function; a kind with no visitor raises, so support is total by
construction. Conditions give a :class:`NodeResult`; values (latest, min/max, derived, lesion counts) give a
:class:`~trialmatch.engine.measurements.Reading` that ``Compare`` judges.

Semantics (documented for rule authors in ``docs/rules.md``):

- ``all``/``any``/``not`` follow :mod:`trialmatch.engine.logic` (four statuses).
- ``when(c, t, o)``: c met → t; c not_met → o (met when absent); c unknown → the common status of t and o
  when they agree, else unknown.
- ``r unless e`` has the status of ``any(e, r)``; its reason names the exception.
- ``review("...")`` is review and ``unknown("...")`` unknown, each with its text as the reason.
- Measurements (:mod:`trialmatch.engine.measurements`) and history (:mod:`trialmatch.engine.history`) are
  read as their modules describe. Derived values and flags come from the :class:`Deriver`; a None value is
  unknown, with the deriver's own words for what is missing.
- ``count_lesions(where=P)``: every lesion is judged by P in lesion scope; the count is the range from the
  met lesions to the met plus undecided ones, and a comparison is decided only when the whole range agrees.
  A record with no lesions gives an unknown count.
- Time: every result carries the status changes time alone brings (see :mod:`trialmatch.engine.result`).
  Age grows by one at each birthday; a flag's value flips on its ``changes_on``; any other derived value is
  taken to become unknown on its ``changes_on``.

Facts are indexed once per (record, as-of, library) in a :class:`PatientIndex`; ``evaluate`` keeps the last
index it built (holding the record, so the identity check is safe) or takes one explicitly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trialmatch.engine.history import HistoryIndex, evaluate_has
from trialmatch.engine.logic import Status, all_of, any_of, negate
from trialmatch.engine.measurements import Convert, Reading, comparison, extreme, latest
from trialmatch.engine.result import Change, Evidence, NodeResult, combine, compress
from trialmatch.errors import RuleError
from trialmatch.patients.derive.base import Context
from trialmatch.patients.model import Lesion, Measurement, PatientRecord
from trialmatch.rules import ast as r
from trialmatch.rules.vocabulary import lookup
from trialmatch.terminology.concepts import ConceptLibrary, default_library
from trialmatch.terminology.units import convert


class DerivedLike(Protocol):
    """What evaluation reads from a derived value (``trialmatch.patients.derive.DerivedValue``)."""

    @property
    def value(self) -> float | str | bool | None: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def date(self) -> dt.date | None: ...
    @property
    def sources(self) -> tuple[str, ...]: ...
    @property
    def explanation(self) -> str: ...
    @property
    def missing(self) -> str | None: ...
    @property
    def changes_on(self) -> dt.date | None: ...


class Deriver(Protocol):
    """Computes derived facts by name; the real one is :mod:`trialmatch.patients.derive`."""

    def derive(self, name: str, args: Mapping[str, str], record: PatientRecord, as_of: dt.date) -> DerivedLike: ...

    def derive_lesion(
        self, name: str, args: Mapping[str, str], lesion: Lesion, record: PatientRecord, as_of: dt.date
    ) -> DerivedLike: ...


def _default_deriver() -> Deriver:
    from trialmatch.patients import derive

    return derive


@dataclass
class PatientIndex:
    """One record seen at one as-of date: facts filtered and sorted once, concept matches cached."""

    record: PatientRecord
    as_of: dt.date
    library: ConceptLibrary
    history: HistoryIndex
    _measured: dict[str, list[Measurement]] = field(default_factory=dict)
    _derived: dict[tuple[object, ...], DerivedLike] = field(default_factory=dict)

    def measured(self, concept: str) -> list[Measurement]:
        """Usable measurements of ``concept`` or narrower concepts, oldest first."""
        if concept not in self._measured:
            isa = self.history.context.isa
            self._measured[concept] = [m for m in self.history.context.measurements if isa(m.concept, concept)]
        return self._measured[concept]

    def label(self, concept: str) -> str:
        """A concept's label from the library, as written there (eponyms and acronyms keep their case)."""
        return self.library.get(concept).label

    def derived(self, deriver: Deriver, name: str, args: Mapping[str, str], lesion: Lesion | None) -> DerivedLike:
        """A derived value, computed once per index."""
        key = (id(deriver), name, tuple(sorted(args.items())), lesion.id if lesion else None)
        if key not in self._derived:
            if lesion is None:
                self._derived[key] = deriver.derive(name, args, self.record, self.as_of)
            else:
                self._derived[key] = deriver.derive_lesion(name, args, lesion, self.record, self.as_of)
        return self._derived[key]


def index_record(record: PatientRecord, as_of: dt.date, library: ConceptLibrary | None = None) -> PatientIndex:
    """Index a record's facts for evaluation at ``as_of``."""
    lib = library or default_library()
    context = Context.build(record, as_of, lib.is_a)
    return PatientIndex(record, as_of, lib, HistoryIndex(context))


_last_index: list[PatientIndex] = []


def _index_for(record: PatientRecord, as_of: dt.date, library: ConceptLibrary) -> PatientIndex:
    """The last index built, when it is for the same record object, date and library; else a new one."""
    if _last_index:
        cached = _last_index[0]
        if cached.record is record and cached.as_of == as_of and cached.library is library:
            return cached
    built = index_record(record, as_of, library)
    _last_index[:] = [built]
    return built


@dataclass(frozen=True)
class Scope:
    """Where a node is evaluated: the patient's index, the deriver, the lesion inside ``count_lesions``."""

    index: PatientIndex
    deriver: Deriver
    lesion: Lesion | None = None


def evaluate(
    rule: r.Condition,
    record: PatientRecord,
    as_of: dt.date,
    *,
    deriver: Deriver | None = None,
    library: ConceptLibrary | None = None,
    index: PatientIndex | None = None,
) -> NodeResult:
    """Evaluate ``rule`` for ``record`` as of ``as_of``; pure and deterministic."""
    if index is None:
        index = _index_for(record, as_of, library or default_library())
    return visit(rule, Scope(index, deriver or _default_deriver()))


def visit(node: r.Node, scope: Scope) -> NodeResult:
    """Evaluate a condition node with its kind's visitor."""
    visitor = CONDITION_VISITORS.get(type(node))
    if visitor is None:
        raise RuleError(f"the evaluator has no visitor for rule node '{type(node).__name__}'")
    return visitor(node, scope)


def read(node: r.Node, scope: Scope) -> Reading:
    """Read a value node with its kind's visitor."""
    visitor = VALUE_VISITORS.get(type(node))
    if visitor is None:
        raise RuleError(f"the evaluator has no visitor for value node '{type(node).__name__}'")
    return visitor(node, scope)


# ------------------------------------------------------------------------------------------------------------
# Logic


def _combined(children: Sequence[NodeResult], rule: Callable[[Sequence[Status]], Status], reason: str) -> NodeResult:
    status, timeline = combine([(c.status, c.timeline) for c in children], rule)
    missing = tuple(dict.fromkeys(m for c in children if c.status is Status.UNKNOWN for m in c.missing))
    return NodeResult(
        status=status,
        reason=reason or _deciding(children, status),
        children=tuple(children),
        missing=missing if status is Status.UNKNOWN else (),
        timeline=timeline,
    )


_NO_RECORD = "no record of "
_SENTENCE_BREAK = re.compile(r"(?<=\.)\s+(?=[A-Z])")


def sentences(reasons: Sequence[str]) -> str:
    """Reasons as sentences, one per fact, each said once (whatever its case): capitalised, ending in a full
    stop; the absences are said in one sentence ("No record of X, Y or Z") rather than one each."""
    said: dict[str, str] = {}
    for reason in reasons:
        for sentence in _SENTENCE_BREAK.split(reason.strip()):
            text = sentence.strip().rstrip(".;, ")
            if text:
                said.setdefault(text.lower(), text)
    absent = [t[len(_NO_RECORD) :] for t in said.values() if t.lower().startswith(_NO_RECORD)]
    kept = [t for t in said.values() if not t.lower().startswith(_NO_RECORD)]
    if absent:
        joined = absent[0] if len(absent) == 1 else ", ".join(absent[:-1]) + " or " + absent[-1]
        kept.append(_NO_RECORD + joined)
    return " ".join(f"{t[0].upper()}{t[1:]}." for t in kept)


def _deciding(children: Sequence[NodeResult], status: Status) -> str:
    """The reasons of the children that have the parent's status, one sentence each, each said once."""
    chosen = [c.reason for c in children if c.status is status] or [c.reason for c in children]
    return sentences(chosen)


def visit_All(node: r.All, scope: Scope) -> NodeResult:
    return _combined([visit(i, scope) for i in node.items], all_of, "")


def visit_Any(node: r.Any, scope: Scope) -> NodeResult:
    return _combined([visit(i, scope) for i in node.items], any_of, "")


def visit_Not(node: r.Not, scope: Scope) -> NodeResult:
    child = visit(node.item, scope)
    return _combined([child], lambda s: negate(s[0]), child.reason)


def visit_Review(node: r.Review, scope: Scope) -> NodeResult:
    return NodeResult(status=Status.REVIEW, reason=node.reason)


def visit_Unknown(node: r.Unknown, scope: Scope) -> NodeResult:
    return NodeResult(status=Status.UNKNOWN, reason=node.reason, missing=(node.reason,))


def when_status(statuses: Sequence[Status]) -> Status:
    """``when(c, t, o)`` from the statuses of c, t and o (o met when absent)."""
    cond, then, otherwise = statuses
    if cond is Status.MET:
        return then
    if cond is Status.NOT_MET:
        return otherwise
    return then if then is otherwise else Status.UNKNOWN


def visit_When(node: r.When, scope: Scope) -> NodeResult:
    cond, then = visit(node.condition, scope), visit(node.then, scope)
    other = (
        visit(node.otherwise, scope)
        if node.otherwise
        else NodeResult(status=Status.MET, reason="the criterion does not apply")
    )
    if cond.status is Status.MET:
        reason = sentences([cond.reason, then.reason])
    elif cond.status is Status.NOT_MET:
        reason = sentences([cond.reason, other.reason])
    else:
        reason = sentences([cond.reason, f"if so: {then.reason.rstrip('.')}", f"if not: {other.reason.rstrip('.')}"])
    return _combined([cond, then, other], when_status, reason)


def visit_Unless(node: r.Unless, scope: Scope) -> NodeResult:
    rule, exception = visit(node.rule, scope), visit(node.exception, scope)
    if rule.status is Status.MET:
        reason = rule.reason
    else:
        link = "but" if exception.status is Status.MET else "and"
        reason = f"{rule.reason.rstrip('.')}, {link} {exception.reason}"
    return _combined([rule, exception], any_of, reason)


def visit_Has(node: r.Has, scope: Scope) -> NodeResult:
    return evaluate_has(node, scope.index.history, scope.index.label)


# ------------------------------------------------------------------------------------------------------------
# Comparisons and values


def _converter(node: r.Node, index: PatientIndex) -> Convert:
    """Unit conversion for a value node, with its concept's molar mass (mass <-> substance units)."""
    concept = node.concept if isinstance(node, r.Latest | r.Extreme) else None
    molar_mass = index.library.get(concept).molar_mass if concept else None
    return lambda value, source, target: convert(value, source, target, molar_mass)


def visit_Compare(node: r.Compare, scope: Scope) -> NodeResult:
    reading = read(node.value, scope)
    if reading.value is None:
        missing = (reading.missing,) if reading.missing else ()
        return NodeResult(status=Status.UNKNOWN, reason=reading.text, evidence=reading.evidence, missing=missing)
    test = comparison(reading, node.op, node.threshold, _converter(node.value, scope.index))
    status = test.status(reading.value, reading.upper)
    gap = test.missing or reading.missing
    missing = (gap,) if gap and status is Status.UNKNOWN else ()
    return NodeResult(
        status=status,
        reason=f"{reading.text.rstrip('.')} {test.clause(status)}",
        evidence=reading.evidence,
        children=reading.parts,
        missing=missing,
        timeline=compress(status, [(day, test.status(v)) for day, v in [*reading.later, *test.birthdays(reading)]]),
    )


def _derive(name: str, args: tuple[tuple[str, str], ...], scope: Scope, want: str) -> DerivedLike:
    """Call the deriver for a vocabulary name, checking its kind and scope."""
    spec = lookup(name)
    if spec is None:
        raise RuleError(f"unknown derived name '{name}'")
    if (spec.type == "boolean") != (want == "boolean"):
        raise RuleError(f"'{name}' is a {spec.type}, not usable as a {want}")
    if spec.scope == "lesion" and scope.lesion is None:
        raise RuleError(f"'{name}' describes a lesion and is only allowed inside count_lesions(where=...)")
    lesion = scope.lesion if spec.scope == "lesion" else None
    return scope.index.derived(scope.deriver, name, dict(args), lesion)


def _derived_evidence(name: str, dv: DerivedLike) -> tuple[Evidence, ...]:
    sources: Sequence[str | None] = dv.sources or ((None,) if dv.value is not None else ())
    return tuple(Evidence(fact=name, value=dv.value, unit=dv.unit, date=dv.date, source=s) for s in sources)


def visit_Flag(node: r.Flag, scope: Scope) -> NodeResult:
    dv = _derive(node.name, node.args, scope, "boolean")
    if dv.value is not None and not isinstance(dv.value, bool):
        raise RuleError(f"the deriver returned a non-boolean value for flag '{node.name}'")
    status = Status.UNKNOWN if dv.value is None else Status.MET if dv.value else Status.NOT_MET
    timeline = (Change(date=dv.changes_on, status=negate(status)),) if dv.changes_on and dv.value is not None else ()
    return NodeResult(
        status=status,
        reason=dv.explanation,
        evidence=_derived_evidence(node.name, dv),
        missing=(dv.missing,) if dv.missing and dv.value is None else (),
        timeline=timeline,
    )


def visit_Derived(node: r.Derived, scope: Scope) -> Reading:
    dv = _derive(node.name, node.args, scope, "value")
    yearly = node.name == "age" and dv.value is not None
    later = ((dv.changes_on, None),) if dv.changes_on is not None and not yearly else ()
    return Reading(
        name=node.name,
        value=dv.value,
        unit=dv.unit,
        date=dv.date,
        text=dv.explanation,
        missing=dv.missing,
        evidence=_derived_evidence(node.name, dv),
        later=later,
        yearly_from=dv.changes_on if yearly else None,
    )


def visit_Latest(node: r.Latest, scope: Scope) -> Reading:
    index = scope.index
    return latest(index.label(node.concept), index.measured(node.concept), index.as_of, node.within)


def visit_Extreme(node: r.Extreme, scope: Scope) -> Reading:
    index = scope.index
    return extreme(index.label(node.concept), node.function, index.measured(node.concept), index.as_of, node.within)


def visit_CountLesions(node: r.CountLesions, scope: Scope) -> Reading:
    lesions = scope.index.record.lesions
    if not lesions:
        return Reading("lesions", None, text="no tumor lesions are recorded", missing="tumor lesion assessments")
    parts = tuple(_lesion_result(lesion, node.where, scope) for lesion in lesions)
    met = sum(p.status is Status.MET for p in parts)
    open_ = sum(p.status in (Status.UNKNOWN, Status.REVIEW) for p in parts)
    undecided = f", {open_} undecided" if open_ else ""
    missing = "; ".join(dict.fromkeys(m for p in parts for m in p.missing)) or None
    return Reading(
        name="lesions",
        value=float(met),
        upper=float(met + open_) if open_ else None,
        text=f"{met} of {len(lesions)} lesions qualify{undecided}",
        missing=missing,
        evidence=tuple(
            Evidence(fact="lesion", value=p.status.value, source=lesion.source)
            for lesion, p in zip(lesions, parts, strict=True)
        ),
        parts=parts,
    )


def _lesion_result(lesion: Lesion, where: r.Condition | None, scope: Scope) -> NodeResult:
    if where is None:
        return NodeResult(status=Status.MET, reason=f"lesion {lesion.id} is recorded")
    result = visit(where, Scope(scope.index, scope.deriver, lesion))
    return result.model_copy(update={"reason": f"lesion {lesion.id}: {result.reason}"})


CONDITION_VISITORS: dict[type[r.Node], Callable[[Any, Scope], NodeResult]] = {
    r.All: visit_All,
    r.Any: visit_Any,
    r.Not: visit_Not,
    r.Review: visit_Review,
    r.Unknown: visit_Unknown,
    r.When: visit_When,
    r.Unless: visit_Unless,
    r.Compare: visit_Compare,
    r.Has: visit_Has,
    r.Flag: visit_Flag,
}
VALUE_VISITORS: dict[type[r.Node], Callable[[Any, Scope], Reading]] = {
    r.Latest: visit_Latest,
    r.Extreme: visit_Extreme,
    r.Derived: visit_Derived,
    r.CountLesions: visit_CountLesions,
}
