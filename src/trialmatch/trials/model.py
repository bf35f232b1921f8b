"""The structured trial record every reader produces (shape of shared contract ``trial.schema.json``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Base for immutable records: no mutation after reading, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def criterion_text_hash(text: str) -> str:
    """Short SHA-256 of a criterion's text with whitespace folded, so re-wrapping is not a change."""
    folded = re.sub(r"\s+", " ", text).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]


class CriterionType(StrEnum):
    """Whether a criterion admits (inclusion) or excludes (exclusion) a patient."""

    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class Criterion(Frozen):
    """One eligibility criterion as the record states it; sub-items nest as children."""

    id: str = Field(description="inc-N / exc-N following the document's numbering or order; sub-items inc-N.M")
    type: CriterionType
    text: str = Field(description="Verbatim text with hard line-wrapping undone")
    children: tuple[Criterion, ...] = ()

    @property
    def text_hash(self) -> str:
        """Hash of the text a rule was written for; a changed text makes the rule stale."""
        return criterion_text_hash(self.text)

    def walk(self) -> tuple[Criterion, ...]:
        """This criterion followed by all its descendants, in document order."""
        out: list[Criterion] = [self]
        for child in self.children:
            out.extend(child.walk())
        return tuple(out)


class Site(Frozen):
    """A place where the trial enrolls."""

    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = None


class Intervention(Frozen):
    """A studied intervention (drug, device, procedure ...) and the arms that receive it."""

    type: str | None = None
    name: str
    arms: tuple[str, ...] = ()


class TrialSource(Frozen):
    """Where the record came from, so every criterion can be traced to its document."""

    format: str = Field(description="Reader that produced the record, e.g. ctgov-v2-json, listing-text")
    file: str | None = None
    note: str | None = None


class Trial(Frozen):
    """A clinical trial with its eligibility criteria split into single criteria."""

    trial_id: str
    aliases: tuple[str, ...] = ()
    title: str
    official_title: str | None = None
    acronym: str | None = None
    phases: tuple[str, ...] = ()
    recruitment_status: str | None = Field(
        default=None,
        description="ClinicalTrials.gov v2 overallStatus value, or None where the record states none",
    )
    status_text: str | None = Field(default=None, description="The status exactly as the record prints it")
    sex: str | None = Field(default=None, description="ALL, FEMALE or MALE")
    minimum_age_years: float | None = None
    maximum_age_years: float | None = None
    conditions: tuple[str, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    sites: tuple[Site, ...] = ()
    start_date: dt.date | None = None
    completion_date: dt.date | None = None
    enrollment: int | None = None
    source: TrialSource
    criteria: tuple[Criterion, ...] = ()

    def all_criteria(self) -> tuple[Criterion, ...]:
        """Every criterion and sub-item in document order."""
        out: list[Criterion] = []
        for criterion in self.criteria:
            out.extend(criterion.walk())
        return tuple(out)

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion or sub-item with this id; KeyError if the trial has none."""
        for criterion in self.all_criteria():
            if criterion.id == criterion_id:
                return criterion
        raise KeyError(criterion_id)

    def counts(self) -> tuple[int, int]:
        """Top-level (inclusion, exclusion) criteria counts."""
        inclusion = sum(1 for c in self.criteria if c.type is CriterionType.INCLUSION)
        return inclusion, len(self.criteria) - inclusion
