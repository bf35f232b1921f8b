"""Benchmark: cohort screening in SQL (DuckDB) against the per-patient evaluator, extrapolated.

Run: ``.venv/bin/python benchmarks/cohort.py 10000 100000 1000000 [--sample 10000]``. For each size a
synthetic store is written (``cohort synth``, seed 1; not timed) and every bundled trial is screened with
``screen_store``, timed until ``verdicts.parquet`` is written (compile, the wide query, the verdicts) and then
for the criteria matrix (``criteria.parquet``) separately. The per-patient evaluator screens a sample of the
same synthetic patients (their ``--fhir`` records, read back with ``read_patients``) against the same trials;
its time per patient is multiplied by the cohort size.

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


def _rules(trials: list[TrialRules]) -> list[Condition]:
    """Every rule of the trials (the derived facts a store must hold for them)."""
    return [x for b in trials for c in b.trial.all_criteria() if (x := b.rule_for(c.id)) is not None]


def per_patient_seconds(sample: int) -> float:
    """Seconds to screen one synthetic patient against every bundled trial with the per-patient evaluator."""
    trials, _ = select([], None)
    with tempfile.TemporaryDirectory() as tmp:
        write_fhir(generate(sample, 2, AS_OF), Path(tmp))
        records = list(read_patients(Path(tmp)))
    start = time.perf_counter()
    for record in records:
        for bound in trials:
            screen_trial(record, bound, AS_OF, SiteAnswers())
    return (time.perf_counter() - start) / len(records)


def cohort_seconds(patients: int, folder: Path) -> dict[str, float]:
    """Seconds per stage of ``cohort screen`` over a synthetic store of ``patients`` (store writing not counted)."""
    trials, _ = select([], None)
    write_store(generate(patients, 1, AS_OF), folder / "store", store_calls(_rules(trials)))
    return screen_store(folder / "store", trials, folder / "out").seconds


def main(sizes: list[int], sample: int) -> None:
    """Print a Markdown table row per size."""
    one = per_patient_seconds(sample)
    trials = len(select([], None)[0])
    print(f"per-patient evaluator: {one * 1000:.1f} ms per patient (all bundled trials, {sample:,} patients)\n")
    print(
        "| patients | to verdicts.parquet | verdicts per second | criteria matrix | per-patient, extrapolated | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            stages = cohort_seconds(size, Path(tmp))
        verdicts = stages["compile"] + stages["verdicts"]
        serial = one * size
        print(
            f"| {size:,} | {verdicts:.1f} s | {size * trials / verdicts:,.0f} | {stages['criteria']:.1f} s "
            f"| {serial:,.0f} s | {serial / verdicts:,.0f}x |"
        )


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


def _option(args: list[str], name: str, default: str) -> tuple[list[int], str]:
    """The sizes on the command line, and the value of option ``name`` (``default`` without it)."""
    value = default
    if name in args:
        at = args.index(name)
        value, args = args[at + 1], args[:at] + args[at + 2 :]
    return [int(a) for a in args], value


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["ingest-child"]:
        ingest_child(args[1], args[2], int(args[3]))
    elif args[:1] == ["ingest"]:
        sizes, workers = _option(args[1:], "--workers", "1")
        main_ingest(sizes or [2_000, 10_000], [int(w) for w in workers.split(",")])
    else:
        sizes, sample = _option(args, "--sample", "10000")
        main(sizes or [10_000, 100_000], int(sample))
