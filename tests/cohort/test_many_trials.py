"""Many trials in one cohort run: the library's drafted trials beside the bundled ones, in batches of bounded size
that give the same files as one wide query, and a trial whose rules cannot be used reported while the others run."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.cohort.plan import batches
from trialmatch.cohort.screen import screen_store
from trialmatch.commands.trial_selection import select

DRAFTED = ["NCT03574571", "NCT03586453", "NCT03592472", "NCT03595917", "NCT03607890"]
BROKEN = "NCT03592472"


@pytest.fixture
def library(shared_dir: Path, tmp_path: Path) -> Path:
    """A trial library with five corpus trials imported and drafted, one of whose rule files is then damaged."""
    root = tmp_path / "library"
    files = [str(shared_dir / "fixtures/ctgov-corpus" / f"{n}.json") for n in DRAFTED]
    done = CliRunner().invoke(app, ["trials", "import", "--library", str(root), "--draft", *files])
    assert done.exit_code == 0, done.output
    (root / f"rules/{BROKEN}.rules.yaml").write_text("trial_id: [unclosed\n", encoding="utf-8")
    return root


def _rows(path: Path) -> list[tuple[object, ...]]:
    return sorted(tuple(r.values()) for r in pq.read_table(path).to_pylist())


def test_cohort_screen_reads_the_library_and_reports_an_unusable_trial(library: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    store, out = tmp_path / "store", tmp_path / "out"
    made = runner.invoke(
        app, ["cohort", "synth", "--patients", "200", "--seed", "4", "--library", str(library), "--out", str(store)]
    )
    assert made.exit_code == 0, made.output
    ran = runner.invoke(app, ["cohort", "screen", str(store), "--library", str(library), "--out", str(out)])
    assert ran.exit_code == 1, ran.output  # done, but one trial could not be used
    assert f"{BROKEN}: its rule file cannot be used" in ran.stderr
    verdicts = Counter(pq.read_table(out / "verdicts.parquet").column("trial_id").to_pylist())
    assert len(verdicts) == 5 + len(DRAFTED) - 1 and set(verdicts.values()) == {200}
    assert BROKEN not in verdicts and set(DRAFTED) - {BROKEN} <= set(verdicts)
    with (out / "feasibility.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    [reported] = [r["label"] for r in rows if r["section"] == "not_screened"]
    assert reported.startswith(f"{BROKEN}: its rule file cannot be used") and reported in ran.stderr
    page = (out / "feasibility.html").read_text(encoding="utf-8")
    assert "Trials not screened" in page and f"{BROKEN}: its rule file cannot be used" in page

    alone = runner.invoke(
        app, ["cohort", "screen", str(store), "--library", str(library), "--no-bundled", "--out", str(out)]
    )
    assert alone.exit_code == 1, alone.output
    assert set(pq.read_table(out / "verdicts.parquet").column("trial_id").to_pylist()) == set(DRAFTED) - {BROKEN}


def test_batches_give_the_files_of_one_wide_query(library: Path, tmp_path: Path) -> None:
    trials, errors = select([], library)
    assert len(errors) == 1 and len(trials) == 5 + len(DRAFTED) - 1
    runner = CliRunner()
    store = tmp_path / "store"
    made = runner.invoke(
        app, ["cohort", "synth", "--patients", "150", "--seed", "6", "--library", str(library), "--out", str(store)]
    )
    assert made.exit_code == 0, made.output
    assert len(batches(trials, 40)) > 3
    one = screen_store(store, trials, tmp_path / "one", batch_criteria=10_000)
    many = screen_store(store, trials, tmp_path / "many", batch_criteria=40)
    for name in ("verdicts.parquet", "criteria.parquet"):
        assert _rows(tmp_path / "one" / name) == _rows(tmp_path / "many" / name)
    assert [t.trial_id for t in one.trials] == [t.trial_id for t in many.trials] == [b.trial.trial_id for b in trials]
    assert one.trials == many.trials
    verdicts = Counter(
        (r["trial_id"], r["verdict"]) for r in pq.read_table(tmp_path / "many/verdicts.parquet").to_pylist()
    )
    for t in many.trials:  # the page's range is the verdicts file's
        counts = (
            verdicts[(t.trial_id, "eligible")],
            verdicts[(t.trial_id, "possible")],
            verdicts[(t.trial_id, "ineligible")],
        )
        assert counts == (t.eligible, t.possible, t.excluded)


def test_batches_keep_whole_trials_in_order() -> None:
    trials, _ = select([], None)
    sizes = [len(b.criteria) for b in trials]
    for limit in (1, 20, max(sizes), sum(sizes)):
        groups = batches(trials, limit)
        assert [b for g in groups for b in g] == trials
        for group in groups:
            width = sum(len(b.criteria) for b in group)
            assert width <= limit or len(group) == 1
    assert len(batches(trials, sum(sizes))) == 1
