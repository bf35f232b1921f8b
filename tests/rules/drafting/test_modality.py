"""Sentence modality before meaning, and the catastrophic classes it stops: permissions read as requirements,
conditions read as absolute, headings and dangling "or" read as whole criteria, qualifiers left unread, readings
the trial record contradicts. Cases are real sentences of the corpus (../shared/fixtures/ctgov-corpus), each
with the rule a curator writes for it; the draft must never give a verdict that rule does not support."""

from __future__ import annotations

import pytest

from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.rules.ast import Condition
from trialmatch.rules.drafting import modality
from trialmatch.rules.drafting.draft import Study, draft_criterion
from trialmatch.rules.drafting.gold import _concepts
from trialmatch.rules.drafting.patients import AS_OF, generated_for
from trialmatch.rules.rulefile import computability_of
from trialmatch.rules.syntax import parse_rule
from trialmatch.trials.model import Criterion, CriterionType

INC, EXC = CriterionType.INCLUSION, CriterionType.EXCLUSION
LUNG = Study(conditions=("Non-small Cell Lung Cancer",), minimum_age=18)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Currently receiving hormone therapy, bisphosphonates, denosumab or LHRH-agonists is allowed.", "permission"),
        ("Patients with HIV but an undetectable viral load are eligible for enrollment.", "permission"),
        ("Patients who are HIV positive may not be enrolled.", "requirement"),
        (
            "For patients with evidence of chronic hepatitis B virus (HBV) infection, the HBV viral load must be",
            "condition",
        ),
        (
            "Participants with a history of hepatitis C virus (HCV) infection must have been treated and cured.",
            "condition",
        ),
        ("Note: The time requirement does not apply to participants who underwent successful resection", "permission"),
        ("Note: This exclusion criteria has the following exceptions:", "definition"),
        ("Because there is an unknown but potential risk for adverse events in nursing infants", "rationale"),
        (
            "Stopping the anticoagulation treatment for biopsy should be per site standard operating procedure (SOP)",
            "instruction",
        ),
        ("Exceptions include basal cell carcinoma of the skin", "exception"),
        ("Absolute neutrophil count of > 1.5 x 10^9/L", "requirement"),
    ],
)
def test_sentences_are_classified_by_the_cue_lexicons(sentence: str, expected: str) -> None:
    assert modality.classify(sentence) == expected


def test_sentences_split_outside_parentheses() -> None:
    text = "Pregnancy (sexually active patients must be on birth control. Really.) Nursing. Other."
    assert [text[s:e] for s, e in modality.sentence_spans(text)] == [
        "Pregnancy (sexually active patients must be on birth control. Really.)",
        "Nursing.",
        "Other.",
    ]


def never_contradicts(text: str, ctype: CriterionType, label: str, study: Study = LUNG) -> Condition | None:
    """The draft's whole rule, after checking it never decides (met/not_met) against the curator's rule."""
    whole = draft_criterion(Criterion(id=f"{ctype.value[:3]}-1", type=ctype, text=text), study=study).whole
    assert whole is not None
    expected = parse_rule(label)
    for record in generated_for(_concepts(whole) | _concepts(expected), 60):
        got = evaluate(whole, record, AS_OF).status
        if got in (Status.MET, Status.NOT_MET):
            assert got is evaluate(expected, record, AS_OF).status, (record.patient_id, got)
    return whole


PERMISSIONS = [
    # NCT06268665 inc-2.2: once drafted as "must be receiving hormone therapy"
    "Currently receiving hormone therapy, bisphosphonates, denosumab or LHRH-agonists is allowed.",
    # NCT03093116 inc-10
    "Patients with asymptomatic CNS metastases (treated or untreated) and/or asymptomatic leptomeningeal "
    "carcinomatosis are eligible to enroll if they satisfy the protocol specified criteria.",
]


@pytest.mark.parametrize("text", PERMISSIONS)
def test_a_permission_is_never_a_requirement(text: str) -> None:
    whole = never_contradicts(text, INC, 'unknown("a permission: it asks nothing")')
    assert whole is not None and computability_of(whole) == "unknown"


CONDITIONS = [
    # NCT04071236 inc-19
    (
        "For patients with evidence of chronic hepatitis B virus (HBV) infection, the HBV viral load must be "
        "undetectable on suppressive therapy (with no medications prohibited by this protocol [e.g. drug-drug "
        "interactions]), if indicated",
        'when(condition(condition.hepatitis_b), unknown("HBV viral load undetectable on suppressive therapy"))',
    ),
    # NCT04724018 inc-18
    (
        "Participants with a history of hepatitis C virus (HCV) infection must have been treated and cured. For "
        "participants with HCV infection who are currently on treatment, they are eligible if they have an "
        "undetectable HCV viral load.",
        'when(condition(condition.hepatitis_c), unknown("treated and cured, or undetectable viral load"))',
    ),
    # NCT06568562 inc-4.4: the conditional sentence is a looser limit, never a stricter one
    (
        "Total Bilirubin ≤ 1.5x institutional ULN. For subject's with Gilbert's disease, ≤ 3 x ULN.",
        "when(condition(condition.gilbert_syndrome), latest(lab.bilirubin_total, within=28d) <= 3 x ULN, "
        "latest(lab.bilirubin_total, within=28d) <= 1.5 x ULN)",
    ),
]


@pytest.mark.parametrize(("text", "label"), CONDITIONS)
def test_a_condition_is_never_read_as_absolute(text: str, label: str) -> None:
    never_contradicts(text, INC, label)


def test_a_conditional_infection_criterion_passes_those_without_the_infection() -> None:
    text, _ = CONDITIONS[0]
    whole = draft_criterion(Criterion(id="inc-1", type=INC, text=text), study=LUNG).whole
    assert whole is not None
    without = [r for r in generated_for({"condition.hepatitis_b"}, 40) if r.conditions]
    statuses = {evaluate(whole, r, AS_OF).status for r in without}
    assert Status.MET in statuses


@pytest.mark.parametrize(
    ("text", "ctype", "label"),
    [
        # NCT04930783 inc-2.6.7: a trailing "OR" leaves the criterion to its sibling
        ("Creatinine ≤ 1.5 x ULN OR", INC, 'any(latest(lab.creatinine, within=28d) <= 1.5 x ULN, unknown("next"))'),
        # NCT05500092 inc-7.10: a heading names whom the following items are about
        ("Females:", INC, 'unknown("a heading")'),
        # NCT05715229 exc-17: "Grade 2" left unread would exclude every neuropathy
        (
            "Subjects with Grade 2 peripheral neuropathy",
            EXC,
            'all(condition(condition.peripheral_neuropathy), unknown("grade"))',
        ),
        # NCT07225309 exc-8: the record admits ages 18 and over, so this exclusion would exclude everyone
        ("Age ≥ 18 years", EXC, 'unknown("misfiled")'),
        # NCT05904093 exc-3.6 in a lung-cancer trial: the breast-cancer reading of "any malignancy" does not hold
        ("History of any primary malignancy.", EXC, 'unknown("malignancy other than the one studied")'),
    ],
)
def test_what_may_change_a_reading_leaves_it_undecided(text: str, ctype: CriterionType, label: str) -> None:
    whole = never_contradicts(text, ctype, label)
    assert whole is not None and computability_of(whole) != "computable"


@pytest.mark.parametrize(
    ("text", "ctype", "label"),
    [
        # NCT02861573 exc-32
        (
            "For Cohort D: Has received prior treatment with docetaxel or another chemotherapy agent for metastatic "
            "prostate cancer",
            EXC,
            'all(review("cohort D"), drug(drug.class.chemotherapy, setting=metastatic))',
        ),
        # NCT04929028 inc-11
        (
            "HIGH-RISK STRATUM: Aspartate aminotransferase (AST) (serum glutamic oxaloacetic transaminase [SGOT]) / "
            "alanine aminotransferase (ALT) (serum glutamic pyruvic transaminase [SGPT]): =< 2.5 X institutional ULN "
            "(within 2 weeks before enrollment)",
            INC,
            'when(review("high-risk stratum"), all(latest(lab.ast, within=2w) <= 2.5 x ULN, '
            "latest(lab.alt, within=2w) <= 2.5 x ULN))",
        ),
    ],
)
def test_a_cohort_or_stratum_scope_is_the_sites_to_confirm(text: str, ctype: CriterionType, label: str) -> None:
    whole = never_contradicts(text, ctype, label)
    assert whole is not None
    scoped = whole.items[0] if ctype is EXC and hasattr(whole, "items") else getattr(whole, "condition", None)
    assert scoped is not None and "applies to" in getattr(scoped, "reason", "")
