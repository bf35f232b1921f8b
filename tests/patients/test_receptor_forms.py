"""Receptor results in the forms real FHIR systems send, read from a hand-made bundle and derived.

Each patient of ``fixtures/receptor-forms.json`` carries one representation: a qualifier value instead of a
score, an interpretation observation, ISH as a qualifier, numbers, bounds written as text, a combined ER+PR
stain, a panel's components, an undated result, a result whose origin follows from its date or body site.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from trialmatch.patients.derive import derive
from trialmatch.patients.model import PatientRecord
from trialmatch.patients.sources import read_patients

BUNDLE = Path(__file__).parent / "fixtures" / "receptor-forms.json"
AS_OF = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def records() -> dict[str, PatientRecord]:
    return {r.patient_id: r for r in read_patients(BUNDLE)}


# (patient, derived name, specimen, expected value, a phrase the evidence must carry)
CASES = [
    ("ihc-qualitative-positive", "her2", "latest", "positive", "as reported by the lab (qualitative IHC result)"),
    ("ihc-qualitative-negative", "her2", "latest", "negative", "as reported by the lab (qualitative IHC result)"),
    ("ihc-qualitative-negative", "her2_low", "latest", None, "HER2-low needs the IHC score"),
    ("interpretation-negative", "her2", "latest", "negative", "as reported by the lab (interpretation)"),
    ("er-pr-interpretations", "er", "latest", "positive", "ER positive as reported by the lab"),
    ("er-pr-interpretations", "pr", "latest", "negative", "PR negative as reported by the lab"),
    ("ish-qualifier", "her2", "latest", "positive", "ISH reported positive"),
    ("ish-numbers", "her2", "latest", "positive", "ratio 2.5 and 5.1 copies/cell (group 1)"),
    ("ish-ratio-text-above", "her2", "latest", "positive", "ratio >2.2 and 4.6 copies/cell (group 1)"),
    ("ish-text-below", "her2", "latest", "negative", "HER2 IHC 1+ with ISH HER2/CEP17 ratio <1.8"),
    ("ish-text-below", "her2_low", "latest", True, "HER2-low: yes"),
    ("ish-bound-undecided", "her2", "latest", None, "ratio <2.2"),
    ("ish-disagrees-with-interpretation", "her2", "latest", "negative", "The lab reported positive"),
    ("er-percent-disagrees", "er", "latest", "negative", "ER 0.5% on 2021-02-10: negative per ASCO/CAP 2020."),
    ("er-percent-disagrees", "er", "latest", "negative", "The lab reported positive"),
    ("er-pr-combined-negative", "er", "latest", "negative", "Combined ER+PR result negative"),
    ("er-pr-combined-negative", "pr", "latest", "negative", "Combined ER+PR result negative"),
    ("er-pr-combined-positive", "er", "latest", None, "at least one receptor is positive"),
    ("panel-components", "er", "latest", "positive", "ER positive as reported by the lab"),
    ("panel-components", "pr", "latest", "negative", "PR negative as reported by the lab"),
    ("panel-components", "her2", "latest", "positive", "HER2 IHC 3+ on 2021-02-10: positive per ASCO/CAP 2018."),
    ("undated-interpretation", "her2", "latest", "positive", "(date not recorded)"),
    ("origin-by-date", "her2", "primary", "positive", "Taken as the primary tumour"),
    ("origin-by-date", "her2", "latest", "negative", "HER2 IHC 1+ on 2023-05-20"),
    ("origin-by-date", "her2", "metastatic", None, "not whether the tissue came from a metastasis"),
    ("origin-by-body-site", "her2", "metastatic", "positive", "HER2 IHC 3+ on 2023-05-20"),
    ("origin-by-body-site", "her2", "primary", None, "No HER2 result from the primary tumour is recorded."),
]


@pytest.mark.parametrize(("patient", "name", "specimen", "expected", "phrase"), CASES)
def test_each_representation_is_read(
    records: dict[str, PatientRecord], patient: str, name: str, specimen: str, expected: object, phrase: str
) -> None:
    result = derive(name, {"specimen": specimen}, records[patient], AS_OF)
    assert result.value == expected, result.explanation
    assert phrase in result.explanation
    if expected is None:
        assert result.missing
    else:
        assert result.sources, "every answer cites the observations it read"


def test_undated_result_keeps_no_date_and_changes_nothing_by_time(records: dict[str, PatientRecord]) -> None:
    result = derive("her2", {}, records["undated-interpretation"], AS_OF)
    assert result.date is None
    assert result.changes_on is None


def test_ambiguous_bound_says_what_would_settle_it(records: dict[str, PatientRecord]) -> None:
    result = derive("her2", {}, records["ish-bound-undecided"], AS_OF)
    assert result.missing == "the exact ISH result (the report gives only a bound that decides nothing)"


def test_no_receptor_observation_is_dropped_unread(records: dict[str, PatientRecord]) -> None:
    for record in records.values():
        unread = [m.source for m in record.measurements if m.concept is None]
        assert unread == [], f"{record.patient_id}: {unread}"
