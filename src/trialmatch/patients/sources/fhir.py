"""FHIR R4 JSON input: a Bundle (collection, transaction, searchset, document, nested bundles) or a single
resource, with one or many patients. Resources are grouped by the patient their ``subject``/``patient``
reference resolves to (``Patient/x``, absolute URLs and ``urn:uuid:`` via ``fullUrl``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from trialmatch import limits
from trialmatch.errors import InputError, RecordError, UnrecognizedFormatError
from trialmatch.identifiers import printable, refusal
from trialmatch.patients.model import InputProblem, PatientRecord
from trialmatch.patients.sources.fhir_index import ResourceIndex, patient_reference, typed_key
from trialmatch.patients.sources.fhir_record import LOOKUP_TYPES, build_record, unowned_action
from trialmatch.patients.sources.fhir_values import JSON, as_dict, as_list, as_str, label
from trialmatch.patients.sources.shards import WHOLE, Shard
from trialmatch.terminology.concepts import ConceptLibrary


def load_json(path: Path) -> object:
    """The parsed JSON of ``path``; an unreadable or non-JSON file is an InputError naming it."""
    try:
        if path.stat().st_size > limits.MAX_FILE:
            raise limits.LimitError(f"{path}: larger than {limits.MAX_FILE} bytes; split it or send NDJSON")
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
    try:
        return limits.loads(text)
    except RecordError as exc:
        raise RecordError(f"{path}: {exc}") from exc


def read_fhir_json(
    path: Path, library: ConceptLibrary, problems: list[InputProblem], shard: Shard = WHOLE
) -> Iterator[PatientRecord]:
    """The shard's patients of one FHIR JSON file; problems no patient can own go to ``problems``.

    The file is parsed at once, so an unreadable or non-FHIR file raises here, not while iterating."""
    return records_from_resources(_file_entries(path, problems), library, problems, (str(path),), shard)


def count_fhir_json(path: Path) -> int:
    """How many patients a FHIR JSON file holds (to decide how to share it), without building their records."""
    return len(group_resources(_file_entries(path, []), [])[1])


def read_fhir_data(
    data: object, source: str, library: ConceptLibrary, problems: list[InputProblem]
) -> Iterator[PatientRecord]:
    """The patients of FHIR JSON already parsed (a request body read in memory); ``source`` names it."""
    return records_from_resources(_data_entries(data, source, problems), library, problems, (source,))


def _file_entries(path: Path, problems: list[InputProblem]) -> list[tuple[JSON, str | None]]:
    return _data_entries(load_json(path), str(path), problems)


def _data_entries(data: object, source: str, problems: list[InputProblem]) -> list[tuple[JSON, str | None]]:
    resource = as_dict(data)
    if not as_str(resource.get("resourceType")):
        raise UnrecognizedFormatError(f"{source}: not a FHIR resource (no resourceType)")
    return list(_entries(resource, problems))


def _entries(data: JSON, problems: list[InputProblem], where: str = "Bundle") -> Iterator[tuple[JSON, str | None]]:
    """(resource, fullUrl) of a resource or of every entry of a Bundle, nested bundles included."""
    if data.get("resourceType") != "Bundle":
        yield data, None
        return
    if "entry" in data and not isinstance(data["entry"], list):
        problems.append(InputProblem(source=where, problem="Bundle.entry is not a list", action="rejected"))
        return
    for number, raw in enumerate(as_list(data.get("entry")), start=1):
        entry = as_dict(raw)
        resource = as_dict(entry.get("resource"))
        if not as_str(resource.get("resourceType")):
            problems.append(
                InputProblem(source=f"{where} entry {number}", problem="no FHIR resource", action="rejected")
            )
        elif resource.get("resourceType") == "Bundle":
            yield from _entries(resource, problems, f"{where} entry {number}")
        else:
            yield _with_id(resource, as_str(entry.get("fullUrl"))), as_str(entry.get("fullUrl"))


def _with_id(resource: JSON, full_url: str | None) -> JSON:
    """Transaction bundles often give ids only as ``urn:uuid:`` full URLs: take the id from there."""
    if as_str(resource.get("id")) or not full_url:
        return resource
    return {**resource, "id": full_url.replace("urn:uuid:", "").rsplit("/", 1)[-1]}


def records_from_resources(
    entries: Iterable[tuple[JSON, str | None]],
    library: ConceptLibrary,
    problems: list[InputProblem],
    sources: tuple[str, ...],
    shard: Shard = WHOLE,
) -> Iterator[PatientRecord]:
    """Group resources by patient and build one record per patient of the shard, in order of first appearance."""
    index, groups = group_resources(entries, problems)
    for patient_id, resources in shard.select(groups.items()):
        yield build_record(patient_id, resources, index, library, sources)


def group_resources(
    entries: Iterable[tuple[JSON, str | None]], problems: list[InputProblem]
) -> tuple[ResourceIndex, dict[str, list[JSON]]]:
    """Every resource indexed for references, and each patient's resources in order of first appearance."""
    index = ResourceIndex()
    pairs = list(entries)
    for resource, full_url in pairs:
        index.add(resource, full_url)
    groups: dict[str, list[JSON]] = {}
    for resource, _ in pairs:
        owner, why = patient_of(resource, index)
        refused = refusal(owner, "patient id") if owner is not None else None
        if refused is not None:
            problems.append(InputProblem(source=printable(label(resource)), problem=refused, action="rejected"))
        elif owner is not None:
            groups.setdefault(owner, []).append(resource)
        elif resource.get("resourceType") not in LOOKUP_TYPES:
            problems.append(InputProblem(source=label(resource), problem=why, action=unowned_action(resource)))
    return index, groups


def patient_of(resource: JSON, index: ResourceIndex) -> tuple[str | None, str]:
    """The id of the patient a resource belongs to, or None and why not."""
    if resource.get("resourceType") == "Patient":
        return as_str(resource.get("id")), "Patient without id"
    reference = patient_reference(resource)
    if reference is None:
        return None, "not linked to a patient (no subject or patient reference)"
    target = index.resolve(reference)
    if target is not None:
        if target.get("resourceType") == "Patient":
            return as_str(target.get("id")), ""
        return None, f"subject is a {target.get('resourceType')}, not a patient"
    key = typed_key(reference)
    if key and key.startswith("Patient/"):
        return key.split("/", 1)[1], ""
    return None, "patient reference not found in the input"
