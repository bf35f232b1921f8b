"""``trialmatch rules check``: OK line, one FILE:LINE:COL line per problem, and the contract's exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from trialmatch.commands.rules import app
from trialmatch.trials.model import criterion_text_hash

TEXT = "Absolute neutrophil count > 1,500 cells/mm3"


def rule_file(tmp_path: Path, rule: str, concept_rule: str = "latest(lab.platelets) >= 100 10*3/uL") -> Path:
    path = tmp_path / "NCT00000002.rules.yaml"
    path.write_text(
        f"""\
rules_schema: 1
trial_id: NCT00000002
version: "1"
source: "test"
curated_by: "tests"
criteria:
  - id: inc-1
    text: "{TEXT}"
    text_hash: "{criterion_text_hash(TEXT)}"
    computability: computable
    parts:
      - id: inc-1/anc
        label: "ANC"
        rule: {rule}
      - id: inc-1/platelets
        label: "Platelets"
        rule: {concept_rule}
""",
        encoding="utf-8",
    )
    return path


def test_good_file_is_ok(tmp_path: Path) -> None:
    path = rule_file(tmp_path, "latest(lab.anc, within=28d) > 1.5 10*3/uL")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 0
    assert result.output == f"{path}: OK (1 criteria, 2 parts)\n"


def test_each_problem_is_one_line_and_exit_is_1(tmp_path: Path) -> None:
    path = rule_file(tmp_path, "latest(lab.anc, within=28d) >> 1.5", "latest(lab.platelts) >= 100 10*3/uL")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:14:44: expected a number or a category, found '>'",
        f"{path}:17:22: unknown concept 'lab.platelts'. Did you mean 'lab.platelets'?",
    ]


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path / "missing.rules.yaml")])
    assert result.exit_code == 2
    assert "cannot read the file" in result.output


def test_a_drafted_rule_breaking_an_invariant_is_reported(tmp_path: Path) -> None:
    path = rule_file(tmp_path, "latest(lab.anc) >= 1.5 10*3/uL", "all(age >= 18, age < 18)")
    text = path.read_text(encoding="utf-8").replace("    parts:", "    drafted: true\n    parts:")
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: inc-1: drafted rule breaks an invariant: bounds that cannot both hold",
    ]
