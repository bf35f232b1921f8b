"""Synthetic cohorts as FHIR Bulk Data NDJSON: the patients of a :class:`~trialmatch.cohort.synth.Cohort`.

Nothing is drawn here: every value (dates, sites, HER2 IHC/ISH, lines of therapy, labs, ECOG, LVEF, brain
radiotherapy) is formatted from the cohort's arrays, so ``cohort ingest`` of this output and the store
``write_store`` writes directly hold the same facts. Lines of therapy become MedicationRequests with start and
end dates, one per drug. Codes come from the concept library (its first verified code), following
``docs/patient-data.md``, so ``cohort ingest`` and ``read_patients`` read every line without problems.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from trialmatch.cohort.synth import LABS, REGIMENS, SITES, Cohort, brain_radiotherapy, her2_ihc, her2_ish
from trialmatch.terminology.concepts import ConceptLibrary, default_library

Resource = dict[str, Any]
UCUM = "http://unitsofmeasure.org"
LOCAL = "http://trialmatch.org/fhir/CodeSystem"
TYPES = ("Patient", "Condition", "Observation", "MedicationRequest", "Procedure")


class Codes:
    """The concept library's first verified (else first, else local) code per concept; answers by category."""

    def __init__(self, library: ConceptLibrary) -> None:
        self.library = library

    def coding(self, concept: str) -> dict[str, str]:
        """One FHIR Coding for a concept."""
        codes = self.library.get(concept).codes
        if not codes:  # docs/patient-data.md: a local concept code names the concept itself
            kind, _, rest = concept.partition(".")
            return {"system": f"{LOCAL}/{kind}", "code": rest}
        code = next((c for c in codes if c.status == "verified"), codes[0])
        return {"system": code.system, "code": code.code}

    def concept(self, concept: str) -> dict[str, Any]:
        """A CodeableConcept for a concept."""
        return {"coding": [self.coding(concept)]}

    def answer(self, concept: str, category: str) -> dict[str, Any]:
        """A CodeableConcept answering ``concept`` with ``category``."""
        hit = next(a for a in self.library.get(concept).answers if a.category == category)
        return {"coding": [{"system": hit.system, "code": hit.code}]}


def write_fhir(c: Cohort, out: Path) -> int:
    """Write ``<Type>.ndjson`` files for the cohort into ``out``; the number of resources written (every value
    comes from the cohort's own draws)."""
    out.mkdir(parents=True, exist_ok=True)
    codes = Codes(default_library())
    columns = _Columns.of(c)
    written = 0
    with ExitStack() as stack:
        files: dict[str, IO[str]] = {
            t: stack.enter_context((out / f"{t}.ndjson").open("w", encoding="utf-8")) for t in TYPES
        }
        for i in range(len(c.ids)):
            for resource in patient_resources(columns, i, codes):
                files[resource["resourceType"]].write(json.dumps(resource, separators=(",", ":")) + "\n")
                written += 1
    return written


@dataclass(frozen=True)
class _Columns:
    """The cohort's arrays as Python lists (dates as ``datetime.date``, None for NaT), read patient by patient."""

    values: dict[str, list[Any]]
    lines: list[list[tuple[dt.date, dt.date | None]]]
    regimens: list[tuple[tuple[str, ...], ...]]

    @classmethod
    def of(cls, c: Cohort) -> _Columns:
        dates = ("birth", "diagnosed", "metastatic", "lab_date")
        values: dict[str, list[Any]] = {name: getattr(c, name).astype(object).tolist() for name in dates}
        for name in ("ids", "subtype", "ecog", "brain", "brain_treated", "two_plus", *(f for _, _, f, _ in LABS)):
            values[name] = getattr(c, name).tolist()
        values["sites"] = [[s for s, has in zip(SITES, row, strict=True) if has] for row in c.sites.tolist()]
        values["ihc"], values["ish"] = her2_ihc(c).tolist(), her2_ish(c).tolist()
        values["brain_rt"] = brain_radiotherapy(c).astype(object).tolist()
        starts, ends = c.line_start.astype(object).tolist(), c.line_end.astype(object).tolist()
        lines = [
            [(s, e) for s, e in zip(row_s, row_e, strict=True) if s is not None]
            for row_s, row_e in zip(starts, ends, strict=True)
        ]
        return cls(values, lines, [REGIMENS[s] for s in values["subtype"]])


def patient_resources(columns: _Columns, i: int, codes: Codes) -> Iterator[Resource]:
    """Every resource of patient ``i``."""
    v = {name: col[i] for name, col in columns.values.items()}
    pid = str(v["ids"])
    yield {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": v["birth"].isoformat()}
    ev = _Events(pid, codes)
    yield ev.condition("breast_cancer", "condition.breast_cancer", v["diagnosed"], "active")
    for site in v["sites"]:
        yield ev.condition(site, f"condition.metastasis.{site}", v["metastatic"], "active")
    if v["brain"]:
        status = "remission" if v["brain_treated"] else "active"
        yield ev.condition("brain", "condition.metastasis.brain", v["metastatic"], status)
    if v["brain_rt"] is not None:
        yield ev.procedure("brain-rt", "procedure.brain_radiotherapy", v["brain_rt"])
    yield ev.observation("her2-ihc", "marker.her2_ihc", v["diagnosed"], {"valueString": v["ihc"]})
    if v["two_plus"]:
        yield ev.coded("her2-ish", "marker.her2_ish", codes.answer("marker.her2_ish", v["ish"]), v["diagnosed"])
    for n, ((start, end), drugs) in enumerate(zip(columns.lines[i], columns.regimens[i], strict=False)):
        for drug in drugs:
            yield ev.medication(f"l{n}-{drug}", f"drug.{drug}", start, end)
    labs = v["lab_date"]
    yield ev.coded("ecog", "score.ecog", codes.answer("score.ecog", str(v["ecog"])), labs)
    for name, concept, field, uln in LABS:
        yield ev.quantity(name, concept, float(v[field]), labs, uln)


class _Events:
    """Builds one patient's resources with ids ``<patient>-<name>``."""

    def __init__(self, pid: str, codes: Codes) -> None:
        self.pid, self.codes = pid, codes

    def _base(self, kind: str, name: str, concept: str) -> Resource:
        return {
            "resourceType": kind,
            "id": f"{self.pid}-{name}",
            "subject": {"reference": f"Patient/{self.pid}"},
            "code": self.codes.concept(concept),
        }

    def condition(self, name: str, concept: str, onset: dt.date, status: str) -> Resource:
        clinical = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]}
        return {**self._base("Condition", name, concept), "clinicalStatus": clinical, "onsetDateTime": str(onset)}

    def procedure(self, name: str, concept: str, day: dt.date) -> Resource:
        return {**self._base("Procedure", name, concept), "status": "completed", "performedDateTime": str(day)}

    def observation(self, name: str, concept: str, day: dt.date, value: Resource) -> Resource:
        base = self._base("Observation", name, concept)
        return {**base, "status": "final", "effectiveDateTime": str(day), **value}

    def coded(self, name: str, concept: str, answer: Resource, day: dt.date) -> Resource:
        return self.observation(name, concept, day, {"valueCodeableConcept": answer})

    def quantity(self, name: str, concept: str, value: float, day: dt.date, uln: float | None) -> Resource:
        unit = self.codes.library.get(concept).unit or ""
        quantity = {"value": value, "unit": unit, "system": UCUM, "code": unit}
        extra: Resource = {"valueQuantity": quantity}
        if uln is not None:
            extra["referenceRange"] = [{"high": {"value": uln, "unit": unit, "system": UCUM, "code": unit}}]
        return self.observation(name, concept, day, extra)

    def medication(self, name: str, concept: str, start: dt.date, end: dt.date | None) -> Resource:
        period = {"start": str(start)} | ({} if end is None else {"end": str(end)})
        return {
            "resourceType": "MedicationRequest",
            "id": f"{self.pid}-{name}",
            "status": "active" if end is None else "completed",
            "intent": "order",
            "subject": {"reference": f"Patient/{self.pid}"},
            "medicationCodeableConcept": self.codes.concept(concept),
            "authoredOn": str(start),
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": period}}}],
        }
