"""Resolving FHIR references (``Patient/x``, absolute URLs, ``urn:uuid:...`` via ``fullUrl``, ``#contained``)
and the per-patient scope converters look things up in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from trialmatch.patients.model import Coding
from trialmatch.patients.sources.fhir_values import JSON, as_dict, as_list, as_str, references

_TYPED = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")

# The element naming the patient a resource is about (R4: subject for most, patient for BodyStructure).
PATIENT_ELEMENTS = ("subject", "patient")


def typed_key(reference: str) -> str | None:
    """``Type/id`` of a relative or absolute RESTful reference, ignoring a version suffix."""
    match = _TYPED.search(reference)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def patient_reference(resource: JSON) -> str | None:
    """The reference to the patient the resource is about, if it has one."""
    if resource.get("resourceType") == "Patient":
        return None
    for element in PATIENT_ELEMENTS:
        refs = references(resource.get(element))
        if refs:
            return refs[0]
    return None


class Resolver(Protocol):
    """Finds the resource a reference points to."""

    def resolve(self, reference: str) -> JSON | None:
        """The referenced resource, or None when it is not in the input."""


@dataclass
class ResourceIndex:
    """Resources of one input by ``fullUrl`` and by ``Type/id``."""

    by_key: dict[str, JSON] = field(default_factory=dict)

    def add(self, resource: JSON, full_url: str | None = None) -> None:
        """Index ``resource`` under its full URL and its ``Type/id``."""
        if full_url:
            self.by_key[full_url] = resource
        rid = as_str(resource.get("id"))
        if rid:
            self.by_key[f"{resource.get('resourceType')}/{rid}"] = resource

    def resolve(self, reference: str) -> JSON | None:
        """Exact ``fullUrl`` match first, then ``Type/id`` of the reference."""
        if reference in self.by_key:
            return self.by_key[reference]
        key = typed_key(reference)
        return self.by_key.get(key) if key else None


@dataclass
class PatientScope:
    """What converters may consult while reading one patient's resources: references, and which of the
    patient's conditions are primary or secondary cancers (to tell a primary from a metastatic specimen)."""

    resolver: Resolver
    cancer_by_id: dict[str, str] = field(default_factory=dict)
    cancer_by_site: dict[tuple[str, str], str] = field(default_factory=dict)

    def resolve(self, reference: str | None, container: JSON | None = None) -> JSON | None:
        """The referenced resource; ``#id`` looks in ``container``'s contained resources."""
        if not reference:
            return None
        if reference.startswith("#"):
            wanted = reference[1:]
            contained = (as_dict(c) for c in as_list((container or {}).get("contained")))
            return next((c for c in contained if c.get("id") == wanted), None)
        return self.resolver.resolve(reference)

    def add_cancer(self, condition: JSON, category: str) -> None:
        """Remember a cancer condition: ``primary`` or ``metastatic``, by id and by body site."""
        site = {"primary-cancer": "primary", "secondary-cancer": "metastatic"}.get(category)
        if site is None:
            return
        rid = as_str(condition.get("id"))
        if rid:
            self.cancer_by_id[rid] = site
        for concept in as_list(condition.get("bodySite")):
            for coding in as_list(as_dict(concept).get("coding")):
                system, code = as_str(as_dict(coding).get("system")), as_str(as_dict(coding).get("code"))
                if system and code:
                    self.cancer_by_site.setdefault((system, code), site)

    def cancer_category(self, resource: JSON | None) -> str | None:
        """``primary``/``metastatic`` when ``resource`` is one of the patient's cancer conditions."""
        if resource is None or resource.get("resourceType") != "Condition":
            return None
        return self.cancer_by_id.get(as_str(resource.get("id")) or "")

    def site_of_body_site(self, sites: Iterable[Coding]) -> str | None:
        """``primary``/``metastatic`` when a specimen's body site is a cancer condition's body site."""
        return next(
            (self.cancer_by_site[(s.system, s.code)] for s in sites if (s.system, s.code) in self.cancer_by_site),
            None,
        )
