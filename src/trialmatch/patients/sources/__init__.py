"""Patient record readers: FHIR R4 / mCODE JSON, FHIR Bulk Data NDJSON and CSV, into PatientRecords.

:func:`read_patients` picks the reader from the input itself: a directory is a Bulk Data export, ``*.ndjson``
/ ``*.jsonl`` one NDJSON file, a file starting with ``{`` FHIR JSON, and a file whose header names
``patient_id`` the CSV layout of ``docs/patient-data.md``. Every reader can yield just a
:class:`~trialmatch.patients.sources.shards.Shard` of the patients, so that processes can share one input.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from trialmatch.errors import InputError, UnrecognizedFormatError
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources.fhir import count_fhir_json, read_fhir_json
from trialmatch.patients.sources.ndjson import ndjson_files, read_ndjson
from trialmatch.patients.sources.shards import WHOLE, Shard
from trialmatch.patients.sources.tabular import count_csv, read_csv
from trialmatch.terminology.concepts import ConceptLibrary, default_library

__all__ = ["Shard", "count_patients", "ndjson_inputs", "read_patients"]

_SNIFF_BYTES = 4096


def read_patients(
    path: Path,
    *,
    library: ConceptLibrary | None = None,
    problems: list[InputProblem] | None = None,
    shard: Shard = WHOLE,
) -> Iterator[PatientRecord]:
    """Every patient in ``path`` (or the shard's), one record at a time.

    Problems that belong to a patient are in its record; those no patient can own (a malformed NDJSON line,
    a resource not linked to any patient) are appended to ``problems`` when given, whatever the shard. A
    file that cannot be read at all raises InputError naming it.
    """
    lib = library if library is not None else default_library()
    sink = problems if problems is not None else []
    files = ndjson_inputs(path)
    if files is not None:
        return read_ndjson(files, lib, sink, shard)
    if detect_format(path) == "csv":
        return read_csv(path, lib, sink, shard)
    return read_fhir_json(path, lib, sink, shard)


def ndjson_inputs(path: Path) -> list[Path] | None:
    """The NDJSON files of ``path`` (a Bulk Data folder or one NDJSON file), None for FHIR JSON or CSV."""
    if path.is_dir():
        return ndjson_files(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file or directory")
    return [path] if detect_format(path) == "ndjson" else None


def count_patients(path: Path) -> int:
    """How many patients a FHIR JSON or CSV file holds, without building their records (to decide how to
    share it among processes); NDJSON is counted when it is indexed (``ndjson.index_ndjson``)."""
    return count_csv(path) if detect_format(path) == "csv" else count_fhir_json(path)


def detect_format(path: Path) -> str:
    """``fhir-json``, ``ndjson`` or ``csv`` from the name and first bytes; else UnrecognizedFormatError."""
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        return "ndjson"
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES).decode("utf-8-sig", errors="replace").lstrip()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
    if head.startswith("{"):
        return "fhir-json"
    if "patient_id" in head.splitlines()[0] if head else False:
        return "csv"
    raise UnrecognizedFormatError(
        f"{path}: not FHIR JSON, NDJSON or a patient CSV (expected a JSON object, *.ndjson, or a CSV header "
        "with patient_id)"
    )
