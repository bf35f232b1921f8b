"""Evaluation of event history: conditions, drugs and procedures with timing, exceptions and setting."""

from __future__ import annotations

import datetime as dt

import pytest

from trialmatch.engine.evaluate import evaluate
from trialmatch.engine.logic import Status
from trialmatch.patients.model import ConditionFact, MedicationFact, PatientRecord, ProcedureFact
from trialmatch.rules import ast as r

AS_OF = dt.date(2024, 6, 1)
D = dt.date


def span(text: str) -> r.Duration:
    amount, unit = (text[:-2], "mo") if text.endswith("mo") else (text[:-1], text[-1])
    return r.Duration(amount=int(amount), unit=unit)  # type: ignore[arg-type]


def has(domain: str, concept: str, mode: str = "ever", duration: str | None = None, **extra: object) -> r.Has:
    timing = r.Timing(mode=mode, duration=span(duration) if duration else None)  # type: ignore[arg-type]
    return r.Has(domain=domain, concept=concept, timing=timing, **extra)  # type: ignore[arg-type]


def cond(
    concept: str, onset: dt.date | None, status: str | None = None, abatement: dt.date | None = None
) -> ConditionFact:
    return ConditionFact(
        concept=concept,
        onset=onset,
        clinical_status=status,
        abatement=abatement,
        source=f"Condition/{concept}",
    )


def med(
    concept: str,
    start: dt.date | None,
    end: dt.date | None = None,
    kind: str = "administration",
    status: str | None = "completed",
) -> MedicationFact:
    return MedicationFact(
        concepts=(concept,),
        record_type=kind,
        start=start,
        end=end,
        status=status,
        source=f"Med/{concept}-{start}",
    )


HYPERTENSION = cond("condition.hypertension", D(2015, 1, 1), "active")
LETROZOLE = med("drug.letrozole", D(2020, 1, 1))
BIOPSY = ProcedureFact(concept="procedure.biopsy", start=D(2024, 5, 20), source="Procedure/1")


@pytest.mark.parametrize(
    ("conditions", "expected", "reason"),
    [
        (
            (),
            Status.UNKNOWN,
            "no diagnosis history is recorded, so Myocardial infarction cannot be ruled out",
        ),
        ((HYPERTENSION,), Status.NOT_MET, "no record of Myocardial infarction"),
        (
            (HYPERTENSION, cond("condition.myocardial_infarction", D(2024, 3, 1), "resolved")),
            Status.MET,
            "2024-03-01 is within 6 months",
        ),
        (
            (cond("condition.myocardial_infarction", D(2023, 1, 5), "resolved"),),
            Status.NOT_MET,
            "2023-01-05 is more than 6 months ago",
        ),
        (
            (cond("condition.myocardial_infarction", None, "resolved"),),
            Status.UNKNOWN,
            "date of Myocardial infarction is not recorded",
        ),
        (
            (HYPERTENSION, cond("condition.myocardial_infarction", D(2024, 7, 1))),
            Status.NOT_MET,
            "no record of Myo",
        ),
        (
            (cond("condition.myocardial_infarction", D(2024, 7, 1)),),
            Status.UNKNOWN,
            "no diagnosis history is recorded",
        ),
    ],
)
def test_myocardial_infarction_within_six_months_closed_world(
    conditions: tuple[ConditionFact, ...], expected: Status, reason: str
) -> None:
    rec = PatientRecord(patient_id="p", conditions=conditions)
    result = evaluate(has("condition", "condition.myocardial_infarction", "within", "6mo"), rec, AS_OF)
    assert result.status is expected
    assert reason in result.reason


def test_recent_event_window_passes_on_a_date() -> None:
    rec = PatientRecord(
        patient_id="p", conditions=(cond("condition.myocardial_infarction", D(2024, 3, 1), "resolved"),)
    )
    result = evaluate(has("condition", "condition.myocardial_infarction", "within", "6mo"), rec, AS_OF)
    assert result.changes_on == D(2024, 9, 2)
    assert result.time_bound
    excluded = evaluate(r.Not(item=has("condition", "condition.myocardial_infarction", "within", "6mo")), rec, AS_OF)
    assert excluded.status is Status.NOT_MET
    assert excluded.changes_on == D(2024, 9, 2) and excluded.time_bound


OTHER_MALIGNANCY = r.Has(
    domain="condition",
    concept="condition.malignancy",
    timing=r.Timing(mode="within", duration=span("5y")),
    exceptions=(
        "condition.carcinoma_in_situ_cervix",
        "condition.nonmelanoma_skin_cancer",
        "condition.breast_cancer",
        "condition.metastasis",
    ),
)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ((cond("condition.carcinoma_in_situ_cervix", D(2022, 1, 1), "resolved"),), Status.NOT_MET),
        ((cond("condition.nonmelanoma_skin_cancer", D(2023, 1, 1), "active"),), Status.NOT_MET),
        ((cond("condition.breast_cancer", D(2023, 1, 1), "active"),), Status.NOT_MET),
        ((cond("condition.malignancy", D(2021, 1, 1), "remission"),), Status.MET),
        ((cond("condition.malignancy", D(2015, 1, 1), "resolved", D(2016, 1, 1)),), Status.NOT_MET),
        ((cond("condition.malignancy", D(2010, 1, 1), "active"),), Status.MET),  # active counts as within
        (
            (cond("condition.malignancy", D(2015, 1, 1), "resolved", D(2020, 1, 1)),),
            Status.MET,
        ),  # abated within
    ],
)
def test_other_malignancy_within_five_years_with_exceptions(facts: tuple[ConditionFact, ...], expected: Status) -> None:
    rec = PatientRecord(patient_id="p", conditions=(HYPERTENSION, *facts))
    assert evaluate(OTHER_MALIGNANCY, rec, AS_OF).status is expected


def test_exception_wording_names_the_excepted_concepts() -> None:
    rec = PatientRecord(patient_id="p", conditions=(HYPERTENSION,))
    reason = evaluate(OTHER_MALIGNANCY, rec, AS_OF).reason
    assert reason.startswith("no record of Malignant neoplasm")
    assert "other than Carcinoma in situ of the cervix" in reason


@pytest.mark.parametrize(
    ("fact", "mode", "expected"),
    [
        (cond("condition.metastasis.brain", D(2023, 1, 1), "active"), "active", Status.MET),
        (cond("condition.metastasis.brain", D(2023, 1, 1), None), "active", Status.MET),
        (cond("condition.metastasis.brain", D(2023, 1, 1), None, D(2023, 6, 1)), "active", Status.NOT_MET),
        (cond("condition.metastasis.brain", D(2023, 1, 1), "resolved"), "active", Status.NOT_MET),
        (cond("condition.metastasis.brain", D(2023, 1, 1), "resolved"), "ever", Status.MET),
    ],
)
def test_condition_active_and_ever(fact: ConditionFact, mode: str, expected: Status) -> None:
    rec = PatientRecord(patient_id="p", conditions=(fact,))
    assert evaluate(has("condition", "condition.metastasis", mode), rec, AS_OF).status is expected


def test_before_is_met_once_long_enough_ago() -> None:
    old = PatientRecord(patient_id="p", conditions=(cond("condition.stroke", D(2023, 1, 1), "resolved"),))
    recent = PatientRecord(patient_id="p", conditions=(cond("condition.stroke", D(2024, 3, 1), "resolved"),))
    rule = has("condition", "condition.stroke", "before", "6mo")
    assert evaluate(rule, old, AS_OF).status is Status.MET
    result = evaluate(rule, recent, AS_OF)
    assert result.status is Status.NOT_MET
    assert (result.changes_on, result.time_bound) == (D(2024, 9, 2), True)
    both = PatientRecord(patient_id="p", conditions=(*old.conditions, *recent.conditions))
    assert evaluate(rule, both, AS_OF).status is Status.NOT_MET  # "and not since"


LAPATINIB_WASHOUT = has("drug", "drug.lapatinib", "within", "15d")


def test_washout_reason_and_end_date() -> None:
    rec = PatientRecord(patient_id="p", medications=(med("drug.lapatinib", D(2024, 5, 10)),))
    result = evaluate(LAPATINIB_WASHOUT, rec, D(2024, 5, 20))
    assert result.status is Status.MET
    assert result.reason == "last dose of lapatinib on 2024-05-10 is within 15 days (washout ends 2024-05-26)"
    assert (result.changes_on, result.time_bound) == (D(2024, 5, 26), True)
    assert evaluate(LAPATINIB_WASHOUT, rec, D(2024, 5, 26)).status is Status.NOT_MET


@pytest.mark.parametrize(
    ("medications", "rule", "expected"),
    [
        ((), has("drug", "drug.class.anti_her2"), Status.UNKNOWN),
        ((LETROZOLE,), has("drug", "drug.class.anti_her2"), Status.NOT_MET),
        ((med("drug.trastuzumab", D(2020, 1, 1)),), has("drug", "drug.class.anti_her2"), Status.MET),
        (
            (LETROZOLE, med("drug.trastuzumab", D(2024, 7, 1))),
            has("drug", "drug.class.anti_her2"),
            Status.NOT_MET,
        ),
        (
            (med("drug.tamoxifen", D(2023, 1, 1), None, "statement", "active"),),
            has("drug", "drug.class.endocrine", "active"),
            Status.MET,
        ),
        (
            (med("drug.tamoxifen", D(2023, 1, 1), None, "statement", "completed"),),
            has("drug", "drug.class.endocrine", "active"),
            Status.NOT_MET,
        ),
        (
            (med("drug.tamoxifen", D(2020, 1, 1), None, "request", "active"),),
            has("drug", "drug.tamoxifen", "within", "28d"),
            Status.MET,
        ),
        (
            (med("drug.tamoxifen", D(2020, 1, 1), D(2024, 1, 1), "statement"),),
            has("drug", "drug.tamoxifen", "within", "28d"),
            Status.NOT_MET,
        ),
        (
            (med("drug.tamoxifen", D(2020, 1, 1), D(2024, 1, 1), "statement"),),
            has("drug", "drug.tamoxifen", "before", "28d"),
            Status.MET,
        ),
        (
            (med("drug.tamoxifen", D(2020, 1, 1), None, "statement", "active"),),
            has("drug", "drug.tamoxifen", "before", "28d"),
            Status.NOT_MET,
        ),
        # Any record type in progress over an open period is ongoing at as-of; a completed one is not.
        (
            (med("drug.trastuzumab", D(2024, 1, 1), None, "administration", "in-progress"),),
            has("drug", "drug.trastuzumab", "active"),
            Status.MET,
        ),
        (
            (med("drug.trastuzumab", D(2024, 1, 1), None, "administration", "completed"),),
            has("drug", "drug.trastuzumab", "active"),
            Status.NOT_MET,
        ),
        (
            (med("drug.trastuzumab", D(2024, 1, 1), None, "request", "active"),),
            has("drug", "drug.trastuzumab", "active"),
            Status.MET,
        ),
    ],
)
def test_drug_ever_never_current_within(medications: tuple[MedicationFact, ...], rule: r.Has, expected: Status) -> None:
    rec = PatientRecord(patient_id="p", medications=medications)
    assert evaluate(rule, rec, AS_OF).status is expected


def test_planned_end_stops_being_current_the_day_after() -> None:
    rec = PatientRecord(
        patient_id="p",
        medications=(med("drug.letrozole", D(2024, 1, 1), D(2024, 6, 10), "request", "active"),),
    )
    result = evaluate(has("drug", "drug.letrozole", "active"), rec, AS_OF)
    assert (result.status, result.changes_on, result.time_bound) == (Status.MET, D(2024, 6, 11), True)


def continuous(gap: str) -> r.Has:
    timing = r.Timing(mode="continuous", duration=span("2y"), max_gap=span(gap))
    return r.Has(domain="drug", concept="drug.class.endocrine", timing=timing)


ENDOCRINE = (
    med("drug.letrozole", D(2021, 1, 1), D(2022, 1, 31), "statement"),
    med("drug.anastrozole", D(2022, 4, 15), D(2023, 2, 1), "statement"),
)


@pytest.mark.parametrize(("gap", "expected"), [("3mo", Status.MET), ("2mo", Status.NOT_MET), ("10d", Status.NOT_MET)])
def test_continuous_exposure_with_gaps(gap: str, expected: Status) -> None:
    # Gap from 2022-01-31 to 2022-04-15 is 2.5 months; the joined run lasts 2021-01-01 .. 2023-02-01,
    # screened on 2023-03-01, within every allowed gap of its end.
    rec = PatientRecord(patient_id="p", medications=ENDOCRINE)
    result = evaluate(continuous(gap), rec, D(2023, 3, 1))
    assert result.status is expected
    assert not result.timeline


def test_only_the_current_run_counts_for_continuous_exposure() -> None:
    restarted = (*ENDOCRINE, med("drug.letrozole", D(2024, 5, 1), None, "statement", "active"))
    rec = PatientRecord(patient_id="p", medications=restarted)
    result = evaluate(continuous("3mo"), rec, AS_OF)  # 2021-2023 ended long before; restarted a month ago
    assert result.status is Status.NOT_MET
    assert result.changes_on == D(2026, 5, 1)  # the restarted run reaches 2 years then


def test_ongoing_exposure_reaches_continuous_duration_later() -> None:
    rec = PatientRecord(
        patient_id="p", medications=(med("drug.tamoxifen", D(2023, 1, 1), None, "statement", "active"),)
    )
    result = evaluate(continuous("1mo"), rec, AS_OF)
    assert (result.status, result.changes_on, result.time_bound) == (Status.NOT_MET, D(2025, 1, 1), True)


def test_metastatic_setting_counts_exposure_after_first_metastasis() -> None:
    mets = cond("condition.metastasis.bone", D(2023, 1, 1), "active")
    adjuvant = med("drug.trastuzumab", D(2020, 1, 1), D(2020, 12, 1), "statement")
    metastatic = med("drug.trastuzumab", D(2023, 2, 1), D(2023, 12, 1), "statement")
    rule = has("drug", "drug.class.anti_her2", setting="metastatic")
    only_adjuvant = PatientRecord(patient_id="p", conditions=(mets,), medications=(adjuvant,))
    assert evaluate(rule, only_adjuvant, AS_OF).status is Status.NOT_MET
    assert "metastatic setting (since 2023-01-01)" in evaluate(rule, only_adjuvant, AS_OF).reason
    both = PatientRecord(patient_id="p", conditions=(mets,), medications=(adjuvant, metastatic))
    assert evaluate(rule, both, AS_OF).status is Status.MET
    no_mets = PatientRecord(patient_id="p", conditions=(HYPERTENSION,), medications=(metastatic,))
    assert evaluate(rule, no_mets, AS_OF).status is Status.NOT_MET


@pytest.mark.parametrize(
    ("procedures", "expected"),
    [
        ((), Status.UNKNOWN),
        ((BIOPSY,), Status.NOT_MET),
        (
            (ProcedureFact(concept="procedure.major_surgery", start=D(2024, 5, 20), source="Procedure/2"),),
            Status.MET,
        ),
        (
            (ProcedureFact(concept="procedure.major_surgery", start=D(2024, 3, 20), source="Procedure/3"),),
            Status.NOT_MET,
        ),
        (
            (
                BIOPSY,
                ProcedureFact(concept="procedure.major_surgery", start=D(2024, 5, 20), status="not-done", source="P/4"),
            ),
            Status.NOT_MET,
        ),
    ],
)
def test_procedure_within_four_weeks(procedures: tuple[ProcedureFact, ...], expected: Status) -> None:
    rec = PatientRecord(patient_id="p", procedures=procedures)
    assert evaluate(has("procedure", "procedure.surgery", "within", "4w"), rec, AS_OF).status is expected
