"""Single-patient screening speed: one example patient against every bundled trial, in-process, after start-up.

Run: ``.venv/bin/python benchmarks/screen_patient.py``. Prints the median and 95th percentile per patient over
repeated runs, and the start-up cost (imports, concept library, trial and rule files) measured once. The target
in the screening issue is under 50 ms per patient against the five bundled trials.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

REPEATS = 200
AS_OF = dt.date(2026, 11, 21)
EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "trialmatch" / "data" / "patients" / "examples"


def main() -> None:
    """Time start-up once, then screening of each example patient ``REPEATS`` times."""
    started = time.perf_counter()
    from trialmatch.commands.trial_selection import select
    from trialmatch.engine.screening import screen_patient
    from trialmatch.patients.sources import read_patients

    bound, _ = select([], None)
    records = [r for path in sorted(EXAMPLES.glob("ex-*.json")) for r in read_patients(path)]
    startup = time.perf_counter() - started
    timings = []
    for _ in range(REPEATS):
        for record in records:
            # A fresh copy, so nothing cached for one record object is reused across runs.
            fresh = record.model_copy()
            begin = time.perf_counter()
            screen_patient(fresh, bound, AS_OF)
            timings.append(time.perf_counter() - begin)
    timings.sort()
    loaded = f"{len(bound)} trials with rules, {len(records)} patients read"
    print(f"start-up (imports, concepts, {loaded}): {startup:.2f} s")
    print(f"per patient against {len(bound)} trials: median {statistics.median(timings) * 1000:.1f} ms, ", end="")
    print(f"p95 {timings[int(len(timings) * 0.95)] * 1000:.1f} ms over {len(timings)} screenings")


if __name__ == "__main__":
    main()
