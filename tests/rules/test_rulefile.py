"""Rule files load into checked models, report every problem at the file's position, and dump back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.rules.ast import All, Any, Condition, Flag, Not, Review
from trialmatch.rules.printer import print_rule
from trialmatch.rules.rulefile import (
    CriterionRules,
    RuleFile,
    RuleFileError,
    RulePart,
    computability_of,
    dump_rule_file,
    load_rule_file,
    read_rule_file,
)
from trialmatch.rules.syntax import parse_rule
from trialmatch.rules.testing import rule_trees
from trialmatch.trials.model import criterion_text_hash

INC1 = "Histologically confirmed HER2-positive metastatic breast cancer"
INC8 = "Adequate bone marrow function: ANC > 1,500 cells/mm3 and platelets >= 100,000/mm3"
EXC3 = "Total bilirubin > 1.5 x ULN"
EXC3_1 = "Patients with Gilbert syndrome may enrol"

GOOD = f"""\
# trialmatch curated rules for NCT00000001 (test file)
rules_schema: 1
trial_id: NCT00000001
version: "2026-11-21.1"
source: "test listing"
curated_by: "trialmatch maintainers"
reviewed_by: null
criteria:
  - id: inc-1
    text: "{INC1}"
    text_hash: "{criterion_text_hash(INC1)}"
    computability: computable
    rule: |
      her2(specimen=any) == positive
  - id: inc-8
    text: "{INC8}"
    text_hash: "{criterion_text_hash(INC8)}"
    computability: computable
    parts:
      - id: inc-8/anc
        label: "ANC > 1,500 cells/mm3"
        rule: latest(lab.anc, within=28d) > 1.5 10*3/uL
      - id: inc-8/platelets
        label: "Platelets >= 100,000/mm3"
        rule: latest(lab.platelets, within=28d) >= 100 10*3/uL
  - id: exc-3
    text: "{EXC3}"
    text_hash: "{criterion_text_hash(EXC3)}"
    computability: computable
    rule: |
      latest(lab.bilirubin_total,
             within=28d) > 1.5 x ULN
    missing: "Total bilirubin within the last 28 days"
  - id: exc-3.1
    text: "{EXC3_1}"
    text_hash: "{criterion_text_hash(EXC3_1)}"
    computability: computable
    rule: condition(condition.gilbert_syndrome)
    qualifies: exc-3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "NCT00000001.rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, **kwargs: object) -> list[tuple[int, int, str]]:
    with pytest.raises(RuleFileError) as caught:
        load_rule_file(write(tmp_path, text), **kwargs)  # type: ignore[arg-type]
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_good_file_loads(tmp_path: Path) -> None:
    rules = load_rule_file(write(tmp_path, GOOD))
    assert [c.id for c in rules.criteria] == ["inc-1", "inc-8", "exc-3", "exc-3.1"]
    assert rules.criterion("inc-1").rule == parse_rule("her2(specimen=any) == positive")
    assert rules.criterion("exc-3").rule_text == "latest(lab.bilirubin_total,\n       within=28d) > 1.5 x ULN"
    assert [p.id for p in rules.criterion("inc-8").parts] == ["inc-8/anc", "inc-8/platelets"]


def test_content_hash_is_of_the_file_bytes(tmp_path: Path) -> None:
    rules = load_rule_file(write(tmp_path, GOOD))
    digest = hashlib.sha256(GOOD.encode("utf-8")).hexdigest()[:12]
    assert rules.content_hash == digest
    assert rules.rules_version == f"2026-11-21.1+{digest}"


def test_effective_rule_of_parts_is_all_of_them_for_inclusion_any_for_exclusion(tmp_path: Path) -> None:
    inc8 = load_rule_file(write(tmp_path, GOOD)).criterion("inc-8")
    assert inc8.effective_rule() == All(items=tuple(p.rule for p in inc8.parts))
    exc8 = inc8.model_copy(update={"id": "exc-8"})
    assert exc8.effective_rule() == Any(items=tuple(p.rule for p in inc8.parts))


def test_qualifying_criterion_lifts_an_exclusion(tmp_path: Path) -> None:
    rules = load_rule_file(write(tmp_path, GOOD))
    gilbert = parse_rule("condition(condition.gilbert_syndrome)")
    assert rules.resolved_rule("exc-3") == All(
        items=(rules.criterion("exc-3").rule, Not(item=gilbert))  # type: ignore[arg-type]
    )
    assert rules.resolved_rule("exc-3.1") == parse_rule("condition(condition.gilbert_syndrome)")


def test_rule_syntax_error_is_reported_at_the_file_position(tmp_path: Path) -> None:
    text = GOOD.replace("             within=28d) > 1.5 x ULN", "             within=28days) > 1.5 x ULN")
    assert problems_of(tmp_path, text) == [(32, 21, "expected a duration such as 28d, 4w, 6mo or 5y, found '28days'")]


def test_one_line_rule_error_is_reported_at_the_file_position(tmp_path: Path) -> None:
    text = GOOD.replace("rule: condition(condition.gilbert_syndrome)", "rule: condition(condition.gilbert_syndrom)")
    found = problems_of(tmp_path, text, concepts={"condition.gilbert_syndrome", "lab.anc", "lab.platelets"})
    assert found[-1] == (
        38,
        21,
        "unknown concept 'condition.gilbert_syndrom'. Did you mean 'condition.gilbert_syndrome'?",
    )


def test_every_problem_is_collected(tmp_path: Path) -> None:
    text = (
        GOOD.replace("her2(specimen=any) == positive", "her2(specimen=any) == postive")
        .replace("id: inc-8/platelets", "id: inc-9/platelets")
        .replace("qualifies: exc-3", "qualifies: exc-30")
        .replace(f'text_hash: "{criterion_text_hash(INC1)}"', 'text_hash: "0000"')
        .replace("computability: computable\n    parts", "computability: partial\n    parts")
    )
    found = problems_of(tmp_path, text)
    assert [(line, column) for line, column, _ in found] == [(11, 16), (14, 29), (18, 20), (23, 13), (39, 16)]
    messages = " | ".join(m for _, _, m in found)
    assert "text_hash does not match the text" in messages
    assert "never 'postive'. Did you mean 'positive'?" in messages
    assert "computability is partial, but the rule is computable" in messages
    assert "part id 'inc-9/platelets' must start with 'inc-8/'" in messages
    assert "qualifies 'exc-30', which is not another criterion" in messages


@pytest.mark.parametrize(
    ("edit", "position", "message"),
    [
        (("id: exc-3.1", "id: exc-3"), (34, 9), "duplicate id 'exc-3'"),
        (
            (
                "computability: computable\n    rule: |\n      her2",
                "computabilty: computable\n    rule: |\n      her2",
            ),
            (12, 19),
            "criteria.0.computabilty: Extra inputs are not permitted",
        ),
        (("rules_schema: 1", "rules_schema: 2"), (2, 15), "rules_schema: Input should be 1"),
        (
            ('version: "2026-11-21.1"', 'version: "2026-11-21.1"\nversion: "x"'),
            (5, 1),
            "duplicate key 'version'",
        ),
        (("reviewed_by: null", "reviewed_by: [oops"), (8, 9), "invalid YAML: expected ',' or ']'"),
    ],
)
def test_structural_problems(tmp_path: Path, edit: tuple[str, str], position: tuple[int, int], message: str) -> None:
    found = problems_of(tmp_path, GOOD.replace(*edit))
    assert any((line, column) == position and message in text for line, column, text in found), found


def test_missing_rule_needs_parts_or_children(tmp_path: Path) -> None:
    text = GOOD.replace("    rule: |\n      her2(specimen=any) == positive\n", "")
    assert problems_of(tmp_path, text)[0][2] == "'inc-1' has no rule: give `rule`, `parts`, or sub-items inc-1.N"


def test_parent_without_rule_takes_its_children(tmp_path: Path) -> None:
    text = GOOD.replace("    rule: |\n      latest(lab.bilirubin_total,\n             within=28d) > 1.5 x ULN\n", "")
    rules = load_rule_file(write(tmp_path, text))
    gilbert = parse_rule("condition(condition.gilbert_syndrome)")
    assert rules.resolved_rule("exc-3") == All(items=(Any(items=(gilbert,)), Not(item=gilbert)))


def test_not_utf8_is_a_problem_not_a_crash() -> None:
    with pytest.raises(RuleFileError, match="not UTF-8"):
        read_rule_file(b"rules_schema: 1\ntrial_id: \xff\n", name="x.rules.yaml")


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("age >= 18", "computable"),
        ('review("Signed consent")', "review"),
        ('all(review("a"), review("b"))', "review"),
        ('all(age >= 18, review("Signed consent"))', "partial"),
        ('when(childbearing_potential, review("Contraception"))', "partial"),
        ('metastatic unless review("Investigator judges otherwise")', "partial"),
    ],
)
def test_computability(rule: str, expected: str) -> None:
    assert computability_of(parse_rule(rule)) == expected


def test_dump_then_load_gives_the_same_rules(tmp_path: Path) -> None:
    rules = load_rule_file(write(tmp_path, GOOD))
    dumped = dump_rule_file(rules)
    assert dumped.startswith("# trialmatch curated rules for NCT00000001\n# Source: test listing\n")
    again = load_rule_file(write(tmp_path, dumped))
    assert _without_text(again) == _without_text(rules)
    assert again.content_hash == hashlib.sha256(dumped.encode("utf-8")).hexdigest()[:12]
    assert dump_rule_file(again) == dumped


def _without_text(rules: RuleFile) -> list[object]:
    return [
        c.model_copy(
            update={
                "rule_text": None,
                "parts": tuple(p.model_copy(update={"rule_text": None}) for p in c.parts),
            }
        )
        for c in rules.criteria
    ]


def _criterion(rule: Condition, text: str, note: str | None) -> CriterionRules:
    part = RulePart(id="inc-1/a", label=text, rule=rule)
    return CriterionRules(
        id="inc-1",
        text=text,
        text_hash=criterion_text_hash(text),
        computability=computability_of(Any(items=(rule, Flag(name="metastatic")))),
        parts=(part, RulePart(id="inc-1/b", label="metastatic", rule=Flag(name="metastatic"))),
        note=note,
    )


texts = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(rule_trees(max_leaves=6), texts, st.none() | texts)
def test_dump_load_round_trip_for_generated_rules(rule: Condition, text: str, note: str | None) -> None:
    rules = RuleFile(
        rules_schema=1,
        trial_id="NCT00000001",
        version="1",
        source=text,
        curated_by="yes",
        criteria=(_criterion(rule, text, note),),
    )
    loaded = read_rule_file(dump_rule_file(rules).encode("utf-8"), name="generated")
    assert loaded.criteria[0].parts[0].rule == rule
    assert loaded.criteria[0].parts[0].rule_text == print_rule(rule)
    assert (loaded.source, loaded.curated_by, loaded.criteria[0].text, loaded.criteria[0].note) == (
        text,
        "yes",
        text,
        note,
    )


def test_review_only_parts_make_a_review_criterion() -> None:
    criterion = _criterion(Review(reason="x"), "text", None)
    assert criterion.effective_rule() == All(items=(Review(reason="x"), Flag(name="metastatic")))
