"""``cohort screen --since``: the full result again, and changes.parquet listing exactly the pairs whose verdict
changed against the earlier run (the cohort's re-screen)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from trialmatch.commands.cohort import app

TRIALS = ["--trials", "NCT02286843", "--trials", "NCT03530696"]


def _verdicts(run: Path) -> dict[tuple[str, str], str]:
    rows = pq.read_table(run / "verdicts.parquet").to_pylist()
    return {(r["patient_id"], r["trial_id"]): r["verdict"] for r in rows}


def test_changes_since_an_earlier_run(tmp_path: Path) -> None:
    runner = CliRunner()
    for run, patients in ((1, 120), (2, 150)):  # same seed, other sizes: the same ids, other records, 30 more
        store = str(tmp_path / f"store-{run}")
        made = runner.invoke(app, ["synth", "--patients", str(patients), "--seed", "1", "--out", store])
        assert made.exit_code == 0, made.output
    first = runner.invoke(app, ["screen", str(tmp_path / "store-1"), *TRIALS, "--out", str(tmp_path / "run-1")])
    assert first.exit_code == 0, first.output
    args = ["screen", str(tmp_path / "store-2"), "--trials", "NCT03530696", "--out", str(tmp_path / "run-2")]
    again = runner.invoke(app, [*args, "--since", str(tmp_path / "run-1")])
    assert again.exit_code == 0, again.output
    before, after = _verdicts(tmp_path / "run-1"), _verdicts(tmp_path / "run-2")
    expected = {}
    for pair in before.keys() | after.keys():
        old, new = before.get(pair), after.get(pair)
        if old != new:
            expected[pair] = (old, new, "added" if old is None else "removed" if new is None else f"newly_{new}")
    written = {
        (r["patient_id"], r["trial_id"]): (r["before"], r["after"], r["change"])
        for r in pq.read_table(tmp_path / "run-2/changes.parquet").to_pylist()
    }
    assert written == expected
    kinds = {change for _, _, change in expected.values()}
    assert {"added", "removed"} <= kinds and kinds & {"newly_eligible", "newly_possible", "newly_ineligible"}
    assert len(after) == 150  # the full result, not just the changes
    assert "changes since" in again.output


def test_since_must_be_an_earlier_run_and_not_the_output(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["synth", "--patients", "20", "--out", str(tmp_path / "store")])
    assert made.exit_code == 0, made.output
    out = str(tmp_path / "run")
    missing = runner.invoke(app, ["screen", str(tmp_path / "store"), "--out", out, "--since", str(tmp_path)])
    assert missing.exit_code == 2 and "not the folder of an earlier cohort run" in missing.output
    done = runner.invoke(app, ["screen", str(tmp_path / "store"), *TRIALS, "--out", out])
    assert done.exit_code == 0, done.output
    same = runner.invoke(app, ["screen", str(tmp_path / "store"), "--out", out, "--since", out])
    assert same.exit_code == 2 and "another folder" in same.output
