"""Screening outcome models: what ``trialmatch screen`` reports (shared contract ``screening-result.schema.json``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from trialmatch.engine.logic import Status
from trialmatch.patients.model import InputProblem

Verdict = Literal["eligible", "possible", "ineligible"]


class Outcome(BaseModel):
    """Base for outcome records: frozen; serialized with the schema's field names."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EvidenceItem(Outcome):
    """A fact a status rests on, with the input record it came from."""

    fact: str
    value: Any = None
    unit: str | None = None
    date: str | None = None
    source: str | None = None


class CriterionOutcome(Outcome):
    """One criterion's (or part's, or sub-item's) status for one patient, with its reason and evidence."""

    id: str
    type: Literal["inclusion", "exclusion"]
    text: str
    status: Status
    reason: str
    evidence: tuple[EvidenceItem, ...] = ()
    rule: str | None = None
    computability: str | None = None
    drafted: bool = False
    stale: bool = False
    children: tuple[CriterionOutcome, ...] = ()
    parts: tuple[CriterionOutcome, ...] = ()
    answered_by: str | None = None
    missing: tuple[str, ...] = Field(default=(), description="What data would settle an unknown status")
    changes_on: dt.date | None = Field(default=None, description="First date the status changes by time alone")
    time_bound: bool = Field(default=False, description="The status rests on a time window that passes by itself")


class TrialOutcome(Outcome):
    """One trial's verdict for one patient."""

    trial_id: str
    aliases: tuple[str, ...] = ()
    title: str
    recruitment_status: str | None = None
    rules_version: str | None = None
    verdict: Verdict
    failed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    needs_review: tuple[str, ...] = ()
    eligible_from: dt.date | None = None
    valid_until: dt.date | None = None
    rests_on_drafts: bool = False
    stale_rules: tuple[str, ...] = Field(default=(), description="Criteria whose rule was written for another text")
    criteria: tuple[CriterionOutcome, ...] = ()

    @property
    def unknown_count(self) -> int:
        """How many top-level criteria are unknown (ranks possible trials: fewest first)."""
        return sum(1 for c in self.criteria if c.status is Status.UNKNOWN)


class Deceased(Outcome):
    """The record says the patient died on or before as-of (``date`` None when it gives no date)."""

    date: dt.date | None = None


class ScreeningOutcome(Outcome):
    """One patient screened against one or more trials at an as-of date."""

    patient_id: str
    as_of: dt.date
    engine_version: str
    concepts_version: str | None = None
    trials: tuple[TrialOutcome, ...] = ()
    input_problems: tuple[InputProblem, ...] = ()
    deceased: Deceased | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON form of the contract: dates as ISO strings; a status the record does not state is left out."""
        document = self.model_dump(mode="json")
        for trial in document["trials"]:
            if trial["recruitment_status"] is None:
                del trial["recruitment_status"]  # the contract has it as a string when present
        return document
