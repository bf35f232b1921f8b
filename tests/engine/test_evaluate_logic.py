"""Evaluation of logic nodes, derived values, flags and lesion counts; dispatch and algebraic properties."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.engine.evaluate import CONDITION_VISITORS, VALUE_VISITORS, evaluate
from trialmatch.engine.logic import Status
from trialmatch.errors import RuleError
from trialmatch.patients.model import ConditionFact, Lesion, Measurement, PatientRecord
from trialmatch.rules import ast as r

AS_OF = dt.date(2024, 6, 1)
D28 = r.Duration(amount=28, unit="d")


@dataclass(frozen=True)
class Value:
    """A derived value as the fake deriver returns it."""

    value: float | str | bool | None
    unit: str | None = None
    date: dt.date | None = None
    sources: tuple[str, ...] = ()
    explanation: str = "derived"
    missing: str | None = None
    changes_on: dt.date | None = None


@dataclass
class FakeDeriver:
    """Answers from tables: patient values by name, lesion values by (lesion id, name)."""

    patient: Mapping[str, Value]
    lesions: Mapping[tuple[str, str], Value]

    def derive(self, name: str, args: Mapping[str, str], record: PatientRecord, as_of: dt.date) -> Value:
        return self.patient.get(name, Value(None, explanation=f"{name} is not recorded", missing=name))

    def derive_lesion(
        self, name: str, args: Mapping[str, str], lesion: Lesion, record: PatientRecord, as_of: dt.date
    ) -> Value:
        return self.lesions.get(
            (lesion.id, name), Value(None, explanation=f"{name} unknown", missing=f"{name} of {lesion.id}")
        )


NO_DERIVED = FakeDeriver({}, {})


def alp(value: float, high: float = 120) -> Measurement:
    return Measurement(
        concept="lab.alp",
        value=value,
        unit="U/L",
        high=high,
        date=dt.date(2024, 5, 20),
        source="Observation/alp",
    )


def alp_rule(factor: float) -> r.Compare:
    return r.Compare(value=r.Latest(concept="lab.alp", within=D28), op="<=", threshold=r.UlnMultiple(factor=factor))


BONE_METS = ConditionFact(
    concept="condition.metastasis.bone", onset=dt.date(2023, 1, 1), clinical_status="active", source="C/bone"
)
LIVER_METS = ConditionFact(
    concept="condition.metastasis.liver",
    onset=dt.date(2023, 1, 1),
    clinical_status="active",
    source="C/liver",
)
ALP_RULE = r.When(
    condition=r.Has(domain="condition", concept="condition.metastasis.bone"),
    then=alp_rule(5),
    otherwise=alp_rule(2.5),
)


@pytest.mark.parametrize(
    ("conditions", "value", "expected"),
    [
        ((BONE_METS,), 480.0, Status.MET),  # 4 x ULN: allowed with bone metastases
        ((BONE_METS,), 720.0, Status.NOT_MET),
        ((LIVER_METS,), 480.0, Status.NOT_MET),  # no bone metastases: 2.5 x ULN = 300
        ((LIVER_METS,), 240.0, Status.MET),
        ((), 240.0, Status.MET),  # unknown condition, both branches met
        ((), 720.0, Status.NOT_MET),  # unknown condition, both branches not met
        ((), 480.0, Status.UNKNOWN),  # unknown condition, branches disagree
    ],
)
def test_when_alp_depends_on_bone_metastases(
    conditions: tuple[ConditionFact, ...], value: float, expected: Status
) -> None:
    rec = PatientRecord(patient_id="p", conditions=conditions, measurements=(alp(value),))
    result = evaluate(ALP_RULE, rec, AS_OF, deriver=NO_DERIVED)
    assert result.status is expected
    assert len(result.children) == 3


def test_when_without_otherwise_does_not_apply_when_condition_fails() -> None:
    rule = r.When(condition=r.Flag(name="childbearing_potential"), then=r.Review(reason="Agrees to contraception"))
    deriver = FakeDeriver({"childbearing_potential": Value(False, explanation="postmenopausal")}, {})
    assert evaluate(rule, PatientRecord(patient_id="p"), AS_OF, deriver=deriver).status is Status.MET
    deriver = FakeDeriver({"childbearing_potential": Value(True, explanation="WOCBP")}, {})
    result = evaluate(rule, PatientRecord(patient_id="p"), AS_OF, deriver=deriver)
    assert (result.status, result.reason) == (Status.REVIEW, "WOCBP. Agrees to contraception.")


GILBERT = ConditionFact(concept="condition.gilbert_syndrome", onset=dt.date(2010, 3, 1), source="Condition/gilbert")
BILIRUBIN_RULE = r.Unless(
    rule=r.Compare(
        value=r.Latest(concept="lab.bilirubin_total", within=D28),
        op="<=",
        threshold=r.UlnMultiple(factor=1.5),
    ),
    exception=r.Has(domain="condition", concept="condition.gilbert_syndrome"),
)


def bilirubin(value: float) -> Measurement:
    return Measurement(
        concept="lab.bilirubin_total",
        value=value,
        unit="mg/dL",
        high=1.2,
        date=dt.date(2024, 5, 1),
        source="Observation/bili",
    )


@pytest.mark.parametrize(
    ("value", "conditions", "expected", "words"),
    [
        (
            2.1,
            (GILBERT,),
            Status.MET,
            "(needed: at most 1.5 x ULN (1.8 mg/dL)), but Gilbert syndrome is recorded on 2010-03-01",
        ),
        (
            2.1,
            (BONE_METS,),
            Status.NOT_MET,
            "(needed: at most 1.5 x ULN (1.8 mg/dL)), and no record of Gilbert syndrome",
        ),
        (1.0, (BONE_METS,), Status.MET, "1 mg/dL on 2024-05-01 (needed: at most 1.5 x ULN (1.8 mg/dL))"),
        (2.1, (), Status.UNKNOWN, "no diagnosis history"),
    ],
)
def test_bilirubin_unless_gilbert(
    value: float, conditions: tuple[ConditionFact, ...], expected: Status, words: str
) -> None:
    rec = PatientRecord(patient_id="p", conditions=conditions, measurements=(bilirubin(value),))
    result = evaluate(BILIRUBIN_RULE, rec, dt.date(2024, 5, 10), deriver=NO_DERIVED)
    assert result.status is expected
    assert words in result.reason


@pytest.mark.parametrize(
    ("node", "others", "expected"),
    [
        (r.All, (Status.MET,), Status.REVIEW),
        (r.All, (Status.NOT_MET,), Status.NOT_MET),
        (r.All, (Status.UNKNOWN,), Status.UNKNOWN),
        (r.Any, (Status.MET,), Status.MET),
        (r.Any, (Status.NOT_MET,), Status.REVIEW),
    ],
)
def test_review_inside_all_and_any(
    node: type[r.All] | type[r.Any], others: tuple[Status, ...], expected: Status
) -> None:
    items = (r.Review(reason="Signed informed consent"), *(LEAF[s] for s in others))
    result = evaluate(node(items=items), PatientRecord(patient_id="p"), AS_OF, deriver=LEAF_DERIVER)
    assert result.status is expected
    if expected is Status.REVIEW:
        assert "Signed informed consent" in result.reason


LEAF = {
    Status.MET: r.Flag(name="metastatic"),
    Status.NOT_MET: r.Flag(name="pregnant"),
    Status.UNKNOWN: r.Flag(name="breastfeeding"),
    Status.REVIEW: r.Review(reason="Investigator judgement"),
}
LEAF_DERIVER = FakeDeriver(
    {
        "metastatic": Value(True, explanation="metastatic disease recorded"),
        "pregnant": Value(False, explanation="not pregnant"),
    },
    {},
)


def test_age_limit_reached_on_a_birthday() -> None:
    age = Value(17.0, unit="a", explanation="Age 17 years", changes_on=dt.date(2024, 9, 15), sources=("Patient/p",))
    deriver = FakeDeriver({"age": age}, {})
    adult = r.Compare(value=r.Derived(name="age"), op=">=", threshold=r.Quantity(value=18))
    result = evaluate(adult, PatientRecord(patient_id="p"), AS_OF, deriver=deriver)
    assert (result.status, result.changes_on, result.time_bound) == (
        Status.NOT_MET,
        dt.date(2024, 9, 15),
        True,
    )
    assert result.evidence[0].source == "Patient/p"
    assert result.reason == "Age 17 years (needed: at least 18)"
    upper = r.Compare(value=r.Derived(name="age"), op="<=", threshold=r.Quantity(value=20))
    later = evaluate(upper, PatientRecord(patient_id="p"), AS_OF, deriver=deriver)
    assert (later.status, later.changes_on) == (Status.MET, dt.date(2027, 9, 15))  # turns 21


def test_unknown_derived_value_names_what_is_missing() -> None:
    rule = r.Compare(value=r.Derived(name="ecog", args=(("within", "28d"),)), op="<=", threshold=r.Quantity(value=1))
    deriver = FakeDeriver(
        {"ecog": Value(None, explanation="no ECOG in the last 28 days", missing="ECOG within 28 days")}, {}
    )
    result = evaluate(rule, PatientRecord(patient_id="p"), AS_OF, deriver=deriver)
    assert (result.status, result.missing, result.reason) == (
        Status.UNKNOWN,
        ("ECOG within 28 days",),
        "no ECOG in the last 28 days",
    )


def test_misused_names_are_rule_errors() -> None:
    rec = PatientRecord(patient_id="p")
    with pytest.raises(RuleError, match="only allowed inside count_lesions"):
        evaluate(r.Flag(name="measurable"), rec, AS_OF, deriver=NO_DERIVED)
    with pytest.raises(RuleError, match="unknown derived name"):
        evaluate(r.Flag(name="no_such_flag"), rec, AS_OF, deriver=NO_DERIVED)


LESIONS = tuple(Lesion(id=f"L{i}", source=f"BodyStructure/L{i}") for i in range(1, 5))
WHERE = r.All(
    items=(
        r.Flag(name="measurable"),
        r.Compare(value=r.Derived(name="diameter"), op=">", threshold=r.Quantity(value=15, unit="mm")),
    )
)


def lesion_values(table: Mapping[str, tuple[bool | None, float | None]]) -> FakeDeriver:
    values: dict[tuple[str, str], Value] = {}
    for lesion, (measurable, size) in table.items():
        if measurable is not None:
            values[(lesion, "measurable")] = Value(measurable, explanation=f"{lesion} measurable={measurable}")
        if size is not None:
            values[(lesion, "diameter")] = Value(size, unit="mm", explanation=f"{lesion} diameter")
    return FakeDeriver({}, values)


@pytest.mark.parametrize(
    ("table", "at_least", "expected"),
    [
        ({"L1": (True, 20.0), "L2": (True, 30.0), "L3": (False, 40.0), "L4": (True, 10.0)}, 2, Status.MET),
        (
            {"L1": (True, 20.0), "L2": (False, 30.0), "L3": (False, 40.0), "L4": (True, 10.0)},
            2,
            Status.NOT_MET,
        ),
        (
            {"L1": (True, 20.0), "L2": (True, None), "L3": (False, 40.0), "L4": (True, 10.0)},
            2,
            Status.UNKNOWN,
        ),
        ({"L1": (True, 20.0), "L2": (None, 30.0), "L3": (None, 40.0), "L4": (True, 10.0)}, 1, Status.MET),
        (
            {"L1": (False, 20.0), "L2": (False, None), "L3": (False, 40.0), "L4": (True, 10.0)},
            1,
            Status.NOT_MET,
        ),
    ],
)
def test_count_lesions_is_three_valued(
    table: Mapping[str, tuple[bool | None, float | None]], at_least: int, expected: Status
) -> None:
    rule = r.Compare(value=r.CountLesions(where=WHERE), op=">=", threshold=r.Quantity(value=at_least))
    result = evaluate(rule, PatientRecord(patient_id="p", lesions=LESIONS), AS_OF, deriver=lesion_values(table))
    assert result.status is expected
    assert [e.source for e in result.evidence] == [lesion.source for lesion in LESIONS]
    assert [c.reason.split(":")[0] for c in result.children] == [
        "lesion L1",
        "lesion L2",
        "lesion L3",
        "lesion L4",
    ]


def test_count_lesions_without_lesions_is_unknown() -> None:
    rule = r.Compare(value=r.CountLesions(), op=">=", threshold=r.Quantity(value=1))
    result = evaluate(rule, PatientRecord(patient_id="p"), AS_OF, deriver=NO_DERIVED)
    assert (result.status, result.missing) == (Status.UNKNOWN, ("tumor lesion assessments",))


def test_every_node_kind_has_a_visitor() -> None:
    condition_kinds = typing.get_args(typing.get_args(r.Condition)[0])
    value_kinds = typing.get_args(typing.get_args(r.Value)[0])
    assert set(CONDITION_VISITORS) == set(condition_kinds)
    assert set(VALUE_VISITORS) == set(value_kinds)


def test_a_node_kind_without_visitor_raises() -> None:
    with pytest.raises(RuleError, match="no visitor"):
        evaluate(r.Duration(amount=1, unit="d"), PatientRecord(patient_id="p"), AS_OF, deriver=NO_DERIVED)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------------------
# Properties over generated rule trees

PROPERTY_RECORD = PatientRecord(
    patient_id="p",
    conditions=(BONE_METS,),
    measurements=(alp(480.0), bilirubin(2.1)),
)
LEAVES = [
    *LEAF.values(),
    alp_rule(5),
    alp_rule(2.5),
    r.Has(domain="condition", concept="condition.metastasis.liver"),
    BILIRUBIN_RULE,
]


def trees() -> st.SearchStrategy[r.Condition]:
    def extend(children: st.SearchStrategy[r.Condition]) -> st.SearchStrategy[r.Condition]:
        items = st.lists(children, min_size=1, max_size=4).map(tuple)
        return st.one_of(
            items.map(lambda i: r.All(items=i)),
            items.map(lambda i: r.Any(items=i)),
            children.map(lambda c: r.Not(item=c)),
            st.builds(
                lambda c, t, o: r.When(condition=c, then=t, otherwise=o),
                children,
                children,
                st.none() | children,
            ),
        )

    return st.recursive(st.sampled_from(LEAVES), extend, max_leaves=10)


def status_of(rule: r.Condition) -> Status:
    return evaluate(rule, PROPERTY_RECORD, AS_OF, deriver=LEAF_DERIVER).status


@settings(max_examples=150, deadline=None)
@given(trees())
def test_double_negation_is_identity(rule: r.Condition) -> None:
    original = evaluate(rule, PROPERTY_RECORD, AS_OF, deriver=LEAF_DERIVER)
    twice = evaluate(r.Not(item=r.Not(item=rule)), PROPERTY_RECORD, AS_OF, deriver=LEAF_DERIVER)
    assert (twice.status, twice.timeline) == (original.status, original.timeline)


@settings(max_examples=150, deadline=None)
@given(st.lists(trees(), min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_all_and_any_ignore_item_order(items: list[r.Condition], rnd: typing.Any) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    for node in (r.All, r.Any):
        assert status_of(node(items=tuple(items))) is status_of(node(items=tuple(shuffled)))


def test_default_deriver_computes_age_from_the_record() -> None:
    rec = PatientRecord(patient_id="p", birth_date=dt.date(2006, 9, 15), conditions=(BONE_METS,))
    rule = r.All(
        items=(
            r.Compare(value=r.Derived(name="age"), op=">=", threshold=r.Quantity(value=18)),
            r.Not(item=r.Has(domain="condition", concept="condition.metastasis.brain", timing=r.Timing(mode="active"))),
        )
    )
    result = evaluate(rule, rec, AS_OF)
    assert (result.status, result.changes_on, result.time_bound) == (
        Status.NOT_MET,
        dt.date(2024, 9, 15),
        True,
    )
    assert "Age 17 years on 2024-06-01 from the recorded date of birth (needed: at least 18)" in result.reason
