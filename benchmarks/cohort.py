"""Benchmark: cohort screening in SQL (DuckDB) against the per-patient evaluator, extrapolated.

Run: ``.venv/bin/python benchmarks/cohort.py 10000 100000 1000000 [--sample 10000]``. For each size a
synthetic store is written (``cohort synth``, seed 1; not timed) and every bundled trial is screened with
``screen_store``, timed until ``verdicts.parquet`` is written (compile, the wide query, the verdicts) and then
for the criteria matrix (``criteria.parquet``) separately. The per-patient evaluator screens a sample of the
same synthetic patients (their ``--fhir`` records, read back with ``read_patients``) against the same trials;
its time per patient is multiplied by the cohort size.

Many trials: ``.venv/bin/python benchmarks/cohort.py trials 100000 --counts 5,25,50,100``. The first trials of
``../shared/fixtures/ctgov-corpus`` (by file name) are imported and drafted into a temporary library beside the
five bundled ones; one synthetic store holds the derived facts of them all (not timed). For each count, a fresh
child process screens the store against the bundled trials and the first drafted ones (``screen_store``), and
reports each stage (compile in sqlglot, DuckDB's plan of the wide queries as ``EXPLAIN`` times it, the wide
queries run, verdicts, criteria rows, feasibility numbers) and its own peak resident memory.

Ingest: ``.venv/bin/python benchmarks/cohort.py ingest 2000 10000 --workers 1,2 [--before OTHER/src]``. For each
size ``cohort synth --fhir`` NDJSON (seed 1, one Bulk Data folder) is ingested by a fresh child process once per
worker count (and, with ``--before``, once more with another checkout's ``src`` first on the path, side by side on
the same NDJSON); the child reports its wall time, its CPU time and that of its pool workers, its own peak
resident memory and that of its largest pool worker (``ru_maxrss``), so runs do not share a high-water mark.
Merely parsing every line with ``json.loads`` is timed too, for the ratio.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
from trialmatch.errors import TrialmatchError
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
        verdicts = stages["compile"] + stages["wide"] + stages["verdicts"]
        serial = one * size
        print(
            f"| {size:,} | {verdicts:.1f} s | {size * trials / verdicts:,.0f} | {stages['criteria']:.1f} s "
            f"| {serial:,.0f} s | {serial / verdicts:,.0f}x |"
        )


def ingest_child(fhir: str, out: str, workers: int) -> None:
    """In a fresh process: ingest the NDJSON folder; print wall seconds, CPU seconds (this process and its pool
    workers) and peak RSS (MiB, this process and its largest worker) as JSON."""
    trials, _ = select([], None)
    start = time.perf_counter()
    manifest = ingest([Path(fhir)], Path(out), AS_OF, store_calls(_rules(trials)), workers=workers)
    seconds = time.perf_counter() - start
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage)
    peaks = [u.ru_maxrss / 1024 for u in usage]
    print(json.dumps({"patients": manifest.patients_stored, "seconds": seconds, "cpu": cpu, "peak_mib": peaks}))


def parse_cpu_seconds(fhir: Path) -> float:
    """CPU seconds to merely parse every line of the NDJSON folder with the standard json module."""
    start = time.process_time()
    for path in sorted(fhir.glob("*.ndjson")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
    return time.process_time() - start


def main_ingest(sizes: list[int], workers: list[int], before: str | None) -> None:
    """Print a Markdown table row per size, code (``before``: another checkout's ``src``) and worker count:
    throughput per CPU second (what one core does, whatever else runs), against parsing alone, and peak memory."""
    print(
        "| patients | NDJSON | code | workers | wall | CPU | patients per CPU second | x json.loads alone "
        "| peak RSS (main / largest worker) |"
    )
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    codes = [("before", before), ("after", None)] if before else [("this", None)]
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            fhir = Path(tmp) / "fhir"
            write_fhir(generate(size, 1, AS_OF), fhir)
            megabytes = sum(p.stat().st_size for p in fhir.iterdir()) / 2**20
            parse = parse_cpu_seconds(fhir)
            for name, src in codes:
                env = {**os.environ, "PYTHONPATH": src} if src else None
                for count in workers:
                    store = Path(tmp) / f"store-{name}-{count}"
                    child = [sys.executable, __file__, "ingest-child", str(fhir), str(store), str(count)]
                    done = subprocess.run(child, check=True, capture_output=True, text=True, env=env)
                    run = json.loads(done.stdout)
                    main, worker = run["peak_mib"]
                    print(
                        f"| {size:,} | {megabytes:.0f} MiB | {name} | {count} | {run['seconds']:.1f} s "
                        f"| {run['cpu']:.1f} s | {run['patients'] / run['cpu']:.0f} | {run['cpu'] / parse:.1f} "
                        f"| {main:.0f} / {worker:.0f} MiB |"
                    )


CORPUS = Path(__file__).resolve().parents[2] / "shared/fixtures/ctgov-corpus"


def drafted_library(root: Path, count: int) -> list[str]:
    """Import and draft the first corpus trials that draft cleanly into ``root``; their ids, in order."""
    from trialmatch.rules.drafting.library import draft_into_library
    from trialmatch.trials.library import TrialLibrary

    library = TrialLibrary(root)
    ids: list[str] = []
    for path in sorted(CORPUS.glob("NCT*.json")):
        if len(ids) == count:
            break
        try:
            imported = library.import_file(path)
        except TrialmatchError:  # a bundled, curated trial is not imported again
            continue
        for trial in imported:
            draft_into_library(library, trial)
            ids.append(trial.trial_id)
    return ids


def trials_child(store: str, library: str, count: int, out: str) -> None:
    """In a fresh process: screen the store against ``count`` trials (bundled first); print the stages' seconds,
    the plan time and peak RSS (MiB) as JSON."""
    from trialmatch.cohort.engines import DuckDBEngine
    from trialmatch.cohort.screen import compile_all

    trials, errors = select([], Path(library))
    chosen = trials[:count]
    engine = DuckDBEngine(Path(store))
    start = time.perf_counter()
    for query in compile_all(chosen, Path(store), "duckdb"):
        engine.con.execute("EXPLAIN " + query.wide.sql(dialect="duckdb"))
    plan = time.perf_counter() - start
    engine.close()
    stages = screen_store(Path(store), chosen, Path(out)).seconds
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"trials": len(chosen), "errors": len(errors), "stages": stages, "plan": plan, "peak": peak}))


def main_trials(size: int, counts: list[int]) -> None:
    """Print a Markdown table row per trial count: stage times and peak memory over one synthetic store."""
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        drafted_library(library, max(counts) - 5)
        trials, errors = select([], library)
        write_store(generate(size, 1, AS_OF), Path(tmp) / "store", store_calls(_rules(trials)))
        print(f"{len(trials)} trials usable of {len(trials) + len(errors)}; {size:,} patients\n")
        print(
            "| trials | criteria | compile | plan (EXPLAIN) | wide queries | verdicts | criteria rows | feasibility "
            "| total | verdicts per second | peak RSS |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for count in counts:
            child = [sys.executable, __file__, "trials-child", str(Path(tmp) / "store"), str(library), str(count)]
            child.append(str(Path(tmp) / f"out-{count}"))
            run = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            st = run["stages"]
            total = sum(st.values())
            criteria = sum(len(b.criteria) for b in trials[: run["trials"]])
            print(
                f"| {run['trials']} | {criteria:,} | {st['compile']:.1f} s | {run['plan']:.1f} s | {st['wide']:.1f} s "
                f"| {st['verdicts']:.1f} s | {st['criteria']:.1f} s | {st['feasibility']:.1f} s | {total:.1f} s "
                f"| {size * run['trials'] / total:,.0f} | {run['peak']:,.0f} MiB |"
            )


def _before(args: list[str]) -> tuple[list[str], str | None]:
    """The arguments without ``--before SRC``, and SRC (None without it)."""
    if "--before" not in args:
        return args, None
    at = args.index("--before")
    return args[:at] + args[at + 2 :], args[at + 1]


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
    elif args[:1] == ["trials-child"]:
        trials_child(args[1], args[2], int(args[3]), args[4])
    elif args[:1] == ["trials"]:
        sizes, counts = _option(args[1:], "--counts", "5,25,50,100")
        main_trials(sizes[0] if sizes else 100_000, [int(c) for c in counts.split(",")])
    elif args[:1] == ["ingest"]:
        rest, before = _before(args[1:])
        sizes, workers = _option(rest, "--workers", "1")
        main_ingest(sizes or [2_000, 10_000], [int(w) for w in workers.split(",")], before)
    else:
        sizes, sample = _option(args, "--sample", "10000")
        main(sizes or [10_000, 100_000], int(sample))
