"""The bundled trials over the bundled example patients: criteria and verdicts as the per-patient screening."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
from cohort_data import assert_store_screens_as_records, trial_rules
from typer.testing import CliRunner

from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.cohort.synth_fhir import TYPES
from trialmatch.commands.cohort import app
from trialmatch.commands.trial_selection import select
from trialmatch.patients.model import InputProblem
from trialmatch.patients.sources import read_patients

AS_OF = dt.date(2025, 1, 15)
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


def test_cohort_screen_equals_per_patient_screening(tmp_path: Path) -> None:
    trials, _ = select([], None)
    ingest(EXAMPLES, tmp_path / "store", AS_OF, store_calls(trial_rules(trials)), workers=2)
    records = [rec for path in EXAMPLES for rec in read_patients(path)]
    assert len(records) == len(EXAMPLES)
    uncompiled = assert_store_screens_as_records(tmp_path / "store", tmp_path / "out", trials, records, AS_OF)
    assert ("NCT06450314", "inc-6") not in uncompiled  # continuous anti-HER2 therapy compiles


def test_one_store_screens_at_any_date_as_per_patient_screening(tmp_path: Path) -> None:
    """Ingested once, screened at the store's date, half a year before and a year after: each run equals the
    per-patient screening at its own date, criterion by criterion (values derived from the kept records)."""
    trials, _ = select([], None)
    ingest(EXAMPLES, tmp_path / "store", AS_OF, store_calls(trial_rules(trials)), workers=1)
    records = [rec for path in EXAMPLES for rec in read_patients(path)]
    verdicts = []
    for day in (AS_OF - dt.timedelta(days=182), AS_OF, AS_OF + dt.timedelta(days=365)):
        out = tmp_path / day.isoformat()
        assert_store_screens_as_records(tmp_path / "store", out, trials, records, day)
        verdicts.append(sorted(tuple(r.values()) for r in pq.read_table(out / "verdicts.parquet").to_pylist()))
        assert not any(p.name.startswith(".as-of-") for p in out.iterdir())  # the derived store is cleaned up
    assert verdicts[0] != verdicts[1] != verdicts[2]  # the dates matter for these patients


def test_cli_screen_writes_every_output(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["synth", "--patients", "300", "--seed", "7", "--out", str(tmp_path / "s")])
    assert made.exit_code == 0, made.output
    ran = runner.invoke(app, ["screen", str(tmp_path / "s"), "--out", str(tmp_path / "o"), "--trials", "NCT02286843"])
    assert ran.exit_code == 0, ran.output
    verdicts = pq.read_table(tmp_path / "o/verdicts.parquet")
    assert verdicts.num_rows == 300
    with (tmp_path / "o/feasibility.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    counts = {r["item"]: int(r["count"]) for r in rows if r["section"] == "headline"}
    assert counts["patients"] == 300 and counts["eligible"] + counts["possible"] + counts["excluded"] == 300
    assert {r["trial_id"] for r in rows if r["section"] == "attrition"} == {"NCT02286843"}
    page = (tmp_path / "o/feasibility.html").read_text(encoding="utf-8")
    assert "NCT02286843" in page and "<svg" in page and "<script" not in page and "src=" not in page
    wrong = runner.invoke(app, ["screen", str(tmp_path / "s"), "--out", str(tmp_path / "o2"), "--as-of", "2020-01-01"])
    assert wrong.exit_code != 0 and "re-ingest" in wrong.output


def test_synth_is_deterministic_by_seed(tmp_path: Path) -> None:
    from trialmatch.cohort.synth import generate

    first, again, other = generate(500, 3, AS_OF), generate(500, 3, AS_OF), generate(500, 4, AS_OF)
    assert (first.anc == again.anc).all() and (first.subtype == again.subtype).all()
    assert not (first.anc == other.anc).all()
    shares = {s: float((first.subtype == s).mean()) for s in ("positive", "low", "negative")}
    assert 0.12 < shares["positive"] < 0.28 and 0.35 < shares["low"] < 0.55


def test_synth_fhir_ingests_cleanly_and_screens_as_per_patient(tmp_path: Path) -> None:
    """synth --fhir NDJSON: ingest rejects nothing, and DuckDB screening equals screen_trial on read_patients."""
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "synth",
            "--patients",
            "60",
            "--seed",
            "5",
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(tmp_path / "s"),
            "--fhir",
        ],
    )
    assert made.exit_code == 0, made.output
    fhir = tmp_path / "s/fhir"
    assert sorted(p.name for p in fhir.iterdir()) == [f"{t}.ndjson" for t in sorted(TYPES)]
    trials, _ = select([], None)
    problems: list[InputProblem] = []
    records = list(read_patients(fhir, problems=problems))
    assert len(records) == 60 and not problems and not any(rec.problems for rec in records)
    manifest = ingest([fhir], tmp_path / "store", AS_OF, store_calls(trial_rules(trials)), workers=1)
    assert (manifest.patients_stored, manifest.records_rejected) == (60, 0)
    assert_store_screens_as_records(tmp_path / "store", tmp_path / "out", trials, records, AS_OF)
    ran = runner.invoke(app, ["screen", str(tmp_path / "store"), "--out", str(tmp_path / "cli")])
    assert ran.exit_code == 0, ran.output
    with (tmp_path / "cli/feasibility.csv").open(newline="") as f:
        steps = [s for s in csv.DictReader(f) if s["section"] == "attrition"]
    excluding = {(s["trial_id"], s["item"]) for s in steps if s["measure"] == "excluded" and int(s["count"]) > 0}
    assert len(excluding) >= 3  # not degenerate: several criteria exclude patients
    assert all(int(s["count"]) > 0 for s in steps if s["position"] == "1" and s["measure"] == "remaining_after")
