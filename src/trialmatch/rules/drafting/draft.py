"""Draft a rule for every criterion of a trial nobody has curated: each clause family proposes findings, the
longest non-overlapping ones are kept, and whatever text is left over becomes ``unknown("not understood: ...")``:
not understanding a criterion is not a question for the site, and it must block an eligible verdict.

Several findings become parts (``inc-8/anc``); parts of an inclusion must all hold, parts of an exclusion are
alternatives (``TrialRules.rule_for``), so an unread rest of an exclusion can only leave a patient possible,
never let one through unseen. A finding, or the whole draft, that breaks an invariant
(:mod:`~trialmatch.rules.drafting.invariants`) is withheld as unknown with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from trialmatch.rules.ast import All, Any, Condition, Unknown
from trialmatch.rules.drafting import (
    brain,
    cardiac,
    conditions,
    demographics,
    disease,
    invariants,
    labs,
    markers,
    performance,
    reproductive,
    review,
    therapy,
)
from trialmatch.rules.drafting.patterns import Finder, Finding, Limit, shortened
from trialmatch.rules.drafting.residue import leftover
from trialmatch.rules.rulefile import Computability, CriterionRules, RuleFile, RulePart, computability_of
from trialmatch.trials.model import Criterion, CriterionType, Trial

FAMILIES: tuple[Finder, ...] = (
    demographics.find,
    performance.find,
    labs.find,
    cardiac.find,
    markers.find,
    reproductive.find,
    therapy.find,
    brain.find,
    conditions.find,
    disease.find,
)
NOT_UNDERSTOOD = "not understood"
DRAFTER = "trialmatch drafter (pattern-based; every rule needs a curator's check)"
# Events named inside a clause that only the site can judge ("hypersensitivity to trastuzumab") are its subject,
# not a separate rule; measurements and demographics in the same sentence still stand.
_SUBSUMED = frozenset({"therapy", "disease", "markers", "conditions", "infection", "other malignancy", "brain"})
_LABEL_LENGTH = 100


@dataclass(frozen=True)
class DraftedRule:
    """A drafted rule for one criterion, with what was and was not understood."""

    criterion_id: str
    text: str
    rule: Condition | None
    parts: tuple[RulePart, ...]
    computability: Computability
    categories: tuple[str, ...]
    not_understood: tuple[str, ...]
    span: tuple[int, int]
    limits: tuple[Limit, ...] = ()
    combined: Condition | None = None

    @property
    def whole(self) -> Condition | None:
        """The rule as screening reads it: its own, its parts, or (for a parent) its sub-items combined."""
        if self.rule is not None:
            return self.rule
        return All(items=tuple(p.rule for p in self.parts)) if self.parts else self.combined

    def entry(self) -> CriterionRules:
        """The criterion's entry in a rule file, marked drafted, with its span."""
        return CriterionRules(
            id=self.criterion_id,
            text=self.text,
            text_hash=Criterion(id=self.criterion_id, type=CriterionType.INCLUSION, text=self.text).text_hash,
            computability=self.computability,
            rule=self.rule,
            parts=self.parts,
            note="Drafted from the criterion text; check it before relying on it." if self.rule or self.parts else None,
            drafted=True,
            span=self.span,
        )


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _select(findings: list[Finding]) -> list[Finding]:
    """Longest first, none overlapping; a finding repeating an accepted rule only adds its span."""
    kept: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for finding in sorted(findings, key=lambda f: (-(f.span[1] - f.span[0]), f.span[0])):
        shared = any(k.span == finding.span and k.rule != finding.rule for k in kept)
        if _overlaps(finding.span, taken) and not shared:
            continue
        same = next((k for k in kept if k.rule is not None and k.rule == finding.rule), None)
        if same is not None:
            kept[kept.index(same)] = Finding(
                same.category,
                same.span,
                same.rule,
                same.key,
                same.limits,
                same.is_review,
                (*same.extra_spans, finding.span),
            )
        else:
            kept.append(finding)
        taken += [s for s in finding.spans if not _overlaps(s, taken)] if same is None else [finding.span]
    return sorted(kept, key=lambda f: f.span[0])


def _with_reviews(text: str, ctype: CriterionType, kept: list[Finding]) -> list[Finding]:
    """Add the site-review clauses; events inside a clause only the site can judge are folded into it."""
    reviews = review.find(text, ctype)
    out = []
    for finding in kept:
        inside = any(r.span[0] <= finding.span[0] and finding.span[1] <= r.span[1] for r in reviews)
        if not (inside and finding.category in _SUBSUMED):
            out.append(finding)
    return sorted(out + reviews, key=lambda f: f.span[0])


def _unique_key(key: str, used: set[str]) -> str:
    candidate, n = key or "clause", 2
    while candidate in used:
        candidate, n = f"{key}_{n}", n + 1
    used.add(candidate)
    return candidate


def _short(text: str) -> str:
    return shortened(text, _LABEL_LENGTH)


def _parts(criterion_id: str, text: str, findings: list[Finding], rest: Unknown | None) -> tuple[RulePart, ...]:
    used: set[str] = set()
    parts = []
    for finding in findings:
        assert finding.rule is not None
        label = _short(text[finding.span[0] : finding.span[1]])
        key = _unique_key(finding.key, used)
        parts.append(RulePart(id=f"{criterion_id}/{key}", label=label, rule=finding.rule))
    if rest is not None:
        parts.append(RulePart(id=f"{criterion_id}/not_understood", label="Text not understood", rule=rest))
    return tuple(parts)


def _joined(ruled: list[Finding], ctype: CriterionType) -> list[Finding]:
    """A clause such as "... with previous trastuzumab" must hold together with the rest: all(rest, clause)."""
    joining = [f for f in ruled if f.joins_all]
    others = [f for f in ruled if not f.joins_all]
    if not joining or not others:
        return ruled
    rest = [f.rule for f in others if f.rule is not None]
    combined = rest[0] if len(rest) == 1 else (Any if ctype is CriterionType.EXCLUSION else All)(items=tuple(rest))
    rule = All(items=(combined, *(f.rule for f in joining if f.rule is not None)))
    spans = tuple(s for f in ruled for s in f.spans)
    return [Finding(others[0].category, spans[0], rule, others[0].key, extra_spans=spans[1:])]


def _withheld(reasons: list[str], text: str) -> Unknown:
    return Unknown(reason=f"{NOT_UNDERSTOOD} (draft withheld: {'; '.join(reasons)}): {_short(text)}")


def _checked(finding: Finding, text: str, exclusion: bool) -> Finding:
    """The finding, or unknown in its place when its rule breaks an invariant."""
    if finding.rule is None or finding.is_review:
        return finding
    broken = invariants.violations(finding.rule, exclusion)
    if not broken:
        return finding
    return replace(finding, rule=_withheld(broken, text[finding.span[0] : finding.span[1]]))


def draft_criterion(criterion: Criterion, ctype: CriterionType | None = None) -> DraftedRule:
    """Draft one criterion (its sub-items are drafted on their own; a parent with sub-items keeps no rule)."""
    ctype = ctype or criterion.type
    text = criterion.text
    kept = _with_reviews(text, ctype, _select([f for family in FAMILIES for f in family(text, ctype)]))
    rest = tuple(leftover(text, [s for f in kept for s in f.spans]))
    categories = tuple(dict.fromkeys(f.category for f in kept))
    if criterion.children:
        return _parent(criterion, categories, rest)
    exclusion = ctype is CriterionType.EXCLUSION
    ruled = [_checked(f, text, exclusion) for f in _joined([f for f in kept if f.rule is not None], ctype)]
    unread = Unknown(reason=f"{NOT_UNDERSTOOD}: {_short('; '.join(rest) or text)}") if rest or not ruled else None
    rule: Condition | None = None
    parts: tuple[RulePart, ...] = ()
    if len(ruled) + (unread is not None) == 1:
        rule = ruled[0].rule if ruled else unread
    else:
        parts = _parts(criterion.id, text, ruled, unread)
    effective = rule if rule is not None else (Any if exclusion else All)(items=tuple(p.rule for p in parts))
    if broken := invariants.violations(effective, exclusion):
        rule, parts, effective = _withheld(broken, text), (), _withheld(broken, text)
    understood = [f for f in ruled if not f.is_review and not isinstance(f.rule, Unknown)]
    span = (min(f.span[0] for f in understood), max(f.span[1] for f in understood)) if understood else (0, len(text))
    return DraftedRule(
        criterion.id,
        text,
        rule,
        parts,
        computability_of(effective),
        categories or (NOT_UNDERSTOOD,),
        rest,
        span,
        tuple(limit for f in kept for limit in f.limits),
    )


def _parent(criterion: Criterion, categories: tuple[str, ...], rest: tuple[str, ...]) -> DraftedRule:
    """A criterion with sub-items: the sub-items carry the rules, so its computability is theirs combined."""
    wholes = tuple(w for child in criterion.children if (w := draft_criterion(child).whole) is not None)
    combined = All(items=wholes or (Unknown(reason=NOT_UNDERSTOOD),))
    return DraftedRule(
        criterion.id,
        criterion.text,
        None,
        (),
        computability_of(combined),
        categories,
        rest,
        (0, len(criterion.text)),
        combined=combined,
    )


def draft_all(trial: Trial) -> list[DraftedRule]:
    """A draft for every criterion and sub-item of the trial, in document order."""
    return [draft_criterion(c) for c in trial.all_criteria()]


def draft_trial(trial: Trial) -> RuleFile:
    """A rule file (same format as curated ones) with every criterion drafted."""
    return RuleFile(
        rules_schema=1,
        trial_id=trial.trial_id,
        version="drafted.1",
        source=f"{trial.source.format} ({trial.source.file or 'no file'})",
        curated_by=DRAFTER,
        criteria=tuple(d.entry() for d in draft_all(trial)),
    )


def with_limits(trial: Trial) -> Trial:
    """The trial with sex and age limits filled from drafted rules where the record states none."""
    found: dict[str, str | float] = {}
    for drafted in draft_all(trial):
        for name, value in drafted.limits:
            found.setdefault(name, value)
    missing = {name: value for name, value in found.items() if getattr(trial, name) is None}
    return trial.model_copy(update=missing) if missing else trial
