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
from multiprocessing import TimeoutError as StillWorking
from multiprocessing import get_context
from multiprocessing.pool import Pool
from pathlib import Path
from typing import TypeVar

from trialmatch.cohort.building import rebuild
from trialmatch.cohort.calls import Calls, default_calls, rule_calls
from trialmatch.cohort.duplicates import Duplicates, Reject, resolve_duplicates
from trialmatch.cohort.facts import patient_rows, record_row
from trialmatch.cohort.store import REJECTS, UNMAPPED, Manifest, PartWriter, clear
from trialmatch.cohort.tables import MEASURED_KINDS, RECORD_ROWS, RECORDS, store_schemas
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
Progress = Callable[[int, int, int | None], None]
"""Called with (patients done, facts read, patients in all when planning counted them) while ingest runs."""


class Pulse:
    """Patients done and facts read so far, counted in shared memory by whichever process stores them, so the
    main process can report progress while the pool works (in-process runs report at once)."""

    def __init__(self, report: Callable[[int, int], None] | None = None) -> None:
        self.counts = get_context("spawn").Array("q", 2)
        self.report = report

    def __getstate__(self) -> dict[str, object]:
        return {"counts": self.counts, "report": None}  # a worker only counts

    def add(self, facts: int) -> None:
        """One more patient, with its facts."""
        with self.counts.get_lock():
            self.counts[0] += 1
            self.counts[1] += facts
        if self.report is not None:
            self.report(*self.read())

    def read(self) -> tuple[int, int]:
        """(patients, facts) so far."""
        with self.counts.get_lock():
            return self.counts[0], self.counts[1]


_pulse: Pulse | None = None  # this process's counter: set by the pool's initializer, or by an in-process run


def _listen(pulse: Pulse | None) -> None:
    global _pulse
    _pulse = pulse


def _start_worker(pulse: Pulse | None) -> None:
    """A pool worker's set-up: it dies with its parent and counts into the parent's pulse."""
    die_with_parent()
    _listen(pulse)


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
    writer = PartWriter(job.out, job.part, store_schemas(job.calls, records=True), rows=RECORD_ROWS)
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
    writer.add(RECORDS, [record_row(record, key)])
    result.stored += 1
    if _pulse is not None:
        facts = (record.measurements, record.conditions, record.medications, record.procedures, record.lesions)
        _pulse.add(sum(map(len, facts)))


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
    progress: Progress | None = None,
) -> Manifest:
    """Ingest every input into the store at ``out`` and write its manifest and rejects file.

    ``progress`` is called with (patients done, facts read, patients in all or None) as patients are stored.
    StoreBusyError when another process is writing the store."""
    with rebuild(out) as building:
        return _ingest_into(building, inputs, as_of, calls, workers, progress)


def _ingest_into(
    out: Path,
    inputs: Sequence[Path],
    as_of: dt.date,
    calls: Calls,
    workers: int,
    progress: Progress | None,
) -> Manifest:
    jobs = [Job(path, out, n, as_of, calls) for n, path in enumerate(inputs)]
    manifest = Manifest(as_of=as_of, concepts_version=default_library().version, records_kept=True)
    manifest.hold(calls)
    plans: list[Plan] = []
    total: list[int | None] = [None]

    def report(patients: int, facts: int) -> None:
        if progress is not None:
            progress(patients, facts, total[0])

    pulse = Pulse(report)
    try:
        with _Workers(workers, pulse) as pool, (out / REJECTS).open("w", newline="", encoding="utf-8") as handle:
            plans.extend(pool.map(plan_input, jobs) if workers > 1 else map(Plan, jobs))
            total[0] = sum(p.patients for p in plans) if workers > 1 else None
            writer = csv.writer(handle)
            writer.writerow(["record", "reason"])
            tally = _Tally(manifest, writer.writerows)
            for plan in plans:
                tally.reject(plan.rejects)
                tally.not_used.update(plan.not_used)
            shards = [job for plan in plans for job in plan.jobs(workers)]
            for result in pool.map(ingest_one, shards, tick=lambda: report(*pulse.read())):
                tally.add(result)
            report(*pulse.read())
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
    first needed and then serves planning and shards alike (starting a worker costs about a second). Every
    process stores into the same :class:`Pulse`."""

    def __init__(self, workers: int, pulse: Pulse) -> None:
        self.workers = workers
        self.pulse = pulse
        self._pool: Pool | None = None

    def __enter__(self) -> _Workers:
        _listen(self.pulse)
        return self

    def __exit__(self, *exc: object) -> None:
        _listen(None)
        if self._pool is not None:
            self._pool.terminate()

    def map(self, work: Callable[[T], R], jobs: list[T], tick: Callable[[], None] | None = None) -> Iterator[R]:
        """Each job's result as it finishes; ``tick`` is called about twice a second while the pool works."""
        if self.workers <= 1 or len(jobs) <= 1:
            yield from map(work, jobs)
            return
        if self._pool is None:
            self._pool = get_context("spawn").Pool(self.workers, initializer=_start_worker, initargs=(self.pulse,))
        results = self._pool.imap_unordered(work, jobs)
        for _ in jobs:
            while True:
                try:
                    yield results.next(timeout=0.5)
                    break
                except StillWorking:
                    if tick is not None:
                        tick()


def store_records(records: Iterable[PatientRecord], out: Path, as_of: dt.date, calls: Calls) -> Manifest:
    """Write records already in memory as a store (tests, small cohorts); every record must be storable."""
    library = default_library()
    clear(out)
    manifest = Manifest(as_of=as_of, concepts_version=library.version, source="records", records_kept=True)
    manifest.hold(calls)
    writer = PartWriter(out, "00000", store_schemas(calls, records=True), rows=RECORD_ROWS)
    for n, record in enumerate(records):
        for table, rows in patient_rows(record, n, as_of, library, calls).tables.items():
            writer.add(table, rows)
        writer.add(RECORDS, [record_row(record, n)])
        manifest.patients_read += 1
        manifest.patients_stored += 1
    writer.close()
    (out / REJECTS).write_text("record,reason\n", encoding="utf-8")
    manifest.write(out)
    return manifest
