"""The names rules may use for derived facts, their arguments and what they yield.

This table is the contract between the rule syntax (which rejects unknown names, with "did you mean"), the
derivations in :mod:`trialmatch.patients.derive` (which compute each name) and the evaluators (per patient
and SQL). Adding a derived fact means adding it here, deriving it, and documenting it in ``docs/rules.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ValueType = Literal["number", "category", "boolean"]
Scope = Literal["patient", "lesion"]

SPECIMEN_CHOICES = ("latest", "any", "primary", "metastatic")


@dataclass(frozen=True)
class Argument:
    """A named argument of a derived fact: one of ``choices``, a duration (``28d``) or a concept id."""

    name: str
    choices: tuple[str, ...] = ()
    default: str | None = None
    takes: Literal["choice", "duration", "concept"] = "choice"

    @property
    def is_duration(self) -> bool:
        """Whether the argument takes a duration (``28d``, ``6mo``)."""
        return self.takes == "duration"

    @property
    def is_concept(self) -> bool:
        """Whether the argument names a concept (``drug=drug.class.chemotherapy``)."""
        return self.takes == "concept"


@dataclass(frozen=True)
class DerivedName:
    """A derived fact rules can name: a value (``Derived``) or a boolean flag (``Flag``)."""

    name: str
    type: ValueType
    scope: Scope
    description: str
    arguments: tuple[Argument, ...] = ()
    unit: str | None = None
    categories: tuple[str, ...] = field(default=())

    def argument(self, name: str) -> Argument | None:
        """The argument called ``name``, or None."""
        return next((a for a in self.arguments if a.name == name), None)


_SPECIMEN = Argument("specimen", SPECIMEN_CHOICES, default="latest")
_WITHIN = Argument("within", takes="duration")

DERIVED: tuple[DerivedName, ...] = (
    # Patient-level values
    DerivedName("age", "number", "patient", "Age in whole years at the as-of date", unit="a"),
    DerivedName("sex", "category", "patient", "Administrative sex", categories=("female", "male", "other")),
    DerivedName(
        "ecog",
        "number",
        "patient",
        "Latest performance status on the ECOG scale (WHO/Zubrod as ECOG; Karnofsky mapped)",
        arguments=(_WITHIN,),
    ),
    DerivedName(
        "her2",
        "category",
        "patient",
        "HER2 status per ASCO/CAP (or the lab's reported status where the measurements do not settle it) "
        "for the chosen specimen",
        arguments=(_SPECIMEN,),
        categories=("positive", "negative", "equivocal"),
    ),
    DerivedName(
        "er",
        "category",
        "patient",
        "ER status per ASCO/CAP 2020 (1-10% positive cells is low_positive)",
        arguments=(_SPECIMEN,),
        categories=("positive", "low_positive", "negative"),
    ),
    DerivedName(
        "pr",
        "category",
        "patient",
        "PR status per ASCO/CAP 2020",
        arguments=(_SPECIMEN,),
        categories=("positive", "negative"),
    ),
    DerivedName(
        "lines",
        "number",
        "patient",
        "Number of prior lines of therapy in the given setting, optionally counting only lines with a drug class",
        arguments=(Argument("setting", ("metastatic", "any"), default="metastatic"), Argument("drug", takes="concept")),
    ),
    DerivedName(
        "recist",
        "category",
        "patient",
        "RECIST 1.1 overall response: best since baseline, or at the last time point",
        arguments=(Argument("which", ("best", "last"), default="last"),),
        categories=("CR", "PR", "SD", "PD", "NE"),
    ),
    DerivedName(
        "stage",
        "category",
        "patient",
        "TNM stage group of the latest recorded stage (in_situ for stage 0, I-IV, substage dropped); IV once "
        "metastatic disease is recorded",
        categories=("in_situ", "I", "II", "III", "IV"),
    ),
    # Patient-level flags
    DerivedName("metastatic", "boolean", "patient", "Metastatic (or locally recurrent) disease is recorded"),
    DerivedName("measurable_disease", "boolean", "patient", "At least one RECIST 1.1 measurable lesion"),
    DerivedName("bone_only", "boolean", "patient", "All metastatic sites are bone"),
    DerivedName("brain_only", "boolean", "patient", "All metastatic sites are in the brain"),
    DerivedName("visceral_disease", "boolean", "patient", "Any visceral metastasis (liver, lung, ...)"),
    DerivedName(
        "brain_metastases",
        "boolean",
        "patient",
        "Brain metastases in the given state",
        arguments=(Argument("status", ("any", "active", "treated_stable", "symptomatic"), default="any"),),
    ),
    DerivedName(
        "progression",
        "boolean",
        "patient",
        "Disease progression recorded (RECIST PD or disease status worsened) within the window",
        arguments=(_WITHIN,),
    ),
    DerivedName("childbearing_potential", "boolean", "patient", "Woman of childbearing potential (WOCBP)"),
    DerivedName("postmenopausal", "boolean", "patient", "Postmenopausal per the NCCN definition"),
    DerivedName("pregnant", "boolean", "patient", "Currently pregnant"),
    DerivedName("breastfeeding", "boolean", "patient", "Currently breast-feeding"),
    DerivedName("her2_low", "boolean", "patient", "HER2-low (IHC 1+, or 2+ with negative ISH)", arguments=(_SPECIMEN,)),
    # Lesion-level values and flags (only inside count_lesions(where=...))
    DerivedName("diameter", "number", "lesion", "Longest diameter (short axis for lymph nodes) at baseline", unit="mm"),
    DerivedName(
        "suv_ratio",
        "number",
        "lesion",
        "Lesion SUVmax divided by the reference region's SUVmean, on the chosen tracer's PET",
        arguments=(
            Argument("reference", ("liver", "blood_pool"), default="liver"),
            Argument("tracer", ("fdg", "zr89_trastuzumab"), default="fdg"),
        ),
    ),
    DerivedName("measurable", "boolean", "lesion", "RECIST 1.1 measurable at baseline"),
    DerivedName("irradiated", "boolean", "lesion", "The lesion was previously irradiated"),
    DerivedName("confluent", "boolean", "lesion", "The lesion is confluent with an adjacent lesion"),
    DerivedName("visceral", "boolean", "lesion", "The lesion is in a visceral organ"),
    DerivedName("nodal", "boolean", "lesion", "The lesion is a lymph node"),
    DerivedName("bone", "boolean", "lesion", "The lesion is in bone"),
)

BY_NAME: dict[str, DerivedName] = {d.name: d for d in DERIVED}


def lookup(name: str) -> DerivedName | None:
    """The derived fact called ``name``, or None."""
    return BY_NAME.get(name)
