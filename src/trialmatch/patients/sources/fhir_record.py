"""One patient's FHIR resources → a PatientRecord: drop entered-in-error entries, let amended results
supersede the originals, convert each resource, then link lesions to the radiotherapy that targeted them.

Resources are converted in a fixed order (Patient, Condition, then the rest, each sorted by ``Type/id``) so
the record does not depend on the order of the input.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from trialmatch.patients.model import (
    SUPERSEDED,
    WITHDRAWN,
    ConditionFact,
    Lesion,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)
from trialmatch.patients.sources.facts import Normalizer
from trialmatch.patients.sources.fhir_index import PatientScope, Resolver, typed_key
from trialmatch.patients.sources.fhir_observations import AMENDED, convert_observation
from trialmatch.patients.sources.fhir_resources import (
    RECORD_TYPES,
    Demographics,
    convert_body_structure,
    convert_condition,
    convert_medication,
    convert_patient,
    convert_procedure,
    is_radiotherapy_volume,
    observation_as_condition,
)
from trialmatch.patients.sources.fhir_values import (
    JSON,
    as_dict,
    as_list,
    as_str,
    first_code,
    label,
    references,
)
from trialmatch.terminology.concepts import ConceptLibrary

NOT_USED = "ignored (resource type not used for screening)"
LOOKUP_TYPES = frozenset({"Specimen", "Medication"})
SCREENED_TYPES = frozenset({"Patient", "Condition", "Observation", "Procedure", "BodyStructure", *RECORD_TYPES})


def unowned_action(resource: JSON) -> str:
    """What happens to a resource no patient owns: a screened type is rejected, any other is simply not used."""
    return "rejected" if resource.get("resourceType") in SCREENED_TYPES else NOT_USED


"""Read only when another resource references them (specimen site, medicationReference)."""

_ORDER = {"Patient": 0, "Condition": 1}
_IGNORED_STATUS = {
    "entered-in-error": "entered in error",
    "refuted": "diagnosis refuted",
    "cancelled": "cancelled",
}

Note = Callable[[str | None, str, str], None]


@dataclass
class _Facts:
    """The facts gathered for one patient while its resources are converted."""

    demographics: Demographics | None = None
    measurements: list[Measurement] = field(default_factory=list)
    conditions: list[ConditionFact] = field(default_factory=list)
    medications: list[MedicationFact] = field(default_factory=list)
    procedures: list[ProcedureFact] = field(default_factory=list)
    lesions: list[Lesion] = field(default_factory=list)


def build_record(
    patient_id: str,
    resources: Iterable[JSON],
    resolver: Resolver,
    library: ConceptLibrary,
    sources: tuple[str, ...],
) -> PatientRecord:
    """The normalized record of one patient from all of its resources."""
    norm = Normalizer(library)
    scope = PatientScope(resolver)
    facts = _Facts()
    for resource in sorted(current_versions(resources, norm.note), key=_order_key):
        try:
            _convert(resource, scope, norm, facts)
        except (KeyError, TypeError, ValueError, AttributeError):
            norm.note(label(resource), "malformed resource; could not be read", "rejected")
    demo = facts.demographics
    if demo is None:
        norm.note(f"Patient/{patient_id}", "no Patient resource in the input; birth date and sex unknown", "kept")
    return PatientRecord(
        patient_id=patient_id,
        birth_date=demo.birth_date if demo else None,
        sex=demo.sex if demo else None,
        deceased=demo.deceased if demo else False,
        deceased_on=demo.deceased_on if demo else None,
        measurements=tuple(facts.measurements),
        conditions=tuple(facts.conditions),
        medications=tuple(facts.medications),
        procedures=tuple(facts.procedures),
        lesions=_mark_irradiated(facts.lesions, facts.procedures, library),
        problems=tuple(norm.problems),
        sources=sources,
    )


def _order_key(resource: JSON) -> tuple[int, str, str]:
    return _ORDER.get(str(resource.get("resourceType")), 2), label(resource), _canonical(resource)


def _convert(resource: JSON, scope: PatientScope, norm: Normalizer, facts: _Facts) -> None:
    kind = resource.get("resourceType")
    if kind == "Patient":
        facts.demographics = convert_patient(resource, norm)
    elif kind == "Condition":
        facts.conditions.append(convert_condition(resource, scope, norm))
    elif kind == "Observation":
        condition = observation_as_condition(resource, norm)
        if condition is not None:
            facts.conditions.append(condition)
        else:
            facts.measurements.extend(convert_observation(resource, scope, norm))
    elif kind in RECORD_TYPES:
        facts.medications.append(convert_medication(resource, scope, norm))
    elif kind == "Procedure":
        facts.procedures.append(convert_procedure(resource, scope, norm))
    elif kind == "BodyStructure" and not is_radiotherapy_volume(resource):
        facts.lesions.append(convert_body_structure(resource))
    elif kind == "BodyStructure":
        norm.note(label(resource), "radiotherapy treatment volume, not a lesion", NOT_USED)
    elif kind not in LOOKUP_TYPES:
        norm.note(label(resource), "resource type not used for screening", NOT_USED)


def _mark_irradiated(
    lesions: list[Lesion], procedures: list[ProcedureFact], library: ConceptLibrary
) -> tuple[Lesion, ...]:
    """A lesion targeted by a completed radiotherapy Procedure was previously irradiated."""
    irradiated = {
        lesion_id
        for p in procedures
        if p.concept
        and p.status in (None, "completed", "in-progress")
        and (p.concept == "procedure.radiotherapy" or library.is_a(p.concept, "procedure.radiotherapy"))
        for lesion_id in p.focus
    }
    return tuple(
        lesion.model_copy(update={"previously_irradiated": True})
        if lesion.id in irradiated and lesion.previously_irradiated is None
        else lesion
        for lesion in lesions
    )


# -- versions --------------------------------------------------------------------------------------------


def current_versions(resources: Iterable[JSON], note: Note) -> list[JSON]:
    """The resources still in force: entered-in-error, refuted and cancelled entries dropped, and of several
    versions of one result (same ``Type/id``, same business identifier, or a ``replaces`` link) only the
    amended/corrected or latest one kept. Each dropped entry is noted."""
    live = []
    for resource in resources:
        reason = _ignored_reason(resource)
        if reason:
            note(label(resource), reason, WITHDRAWN)
        else:
            live.append(resource)
    superseded = {id(r) for r in _replaced(live)}
    for group in _version_groups(live):
        best = max(group, key=_rank)
        superseded.update(id(r) for r in group if r is not best)
    for resource in live:
        if id(resource) in superseded:
            note(label(resource), "superseded by an amended or later version", SUPERSEDED)
    return [r for r in live if id(r) not in superseded]


def _ignored_reason(resource: JSON) -> str | None:
    for status in (as_str(resource.get("status")), first_code(resource.get("verificationStatus"))):
        if status in _IGNORED_STATUS:
            return _IGNORED_STATUS[status]
    return None


def _version_groups(resources: list[JSON]) -> list[list[JSON]]:
    """Groups of resources that are versions of the same result: same ``Type/id`` or business identifier."""
    keys: dict[str, list[JSON]] = defaultdict(list)
    for resource in resources:
        kind = str(resource.get("resourceType"))
        if as_str(resource.get("id")):  # resources without an id are not versions of one another
            keys[label(resource)].append(resource)
        for ident in as_list(resource.get("identifier")):
            system, value = as_str(as_dict(ident).get("system")), as_str(as_dict(ident).get("value"))
            if value:
                keys[f"{kind}|{system}|{value}"].append(resource)
    return [group for group in keys.values() if len({id(r) for r in group}) > 1]


def _replaced(resources: list[JSON]) -> list[JSON]:
    """Resources another one says it replaces (an extension whose URL ends in ``/replaces``)."""
    targets: set[str | None] = set()
    for resource in resources:
        for ext in as_list(resource.get("extension")):
            entry = as_dict(ext)
            if (as_str(entry.get("url")) or "").endswith("/replaces"):
                targets.update(typed_key(r) for r in references(entry.get("valueReference")))
    return [r for r in resources if label(r) in targets]


def _rank(resource: JSON) -> tuple[bool, str, str, str]:
    """Amended/corrected beats final; then the later ``meta.lastUpdated`` / ``versionId``; then fixed."""
    meta = as_dict(resource.get("meta"))
    version = as_str(meta.get("versionId")) or ""
    return (
        as_str(resource.get("status")) in AMENDED,
        as_str(meta.get("lastUpdated")) or "",
        version.rjust(12, "0"),
        _canonical(resource),
    )


def _canonical(resource: JSON) -> str:
    return json.dumps(resource, sort_keys=True, default=str)
