"""``trialmatch trials review``: a person walks through a trial's drafted rules (accept, edit, mark review, skip,
quit); each decision is recorded in the library's rule file with who and when, and ``trials show`` marks drafted
and reviewed rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.rules.ast import Review
from trialmatch.rules.catalog import library_rules_dir
from trialmatch.rules.rulefile import load_rule_file
from trialmatch.rules.syntax import parse_rule

FIXTURES = Path(__file__).parent / "fixtures"
TRIAL = "NCT90000009"
runner = CliRunner(env={"COLUMNS": "150"})


def _drafted_library(tmp_path: Path) -> Path:
    result = runner.invoke(
        app, ["trials", "import", str(FIXTURES / "listing_synthetic.txt"), "--draft", "--library", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    return library_rules_dir(tmp_path) / f"{TRIAL}.rules.yaml"


def _review(tmp_path: Path, answers: str) -> str:
    args = ["trials", "review", TRIAL, "--reviewer", "A. Curator", "--library", str(tmp_path)]
    result = runner.invoke(app, args, input=answers)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_accept_edit_review_are_recorded_with_who_and_when(tmp_path: Path) -> None:
    path = _drafted_library(tmp_path)
    drafts = [c for c in load_rule_file(path).criteria if c.drafted and c.effective_rule() is not None]
    assert len(drafts) >= 3
    out = _review(tmp_path, "a\ne\nnot a rule (\nage >= 21\nr\nConfirm at the site\nq\n")
    assert drafts[0].text in out
    after = {c.id: c for c in load_rule_file(path).criteria}
    today = dt.date.today().isoformat()
    first, second, third = (after[d.id] for d in drafts[:3])
    assert (first.drafted, first.reviewed, first.rule, first.parts) == (
        False,
        f"A. Curator, {today}: accepted",
        drafts[0].rule,
        drafts[0].parts,
    )
    assert (second.drafted, second.rule, second.computability) == (False, parse_rule("age >= 21"), "computable")
    assert second.reviewed == f"A. Curator, {today}: edited"
    assert third.rule == Review(reason="Confirm at the site") and third.computability == "review"
    assert all(after[d.id].drafted for d in drafts[3:])
    assert f"{TRIAL}: 3 reviewed, {len(drafts) - 3} still drafted" in out


def test_show_marks_drafted_and_reviewed_rules(tmp_path: Path) -> None:
    _drafted_library(tmp_path)
    _review(tmp_path, "a\nq\n")
    result = runner.invoke(app, ["trials", "show", TRIAL, "--library", str(tmp_path)])
    assert result.exit_code == 0
    assert ", drafted: not reviewed]" in result.stdout
    assert f", reviewed by A. Curator, {dt.date.today().isoformat()}: accepted]" in result.stdout


def test_a_trial_without_drafted_rules_cannot_be_reviewed(tmp_path: Path) -> None:
    runner.invoke(app, ["trials", "import", str(FIXTURES / "listing_synthetic.txt"), "--library", str(tmp_path)])
    result = runner.invoke(app, ["trials", "review", TRIAL, "--reviewer", "x", "--library", str(tmp_path)])
    assert result.exit_code == 2
    assert "no drafted rules in the library" in result.stderr
