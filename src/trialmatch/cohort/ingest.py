"""``cohort ingest``: patient records (FHIR JSON, NDJSON, CSV) into a facts store, one patient at a time.

Each input (a file or a Bulk Data folder) is read by one worker of a process pool and streamed patient by
patient into that worker's part files, so memory is bounded by one patient plus one row group. Every record
that cannot be used is written to ``rejects.csv``: a patient whose facts cannot be stored, and each
resource or line the readers rejected. Patients read = patients stored + patients rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from trialmatch.cohort.calls import Calls, default_calls, rule_calls
from trialmatch.cohort.facts import patient_rows
from trialmatch.cohort.store import REJECTS, Manifest, PartWriter
from trialmatch.cohort.tables import MEASURED_KINDS, store_schemas
from trialmatch.errors import TrialmatchError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources import read_patients
from trialmatch.rules import ast as r
from trialmatch.rules.concepts import default_library

_UNUSED_ACTIONS = ("rejected", "ignored (resource type not used for screening)")


@dataclass
class PartResult:
    """What one worker did with one input."""

    read: int = 0
    stored: int = 0
    rejected_patients: int = 0
    rejects: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Job:
    """One input for one worker."""

    path: Path
    out: Path
    number: int
    as_of: dt.date
    calls: Calls

    @property
    def part(self) -> str:
        """The part files' name."""
        return f"{self.number:05d}"

    def key(self, n: int) -> int:
        """The integer key of the input's ``n``-th patient: unique in the store (2**40 patients per input)."""
        return (self.number << 40) + n


def store_calls(rules: Iterable[r.Node]) -> Calls:
    """Every enumerable derived call, plus the open ones the given rules make."""
    rules = list(rules)
    patient = default_calls("patient").union(*(rule_calls(x, "patient") for x in rules))
    lesion = default_calls("lesion").union(*(rule_calls(x, "lesion") for x in rules))
    library = default_library()
    latest = frozenset(c for c in library.ids() if library.get(c).kind in MEASURED_KINDS)
    return Calls(frozenset(patient), frozenset(lesion), latest)


def ingest_one(job: Job) -> PartResult:
    """Read one input into its own part files."""
    library = default_library()
    result = PartResult()
    problems: list[InputProblem] = []
    writer = PartWriter(job.out, job.part, store_schemas(job.calls))
    try:
        for record in read_patients(job.path, library=library, problems=problems):
            result.read += 1
            result.rejects.extend(_rejected(record.problems))
            try:
                rows = patient_rows(record, job.key(result.read), job.as_of, library, job.calls)
            except (TrialmatchError, ValueError) as exc:
                result.rejected_patients += 1
                result.rejects.append(
                    (f"Patient/{record.patient_id}", f"facts could not be stored ({type(exc).__name__})")
                )
                continue
            for table, table_rows in rows.tables.items():
                writer.add(table, table_rows)
            result.stored += 1
    except TrialmatchError as exc:
        result.rejects.append((str(job.path), str(exc)))
    finally:
        writer.close()
    result.rejects.extend(_rejected(problems))
    return result


def _rejected(problems: Iterable[InputProblem]) -> list[tuple[str, str]]:
    return [(p.source or "", p.problem) for p in problems if p.action in _UNUSED_ACTIONS]


def ingest(
    inputs: Sequence[Path],
    out: Path,
    as_of: dt.date,
    calls: Calls,
    *,
    workers: int = 1,
    progress: Callable[[PartResult], None] | None = None,
) -> Manifest:
    """Ingest every input into the store at ``out`` and write its manifest and rejects file."""
    out.mkdir(parents=True, exist_ok=True)
    jobs = [Job(path, out, n, as_of, calls) for n, path in enumerate(inputs)]
    manifest = Manifest(as_of=as_of, concepts_version=default_library().version)
    manifest.hold(calls)
    with (out / REJECTS).open("w", newline="", encoding="utf-8") as handle:
        rejects = csv.writer(handle)
        rejects.writerow(["record", "reason"])
        for result in _run(jobs, workers):
            manifest.patients_read += result.read
            manifest.patients_stored += result.stored
            manifest.patients_rejected += result.rejected_patients
            manifest.records_rejected += len(result.rejects)
            rejects.writerows(result.rejects)
            if progress is not None:
                progress(result)
    manifest.write(out)
    return manifest


def _run(jobs: list[Job], workers: int) -> Iterable[PartResult]:
    if workers <= 1 or len(jobs) <= 1:
        yield from map(ingest_one, jobs)
        return
    with get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        yield from pool.imap_unordered(ingest_one, jobs)


def store_records(records: Iterable[PatientRecord], out: Path, as_of: dt.date, calls: Calls) -> Manifest:
    """Write records already in memory as a store (tests, small cohorts); every record must be storable."""
    library = default_library()
    manifest = Manifest(as_of=as_of, concepts_version=library.version, source="records")
    manifest.hold(calls)
    writer = PartWriter(out, "00000", store_schemas(calls))
    for n, record in enumerate(records):
        for table, rows in patient_rows(record, n, as_of, library, calls).tables.items():
            writer.add(table, rows)
        manifest.patients_read += 1
        manifest.patients_stored += 1
    writer.close()
    (out / REJECTS).write_text("record,reason\n", encoding="utf-8")
    manifest.write(out)
    return manifest
