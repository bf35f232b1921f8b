"""Trial records as ``trials show`` and the API present them: text, JSON (``trial.schema.json``), a table.

Rendering takes a trial and an optional per-criterion annotation (its rule, computability, hash), so the same
functions serve a bare record and one bound to its rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.table import Column, Table
from rich.text import Text

from trialmatch.identifiers import printable
from trialmatch.rules.catalog import TrialRules
from trialmatch.rules.printer import print_rule
from trialmatch.trials.model import Criterion, CriterionType, Trial

NONE_MARK = "—"


@dataclass(frozen=True)
class CriterionAnnotation:
    """What the rules layer knows about one criterion (all fields None until rules are attached)."""

    rule: str | None = None
    computability: str | None = None
    source_hash: str | None = None
    drafted: bool | None = None
    reviewed: str | None = None

    @property
    def mark(self) -> str:
        """How far the rule can be trusted, for the text view: drafted and unreviewed, or who reviewed it."""
        if self.drafted:
            return ", drafted: not reviewed"
        return f", reviewed by {self.reviewed}" if self.reviewed else ""


Annotations = Mapping[str, CriterionAnnotation]


def criterion_json(criterion: Criterion, annotations: Annotations | None = None) -> dict[str, Any]:
    """One criterion per ``trial.schema.json``; rule fields are null where no annotation is given."""
    note = (annotations or {}).get(criterion.id, CriterionAnnotation())
    out: dict[str, Any] = {
        "id": criterion.id,
        "type": criterion.type.value,
        "text": criterion.text,
        "rule": note.rule,
        # The contract's enum has no "unknown": a rule that decides nothing is, for it, no rule yet (null).
        "computability": None if note.computability == "unknown" else note.computability,
        "source_hash": note.source_hash,
    }
    if note.drafted is not None:
        out["drafted"] = note.drafted
    if note.reviewed is not None:
        out["reviewed"] = note.reviewed
    out["children"] = [criterion_json(child, annotations) for child in criterion.children]
    return out


def trial_json(trial: Trial, annotations: Annotations | None = None) -> dict[str, Any]:
    """The trial as ``trials show --format json`` prints it (shared contract ``trial.schema.json``)."""
    return {
        "trial_id": trial.trial_id,
        "aliases": list(trial.aliases),
        "title": trial.title,
        "official_title": trial.official_title,
        "acronym": trial.acronym,
        "phases": list(trial.phases),
        "recruitment_status": trial.recruitment_status,
        "status_text": trial.status_text,
        "sex": trial.sex,
        "minimum_age_years": trial.minimum_age_years,
        "maximum_age_years": trial.maximum_age_years,
        "conditions": list(trial.conditions),
        "interventions": [f"{i.type}: {i.name}" if i.type else i.name for i in trial.interventions],
        "sites": [site.model_dump(exclude_none=True) for site in trial.sites],
        "start_date": trial.start_date.isoformat() if trial.start_date else None,
        "completion_date": trial.completion_date.isoformat() if trial.completion_date else None,
        "enrollment": trial.enrollment,
        "source_format": trial.source.format,
        "source_file": trial.source.file,
        "criteria": [criterion_json(c, annotations) for c in trial.criteria],
    }


def _age_text(trial: Trial) -> str:
    low, high = trial.minimum_age_years, trial.maximum_age_years
    if low is None and high is None:
        return NONE_MARK
    return f"{low:g}" if high is None else f"{'' if low is None else f'{low:g}'}–{high:g}"


def _criterion_lines(criterion: Criterion, annotations: Annotations | None, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}{criterion.id:<8} {criterion.text}"]
    note = (annotations or {}).get(criterion.id)
    if note is not None and (note.rule or note.computability):
        rule = (note.rule or NONE_MARK).replace("\n", f"\n{pad}{'':<8}       ")
        lines.append(f"{pad}{'':<8} rule: {rule} [{note.computability or 'no rule'}{note.mark}]")
    for child in criterion.children:
        lines.extend(_criterion_lines(child, annotations, depth + 1))
    return lines


def trial_text(trial: Trial, annotations: Annotations | None = None) -> str:
    """Header, then each criterion with its id (sub-items indented) and, when annotated, its rule."""
    facts = [
        f"acronym {trial.acronym or NONE_MARK}",
        f"phase {'/'.join(trial.phases) or NONE_MARK}",
        f"status {trial.recruitment_status or NONE_MARK}" + (f" ({trial.status_text})" if trial.status_text else ""),
        f"sex {trial.sex or NONE_MARK}",
        f"age {_age_text(trial)}",
    ]
    lines = [f"{trial.trial_id}  {trial.title}", " · ".join(facts)]
    if trial.aliases:
        lines.append(f"aliases: {', '.join(trial.aliases)}")
    lines.append(f"source: {trial.source.format} ({trial.source.file or NONE_MARK})")
    for kind in CriterionType:
        lines += ["", f"{kind.value.capitalize()} criteria"]
        for criterion in (c for c in trial.criteria if c.type is kind):
            lines.extend(_criterion_lines(criterion, annotations, 1))
    return "\n".join(lines)


def trials_table(trials: Iterable[Trial], coverage: Mapping[str, str] | None = None) -> Table:
    """The ``trials list`` table; coverage per trial id comes from the rules layer (— until then)."""
    headers = ("id", "acronym", "phase", "status", "criteria (inc/exc)", "coverage (comp/part/review)")
    table = Table(*(Column(header, overflow="fold") for header in headers))
    for trial in trials:
        inclusion, exclusion = trial.counts()
        cells = (
            trial.trial_id,
            trial.acronym or NONE_MARK,
            "/".join(trial.phases) or NONE_MARK,
            trial.recruitment_status or trial.status_text or NONE_MARK,
            f"{inclusion} / {exclusion}",
            (coverage or {}).get(trial.trial_id, NONE_MARK),
        )
        table.add_row(*(Text(printable(cell)) for cell in cells))
    return table


def annotations_for(bound: TrialRules) -> dict[str, CriterionAnnotation]:
    """Each criterion's rule (printed), computability, hash and drafted mark from the trial's rule file."""
    out: dict[str, CriterionAnnotation] = {}
    for criterion in bound.trial.all_criteria():
        entry = bound.entry(criterion.id)
        if entry is None:
            continue
        rule = bound.rule_for(criterion.id) if not entry.qualifies else entry.effective_rule()
        text = print_rule(rule) if rule is not None else None
        if entry.qualifies:
            text = f"exception to {entry.qualifies}: {text}"
        if bound.is_stale(criterion.id):
            text = f"STALE (written for another text) {text or ''}".strip()
        out[criterion.id] = CriterionAnnotation(
            rule=text,
            computability=entry.computability,
            source_hash=entry.text_hash,
            drafted=entry.drafted,
            reviewed=entry.reviewed,
        )
    return out
