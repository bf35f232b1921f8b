"""The CSV layout (one row per patient): which column holds which concept, in which unit.

The table is the documentation's source: docs/patient-data.md lists the same columns, and
``trialmatch/data/patients/template.csv`` has them all as its header.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValueColumn:
    """A column holding one result of ``concept``: a number in ``unit`` (or in ``<name>_unit`` when ``unit``
    is None), or a category; dated by ``date``; HER2/ER/PR results name their specimen site in ``site``."""

    name: str
    concept: str
    unit: str | None = None
    date: str | None = None
    site: str | None = None


# Labs carry their own unit, date and upper limit of normal: <name>_value, _unit, _date, _uln.
LABS: dict[str, str] = {
    "anc": "lab.anc",
    "wbc": "lab.wbc",
    "platelets": "lab.platelets",
    "hemoglobin": "lab.hemoglobin",
    "bilirubin_total": "lab.bilirubin_total",
    "ast": "lab.ast",
    "alt": "lab.alt",
    "alp": "lab.alp",
    "creatinine": "lab.creatinine",
    "creatinine_clearance": "lab.creatinine_clearance",
    "inr": "lab.inr",
    "aptt": "lab.aptt",
    "pt": "lab.pt",
}
LAB_SUFFIXES = ("_value", "_unit", "_date", "_uln")

VALUES: tuple[ValueColumn, ...] = (
    ValueColumn("her2_status", "marker.her2_interpretation", date="her2_date", site="her2_specimen_site"),
    ValueColumn("her2_ihc", "marker.her2_ihc", date="her2_date", site="her2_specimen_site"),
    ValueColumn("her2_ish", "marker.her2_ish", date="her2_date", site="her2_specimen_site"),
    ValueColumn("her2_ish_ratio", "marker.her2_ish_ratio", "{ratio}", "her2_date", "her2_specimen_site"),
    ValueColumn("her2_copy_number", "marker.her2_copy_number", "{copies}/{cell}", "her2_date", "her2_specimen_site"),
    ValueColumn("er_status", "marker.er", date="receptor_date", site="receptor_specimen_site"),
    ValueColumn("er_percent", "marker.er_percent", "%", "receptor_date", "receptor_specimen_site"),
    ValueColumn("pr_status", "marker.pr", date="receptor_date", site="receptor_specimen_site"),
    ValueColumn("pr_percent", "marker.pr_percent", "%", "receptor_date", "receptor_specimen_site"),
    ValueColumn("ecog", "score.ecog", "{score}", "ecog_date"),
    ValueColumn("karnofsky", "score.karnofsky", "%", "karnofsky_date"),
    ValueColumn("lvef", "obs.lvef", "%", "lvef_date"),
    ValueColumn("bp_systolic", "vital.bp_systolic", "mm[Hg]", "bp_date"),
    ValueColumn("bp_diastolic", "vital.bp_diastolic", "mm[Hg]", "bp_date"),
    ValueColumn("body_weight_kg", "vital.body_weight", "kg", "body_weight_date"),
    ValueColumn("body_height_cm", "vital.body_height", "cm", "body_height_date"),
    ValueColumn("pregnancy_status", "obs.pregnancy_status", date="pregnancy_date"),
    ValueColumn("breastfeeding_status", "obs.breastfeeding_status", date="breastfeeding_date"),
    ValueColumn("disease_status", "obs.cancer_disease_status", date="disease_status_date"),
)

# Lists: "name[:start[..end]];..." where name is the concept id without its prefix.
LISTS: dict[str, str] = {
    "metastatic_sites": "condition.metastasis",
    "comorbidities": "condition",
    "drugs": "drug",
    "procedures": "procedure",
}

DEMOGRAPHICS = ("patient_id", "birth_date", "sex", "deceased")
PRIMARY = ("primary_cancer", "diagnosis_date")
BRAIN = ("brain_metastases", "brain_metastases_date")
BRAIN_STATES = ("none", "active", "treated_stable")


def all_columns() -> tuple[str, ...]:
    """Every recognized column, in template order."""
    value_cols: list[str] = []
    for v in VALUES:
        value_cols += [c for c in (v.name, v.date, v.site) if c and c not in value_cols]
    labs = [f"{lab}{suffix}" for lab in LABS for suffix in LAB_SUFFIXES]
    return (*DEMOGRAPHICS, *PRIMARY, *LISTS, *BRAIN, *value_cols, *labs)
