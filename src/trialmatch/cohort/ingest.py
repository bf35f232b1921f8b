"""``cohort ingest``: patient records (FHIR JSON, NDJSON, CSV) into a facts store, one patient at a time.

With several workers each input is first planned: an NDJSON export is indexed once (its line index kept on
disk) and a FHIR JSON or CSV file counted. An input of at least twice ``MIN_SHARD`` patients is split into up
to ``workers`` shards, every n-th patient each (:class:`Shard`), read by the processes of a pool side by side
and streamed patient by patient into the shard's own part files, so memory is bounded per worker by one
patient plus one row group. A patient's integer key is its input's number and its place in the input,
whatever the sharing. Every record that cannot be used is written to ``rejects.csv`` once: a patient whose
facts cannot be stored, each resource or line the readers rejected (problems no patient owns come from the
indexing pass or the input's first shard only), and an input that cannot be read.
A patient id given more than once is resolved by the rule of :mod:`duplicates` (the same facts: kept once;
other facts: every copy rejected). Patients read = patients stored + patients rejected + patients merged.

The store is built aside and swapped in whole under the store's writer lock (:mod:`building`), and every
worker ends with the ingest that started it, so a killed or failed run leaves the old store as it was.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TypeVar

from trialmatch.cohort.building import rebuild
from trialmatch.cohort.calls import Calls, default_calls, rule_calls
from trialmatch.cohort.duplicates import Duplicates, Reject, resolve_duplicates
from trialmatch.cohort.facts import patient_rows
from trialmatch.cohort.store import REJECTS, UNMAPPED, Manifest, PartWriter, clear
from trialmatch.cohort.tables import MEASURED_KINDS, store_schemas
from trialmatch.errors import TrialmatchError
from trialmatch.patients.codings import UnmappedCodes, record_codings
from trialmatch.patients.model import NOT_USED, InputProblem, PatientRecord
from trialmatch.patients.sources import Shard, count_patients, ndjson_inputs, read_patients
from trialmatch.patients.sources.ndjson import KeptIndex, index_ndjson, read_indexed, remove_index
from trialmatch.patients.sources.shards import WHOLE
from trialmatch.processes import die_with_parent
from trialmatch.rules import ast as r
from trialmatch.terminology.concepts import ConceptLibrary, default_library

MIN_SHARD = 100
"""Fewest patients worth a shard of their own: each shard re-reads its input's index or file and writes its
own part files."""

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class PartResult:
    """What one worker did with one shard of an input."""

    read: int = 0
    stored: int = 0
    rejected_patients: int = 0
    rejects: list[Reject] = field(default_factory=list)
    not_used: Counter[str] = field(default_factory=Counter)
    unmapped: UnmappedCodes = field(default_factory=UnmappedCodes)
    failure: Reject | None = None
    """The input could not be read (every shard meets it; it is reported once)."""


@dataclass(frozen=True)
class Job:
    """One shard of one input for one worker."""

    path: Path
    out: Path
    number: int
    as_of: dt.date
    calls: Calls
    shard: Shard = WHOLE
    index: KeptIndex | None = None
    """The NDJSON line index built when the input was planned; None reads the input from scratch."""

    @property
    def part(self) -> str:
        """The part files' name, unique per input and shard."""
        return f"{self.number:05d}-{self.shard.index:03d}"

    def key(self, ordinal: int) -> int:
        """The integer key of the input's patient number ``ordinal``: unique in the store (2**40 per input)."""
        return (self.number << 40) + ordinal


@dataclass
class Plan:
    """What planning found out about an input: its patient count, the NDJSON index it kept, the problems
    the indexing found (which no shard repeats)."""

    job: Job
    patients: int = 0
    rejects: list[Reject] = field(default_factory=list)
    not_used: Counter[str] = field(default_factory=Counter)

    def jobs(self, workers: int) -> list[Job]:
        """The input's shards: up to ``workers``, each of at least ``MIN_SHARD`` patients."""
        count = max(1, min(workers, self.patients // MIN_SHARD))
        return [replace(self.job, shard=Shard(n, count)) for n in range(count)]


def store_calls(rules: Iterable[r.Node]) -> Calls:
    """Every enumerable derived call, plus the open ones the given rules make."""
    rules = list(rules)
    patient = default_calls("patient").union(*(rule_calls(x, "patient") for x in rules))
    lesion = default_calls("lesion").union(*(rule_calls(x, "lesion") for x in rules))
    library = default_library()
    latest = frozenset(c for c in library.ids() if library.get(c).kind in MEASURED_KINDS)
    return Calls(frozenset(patient), frozenset(lesion), latest)


def plan_input(job: Job) -> Plan:
    """Index an NDJSON input once (kept for its shards) or count a file's patients; an input that cannot be
    read gets one shard, which reports why."""
    problems: list[InputProblem] = []
    try:
        files = ndjson_inputs(job.path)
        if files is None:
            return Plan(job, count_patients(job.path))
        kept = index_ndjson(files, problems)
    except TrialmatchError:
        return Plan(job)
    return Plan(replace(job, index=kept), kept.patients, _rejected(problems), _not_used(problems))


def ingest_one(job: Job) -> PartResult:
    """Read one shard of an input into its own part files."""
    library = default_library()
    result = PartResult()
    problems: list[InputProblem] = []
    writer = PartWriter(job.out, job.part, store_schemas(job.calls))
    try:
        for k, record in enumerate(_records(job, library, problems)):
            _store(record, job, job.key(job.shard.ordinal(k)), library, writer, result)
    except TrialmatchError as exc:
        result.failure = (str(job.path), str(exc))
    finally:
        writer.close()
    if job.shard.index == 0:
        result.rejects.extend(_rejected(problems))
        result.not_used.update(_not_used(problems))
    return result


def _records(job: Job, library: ConceptLibrary, problems: list[InputProblem]) -> Iterator[PatientRecord]:
    if job.index is not None:
        return read_indexed(job.index, library, job.shard)
    return read_patients(job.path, library=library, problems=problems, shard=job.shard)


def _store(
    record: PatientRecord, job: Job, key: int, library: ConceptLibrary, writer: PartWriter, result: PartResult
) -> None:
    """Write one patient's rows, or reject the patient when its facts cannot be stored."""
    result.read += 1
    result.rejects.extend(_rejected(record.problems))
    result.not_used.update(_not_used(record.problems))
    result.unmapped.add(record_codings(record, library))
    try:
        rows = patient_rows(record, key, job.as_of, library, job.calls)
    except Exception as exc:  # one patient's failure, whatever it is, must not stop the others
        result.rejected_patients += 1
        result.rejects.append((f"Patient/{record.patient_id}", f"facts could not be stored ({type(exc).__name__})"))
        return
    for table, table_rows in rows.tables.items():
        writer.add(table, table_rows)
    result.stored += 1


def _rejected(problems: Iterable[InputProblem]) -> list[Reject]:
    return [(p.source or "", p.problem) for p in problems if p.severity == "error"]


def _not_used(problems: Iterable[InputProblem]) -> Counter[str]:
    """Records screening does not read (an Encounter, a Claim), by resource type: accounted for, not rejected."""
    return Counter((p.source or "input").split("/", 1)[0] for p in problems if p.action == NOT_USED)


def ingest(
    inputs: Sequence[Path],
    out: Path,
    as_of: dt.date,
    calls: Calls,
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Ingest every input into the store at ``out`` and write its manifest and rejects file.

    ``progress`` is called with (shards done, shards in all) as each shard finishes. StoreBusyError when
    another process is writing the store."""
    with rebuild(out) as building:
        return _ingest_into(building, inputs, as_of, calls, workers, progress)


def _ingest_into(
    out: Path,
    inputs: Sequence[Path],
    as_of: dt.date,
    calls: Calls,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> Manifest:
    jobs = [Job(path, out, n, as_of, calls) for n, path in enumerate(inputs)]
    manifest = Manifest(as_of=as_of, concepts_version=default_library().version)
    manifest.hold(calls)
    plans: list[Plan] = []
    try:
        with _Workers(workers) as pool, (out / REJECTS).open("w", newline="", encoding="utf-8") as handle:
            plans.extend(pool.map(plan_input, jobs) if workers > 1 else map(Plan, jobs))
            writer = csv.writer(handle)
            writer.writerow(["record", "reason"])
            tally = _Tally(manifest, writer.writerows)
            for plan in plans:
                tally.reject(plan.rejects)
                tally.not_used.update(plan.not_used)
            shards = [job for plan in plans for job in plan.jobs(workers)]
            for done, result in enumerate(pool.map(ingest_one, shards), start=1):
                tally.add(result)
                if progress is not None:
                    progress(done, len(shards))
            tally.duplicates(resolve_duplicates(out))
            tally.unmapped.write(out / UNMAPPED)
            manifest.records_not_used = dict(sorted(tally.not_used.items()))
            manifest.codings_unrecognised = len(tally.unmapped.records)
    finally:
        for plan in plans:
            if plan.job.index is not None:
                remove_index(plan.job.index)
    manifest.write(out)
    return manifest


@dataclass
class _Tally:
    """The manifest's counts and ``rejects.csv``, added up as plans and shards come in."""

    manifest: Manifest
    write: Callable[[Iterable[Reject]], object]
    failures: set[Reject] = field(default_factory=set)
    not_used: Counter[str] = field(default_factory=Counter)
    unmapped: UnmappedCodes = field(default_factory=UnmappedCodes)

    def add(self, result: PartResult) -> None:
        """Count a shard; an input's failure, met by each of its shards, is reported once."""
        self.manifest.patients_read += result.read
        self.manifest.patients_stored += result.stored
        self.manifest.patients_rejected += result.rejected_patients
        self.reject(result.rejects)
        self.not_used.update(result.not_used)
        self.unmapped.merge(result.unmapped)
        if result.failure is not None and result.failure not in self.failures:
            self.failures.add(result.failure)
            self.reject([result.failure])

    def duplicates(self, found: Duplicates) -> None:
        """Count the copies of patients given more than once: merged, or rejected with the reason."""
        self.manifest.patients_stored -= found.merged + found.rejected
        self.manifest.patients_merged += found.merged
        self.manifest.patients_rejected += found.rejected
        self.reject(found.rejects)

    def reject(self, rows: list[Reject]) -> None:
        """Write rejected records and count them."""
        self.manifest.records_rejected += len(rows)
        self.write(rows)


class _Workers:
    """Runs jobs in this process (one worker, or a single job), else in one spawn pool that is started when
    first needed and then serves planning and shards alike (starting a worker costs about a second)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Pool | None = None

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()

    def map(self, work: Callable[[T], R], jobs: list[T]) -> Iterator[R]:
        """Each job's result as it finishes."""
        if self.workers <= 1 or len(jobs) <= 1:
            return map(work, jobs)
        if self._pool is None:
            self._pool = get_context("spawn").Pool(self.workers, initializer=die_with_parent)
        return self._pool.imap_unordered(work, jobs)


def store_records(records: Iterable[PatientRecord], out: Path, as_of: dt.date, calls: Calls) -> Manifest:
    """Write records already in memory as a store (tests, small cohorts); every record must be storable."""
    library = default_library()
    clear(out)
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
