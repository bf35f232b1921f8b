"""FHIR Bulk Data NDJSON: a directory of ``Patient.ndjson``, ``Observation.ndjson`` ... (or any ``*.ndjson``
with mixed types), one resource per line.

Memory stays bounded by the largest patient, not the export: a first pass reads each line once and keeps
only its byte offset, under the patient it belongs to and under its ``Type/id``, in a temporary SQLite
database on disk (:mod:`ndjson_store`); a second pass reads one patient's lines back by offset, builds the
record and lets them go. References to shared resources (Medication, Specimen) are looked up in the database
and read by offset when a converter asks for them.

To share one export among processes, :func:`index_ndjson` runs the first pass once and keeps the database;
each process then reads its :class:`~trialmatch.patients.sources.shards.Shard` of the patients from it
(:func:`read_indexed`), so the lines are parsed once for indexing and problems found there are reported once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from trialmatch import limits
from trialmatch.errors import InputError, RecordError
from trialmatch.identifiers import printable, refusal
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources.fhir_index import patient_reference, typed_key
from trialmatch.patients.sources.fhir_record import LOOKUP_TYPES, build_record, unowned_action
from trialmatch.patients.sources.fhir_values import JSON, as_str, label
from trialmatch.patients.sources.ndjson_store import Location, LocationStore, remove_store
from trialmatch.patients.sources.shards import WHOLE, Shard
from trialmatch.terminology.concepts import ConceptLibrary


def ndjson_files(folder: Path) -> list[Path]:
    """The ``*.ndjson`` files of an export folder; none is an InputError naming the folder."""
    files = sorted(p for p in folder.iterdir() if p.suffix == ".ndjson" and p.is_file())
    if not files:
        raise InputError(f"{folder}: no .ndjson files (expected a FHIR Bulk Data export)")
    return files


@dataclass
class LineIndex:
    """Where each resource's line is: per patient, and by ``Type/id`` for references."""

    files: Sequence[Path]
    store: LocationStore = field(default_factory=LocationStore)
    handles: list[BinaryIO] = field(default_factory=list)

    def scan(self, problems: list[InputProblem]) -> None:
        """First pass: one parse per line, keeping offsets only."""
        for number, path in enumerate(self.files):
            with path.open("rb") as handle:
                offset = 0
                for line_no, (line, size) in enumerate(_lines(handle), start=1):
                    self._index_line(number, offset, line, f"{path.name} line {line_no}", problems)
                    offset += size
        self.store.finish()

    def _index_line(
        self, number: int, offset: int, line: bytes | None, where: str, problems: list[InputProblem]
    ) -> None:
        if line is not None and not line.strip():
            return
        try:
            resource = _parse(line)
        except RecordError as exc:
            problems.append(InputProblem(source=where, problem=str(exc), action="rejected"))
            return
        owner = _owner(resource)
        refused = refusal(owner, "patient id") if owner is not None else None
        if refused is not None:
            problems.append(
                InputProblem(source=f"{where} ({printable(label(resource))})", problem=refused, action="rejected")
            )
            return
        self.store.add(label(resource), owner, (number, offset))
        if owner is None and resource.get("resourceType") not in LOOKUP_TYPES:
            problems.append(
                InputProblem(
                    source=f"{where} ({label(resource)})",
                    problem="not linked to a patient",
                    action=unowned_action(resource),
                )
            )

    def load(self, location: Location) -> JSON:
        """The resource at ``location`` (second pass: the first pass rejected the lines that do not parse)."""
        try:
            return _parse(self.read_line(location))
        except RecordError:
            return {}

    def resolve(self, reference: str) -> JSON | None:
        """A referenced resource, read back by offset."""
        key = typed_key(reference)
        location = self.store.location(key) if key else None
        return self.load(location) if location else None

    def read_line(self, location: Location) -> bytes:
        """The raw line at ``location``."""
        if not self.handles:
            self.handles = [p.open("rb") for p in self.files]
        handle = self.handles[location[0]]
        handle.seek(location[1])
        return handle.readline(limits.MAX_LINE + 1)

    def close(self) -> None:
        """Close the files the second pass opened and delete the location database."""
        for handle in self.handles:
            handle.close()
        self.handles = []
        self.store.close()


def _lines(handle: BinaryIO) -> Iterator[tuple[bytes | None, int]]:
    """Each line with its size in bytes; a line over ``MAX_LINE`` is skipped to its end and given as None,
    so it is rejected without being held in memory."""
    while line := handle.readline(limits.MAX_LINE + 1):
        size = len(line)
        if size <= limits.MAX_LINE or line.endswith(b"\n"):
            yield line, size
            continue
        while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
            size += len(rest)
        yield None, size + len(rest)


def _parse(line: bytes | None) -> JSON:
    """The FHIR resource on a line (None: a line too long to read); RecordError saying why when it is not one."""
    if line is None or len(line) > limits.MAX_LINE:
        raise limits.LimitError(f"a line longer than {limits.MAX_LINE} bytes")
    value = limits.loads(line)
    if not isinstance(value, dict) or not as_str(value.get("resourceType")):
        raise RecordError("not a JSON FHIR resource")
    return value


def _owner(resource: JSON) -> str | None:
    """The id of the patient a resource belongs to (NDJSON references are ``Patient/x``)."""
    if resource.get("resourceType") == "Patient":
        return as_str(resource.get("id"))
    reference = patient_reference(resource)
    key = typed_key(reference) if reference else None
    return key.split("/", 1)[1] if key and key.startswith("Patient/") else None


def read_ndjson(
    files: Sequence[Path], library: ConceptLibrary, problems: list[InputProblem], shard: Shard = WHOLE
) -> Iterator[PatientRecord]:
    """The shard's patients of NDJSON files, one at a time, in order of first appearance."""
    index = LineIndex(files)
    try:
        index.scan(problems)
        yield from _records(index, library, shard)
    finally:
        index.close()


@dataclass(frozen=True)
class KeptIndex:
    """A finished line index left on disk for other processes: the files it indexes and its folder."""

    files: tuple[Path, ...]
    folder: Path
    patients: int


def index_ndjson(files: Sequence[Path], problems: list[InputProblem]) -> KeptIndex:
    """The first pass alone, kept for :func:`read_indexed`; the caller deletes it with :func:`remove_index`."""
    index = LineIndex(files)
    try:
        index.scan(problems)
        patients = index.store.count()
    except BaseException:
        index.close()
        raise
    return KeptIndex(tuple(files), index.store.keep(), patients)


def read_indexed(kept: KeptIndex, library: ConceptLibrary, shard: Shard) -> Iterator[PatientRecord]:
    """The shard's patients read through a kept index (no first pass: its problems were reported by then)."""
    index = LineIndex(kept.files, LocationStore(kept.folder))
    try:
        yield from _records(index, library, shard)
    finally:
        index.close()


def remove_index(kept: KeptIndex) -> None:
    """Delete a kept index once every reader is done."""
    remove_store(kept.folder)


def _records(index: LineIndex, library: ConceptLibrary, shard: Shard) -> Iterator[PatientRecord]:
    sources = tuple(str(p) for p in index.files)
    for patient_id, locations in index.store.patients(shard):
        resources = [index.load(loc) for loc in locations]
        yield build_record(patient_id, resources, index, library, sources)
