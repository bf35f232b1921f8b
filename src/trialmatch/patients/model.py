"""Normalized patient facts: what the readers produce and what derivations and rule evaluation read.

No FHIR classes pass this boundary. Every fact carries the concept it rolls up to (``None`` when its code is
not in the concept library), its original codes, dates, and ``source`` — the input record it came from
(``Observation/obs-12``, ``line 7``) — so every screening answer can cite its evidence.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Base for immutable facts."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Coding(Frozen):
    """A code from a code system (LOINC, SNOMED CT, RxNorm, ICD-10-CM, DICOM DCM, local)."""

    system: str
    code: str
    display: str | None = None


# Entries the record itself tells the reader to set aside: nothing is wrong with the input.
SUPERSEDED = "ignored (superseded)"
WITHDRAWN = "ignored (entered in error, refuted or cancelled at the source)"
RECORDED_ABSENT = "ignored (recorded as absent)"
AS_THE_RECORD_SAYS = frozenset({SUPERSEDED, WITHDRAWN, RECORDED_ABSENT})


class InputProblem(Frozen):
    """A problem met while reading a record: what was wrong and what was done about it."""

    source: str | None = Field(default=None, description="e.g. 'Observation/obs-12' or 'line 7'")
    problem: str
    action: str = Field(description="rejected, value ignored, unit assumed ...")

    @property
    def as_the_record_says(self) -> bool:
        """The entry was set aside because the record says so (superseded, entered in error): not a rejection."""
        return self.action in AS_THE_RECORD_SAYS


class Measurement(Frozen):
    """An observed value: lab, vital sign, score, tumor marker, LVEF, lesion size or uptake, status finding.

    Numeric values are in the concept's canonical unit (``unit``); ``original_value``/``original_unit`` keep
    what the record said. ``low``/``high`` are the value's own reference range in the canonical unit, which
    "x ULN" comparisons use. Coded results (HER2 interpretation, pregnancy status) are in ``value_code`` /
    ``value_text``.
    """

    concept: str | None
    codes: tuple[Coding, ...] = ()
    value: float | None = None
    unit: str | None = None
    value_code: Coding | None = None
    value_text: str | None = None
    original_value: float | None = None
    original_unit: str | None = None
    low: float | None = None
    high: float | None = None
    date: dt.date | None = None
    status: str = "final"
    specimen: str | None = Field(default=None, description="Specimen id, for tumor markers per specimen")
    specimen_site: str | None = Field(default=None, description="primary or metastatic, where known")
    focus: str | None = Field(default=None, description="Lesion (BodyStructure) id the value is about")
    method: Coding | None = None
    body_site: Coding | None = None
    part_of: str | None = Field(default=None, description="Procedure id, e.g. the PET scan an uptake came from")
    flags: tuple[str, ...] = Field(default=(), description="e.g. 'implausible', 'amended'")
    source: str


class ConditionFact(Frozen):
    """A diagnosis: primary cancer, secondary cancer (metastasis site), comorbidity or history."""

    concept: str | None
    codes: tuple[Coding, ...] = ()
    category: str = Field(default="comorbidity", description="primary-cancer, secondary-cancer or comorbidity")
    clinical_status: str | None = Field(
        default=None, description="active, recurrence, relapse, inactive, remission, resolved"
    )
    onset: dt.date | None = None
    abatement: dt.date | None = None
    recorded: dt.date | None = None
    body_site: tuple[Coding, ...] = ()
    stage: str | None = None
    source: str


class MedicationFact(Frozen):
    """An exposure to a drug: a request, an administration or a statement, rolled up to ingredient concepts."""

    concepts: tuple[str, ...] = Field(default=(), description="Ingredient concepts (a combination has several)")
    codes: tuple[Coding, ...] = ()
    record_type: str = Field(description="request, administration or statement")
    status: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    reason: str | None = Field(default=None, description="Reason code or referenced condition id")
    source: str


class ProcedureFact(Frozen):
    """A procedure: surgery, radiotherapy, biopsy, imaging."""

    concept: str | None
    codes: tuple[Coding, ...] = ()
    status: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    body_site: tuple[Coding, ...] = ()
    focus: tuple[str, ...] = Field(default=(), description="Lesion ids the procedure targeted")
    reason: str | None = None
    source: str


class Lesion(Frozen):
    """A tumor lesion (mCODE Tumor BodyStructure): its identity across imaging time points."""

    id: str
    location: tuple[Coding, ...] = ()
    location_text: str | None = None
    is_lymph_node: bool = False
    previously_irradiated: bool | None = None
    confluent: bool | None = None
    source: str


class PatientRecord(Frozen):
    """Everything read about one patient, normalized; ``problems`` lists what could not be used and why."""

    patient_id: str
    birth_date: dt.date | None = None
    sex: str | None = Field(default=None, description="female, male, other, unknown (FHIR administrative gender)")
    deceased: bool = False
    deceased_on: dt.date | None = Field(default=None, description="Date of death, when the record gives one")
    measurements: tuple[Measurement, ...] = ()
    conditions: tuple[ConditionFact, ...] = ()
    medications: tuple[MedicationFact, ...] = ()
    procedures: tuple[ProcedureFact, ...] = ()
    lesions: tuple[Lesion, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    sources: tuple[str, ...] = Field(default=(), description="Files the record was read from")

    def died_by(self, as_of: dt.date) -> bool:
        """Whether the record says the patient died on or before ``as_of`` (an undated death always counts:
        the record was exported after it)."""
        return self.deceased and (self.deceased_on is None or self.deceased_on <= as_of)

    def last_alive(self, as_of: dt.date) -> dt.date:
        """``as_of``, or the date of death when it came first: ages and time windows stop at death."""
        return min(as_of, self.deceased_on) if self.deceased_on is not None and self.died_by(as_of) else as_of
