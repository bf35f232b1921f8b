"""The printer's text reads back as the same tree, for curated examples and for generated trees."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.errors import RuleError
from trialmatch.rules.ast import All, Compare, Condition, Derived, Flag, Has, Latest, Quantity, Review, Timing
from trialmatch.rules.printer import format_number, print_rule
from trialmatch.rules.syntax import parse_rule
from trialmatch.rules.testing import rule_trees

CANONICAL = [
    "latest(lab.creatinine, within=28d) < 2 mg/dL",
    "latest(lab.anc, within=28d) > 1.5 10*3/uL",
    "max(marker.her2_ish_ratio) >= 2 {ratio}",
    "latest(vital.bp_systolic) < 150 mm[Hg]",
    "latest(obs.lvef, within=28d) >= 50 %",
    "latest(lab.bilirubin_total) <= 1.5 x ULN unless condition(condition.gilbert_syndrome)",
    "drug(drug.class.endocrine, continuous=2y, max_gap=3mo)",
    "drug(drug.class.anti_her2, active, setting=metastatic)",
    "procedure(procedure.major_surgery, before=4w)",
    "recist(which=best) in {CR, PR, SD}",
    'all(age >= 18, sex == female, ecog <= 1, review("Signed \\"informed\\" consent"))',
    "when(childbearing_potential, not(pregnant))",
    "bone_only unless brain_only unless metastatic",
    "metastatic unless (bone_only unless brain_only)",
    "count_lesions() >= 1",
]

LONG = (
    "count_lesions(where=all(measurable, any(visceral, nodal), diameter > 15 mm, "
    "suv_ratio(reference=liver) >= 2, not(irradiated), not(confluent))) >= 2"
)


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_text_prints_as_written(text: str) -> None:
    assert print_rule(parse_rule(text)) == text


def test_long_rules_break_one_argument_per_line() -> None:
    printed = print_rule(parse_rule(LONG))
    assert printed.splitlines() == [
        "count_lesions(where=",
        "  all(",
        "    measurable,",
        "    any(visceral, nodal),",
        "    diameter > 15 mm,",
        "    suv_ratio(reference=liver) >= 2,",
        "    not(irradiated),",
        "    not(confluent)",
        "  )",
        ") >= 2",
    ]
    assert parse_rule(printed) == parse_rule(LONG)


def test_long_unless_puts_the_exception_on_its_own_line() -> None:
    text = "latest(lab.bilirubin_total, within=28d) <= 1.5 x ULN unless condition(condition.gilbert_syndrome)"
    assert print_rule(parse_rule(text), width=60).splitlines()[1] == "unless condition(condition.gilbert_syndrome)"


def test_every_printed_line_fits_the_width_when_it_can() -> None:
    printed = print_rule(parse_rule(LONG), width=40)
    assert max(len(line) for line in printed.splitlines()) <= 40


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (1.5, "1.5"), (100000.0, "100000"), (0.1, "0.1"), (1e16, "1e+16"), (-2.5, "-2.5")],
)
def test_numbers_print_shortest_exact_form(value: float, text: str) -> None:
    assert format_number(value) == text
    assert float(text) == value


@settings(max_examples=400, deadline=None)
@given(rule_trees())
def test_parse_of_print_is_identity(tree: Condition) -> None:
    assert parse_rule(print_rule(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(rule_trees(), st.integers(min_value=20, max_value=120))
def test_layout_width_never_changes_the_tree(tree: Condition, width: int) -> None:
    assert parse_rule(print_rule(tree, width=width)) == tree


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_survives(value: float) -> None:
    tree = Compare(value=Latest(concept="lab.anc"), op="<", threshold=Quantity(value=value, unit="10*3/uL"))
    assert parse_rule(print_rule(tree)) == tree


UNPRINTABLE = [
    Flag(name="has space"),
    Compare(value=Derived(name="age"), op=">=", threshold=Quantity(value=18, unit="unless")),
    Compare(value=Latest(concept="anc"), op=">", threshold=Quantity(value=1)),
    Review(reason="line\nbreak"),
    Has(domain="drug", concept="drug.lapatinib", timing=Timing(mode="within")),
    All(items=(Compare(value=Derived(name="age"), op=">=", threshold=Quantity(value=float("inf"))),)),
]


@pytest.mark.parametrize("tree", UNPRINTABLE, ids=lambda t: t.kind)
def test_trees_that_would_read_back_differently_are_refused(tree: Condition) -> None:
    with pytest.raises(RuleError, match="cannot print"):
        print_rule(tree)
