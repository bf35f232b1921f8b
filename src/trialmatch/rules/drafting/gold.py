"""The labelled set: criteria drawn at random from the corpus (``scripts/sample_gold.py``), each labelled by hand
with the rule a careful curator would write (docs/labelling.md), and how the drafter measures against it.

A drafted computable or partial rule is *wrong* when, on some generated patient, it gives met or not_met and the
labelled rule gives anything else: a confident verdict the label does not support. Abstaining (unknown or review)
is never wrong, only uncovered. Precision is the share of drafted computable and partial rules that are never
wrong; coverage is the share of the set drafted computable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.errors import InputError, RuleError
from trialmatch.patients.model import PatientRecord
from trialmatch.rules.ast import Condition, Extreme, Has, Latest, descendants
from trialmatch.rules.drafting.draft import DraftedRule, Study, draft_criterion
from trialmatch.rules.drafting.patients import AS_OF, generated_for
from trialmatch.rules.rulefile import computability_of
from trialmatch.rules.syntax import parse_rule
from trialmatch.terminology.concepts import default_library
from trialmatch.trials.model import Criterion, CriterionType

NOTHING = "nothing"  # the label of a heading, note or site instruction: it asks nothing of the patient
_DECIDED = frozenset({Status.MET, Status.NOT_MET})
PATIENTS = 80


class StudyRecord(BaseModel):
    """What the trial record says beside the criterion (conditions and title, age limits), as drafting reads it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conditions: tuple[str, ...] = ()
    minimum_age: float | None = None
    maximum_age: float | None = None

    def study(self) -> Study:
        """The drafter's study context."""
        return Study(self.conditions, self.minimum_age, self.maximum_age)


class GoldItem(BaseModel):
    """One labelled criterion: ``TRIAL/CRITERION`` id, type, verbatim text, label and the second reader's word."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: CriterionType
    text: str
    study: StudyRecord = StudyRecord()
    label: str
    second_reading: str | None = None
    withdrawn: str | None = None

    @property
    def measured(self) -> bool:
        """Whether the item still counts: not withdrawn because the trial reader no longer gives it as a criterion."""
        return self.withdrawn is None

    def criterion(self) -> Criterion:
        """The criterion as a trial reader gives it (its own id, so parts of exclusions combine as screening does)."""
        return Criterion(id=self.id.split("/", 1)[1], type=self.type, text=self.text)


class GoldSet(BaseModel):
    """The labelled set with its provenance."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample: dict[str, str | int]
    labelled_by: str
    second_reader: str | None = None
    items: tuple[GoldItem, ...]


def load_gold(path: Path) -> GoldSet:
    """Read a labelled set; every label must be ``nothing`` or a rule that reads with the concept library."""
    try:
        gold = GoldSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise InputError(f"{path}: not a labelled set ({exc})") from exc
    for item in gold.items:
        try:
            label_rule(item)
        except RuleError as exc:
            raise InputError(f"{path}: {item.id}: label does not read: {exc}") from exc
    return gold


def label_rule(item: GoldItem) -> Condition | None:
    """The labelled rule; None for ``nothing``."""
    if item.label.strip() == NOTHING:
        return None
    return parse_rule(item.label, concepts=default_library().ids())


@dataclass
class GoldScore:
    """How the drafter measures against a labelled set."""

    items: int = 0
    labelled: dict[str, int] = field(default_factory=dict)
    drafted: dict[str, int] = field(default_factory=dict)
    wrong: list[tuple[str, str, str]] = field(default_factory=list)
    agreeing_computable: int = 0

    @property
    def decided(self) -> int:
        """Drafted computable and partial rules: the ones that can give a confident verdict."""
        return self.drafted.get("computable", 0) + self.drafted.get("partial", 0)

    @property
    def precision(self) -> float:
        """Percentage of drafted computable and partial rules never wrong on any generated patient."""
        return 100 * (self.decided - len(self.wrong)) / self.decided if self.decided else 100.0

    def share(self, counts: dict[str, int], level: str) -> float:
        """Percentage of the set at ``level``."""
        return 100 * counts.get(level, 0) / self.items if self.items else 0.0


def _concepts(rule: Condition | None) -> set[str]:
    nodes = descendants(rule) if rule is not None else iter(())
    return {node.concept for node in nodes if isinstance(node, Has | Latest | Extreme)}


def _status(rule: Condition | None, item: GoldItem, record: PatientRecord) -> Status:
    if rule is None:
        return Status.MET if item.type is CriterionType.INCLUSION else Status.NOT_MET
    return evaluate(rule, record, AS_OF).status


def _whole(draft: DraftedRule, item: GoldItem) -> Condition | None:
    return draft.entry().effective_rule() if draft.rule is not None or draft.parts else None


def score(gold: GoldSet, patients: int = PATIENTS, as_of: dt.date = AS_OF) -> GoldScore:
    """Draft every item, compare drafted with labelled rules on generated patients, and count."""
    pairs = []
    for item in (i for i in gold.items if i.measured):
        label = label_rule(item)
        pairs.append((item, label, _whole(draft_criterion(item.criterion(), study=item.study.study()), item)))
    concepts = set().union(*(_concepts(r) for _, label, drafted in pairs for r in (label, drafted)))
    records = list(generated_for(concepts, patients))
    result = GoldScore(items=len(pairs))
    for item, label, drafted in pairs:
        level = computability_of(label) if label is not None else NOTHING
        result.labelled[level] = result.labelled.get(level, 0) + 1
        made = computability_of(drafted) if drafted is not None else "unknown"
        result.drafted[made] = result.drafted.get(made, 0) + 1
        if made not in ("computable", "partial"):
            continue
        wrong = _first_wrong(item, label, drafted, records)
        if wrong is not None:
            result.wrong.append((item.id, made, wrong))
        elif made == "computable" and level == "computable":
            result.agreeing_computable += 1
    return result


def _first_wrong(
    item: GoldItem, label: Condition | None, drafted: Condition | None, records: Sequence[PatientRecord]
) -> str | None:
    for record in records:
        got = _status(drafted, item, record)
        want = _status(label, item, record)
        if got in _DECIDED and got is not want:
            return f"{record.patient_id}: drafted {got.value}, labelled {want.value}"
    return None


def render(result: GoldScore, top: int = 20) -> str:
    """The report: labelled and drafted shares, precision, and the wrong drafts."""
    levels = ("computable", "partial", "review", "unknown", NOTHING)
    lines = [f"{'level':<12} {'labelled':>9} {'drafted':>9}"]
    for level in levels:
        lines.append(
            f"{level:<12} {result.share(result.labelled, level):>8.0f}% {result.share(result.drafted, level):>8.0f}%"
        )
    lines += [""] + [f"wrong: {cid} ({made}): {why}" for cid, made, why in result.wrong[:top]]
    lines += [
        f"{result.items} labelled criteria: {result.share(result.drafted, 'computable'):.0f}% drafted computable "
        f"({result.agreeing_computable} agreeing with a computable label); precision {result.precision:.1f}% "
        f"({result.decided - len(result.wrong)} of {result.decided} computable or partial drafts never wrong)"
    ]
    return "\n".join(lines)
