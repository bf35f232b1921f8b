"""Per-resource converters besides Observation: Patient, Condition, medications, Procedure, BodyStructure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trialmatch.patients.derive.bodysites import site_of
from trialmatch.patients.model import RECORDED_ABSENT, Coding, ConditionFact, Lesion, MedicationFact, ProcedureFact
from trialmatch.patients.sources.facts import KEPT_UNUSED, Normalizer
from trialmatch.patients.sources.fhir_index import PatientScope
from trialmatch.patients.sources.fhir_values import (
    JSON,
    as_dict,
    as_list,
    as_str,
    codings,
    concept_text,
    extensions,
    first_code,
    label,
    parse_date,
    period,
    profiles,
    references,
)

LESION_EXT = "/StructureDefinition/lesion-"
"""Local BodyStructure extensions (valueBoolean): ``lesion-lymph-node``, ``lesion-previously-irradiated``,
``lesion-confluent`` under ``http://trialmatch.org/fhir/StructureDefinition/``."""

TARGET_EXT = "procedure-targetBodyStructure"
"""FHIR R4 core extension naming the BodyStructure a procedure targeted (lesions treated or imaged)."""

# SNOMED CT lymph node structures; a Tumor located in one is a nodal lesion (RECIST short-axis rule).
LYMPH_NODE_SITES = frozenset({"59441001", "68171009"})  # lymph node structure; axillary lymph node structure
SNOMED = "http://snomed.info/sct"

RECORD_TYPES = {
    "MedicationRequest": "request",
    "MedicationAdministration": "administration",
    "MedicationStatement": "statement",
}


@dataclass(frozen=True)
class Demographics:
    """What a Patient resource says that screening uses."""

    patient_id: str
    birth_date: dt.date | None
    sex: str | None
    deceased: bool
    deceased_on: dt.date | None


def convert_patient(resource: JSON, norm: Normalizer) -> Demographics:
    """Birth date, administrative gender and death (flag and date); a missing birth date is reported."""
    source = label(resource)
    birth = parse_date(resource.get("birthDate"))
    if birth is None:
        problem = "birthDate missing" if "birthDate" not in resource else "birthDate not a FHIR date"
        norm.note(source, f"{problem}; age unknown", "kept; age criteria unknown")
    gender = as_str(resource.get("gender"))
    deceased = resource.get("deceasedBoolean") is True or "deceasedDateTime" in resource
    died = parse_date(resource.get("deceasedDateTime"))
    if "deceasedDateTime" in resource and died is None:
        norm.note(source, "deceasedDateTime not a FHIR date; date of death unknown", "kept; deceased without a date")
    return Demographics(as_str(resource.get("id")) or "?", birth, gender, deceased, died)


def condition_category(resource: JSON, concept: str | None, norm: Normalizer) -> str:
    """primary-cancer / secondary-cancer from the mCODE profile, else from the concept, else comorbidity."""
    claimed = " ".join(profiles(resource))
    if "secondary-cancer-condition" in claimed or _is(norm, concept, "condition.metastasis"):
        return "secondary-cancer"
    if "primary-cancer-condition" in claimed or _is(norm, concept, "condition.malignancy"):
        return "primary-cancer"
    return "comorbidity"


def _is(norm: Normalizer, concept: str | None, ancestor: str) -> bool:
    return concept is not None and (concept == ancestor or norm.library.is_a(concept, ancestor))


def convert_condition(resource: JSON, scope: PatientScope, norm: Normalizer) -> ConditionFact:
    """A diagnosis with its category, clinical status, dates, body site and stage summary."""
    source = label(resource)
    codes = codings(resource.get("code"))
    concept = norm.concept(codes, source)
    category = condition_category(resource, concept, norm)
    scope.add_cancer(resource, category)
    onset, _ = period(resource, "onset")
    abatement, _ = period(resource, "abatement")
    return ConditionFact(
        concept=concept,
        codes=codes,
        category=category,
        clinical_status=first_code(resource.get("clinicalStatus")),
        onset=onset,
        abatement=abatement,
        recorded=parse_date(resource.get("recordedDate")),
        body_site=tuple(c for site in as_list(resource.get("bodySite")) for c in codings(site)),
        stage=_stage(resource),
        source=source,
    )


def observation_as_condition(resource: JSON, norm: Normalizer) -> ConditionFact | None:
    """An Observation whose code names a condition (mCODE HistoryOfMetastaticCancer) records that condition,
    unless its valueBoolean says it is absent; None when the code is not a condition concept."""
    codes = codings(resource.get("code"))
    concepts = norm.concepts(codes)
    if not concepts or norm.library.get(concepts[0]).kind != "condition":
        return None
    if resource.get("valueBoolean") is False:
        norm.note(label(resource), "condition recorded as absent", RECORDED_ABSENT)
        return None
    day, _ = period(resource, "effective")
    category = condition_category(resource, concepts[0], norm)
    return ConditionFact(concept=concepts[0], codes=codes, category=category, recorded=day, source=label(resource))


def _stage(resource: JSON) -> str | None:
    """The first stage summary as displayed (e.g. AJCC stage IIIC), else its code."""
    for stage in as_list(resource.get("stage")):
        summary = as_dict(stage).get("summary")
        found = codings(summary)
        text = concept_text(summary) or (found[0].display or found[0].code if found else None)
        if text:
            return text
    return None


def convert_medication(resource: JSON, scope: PatientScope, norm: Normalizer) -> MedicationFact:
    """A drug exposure rolled up to ingredient concepts; dates per record type (see docs/patient-data.md)."""
    source = label(resource)
    codes = _medication_codes(resource, scope, source, norm)
    concepts = norm.concepts(codes, by_name=True)
    if codes and not concepts:
        norm.note(source, "medication code not in the concept library", KEPT_UNUSED)
    start, end = _medication_dates(resource)
    return MedicationFact(
        concepts=concepts,
        codes=codes,
        record_type=RECORD_TYPES[str(resource.get("resourceType"))],
        status=as_str(resource.get("status")),
        start=start,
        end=end,
        reason=_reason(resource, scope),
        source=source,
    )


def _medication_codes(resource: JSON, scope: PatientScope, source: str, norm: Normalizer) -> tuple[Coding, ...]:
    if "medicationCodeableConcept" in resource:
        found = codings(resource["medicationCodeableConcept"])
    else:
        reference = references(resource.get("medicationReference"))
        medication = scope.resolve(reference[0], container=resource) if reference else None
        if medication is None:
            norm.note(source, "medication reference not found in the input", KEPT_UNUSED)
            return ()
        ingredients = [as_dict(i).get("itemCodeableConcept") for i in as_list(medication.get("ingredient"))]
        found = codings(medication.get("code")) + tuple(c for i in ingredients for c in codings(i))
    if not found:
        norm.note(source, "no medication code", KEPT_UNUSED)
    return found


def _medication_dates(resource: JSON) -> tuple[dt.date | None, dt.date | None]:
    """effective[x] for administrations and statements; a request's dosing bounds, else its authoredOn."""
    if resource.get("resourceType") != "MedicationRequest":
        return period(resource, "effective")
    for dosage in as_list(resource.get("dosageInstruction")):
        repeat = as_dict(as_dict(as_dict(dosage).get("timing")).get("repeat"))
        bounds = as_dict(repeat.get("boundsPeriod"))
        if bounds:
            return parse_date(bounds.get("start")), parse_date(bounds.get("end"))
    return parse_date(resource.get("authoredOn")), None


def _reason(resource: JSON, scope: PatientScope) -> str | None:
    """The first referenced condition's id, else the first reason code as ``system|code``."""
    for ref in references(resource.get("reasonReference")):
        target = scope.resolve(ref)
        return as_str(target.get("id")) if target else ref.rsplit("/", 1)[-1]
    for concept in as_list(resource.get("reasonCode")):
        for c in codings(concept):
            return f"{c.system}|{c.code}"
    return None


def convert_procedure(resource: JSON, scope: PatientScope, norm: Normalizer) -> ProcedureFact:
    """A procedure with dates, body sites, targeted lesions and reason."""
    source = label(resource)
    codes = codings(resource.get("code"))
    start, end = period(resource, "performed")
    targets = [as_str(as_dict(e.get("valueReference")).get("reference")) for e in extensions(resource, TARGET_EXT)]
    body_site = tuple(c for site in as_list(resource.get("bodySite")) for c in codings(site))
    return ProcedureFact(
        concept=_by_site(norm, norm.concept(codes, source), body_site),
        codes=codes,
        status=as_str(resource.get("status")),
        start=start,
        end=end,
        body_site=body_site,
        focus=tuple(t.rsplit("/", 1)[-1] for t in targets if t),
        reason=_reason(resource, scope),
        source=source,
    )


def _by_site(norm: Normalizer, concept: str | None, body_site: tuple[Coding, ...]) -> str | None:
    """Radiotherapy to the brain is its own concept (trials ask about it), told apart by the body site."""
    if concept and norm.library.is_a(concept, "procedure.radiotherapy") and site_of(body_site) == "brain":
        return "procedure.brain_radiotherapy"
    return concept


def is_radiotherapy_volume(resource: JSON) -> bool:
    """mCODE RadiotherapyVolume BodyStructures are treatment volumes, not lesions."""
    return any("radiotherapy-volume" in p for p in profiles(resource))


def convert_body_structure(resource: JSON) -> Lesion:
    """A lesion (mCODE Tumor): location, whether it is a lymph node, irradiated or confluent."""
    location = as_dict(resource.get("location"))
    sites = codings(location) + tuple(c for q in as_list(resource.get("locationQualifier")) for c in codings(q))
    text = concept_text(location) or as_str(resource.get("description"))
    nodal = _flag(resource, "lymph-node")
    return Lesion(
        id=as_str(resource.get("id")) or "?",
        location=sites,
        location_text=text,
        is_lymph_node=nodal if nodal is not None else _is_nodal(sites, text, resource),
        previously_irradiated=_flag(resource, "previously-irradiated"),
        confluent=_flag(resource, "confluent"),
        source=label(resource),
    )


def _flag(resource: JSON, name: str) -> bool | None:
    for ext in extensions(resource, LESION_EXT + name):
        value = ext.get("valueBoolean")
        if isinstance(value, bool):
            return value
    return None


def _is_nodal(sites: tuple[Coding, ...], text: str | None, resource: JSON) -> bool:
    """Located in a lymph node structure (SNOMED) or said to be in its location or morphology text."""
    if any(s.system == SNOMED and s.code in LYMPH_NODE_SITES for s in sites):
        return True
    words = [
        text or "",
        *(s.display or "" for s in sites),
        *(c.display or "" for c in codings(resource.get("morphology"))),
    ]
    return any("lymph node" in w.lower() for w in words)
