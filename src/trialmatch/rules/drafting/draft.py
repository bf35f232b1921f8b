"""Draft a rule for every criterion of a trial nobody has curated: each clause family proposes findings, the
longest non-overlapping ones are kept, and whatever text is left over becomes ``unknown("not understood: ...")``:
not understanding a criterion is not a question for the site, and it must block an eligible verdict.

Several findings become parts (``inc-8/anc``); parts of an inclusion must all hold, parts of an exclusion are
alternatives (``TrialRules.rule_for``), so an unread rest of an exclusion can only leave a patient possible,
never let one through unseen. A finding, or the whole draft, that breaks an invariant
(:mod:`~trialmatch.rules.drafting.invariants`) is withheld as unknown with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from trialmatch.rules.ast import (
    All,
    Any,
    Compare,
    Condition,
    Derived,
    Has,
    Not,
    Quantity,
    Review,
    Unknown,
    Unless,
    When,
    descendants,
)
from trialmatch.rules.drafting import (
    brain,
    cardiac,
    conditions,
    demographics,
    disease,
    invariants,
    labs,
    markers,
    modality,
    performance,
    reproductive,
    review,
    therapy,
)
from trialmatch.rules.drafting.patterns import COMPARATOR, NUMBER, Finder, Finding, Limit, shortened, window
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
_UNREAD_LIMIT = re.compile(rf"(?:{COMPARATOR})\s*(?:{NUMBER})", re.I)
_TRAILING_LINK = re.compile(r"(?:\b(?:or|and/or)|:)\W*$", re.I)
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
        key = _unique_key("not_understood", used)
        parts.append(RulePart(id=f"{criterion_id}/{key}", label="Text not understood", rule=rest))
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


@dataclass(frozen=True)
class Study:
    """What the trial record says beside the criterion, which some readings depend on: the conditions studied
    (a breast-cancer reading of "other malignancy" holds only in a breast-cancer trial) and the age limits."""

    conditions: tuple[str, ...] = ()
    minimum_age: float | None = None
    maximum_age: float | None = None

    @classmethod
    def of(cls, trial: Trial) -> Study:
        """The study context of a trial record."""
        return cls((*trial.conditions, trial.title), trial.minimum_age_years, trial.maximum_age_years)

    @property
    def breast_cancer(self) -> bool:
        """Whether the record says the trial is about breast cancer."""
        return any(re.search(r"\bbreast\b", c, re.I) for c in self.conditions)


UNKNOWN_STUDY = Study()


def _out_of_study(rule: Condition, study: Study, exclusion: bool) -> list[str]:
    """Readings the study's record contradicts or does not support."""
    reasons = []
    if not study.breast_cancer and _names(rule, "condition.breast_cancer"):
        reasons.append("a breast-cancer reading, and the record does not say the trial is about breast cancer")
    stated = study.minimum_age is not None or study.maximum_age is not None
    if stated and isinstance(rule, Compare) and rule.value == Derived(name="age") and rule.threshold.kind == "quantity":
        at = [_holds(rule, years) for years in (study.minimum_age or 0.0, study.maximum_age or 120.0)]
        if exclusion and all(at):
            reasons.append("an age exclusion that every age the record admits meets")
        if not exclusion and not any(at):
            reasons.append("an age limit that no age the record admits meets")
    return reasons


def _checked(finding: Finding, text: str, exclusion: bool, study: Study = UNKNOWN_STUDY) -> Finding:
    """The finding, or unknown in its place when its rule breaks an invariant or contradicts the record."""
    if finding.rule is None or finding.is_review:
        return finding
    broken = invariants.violations(finding.rule, exclusion) + _out_of_study(finding.rule, study, exclusion)
    if not broken:
        return finding
    return replace(finding, rule=_withheld(broken, text[finding.span[0] : finding.span[1]]))


def _conditional(text: str, sentence: modality.Sentence, ctype: CriterionType, study: Study) -> Finding:
    """A conditional sentence as ``when(condition, requirement)`` (an exclusion: ``all(condition, statement)``);
    unknown when it fits no condition form."""
    start, end = sentence.span
    split = modality.split_condition(text[start:end])
    if split is None:
        return Finding(
            "condition", sentence.span, Unknown(reason=f"{NOT_UNDERSTOOD} (a condition): {_short(text[start:end])}")
        )
    (cs, ce), (rs, re_) = split
    condition_text, required_text = text[start + cs : start + ce], text[start + rs : start + re_]
    subject = Criterion(id="inc-0", type=CriterionType.INCLUSION, text=condition_text)
    condition = draft_criterion(subject, study=study).whole
    if condition is None or computability_of(condition) not in ("computable", "partial"):
        condition = Unknown(reason=f"whether the patient is one of those {_short(condition_text)}")
    required = draft_criterion(Criterion(id=f"{ctype.value[:3]}-0", type=ctype, text=required_text), study=study).whole
    required = required or Unknown(reason=f"{NOT_UNDERSTOOD}: {_short(required_text)}")
    rule: Condition = (
        All(items=(condition, required))
        if ctype is CriterionType.EXCLUSION
        else When(condition=condition, then=required)
    )
    return Finding("condition", sentence.span, rule, "when")


def _untimed(rule: Condition) -> bool:
    """Whether the rule reads some event history at any time (no window)."""
    return any(isinstance(node, Has) and node.timing.mode == "ever" for node in descendants(rule))


def _names(rule: Condition, concept: str) -> bool:
    """Whether the rule names the concept, as what it asks for or as an exception."""
    return any(isinstance(n, Has) and concept in (n.concept, *n.exceptions) for n in descendants(rule))


def _holds(rule: Compare, years: float) -> bool:
    """Whether an age comparison holds at this age."""
    assert isinstance(rule.threshold, Quantity)
    limit = rule.threshold.value
    return {"<": years < limit, "<=": years <= limit, ">": years > limit, ">=": years >= limit}.get(rule.op, False)


def _ambiguous(sentence: str, spans: list[tuple[int, int]], inside: list[Finding]) -> bool:
    """Whether the sentence holds something that may change what its findings mean: an unread content word or
    comparison, a site-review clause they belong to ("clinically significant ..., such as ..."), a window they
    did not take, or a trailing "or"/":" that leaves the sentence to its neighbours."""
    deciding = [f.rule for f in inside if f.rule is not None and not f.is_review and not isinstance(f.rule, Unknown)]
    if not deciding:
        return False
    uncovered = modality.masked(sentence, spans)
    return bool(
        leftover(sentence, spans)
        or modality.lexicon("qualifier").search(uncovered)
        or _UNREAD_LIMIT.search(uncovered)
        or any(f.is_review for f in inside)
        or _TRAILING_LINK.search(sentence)
        or (window(uncovered) is not None and any(_untimed(rule) for rule in deciding))
    )


def _unmixed(read: str, sentences: list[modality.Sentence], found: list[Finding]) -> tuple[list[Finding], list[str]]:
    """Per requirement sentence, its findings when nothing else in it may change them; otherwise one unknown
    for the whole sentence, since an unread word may qualify a finding ("... that requires steroids") or offer
    an alternative to it ("... or CAR T cell therapy"), and the two readings decide in opposite directions.
    Returns the findings kept and the unread pieces of the sentences that decide nothing."""
    kept: list[Finding] = []
    unread: list[str] = []
    for sentence in sentences:
        start, end = sentence.span
        inside = [f for f in found if start <= f.span[0] < end]
        spans = [(max(a, start) - start, min(b, end) - start) for f in inside for a, b in f.spans if a < end]
        residue = leftover(read[start:end], spans)
        narrowed = _narrowed(read[start:end], spans, inside)
        if narrowed is None or _ambiguous(read[start:end], spans, inside):
            reason = f"{NOT_UNDERSTOOD}: {_short(read[start:end])}"
            kept.append(Finding(NOT_UNDERSTOOD, sentence.span, Unknown(reason=reason), "not_understood"))
        else:
            kept += narrowed
            unread += residue
    return kept, unread


def _narrowed(sentence: str, spans: list[tuple[int, int]], inside: list[Finding]) -> list[Finding] | None:
    """The sentence's findings, with an unread narrowing word ("Grade 2", "untreated") kept as an unknown the
    finding must also meet; None when the word cannot be placed (several findings, or one under a negation)."""
    words = modality.lexicon("narrowing").findall(modality.masked(sentence, spans))
    if not words:
        return inside
    deciding = [f for f in inside if f.rule is not None and not f.is_review and not isinstance(f.rule, Unknown)]
    if len(deciding) != 1 or deciding[0].rule is None or any(isinstance(n, Not) for n in descendants(deciding[0].rule)):
        return None
    only = deciding[0]
    assert only.rule is not None
    named = ", ".join(dict.fromkeys(w.lower() for w in words))
    narrowing = Unknown(reason=f"whether it is {named} as the criterion says")
    return [replace(only, rule=All(items=(only.rule, narrowing))) if f is only else f for f in inside]


def _scoped(rule: Condition, scope: str, exclusion: bool) -> Condition:
    """A criterion for one cohort, part, phase or stratum: whether the patient is in it is the site's to say.
    An inclusion applies only there (``when``); an exclusion excludes only there (``all``)."""
    where = Review(reason=f"applies to {_short(scope)}: confirm the patient is in it")
    return All(items=(where, rule)) if exclusion else When(condition=where, then=rule)


def _relaxed(rule: Condition, relaxing: list[str], exclusion: bool) -> Condition:
    """The rule with what its permissions and exceptions may waive left open: they can turn a failing
    verdict into unknown, never into a pass."""
    waiver = Unknown(reason=f"unless: {_short('; '.join(relaxing))}")
    return All(items=(rule, waiver)) if exclusion else Unless(rule=rule, exception=waiver)


def draft_criterion(
    criterion: Criterion, ctype: CriterionType | None = None, study: Study = UNKNOWN_STUDY
) -> DraftedRule:
    """Draft one criterion (its sub-items are drafted on their own; a parent with sub-items keeps no rule).

    Only requirement sentences are read by the clause families; conditional sentences become ``when``;
    permissions and exceptions relax the rest; rationale, instructions and definitions draft nothing."""
    ctype = ctype or criterion.type
    scope = modality.scope(criterion.text)
    text = modality.masked(criterion.text, [scope[0]]) if scope else criterion.text
    sentences = modality.read(text)
    read = modality.masked(text, [s.span for s in sentences if s.modality != modality.REQUIREMENT])
    found = _with_reviews(read, ctype, _select([f for family in FAMILIES for f in family(read, ctype)]))
    kept, unread_words = _unmixed(read, [s for s in sentences if s.modality == modality.REQUIREMENT], found)
    rest = tuple(unread_words)
    categories = tuple(dict.fromkeys(f.category for f in kept))
    if criterion.children:
        return _parent(criterion, categories, rest, study)
    exclusion = ctype is CriterionType.EXCLUSION
    conditional = [_conditional(text, s, ctype, study) for s in sentences if s.modality == "condition"]
    ruled = [_checked(f, read, exclusion, study) for f in _joined([f for f in kept if f.rule is not None], ctype)]
    ruled = sorted(ruled + conditional, key=lambda f: f.span[0])
    unread = Unknown(reason=f"{NOT_UNDERSTOOD}: {_short('; '.join(rest) or text)}") if rest or not ruled else None
    rule: Condition | None = None
    parts: tuple[RulePart, ...] = ()
    if len(ruled) + (unread is not None) == 1:
        rule = ruled[0].rule if ruled else unread
    else:
        parts = _parts(criterion.id, text, ruled, unread)
    effective = rule if rule is not None else (Any if exclusion else All)(items=tuple(p.rule for p in parts))
    # A condition whose requirement was not read may be a looser limit for some patients ("For Gilbert's
    # syndrome, <= 3 x ULN"): it relaxes the other sentences as a permission does.
    loose = {f.span for f in conditional if f.rule is not None and computability_of(f.rule) != "computable"}
    relaxing = [text[s.span[0] : s.span[1]] for s in sentences if s.modality in modality.RELAXING or s.span in loose]
    if relaxing and ruled:
        rule, parts = _relaxed(effective, relaxing, exclusion), ()
        effective = rule
    if broken := invariants.violations(effective, exclusion):
        rule, parts, effective = _withheld(broken, text), (), _withheld(broken, text)
    if scope is not None:
        rule, parts = _scoped(effective, scope[1], exclusion), ()
        effective = rule
    understood = [f for f in ruled if not f.is_review and not isinstance(f.rule, Unknown)]
    span = (min(f.span[0] for f in understood), max(f.span[1] for f in understood)) if understood else (0, len(text))
    return DraftedRule(
        criterion.id,
        criterion.text,
        rule,
        parts,
        computability_of(effective),
        categories or (NOT_UNDERSTOOD,),
        rest,
        span,
        tuple(limit for f in kept for limit in f.limits),
    )


def _parent(criterion: Criterion, categories: tuple[str, ...], rest: tuple[str, ...], study: Study) -> DraftedRule:
    """A criterion with sub-items: the sub-items carry the rules, so its computability is theirs combined."""
    wholes = tuple(w for c in criterion.children if (w := draft_criterion(c, study=study).whole) is not None)
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
    study = Study.of(trial)
    return [draft_criterion(c, study=study) for c in trial.all_criteria()]


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
