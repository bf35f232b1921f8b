"""Benchmark: cohort screening in SQL (DuckDB) against the per-patient evaluator, extrapolated.

Run: ``.venv/bin/python benchmarks/cohort.py 10000 100000``. For each size a synthetic store is written
(``cohort synth``, seed 1) and every bundled trial is screened with ``screen_store``. The per-patient time is
measured on the bundled example patients (real FHIR records, screened against the same trials) and
multiplied by the cohort size; the example patients are richer than the synthetic ones, so the ratio is an
estimate, not a like-for-like measurement.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from trialmatch.cohort.screen import screen_store
from trialmatch.cohort.synth import generate, write_store
from trialmatch.commands.trial_selection import select
from trialmatch.engine.answers import SiteAnswers
from trialmatch.engine.screening import screen_trial
from trialmatch.patients.sources import read_patients

AS_OF = dt.date(2025, 1, 15)
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


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
    write_store(generate(patients, 1, AS_OF), folder / "store")
    start = time.perf_counter()
    screen_store(folder / "store", trials, folder / "out")
    return time.perf_counter() - start


def main(sizes: list[int]) -> None:
    """Print a Markdown table row per size."""
    one = per_patient_seconds()
    print(f"per-patient evaluator: {one * 1000:.1f} ms per patient (all bundled trials)\n")
    print("| patients | cohort screen (DuckDB) | per-patient, extrapolated | ratio |")
    print("|---:|---:|---:|---:|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            sql = cohort_seconds(size, Path(tmp))
        serial = one * size
        print(f"| {size:,} | {sql:.1f} s | {serial:.0f} s | {serial / sql:.0f}x |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
