"""Rule text parses to the intended tree, and bad text fails with a position and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.errors import RuleSyntaxError
from trialmatch.rules.ast import (
    All,
    Any,
    Category,
    CategorySet,
    Compare,
    CountLesions,
    Derived,
    Duration,
    Extreme,
    Flag,
    Has,
    Latest,
    Not,
    Quantity,
    Review,
    Timing,
    UlnMultiple,
    Unless,
    When,
)
from trialmatch.rules.syntax import parse_rule
from trialmatch.rules.vocabulary import DERIVED, DerivedName

D28 = Duration(amount=28, unit="d")
ALP = Latest(concept="lab.alp", within=D28)
CONCEPTS = {"lab.anc", "lab.alp", "lab.creatinine", "condition.gilbert_syndrome", "drug.class.chemotherapy"}

PARSES = [
    (
        "latest(lab.creatinine, within=28d) < 2.0 mg/dL",
        Compare(
            value=Latest(concept="lab.creatinine", within=D28),
            op="<",
            threshold=Quantity(value=2.0, unit="mg/dL"),
        ),
    ),
    (
        "latest(lab.anc) > 1.5 10*3/uL",
        Compare(value=Latest(concept="lab.anc"), op=">", threshold=Quantity(value=1.5, unit="10*3/uL")),
    ),
    (
        "max(lab.alp, within=28d) <= 1.5 x ULN unless condition(condition.gilbert_syndrome)",
        Unless(
            rule=Compare(
                value=Extreme(function="max", concept="lab.alp", within=D28),
                op="<=",
                threshold=UlnMultiple(factor=1.5),
            ),
            exception=Has(domain="condition", concept="condition.gilbert_syndrome"),
        ),
    ),
    (
        "when(condition(condition.metastasis.bone), latest(lab.alp, within=28d) <= 5 x ULN,\n"
        "     latest(lab.alp, within=28d) <= 2.5 x ULN)",
        When(
            condition=Has(domain="condition", concept="condition.metastasis.bone"),
            then=Compare(value=ALP, op="<=", threshold=UlnMultiple(factor=5)),
            otherwise=Compare(value=ALP, op="<=", threshold=UlnMultiple(factor=2.5)),
        ),
    ),
    (
        "condition(condition.malignancy, within=5y, except=[condition.carcinoma_in_situ_cervix])",
        Has(
            domain="condition",
            concept="condition.malignancy",
            timing=Timing(mode="within", duration=Duration(amount=5, unit="y")),
            exceptions=("condition.carcinoma_in_situ_cervix",),
        ),
    ),
    (
        "drug(drug.class.endocrine, continuous=2y, max_gap=3mo)",
        Has(
            domain="drug",
            concept="drug.class.endocrine",
            timing=Timing(
                mode="continuous",
                duration=Duration(amount=2, unit="y"),
                max_gap=Duration(amount=3, unit="mo"),
            ),
        ),
    ),
    (
        "drug(drug.class.anti_her2, setting=metastatic, active)",
        Has(domain="drug", concept="drug.class.anti_her2", timing=Timing(mode="active"), setting="metastatic"),
    ),
    (
        "count_lesions(where=all(measurable, diameter > 15 mm, suv_ratio(reference=liver) >= 2,\n"
        "                        not(irradiated))) >= 2",
        Compare(
            value=CountLesions(
                where=All(
                    items=(
                        Flag(name="measurable"),
                        Compare(value=Derived(name="diameter"), op=">", threshold=Quantity(value=15, unit="mm")),
                        Compare(
                            value=Derived(name="suv_ratio", args=(("reference", "liver"),)),
                            op=">=",
                            threshold=Quantity(value=2),
                        ),
                        Not(item=Flag(name="irradiated")),
                    )
                )
            ),
            op=">=",
            threshold=Quantity(value=2),
        ),
    ),
    (
        "recist(which=best) in {CR, PR, SD}",
        Compare(
            value=Derived(name="recist", args=(("which", "best"),)),
            op="in",
            threshold=CategorySet(values=("CR", "PR", "SD")),
        ),
    ),
    (
        'all(age >= 18, sex == female, # sex as recorded\n review("Signed \\"informed\\" consent \\\\ ok"))',
        All(
            items=(
                Compare(value=Derived(name="age"), op=">=", threshold=Quantity(value=18)),
                Compare(value=Derived(name="sex"), op="==", threshold=Category(value="female")),
                Review(reason='Signed "informed" consent \\ ok'),
            )
        ),
    ),
    (
        "lines(setting=metastatic, drug=drug.class.chemotherapy) <= 2",
        Compare(
            value=Derived(name="lines", args=(("setting", "metastatic"), ("drug", "drug.class.chemotherapy"))),
            op="<=",
            threshold=Quantity(value=2),
        ),
    ),
    (
        "any(brain_metastases(status=active), progression(within=6mo)) unless (bone_only unless brain_only)",
        Unless(
            rule=Any(
                items=(
                    Flag(name="brain_metastases", args=(("status", "active"),)),
                    Flag(name="progression", args=(("within", "6mo"),)),
                )
            ),
            exception=Unless(rule=Flag(name="bone_only"), exception=Flag(name="brain_only")),
        ),
    ),
    ("count_lesions() >= 1", Compare(value=CountLesions(), op=">=", threshold=Quantity(value=1))),
]


@pytest.mark.parametrize(("text", "tree"), PARSES, ids=[t.split("(")[0] for t, _ in PARSES])
def test_parses_to_tree(text: str, tree: object) -> None:
    assert parse_rule(text) == tree


def test_whole_numbers_parse_as_floats() -> None:
    threshold = parse_rule("latest(lab.creatinine) < 2.0 mg/dL").threshold  # type: ignore[union-attr]
    assert threshold == Quantity(value=2, unit="mg/dL")
    assert isinstance(threshold.value, float)


def test_unless_groups_to_the_left() -> None:
    tree = parse_rule("bone_only unless brain_only unless metastatic")
    assert tree == Unless(
        rule=Unless(rule=Flag(name="bone_only"), exception=Flag(name="brain_only")),
        exception=Flag(name="metastatic"),
    )


ERRORS = [
    ("age >= 18 and ecog <= 1", 1, 11, "expected the end of the rule, found 'and'"),
    ("all(age >= 18\n    ecog <= 1)", 2, 5, "expected ',' or ')', found 'ecog'"),
    ("ecogg <= 1", 1, 1, "unknown name 'ecogg'. Did you mean 'ecog'?"),
    (
        "her2(specimen=primry) == positive",
        1,
        15,
        "takes one of latest, any, primary, metastatic, not 'primry'",
    ),
    (
        "her2(specimin=any) == positive",
        1,
        6,
        "her2 has no argument 'specimin' (it takes specimen). Did you mean",
    ),
    ("measurable_disease >= 1", 1, 20, "'measurable_disease' is a yes/no flag"),
    ("age == female", 1, 8, "age is a number: compare it with a number, not a category"),
    ("her2 < positive", 1, 8, "categories are compared with ==, != or in, not <"),
    ("her2 == 2", 1, 9, "her2 is a category"),
    ("sex == femal", 1, 8, "never 'femal'. Did you mean 'female'?"),
    ("diameter > 10 mm", 1, 1, "'diameter' describes one lesion: use it inside count_lesions(where=...)"),
    ("count_lesions(where=age > 3) > 1", 1, 21, "'age' describes the patient"),
    (
        "count_lesions(where=latest(lab.anc) > 3) > 1",
        1,
        21,
        "latest(...) cannot be used inside count_lesions",
    ),
    ("ecog <= 1 %", 1, 9, "ecog is a count or score and takes no unit"),
    ("age >= 2 x ULN", 1, 8, "x ULN needs a measured value"),
    ("lab.anc > 1.5", 1, 1, "a concept alone is not a condition"),
    ("latest(condition.hiv) > 1", 1, 8, "'condition.hiv' is not measured"),
    ("drug(condition.hiv)", 1, 6, "expected a drug.* concept here, found 'condition.hiv'"),
    ("procedure(procedure.ct, except=[condition.hiv])", 1, 25, "procedure(...) has no option 'except'"),
    ("drug(drug.lapatinib, within=15days)", 1, 29, "expected a duration such as 28d"),
    ("drug(drug.lapatinib, within=6mo, before=1y)", 1, 34, "'before' repeats or contradicts"),
    ("drug(drug.lapatinib, max_gap=1mo)", 1, 1, "max_gap= only goes with continuous="),
    ('review("unterminated)', 1, 8, "expected a reason in double quotes"),
    ("when(metastatic)", 1, 1, "when(...) takes a condition, a requirement"),
    ("recist in CR", 1, 11, "expected a set of categories such as {CR, PR} after in"),
    ("recist == {CR}", 1, 11, "a set of categories needs the operator in"),
    ("all(", 1, 5, "expected a condition, found the end of the rule"),
    ("not(metastatic, bone_only)", 1, 1, "not(...) takes one condition, got 2"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_carry_position_and_expectation(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert message in str(caught.value)
    assert caught.value.source_line == text.splitlines()[line - 1]


def test_error_points_a_caret_at_the_column() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("all(age >= 18,\n    ecogg <= 1)")
    assert str(caught.value).endswith("\n      ecogg <= 1)\n      ^")


def test_unknown_concept_suggests_the_closest() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse_rule("latest(lab.ancc, within=28d) > 1.5 10*3/uL", concepts=CONCEPTS)
    assert (caught.value.line, caught.value.column) == (1, 8)
    assert str(caught.value).splitlines()[0].endswith("unknown concept 'lab.ancc'. Did you mean 'lab.anc'?")


def test_concepts_in_exceptions_and_arguments_are_checked() -> None:
    with pytest.raises(RuleSyntaxError, match=r"unknown concept 'drug\.class\.chemo'"):
        parse_rule("lines(drug=drug.class.chemo) <= 1", concepts=CONCEPTS)
    assert parse_rule("lines(drug=drug.class.chemotherapy) <= 1", concepts=CONCEPTS) is not None


def test_known_concepts_pass() -> None:
    assert parse_rule("latest(lab.anc) > 1.5 10*3/uL", concepts=CONCEPTS) == parse_rule("latest(lab.anc) > 1.5 10*3/uL")


def test_and_gets_a_hint_towards_all() -> None:
    with pytest.raises(RuleSyntaxError, match=r"found 'and' \(combine conditions with all\(...\) or any\(...\)\)"):
        parse_rule("metastatic and bone_only")


DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


@pytest.mark.parametrize("entry", DERIVED, ids=lambda d: d.name)
def test_docs_describe_every_derived_name(entry: DerivedName) -> None:
    """docs/rules.md has a table row for each vocabulary name, listing its arguments, choices and categories."""
    row = next(
        (line for line in DOCS.read_text(encoding="utf-8").splitlines() if line.startswith(f"| `{entry.name}` |")), None
    )
    assert row is not None, f"docs/rules.md has no row for {entry.name}"
    assert f"| {entry.type} |" in row
    words = [f"`{a.name}=`" for a in entry.arguments] + [c for a in entry.arguments for c in a.choices]
    assert all(word in row for word in [*words, *entry.categories]), row
