"""Synthetic cohorts as FHIR Bulk Data NDJSON, with the history a facts store written directly lacks.

Each patient of a :class:`~trialmatch.cohort.synth.Cohort` gets, besides its generator columns, a drawn
history (distributions in ``docs/cohort.md``): primary and metastatic diagnoses with dates, HER2 IHC (and ISH
for 2+), lines of therapy as MedicationRequests with start and end dates (so lines, washouts and continuous
anti-HER2 exposure vary), labs with reference ranges, ECOG and LVEF, and brain radiotherapy for treated brain
metastases. Codes come from the concept library (its first verified code), following ``docs/patient-data.md``,
so ``cohort ingest`` and ``read_patients`` read every line without problems.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import numpy as np

from trialmatch.cohort.synth import Cohort
from trialmatch.rules.concepts import ConceptLibrary, default_library

Resource = dict[str, Any]
UCUM = "http://unitsofmeasure.org"
LOCAL = "http://trialmatch.org/fhir/CodeSystem"
TYPES = ("Patient", "Condition", "Observation", "MedicationRequest", "Procedure")
SITES = {"bone": 0.7, "liver": 0.35, "lung": 0.3, "lymph_node": 0.3}
REGIMENS = {
    "positive": (
        ("trastuzumab", "pertuzumab", "docetaxel"),
        ("trastuzumab_emtansine",),
        ("trastuzumab_deruxtecan",),
    ),
    "low": (("paclitaxel",), ("trastuzumab_deruxtecan",), ("capecitabine",)),
    "negative": (("paclitaxel",), ("capecitabine",), ("vinorelbine",)),
}
# concept, log-normal median, sigma, upper limit of normal (None: no reference range)
EXTRA_LABS = (("lab.ast", 25.0, 0.4, 40.0), ("lab.alt", 22.0, 0.45, 40.0), ("lab.platelets", 250.0, 0.3, None))


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


def write_fhir(c: Cohort, out: Path, seed: int) -> int:
    """Write ``<Type>.ndjson`` files for the cohort into ``out``; the number of resources written."""
    out.mkdir(parents=True, exist_ok=True)
    codes = Codes(default_library())
    rng = np.random.default_rng([seed, 1])
    written = 0
    with ExitStack() as stack:
        files: dict[str, IO[str]] = {
            t: stack.enter_context((out / f"{t}.ndjson").open("w", encoding="utf-8")) for t in TYPES
        }
        for i in range(len(c.ids)):
            for resource in patient_resources(c, i, rng, codes):
                files[resource["resourceType"]].write(json.dumps(resource, separators=(",", ":")) + "\n")
                written += 1
    return written


def patient_resources(c: Cohort, i: int, rng: np.random.Generator, codes: Codes) -> Iterator[Resource]:
    """Every resource of patient ``i``."""
    pid = str(c.ids[i])
    birth = c.as_of.replace(year=c.as_of.year - int(c.age[i]), day=1) - dt.timedelta(days=int(rng.integers(0, 360)))
    yield {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": birth.isoformat()}
    metastatic = c.as_of - dt.timedelta(days=int(rng.integers(60, 2000)))
    diagnosed = metastatic - dt.timedelta(days=0 if rng.random() < 0.3 else int(rng.integers(90, 3000)))
    ev = _Events(pid, codes)
    yield ev.condition("breast_cancer", "condition.breast_cancer", diagnosed, "active")
    sites = [s for s, p in SITES.items() if rng.random() < p] or ["bone"]
    for site in sites:
        yield ev.condition(site, f"condition.metastasis.{site}", metastatic, "active")
    if bool(c.brain[i]):
        treated = rng.random() < 0.5
        yield ev.condition("brain", "condition.metastasis.brain", metastatic, "remission" if treated else "active")
        if treated:
            yield ev.procedure("brain-rt", "procedure.brain_radiotherapy", metastatic + dt.timedelta(days=20))
    yield from _her2(ev, str(c.subtype[i]), diagnosed, rng)
    yield from _lines(ev, REGIMENS[str(c.subtype[i])][: int(c.lines[i])], metastatic, c.as_of, rng)
    labs = c.as_of - dt.timedelta(days=int(c.lab_age[i]))
    yield ev.coded("ecog", "score.ecog", codes.answer("score.ecog", str(int(c.ecog[i]))), labs)
    yield ev.quantity("lvef", "obs.lvef", float(c.lvef[i]), labs, None)
    yield ev.quantity("anc", "lab.anc", float(c.anc[i]), labs, None)
    yield ev.quantity("bili", "lab.bilirubin_total", float(c.bilirubin[i]), labs, 1.2)
    yield ev.quantity("creat", "lab.creatinine", float(c.creatinine[i]), labs, 1.1)
    for concept, median, sigma, uln in EXTRA_LABS:
        value = round(float(rng.lognormal(np.log(median), sigma)), 1)
        yield ev.quantity(concept.split(".")[1], concept, value, labs, uln)


def _her2(ev: _Events, subtype: str, day: dt.date, rng: np.random.Generator) -> Iterator[Resource]:
    """IHC 3+ or 2+/ISH amplified (positive); 1+ or 2+/ISH not amplified (low); 0 (negative)."""
    two_plus = rng.random() < (0.3 if subtype == "positive" else 0.4 if subtype == "low" else 0.0)
    score = "2+" if two_plus else {"positive": "3+", "low": "1+", "negative": "0"}[subtype]
    yield ev.observation("her2-ihc", "marker.her2_ihc", day, {"valueString": score})
    if two_plus:
        category = "amplified" if subtype == "positive" else "not_amplified"
        answer = ev.codes.answer("marker.her2_ish", category)
        yield ev.coded("her2-ish", "marker.her2_ish", answer, day)


def _lines(
    ev: _Events, regimens: tuple[tuple[str, ...], ...], start: dt.date, as_of: dt.date, rng: np.random.Generator
) -> Iterator[Resource]:
    """Lines of therapy one after another: 2-30 months each, 0-4 months apart; the last may be ongoing."""
    day = start + dt.timedelta(days=int(rng.integers(0, 45)))
    for n, drugs in enumerate(regimens):
        if day >= as_of:
            return
        end: dt.date | None = day + dt.timedelta(days=int(rng.integers(60, 900)))
        if end is not None and end >= as_of:
            end = None
        for drug in drugs:
            yield ev.medication(f"l{n}-{drug}", f"drug.{drug}", day, end)
        if end is None:
            return
        day = end + dt.timedelta(days=int(rng.integers(0, 120)))


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
