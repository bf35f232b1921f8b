"""Observation → Measurement facts: labs, vital signs (the blood-pressure panel), performance status, tumor
markers, LVEF, disease status, tumor size and PET uptake (conventions in docs/patient-data.md).

An Observation with a value gives one measurement for its code; each component with a value gives one more
(the BP panel 85354-9 → systolic 8480-6 and diastolic 8462-4; TumorSize 21889-1 → longest diameter 33728-7).
Components inherit the Observation's date, specimen, focus, method, body site and ``partOf``.
"""

from __future__ import annotations

from trialmatch.patients.model import Coding, Measurement
from trialmatch.patients.sources.facts import Context, Normalizer, Quantity, RawResult
from trialmatch.patients.sources.fhir_dates import parse_date
from trialmatch.patients.sources.fhir_index import PatientScope
from trialmatch.patients.sources.fhir_values import (
    JSON,
    UCUM,
    as_dict,
    as_list,
    as_number,
    as_str,
    codings,
    concept_text,
    extensions,
    first_code,
    label,
    period,
    references,
)

AMENDED = ("amended", "corrected")
SPECIMEN_ORIGIN_EXT = "/StructureDefinition/specimen-origin"
"""Local extension on Specimen (valueCode ``primary`` | ``metastatic``) for sites that record it directly."""


def convert_observation(resource: JSON, scope: PatientScope, norm: Normalizer) -> list[Measurement]:
    """The measurements of one Observation (the main value, then each component with a value)."""
    source = label(resource)
    ctx = _context(resource, scope, source)
    out: list[Measurement] = []
    codes = codings(resource.get("code"))
    components = [as_dict(c) for c in as_list(resource.get("component")) if _has_value(as_dict(c))]
    if _has_value(resource) or not components:
        concept = norm.concept(codes, source)
        out.append(norm.measurement(concept, codes, _result(resource), ctx))
    for component in components:
        component_codes = codings(component.get("code"))
        concept = norm.concept(component_codes, source)
        out.append(norm.measurement(concept, component_codes, _result(component), ctx))
    return out


def _context(resource: JSON, scope: PatientScope, source: str) -> Context:
    start, _ = period(resource, "effective")
    specimen = scope.resolve(_first(resource.get("specimen")))
    status = as_str(resource.get("status")) or "unknown"
    return Context(
        source=source,
        date=start or parse_date(resource.get("issued")),
        status=status,
        specimen=as_str(specimen.get("id")) if specimen else None,
        specimen_site=_specimen_site(resource, specimen, scope),
        focus=_id_of(scope, _first(resource.get("focus"))),
        method=_first_coding(resource.get("method")),
        body_site=_first_coding(resource.get("bodySite")),
        part_of=_id_of(scope, _first(resource.get("partOf"))),
        flags=("amended",) if status in AMENDED else (),
    )


def _has_value(element: JSON) -> bool:
    return any(key.startswith("value") for key in element)


def _result(element: JSON) -> RawResult:
    """The value[x] of an Observation or component, and its first normal reference range."""
    low, high = _reference_range(element)
    cc = element.get("valueCodeableConcept")
    return RawResult(
        quantity=_value_quantity(element),
        answers=codings(cc) if cc is not None else _boolean(element),
        text=as_str(element.get("valueString")) or concept_text(cc),
        low=low,
        high=high,
    )


def _value_quantity(element: JSON) -> Quantity | None:
    if "valueQuantity" in element:
        return _quantity(element["valueQuantity"])
    if "valueInteger" in element:
        number = as_number(element["valueInteger"])
        return Quantity(number) if number is not None else None
    if "valueRatio" in element:
        return _ratio(as_dict(element["valueRatio"]))
    return None


def _boolean(element: JSON) -> tuple[Coding, ...]:
    """valueBoolean as a coded answer, so "history of metastatic cancer: true" keeps its meaning."""
    value = element.get("valueBoolean")
    if not isinstance(value, bool):
        return ()
    return (Coding(system="http://hl7.org/fhir/special-values", code=str(value).lower()),)


def _quantity(raw: object) -> Quantity | None:
    q = as_dict(raw)
    value = as_number(q.get("value"))
    if value is None:
        return None
    unit = as_str(q.get("code")) if as_str(q.get("system")) in (UCUM, None) else None
    return Quantity(value, unit or as_str(q.get("code")) or as_str(q.get("unit")), as_str(q.get("comparator")))


def _ratio(ratio: JSON) -> Quantity | None:
    """An ISH ratio written as valueRatio: numerator / denominator (denominator 1 when absent)."""
    numerator = _quantity(ratio.get("numerator"))
    denominator = _quantity(ratio.get("denominator")) if "denominator" in ratio else Quantity(1.0)
    if numerator is None or denominator is None or denominator.value == 0:
        return None
    return Quantity(numerator.value / denominator.value)


def _reference_range(element: JSON) -> tuple[Quantity | None, Quantity | None]:
    """The range typed "normal" (or untyped), which "x ULN" criteria compare against."""
    for raw in as_list(element.get("referenceRange")):
        entry = as_dict(raw)
        kind = first_code(entry.get("type"))
        if kind in (None, "normal"):
            return _quantity(entry.get("low")), _quantity(entry.get("high"))
    return None, None


def _first(value: object) -> str | None:
    refs = references(value)
    return refs[0] if refs else None


def _first_coding(value: object) -> Coding | None:
    found = codings(value)
    return found[0] if found else None


def _id_of(scope: PatientScope, reference: str | None) -> str | None:
    """The bare id of a referenced resource (BodyStructure, Procedure, Condition), resolved when possible."""
    if reference is None:
        return None
    target = scope.resolve(reference)
    return as_str(target.get("id")) if target else reference.rstrip("/").rsplit("/", 1)[-1]


def _specimen_site(resource: JSON, specimen: JSON | None, scope: PatientScope) -> str | None:
    """Primary or metastatic sample, from (in order) the Specimen's origin extension, a related condition of
    the Observation (mCODE relatedCondition extension, or ``derivedFrom``/``focus`` to a Condition), or the
    Specimen's collection body site matching a cancer condition's body site."""
    if specimen is not None:
        for ext in extensions(specimen, SPECIMEN_ORIGIN_EXT):
            origin = as_str(ext.get("valueCode"))
            if origin in ("primary", "metastatic"):
                return origin
    related = [
        as_str(as_dict(e.get("valueReference")).get("reference")) for e in extensions(resource, "related-condition")
    ]
    linked = [r for r in related if r] + references(resource.get("derivedFrom")) + references(resource.get("focus"))
    for ref in linked:
        site = scope.cancer_category(scope.resolve(ref))
        if site is not None:
            return site
    if specimen is not None:
        return scope.site_of_body_site(codings(as_dict(specimen.get("collection")).get("bodySite")))
    return None
