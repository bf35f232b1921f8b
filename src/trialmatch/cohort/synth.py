"""Synthetic metastatic breast cancer cohorts: HER2-positive, HER2-low and HER2-negative populations.

Every random draw happens here, in :func:`generate`, as numpy column arrays from one seed, so a seed gives the
same cohort on every machine and both writers describe the same patients: ``write_store`` writes the facts
store directly (vectorised, :mod:`trialmatch.cohort.synth_store`), and
:func:`trialmatch.cohort.synth_fhir.write_fhir` formats the same arrays as FHIR NDJSON for ``cohort ingest``.
Distributions are documented in ``docs/cohort.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from trialmatch.cohort.calls import Calls
from trialmatch.cohort.store import REJECTS, Manifest, PartWriter, clear
from trialmatch.cohort.synth_derived import derived
from trialmatch.cohort.synth_store import (
    NAT,
    Reading,
    Segment,
    derived_columns,
    event_table,
    latest_columns,
    measurement_table,
)
from trialmatch.cohort.tables import store_schemas
from trialmatch.terminology.concepts import ConceptLibrary, default_library

SUBTYPES = np.array(["positive", "low", "negative"])
SUBTYPE_P = (0.20, 0.45, 0.35)
ECOG_P = (0.45, 0.35, 0.15, 0.05)
SITES = {"bone": 0.7, "liver": 0.35, "lung": 0.3, "lymph_node": 0.3}
MAX_LINES = 3
REGIMENS = {
    "positive": (
        ("trastuzumab", "pertuzumab", "docetaxel"),
        ("trastuzumab_emtansine",),
        ("trastuzumab_deruxtecan",),
    ),
    "low": (("paclitaxel",), ("trastuzumab_deruxtecan",), ("capecitabine",)),
    "negative": (("paclitaxel",), ("capecitabine",), ("vinorelbine",)),
}
# resource name, concept, Cohort field, upper limit of normal written as the reference range
LABS = (
    ("lvef", "obs.lvef", "lvef", None),
    ("anc", "lab.anc", "anc", None),
    ("bili", "lab.bilirubin_total", "bilirubin", 1.2),
    ("creat", "lab.creatinine", "creatinine", 1.1),
    ("ast", "lab.ast", "ast", 40.0),
    ("alt", "lab.alt", "alt", 40.0),
    ("platelets", "lab.platelets", "platelets", None),
)
TWO_PLUS_P = {"positive": 0.3, "low": 0.4, "negative": 0.0}
# concept, log-normal median, sigma, decimals
LAB_DRAWS = (
    ("anc", 3.5, 0.45, 2),
    ("bilirubin", 0.6, 0.5, 2),
    ("creatinine", 0.8, 0.3, 2),
    ("ast", 25.0, 0.4, 1),
    ("alt", 22.0, 0.45, 1),
    ("platelets", 250.0, 0.3, 1),
)


@dataclass(frozen=True)
class Cohort:
    """Column arrays of one synthetic cohort (index = patient); dates are ``datetime64[D]``, NaT when absent."""

    ids: np.ndarray
    subtype: np.ndarray
    birth: np.ndarray
    ecog: np.ndarray
    lvef: np.ndarray
    anc: np.ndarray
    bilirubin: np.ndarray
    creatinine: np.ndarray
    ast: np.ndarray
    alt: np.ndarray
    platelets: np.ndarray
    diagnosed: np.ndarray
    metastatic: np.ndarray
    sites: np.ndarray  # (patients, len(SITES)) bool, in SITES order
    brain: np.ndarray
    brain_treated: np.ndarray
    two_plus: np.ndarray  # HER2 IHC 2+ (with ISH)
    line_start: np.ndarray  # (patients, MAX_LINES): NaT for lines not given
    line_end: np.ndarray  # (patients, MAX_LINES): NaT for lines not given and the ongoing line
    lab_date: np.ndarray
    as_of: dt.date

    @property
    def lines(self) -> np.ndarray:
        """Lines of therapy given up to as-of."""
        return np.asarray((~np.isnat(self.line_start)).sum(axis=1))

    def regimen_has(self, test: Callable[[str], bool]) -> np.ndarray:
        """(patients, MAX_LINES): whether each line's regimen (given or not) has a drug concept passing ``test``."""
        found = np.zeros(self.line_start.shape, dtype=bool)
        for subtype, regimens in REGIMENS.items():
            for k, drugs in enumerate(regimens):
                found[self.subtype == subtype, k] = any(test(f"drug.{d}") for d in drugs)
        return found

    @property
    def n_sites(self) -> np.ndarray:
        """Metastatic sites recorded, brain included."""
        return np.asarray(self.sites.sum(axis=1) + self.brain)

    def site(self, name: str) -> np.ndarray:
        """Whether each patient has a metastasis at ``name`` (never, for a site the generator does not draw)."""
        if name == "brain":
            return self.brain
        return self.sites[:, list(SITES).index(name)] if name in SITES else np.zeros(len(self.ids), dtype=bool)

    @property
    def age(self) -> np.ndarray:
        """Whole years at as-of, as ``demographics.age_years`` counts them (29 February clamped)."""
        return age_years(self.birth, self.as_of)


def _day(d: dt.date) -> np.datetime64:
    return np.datetime64(d.isoformat(), "D")


def _days(rng: np.random.Generator, low: int, high: int, size: int | tuple[int, ...]) -> np.ndarray:
    return rng.integers(low, high, size=size).astype("timedelta64[D]")


def age_years(birth: np.ndarray, as_of: dt.date) -> np.ndarray:
    """Whole years from each birth date to ``as_of``; a 29 February birthday falls on 28 February in common years."""
    year = birth.astype("datetime64[Y]").astype(int) + 1970
    month = birth.astype("datetime64[M]").astype(int) % 12 + 1
    day = (birth - birth.astype("datetime64[M]")).astype(int) + 1
    leap = as_of.year % 4 == 0 and (as_of.year % 100 != 0 or as_of.year % 400 == 0)
    day = np.where((month == 2) & (day == 29) & (not leap), 28, day)
    before = month * 100 + day > as_of.month * 100 + as_of.day
    return np.asarray(as_of.year - year - before.astype(int))


def generate(patients: int, seed: int, as_of: dt.date) -> Cohort:
    """Draw a cohort."""
    rng = np.random.default_rng(seed)
    n = patients
    subtype = rng.choice(SUBTYPES, size=n, p=SUBTYPE_P)
    month = np.datetime64(as_of.isoformat()[:7], "M")
    birth = (month - rng.integers(28, 86, size=n) * 12).astype("datetime64[D]") - _days(rng, 0, 360, n)
    labs = {name: rng.lognormal(np.log(median), sigma, size=n).round(k) for name, median, sigma, k in LAB_DRAWS}
    metastatic = _day(as_of) - _days(rng, 60, 2000, n)
    de_novo = rng.random(n) < 0.3
    diagnosed = metastatic - np.where(de_novo, 0, rng.integers(90, 3000, size=n)).astype("timedelta64[D]")
    sites = rng.random((n, len(SITES))) < np.array(list(SITES.values()))
    sites[:, 0] |= ~sites.any(axis=1)  # bone when no site drawn
    brain = rng.random(n) < 0.15
    starts, ends = _lines(rng, rng.integers(0, MAX_LINES + 1, size=n), metastatic, _day(as_of))
    p_two_plus = np.select([subtype == s for s in TWO_PLUS_P], list(TWO_PLUS_P.values()))
    return Cohort(
        ids=np.array([f"syn-{seed}-{i:07d}" for i in range(n)]),
        subtype=subtype,
        birth=birth,
        ecog=rng.choice(4, size=n, p=ECOG_P),
        lvef=np.clip(rng.normal(60, 7, size=n).round(), 20, 80),
        **labs,
        diagnosed=diagnosed,
        metastatic=metastatic,
        sites=sites,
        brain=brain,
        brain_treated=brain & (rng.random(n) < 0.5),
        two_plus=rng.random(n) < p_two_plus,
        line_start=starts,
        line_end=ends,
        lab_date=_day(as_of) - _days(rng, 0, 60, n),
        as_of=as_of,
    )


def _lines(
    rng: np.random.Generator, planned: np.ndarray, metastatic: np.ndarray, as_of: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """Lines one after another from 0-44 days after the metastatic diagnosis: 60-899 days each, 0-119 days
    apart; a line reaching as-of is ongoing (no end) and ends the history, as does a start on or after as-of."""
    n = len(planned)
    length, gap = _days(rng, 60, 900, (n, MAX_LINES)), _days(rng, 0, 120, (n, MAX_LINES))
    starts = np.full((n, MAX_LINES), np.datetime64("NaT"), dtype="datetime64[D]")
    ends = starts.copy()
    day = metastatic + _days(rng, 0, 45, n)
    going = np.ones(n, dtype=bool)
    for k in range(MAX_LINES):
        going &= (k < planned) & (day < as_of)
        end = day + length[:, k]
        starts[going, k] = day[going]
        finished = going & (end < as_of)
        ends[finished, k] = end[finished]
        going = finished
        day = end + gap[:, k]
    return starts, ends


def write_store(c: Cohort, out: Path, calls: Calls) -> Manifest:
    """The cohort as a facts store holding ``calls``: the rows ``cohort ingest`` makes of ``write_fhir``'s NDJSON."""
    clear(out)
    lib = default_library()
    n = len(c.ids)
    ids = pa.array(c.ids)
    readings = _readings(c, lib)
    conditions, drugs, procedures = _conditions(c), _medications(c), _procedures(c)
    writer = PartWriter(out, "00000", store_schemas(calls), batch=250_000)
    patients = {
        "pk": np.arange(n, dtype=np.int64),
        "patient_id": ids,
        "n_condition": _count(n, conditions),
        "n_drug": _count(n, drugs),
        "n_procedure": _count(n, procedures),
        "n_lesion": np.zeros(n, dtype=np.int32),
        **derived_columns(n, calls.patient, derived(c, calls.patient)),
        **latest_columns(n, readings, calls.latest),
    }
    writer.write_table("patients", pa.table(patients))
    writer.write_table("measurements", measurement_table(ids, readings, lib))
    writer.write_table("conditions", event_table(ids, "Condition", conditions, lib))
    writer.write_table("medications", event_table(ids, "MedicationRequest", drugs, lib))
    writer.write_table("procedures", event_table(ids, "Procedure", procedures, lib))
    writer.close()
    manifest = Manifest(as_of=c.as_of, concepts_version=lib.version, patients_read=n, patients_stored=n, source="synth")
    manifest.hold(calls)
    (out / REJECTS).write_text("record,reason\n", encoding="utf-8")
    manifest.write(out)
    return manifest


def _count(n: int, segments: list[Segment]) -> np.ndarray:
    """Facts per patient."""
    rows = np.concatenate([s.rows for s in segments]) if segments else np.zeros(0, dtype=np.int64)
    return np.bincount(rows, minlength=n).astype(np.int32)


def _where(mask: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """The patients in ``mask`` and their values of each column."""
    return (np.flatnonzero(mask), *(col[mask] for col in columns))


def _conditions(c: Cohort) -> list[Segment]:
    """The primary diagnosis and each metastasis, active; treated brain metastases in remission (dated by onset)."""
    everyone = np.ones(len(c.ids), dtype=bool)
    found = [_condition("breast_cancer", everyone, c.diagnosed, everyone)]
    found += [_condition(site, c.sites[:, j], c.metastatic, everyone) for j, site in enumerate(SITES)]
    return [*found, _condition("brain", c.brain, c.metastatic, ~c.brain_treated)]


def _condition(site: str, mask: np.ndarray, onset: np.ndarray, active: np.ndarray) -> Segment:
    concept = "condition.breast_cancer" if site == "breast_cancer" else f"condition.metastasis.{site}"
    rows, first, ongoing = _where(mask, onset, active)
    return Segment(site, concept, rows, first, np.where(ongoing, NAT, first), first, ongoing)


def _medications(c: Cohort) -> list[Segment]:
    """One request per drug of each line given: ended lines completed, the ongoing one open-ended."""
    found = []
    for subtype, regimens in REGIMENS.items():
        for k, drugs in enumerate(regimens):
            rows, start, end = _where(
                (c.subtype == subtype) & ~np.isnat(c.line_start[:, k]), c.line_start[:, k], c.line_end[:, k]
            )
            found += [Segment(f"l{k}-{d}", f"drug.{d}", rows, start, end, end, np.isnat(end)) for d in drugs]
    return found


def brain_radiotherapy(c: Cohort) -> np.ndarray:
    """The brain radiotherapy date of treated brain metastases (NaT for the others)."""
    return np.where(c.brain_treated, c.metastatic + np.timedelta64(20, "D"), NAT)


def _procedures(c: Cohort) -> list[Segment]:
    rows, day = _where(c.brain_treated, brain_radiotherapy(c))
    return [Segment("brain-rt", "procedure.brain_radiotherapy", rows, day, day, day, np.zeros(len(rows), dtype=bool))]


def her2_ihc(c: Cohort) -> np.ndarray:
    """IHC scores: 3+ or 2+ (ISH amplified) when positive; 1+ or 2+ (ISH not amplified) when low; 0 when negative."""
    score = np.select([c.subtype == "positive", c.subtype == "low"], ["3+", "1+"], "0")
    return np.where(c.two_plus, "2+", score)


def her2_ish(c: Cohort) -> np.ndarray:
    """ISH results for each patient (meaningful for IHC 2+ only)."""
    return np.where(c.subtype == "positive", "amplified", "not_amplified")


def _readings(c: Cohort, lib: ConceptLibrary) -> list[Reading]:
    everyone = np.arange(len(c.ids))
    ish = np.flatnonzero(c.two_plus)
    her2 = [
        Reading("her2-ihc", "marker.her2_ihc", everyone, c.diagnosed, answer=her2_ihc(c), text=True),
        Reading("her2-ish", "marker.her2_ish", ish, c.diagnosed[ish], answer=her2_ish(c)[ish]),
    ]
    ecog = Reading("ecog", "score.ecog", everyone, c.lab_date, c.ecog.astype(float), unit=lib.get("score.ecog").unit)
    labs = [
        Reading(name, concept, everyone, c.lab_date, getattr(c, field), unit=lib.get(concept).unit, high=high)
        for name, concept, field, high in LABS
    ]
    return [*her2, ecog, *labs]
