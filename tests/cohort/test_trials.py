"""The bundled trials over the bundled example patients: criteria and verdicts as the per-patient screening."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from typer.testing import CliRunner

from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.cohort.screen import screen_store
from trialmatch.commands.cohort import app
from trialmatch.commands.trial_selection import select
from trialmatch.engine.answers import SiteAnswers
from trialmatch.engine.screening import screen_trial
from trialmatch.patients.sources import read_patients

AS_OF = dt.date(2025, 1, 15)
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


def test_cohort_screen_equals_per_patient_screening(tmp_path: Path) -> None:
    trials, _ = select([], None)
    rules = [x for b in trials for c in b.trial.all_criteria() if (x := b.rule_for(c.id)) is not None]
    ingest(EXAMPLES, tmp_path / "store", AS_OF, store_calls(rules), workers=2)
    result = screen_store(tmp_path / "store", trials, tmp_path / "out")
    uncompiled = {(q.query.trial_id, c.criterion_id) for q in result.trials for c in q.query.uncompiled}
    criteria = {
        (r["patient_id"], r["trial_id"], r["criterion_id"]): r["status"]
        for r in pq.read_table(tmp_path / "out/criteria.parquet").to_pylist()
    }
    verdicts = {
        (r["patient_id"], r["trial_id"]): r for r in pq.read_table(tmp_path / "out/verdicts.parquet").to_pylist()
    }
    records = [rec for path in EXAMPLES for rec in read_patients(path)]
    assert len(records) == len(EXAMPLES)
    for record in records:
        for bound in trials:
            outcome = screen_trial(record, bound, AS_OF, SiteAnswers())
            trial = bound.trial.trial_id
            for c in outcome.criteria:
                got = criteria[(record.patient_id, trial, c.id)]
                assert got == ("not_compiled" if (trial, c.id) in uncompiled else c.status.value), (
                    record.patient_id,
                    trial,
                    c.id,
                )
            row = verdicts[(record.patient_id, trial)]
            if not any(t == trial for t, _ in uncompiled):
                assert (row["verdict"], row["failed"]) == (outcome.verdict, ";".join(outcome.failed))
            else:
                assert row["not_compiled"] == ";".join(cid for t, cid in sorted(uncompiled) if t == trial)


def test_cli_screen_writes_every_output(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["synth", "--patients", "300", "--seed", "7", "--out", str(tmp_path / "s")])
    assert made.exit_code == 0, made.output
    ran = runner.invoke(app, ["screen", str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--trials", "NCT02286843"])
    assert ran.exit_code == 0, ran.output
    verdicts = pq.read_table(tmp_path / "o/verdicts.parquet")
    assert verdicts.num_rows == 300
    funnel = (tmp_path / "o/feasibility.csv").read_text(encoding="utf-8").splitlines()
    assert funnel[0].startswith("trial_id,step,criterion_id") and len(funnel) > 1
    page = (tmp_path / "o/feasibility.html").read_text(encoding="utf-8")
    assert "NCT02286843" in page and "plotly" in page and "<script src=" not in page
    wrong = runner.invoke(app, ["screen", str(tmp_path / "s"), "--out", str(tmp_path / "o2"), "--as-of", "2020-01-01"])
    assert wrong.exit_code != 0 and "re-ingest" in wrong.output


def test_synth_is_deterministic_by_seed(tmp_path: Path) -> None:
    from trialmatch.cohort.synth import generate

    first, again, other = generate(500, 3, AS_OF), generate(500, 3, AS_OF), generate(500, 4, AS_OF)
    assert (first.anc == again.anc).all() and (first.subtype == again.subtype).all()
    assert not (first.anc == other.anc).all()
    shares = {s: float((first.subtype == s).mean()) for s in ("positive", "low", "negative")}
    assert 0.12 < shares["positive"] < 0.28 and 0.35 < shares["low"] < 0.55
