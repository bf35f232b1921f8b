"""Benchmark: cohort screening in SQL (DuckDB) against the per-patient evaluator, extrapolated.

Run: ``.venv/bin/python benchmarks/cohort.py 10000 100000``. For each size a synthetic store is written
(``cohort synth``, seed 1) and every bundled trial is screened with ``screen_store``. The per-patient time is
measured on the bundled example patients (real FHIR records, screened against the same trials) and
multiplied by the cohort size; the example patients are richer than the synthetic ones, so the ratio is an
estimate, not a like-for-like measurement.

Ingest: ``.venv/bin/python benchmarks/cohort.py ingest 2000 10000 --workers 1,2``. For each size
``cohort synth --fhir`` NDJSON (seed 1, one Bulk Data folder) is ingested by a fresh child process once per
worker count; the child reports its wall time, its own peak resident memory and that of its largest pool worker
(``ru_maxrss``), so runs do not share a high-water mark.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.cohort.screen import screen_store
from trialmatch.cohort.synth import generate, write_store
from trialmatch.cohort.synth_fhir import write_fhir
from trialmatch.commands.trial_selection import select
from trialmatch.engine.answers import SiteAnswers
from trialmatch.engine.screening import screen_trial
from trialmatch.patients.sources import read_patients
from trialmatch.rules.ast import Condition
from trialmatch.rules.catalog import TrialRules

AS_OF = dt.date(2025, 1, 15)
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


def _rules(trials: list[TrialRules]) -> list[Condition]:
    """Every rule of the trials (the derived facts a store must hold for them)."""
    return [x for b in trials for c in b.trial.all_criteria() if (x := b.rule_for(c.id)) is not None]


def per_patient_seconds(rounds: int = 5) -> float:
    """Seconds to screen one patient against every bundled trial with the per-patient evaluator."""
    trials, _ = select([], None)
    records = [r for path in EXAMPLES for r in read_patients(path)]
    start = time.perf_counter()
    for _ in range(rounds):
        for record in records:
            for bound in trials:
                screen_trial(record, bound, AS_OF, SiteAnswers())
    return (time.perf_counter() - start) / (rounds * len(records))


def cohort_seconds(patients: int, folder: Path) -> float:
    """Seconds for ``cohort screen`` over a synthetic store of ``patients`` (store writing not counted)."""
    trials, _ = select([], None)
    write_store(generate(patients, 1, AS_OF), folder / "store", store_calls(_rules(trials)))
    start = time.perf_counter()
    screen_store(folder / "store", trials, folder / "out")
    return time.perf_counter() - start


def main(sizes: list[int]) -> None:
    """Print a Markdown table row per size."""
    one = per_patient_seconds()
    trials = len(select([], None)[0])
    print(f"per-patient evaluator: {one * 1000:.1f} ms per patient (all bundled trials)\n")
    print("| patients | cohort screen (DuckDB) | verdicts per second | per-patient, extrapolated | ratio |")
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            sql = cohort_seconds(size, Path(tmp))
        serial = one * size
        print(f"| {size:,} | {sql:.1f} s | {size * trials / sql:,.0f} | {serial:.0f} s | {serial / sql:.0f}x |")


def ingest_child(fhir: str, out: str, workers: int) -> None:
    """In a fresh process: ingest the NDJSON folder; print seconds and peak RSS (MiB, this process and its largest
    worker) as JSON."""
    trials, _ = select([], None)
    start = time.perf_counter()
    manifest = ingest([Path(fhir)], Path(out), AS_OF, store_calls(_rules(trials)), workers=workers)
    seconds = time.perf_counter() - start
    peaks = [resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    print(json.dumps({"patients": manifest.patients_stored, "seconds": seconds, "peak_mib": peaks}))


def main_ingest(sizes: list[int], workers: list[int]) -> None:
    """Print a Markdown table row per size and worker count: ingest throughput and peak memory."""
    print("| patients | NDJSON | workers | ingest | patients per second | peak RSS (main / largest worker) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            fhir = Path(tmp) / "fhir"
            write_fhir(generate(size, 1, AS_OF), fhir)
            megabytes = sum(p.stat().st_size for p in fhir.iterdir()) / 2**20
            for count in workers:
                store = Path(tmp) / f"store-{count}"
                child = [sys.executable, __file__, "ingest-child", str(fhir), str(store), str(count)]
                run = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
                main, worker = run["peak_mib"]
                print(
                    f"| {size:,} | {megabytes:.0f} MiB | {count} | {run['seconds']:.1f} s "
                    f"| {run['patients'] / run['seconds']:.0f} | {main:.0f} / {worker:.0f} MiB |"
                )


def _ingest_args(args: list[str]) -> tuple[list[int], list[int]]:
    """Sizes and ``--workers 1,2`` from the command line."""
    workers = [1]
    if "--workers" in args:
        at = args.index("--workers")
        workers = [int(w) for w in args[at + 1].split(",")]
        args = args[:at] + args[at + 2 :]
    return [int(a) for a in args] or [2_000, 10_000], workers


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["ingest-child"]:
        ingest_child(args[1], args[2], int(args[3]))
    elif args[:1] == ["ingest"]:
        main_ingest(*_ingest_args(args[1:]))
    else:
        main([int(a) for a in args] or [10_000, 100_000])
