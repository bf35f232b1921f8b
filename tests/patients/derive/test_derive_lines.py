"""Lines of therapy (REFERENCE §8) on hand-made treatment histories, and drug exposure timing."""

from __future__ import annotations

import datetime as dt

from derive_factory import AS_OF, coded, condition, med, record, value

from trialmatch.patients.derive.base import Context
from trialmatch.patients.derive.therapy import exposure
from trialmatch.terminology.concepts import default_library

BREAST = condition("condition.breast_cancer", "2019-01-10")


def _worsened(date: str) -> object:
    return coded("obs.cancer_disease_status", date, "Worsened")


def _stable(date: str) -> object:
    return coded("obs.cancer_disease_status", date, "Stable")


def test_de_novo_metastatic_three_lines_after_progressions() -> None:
    rec = record(
        BREAST,
        condition("condition.metastasis.liver", "2021-01-10"),
        med(["drug.docetaxel"], "2021-02-01", "2021-06-01"),
        med(["drug.trastuzumab", "drug.pertuzumab"], "2021-02-01", "2022-03-01"),
        _stable("2021-09-01"),
        _worsened("2022-03-10"),
        med("drug.trastuzumab_emtansine", "2022-03-20", "2023-01-01"),
        _worsened("2023-01-05"),
        med(["drug.tucatinib", "drug.capecitabine", "drug.trastuzumab"], "2023-01-20", status="active"),
    )
    assert value("lines", rec).value == 3
    assert value("lines", rec, drug="drug.class.anti_her2").value == 3
    assert value("lines", rec, drug="drug.class.chemotherapy").value == 2
    assert value("lines", rec, drug="drug.trastuzumab_emtansine").value == 1
    explained = value("lines", rec).explanation
    assert "2) trastuzumab_emtansine from 2022-03-20 (after progression on 2022-03-10)" in explained
    assert value("lines", rec).rule_set == "lines of therapy: progression-based"


def test_switch_for_toxicity_and_dropping_a_drug_without_progression_is_one_line() -> None:
    rec = record(
        BREAST,
        condition("condition.metastasis.bone", "2021-01-10"),
        med(["drug.paclitaxel", "drug.trastuzumab", "drug.pertuzumab"], "2021-02-01", "2021-04-01"),
        med("drug.docetaxel", "2021-04-15", "2021-07-01"),
        med(["drug.trastuzumab", "drug.pertuzumab"], "2021-04-15", "2022-01-01"),
        med("drug.letrozole", "2021-08-01", status="active"),
        _stable("2021-10-01"),
    )
    assert value("lines", rec).value == 1


def test_adjuvant_therapy_counts_when_relapse_within_6_months() -> None:
    adjuvant = [
        med(["drug.doxorubicin", "drug.cyclophosphamide"], "2019-03-01", "2019-05-01"),
        med(["drug.paclitaxel", "drug.trastuzumab"], "2019-05-20", "2019-09-01"),
        med("drug.trastuzumab", "2019-09-02", "2020-05-01"),
    ]
    early = record(
        BREAST,
        *adjuvant,
        condition("condition.metastasis.lung", "2020-10-15"),  # 5.5 months after adjuvant trastuzumab
        med("drug.trastuzumab_deruxtecan", "2020-11-01", status="active"),
    )
    late = record(
        BREAST,
        *adjuvant,
        condition("condition.metastasis.lung", "2021-02-01"),  # 9 months after: a new, first metastatic line
        med("drug.trastuzumab_deruxtecan", "2021-03-01", status="active"),
    )
    assert value("lines", early).value == 2
    assert value("lines", late).value == 1
    assert value("lines", late, setting="any").value == 2


def test_adjuvant_endocrine_therapy_alone_does_not_count_as_a_metastatic_line() -> None:
    rec = record(
        BREAST,
        med("drug.tamoxifen", "2019-06-01", "2021-01-15"),
        condition("condition.metastasis.bone", "2021-01-10"),
        med(["drug.letrozole", "drug.palbociclib"], "2021-02-01", status="active"),
    )
    assert value("lines", rec).value == 1
    assert value("lines", rec, setting="any").value == 2


def test_rwd_fallback_when_no_disease_assessment_is_recorded() -> None:
    rec = record(
        BREAST,
        condition("condition.metastasis.liver", "2020-12-01"),
        med(["drug.paclitaxel", "drug.trastuzumab"], "2021-01-01", "2021-06-01"),
        med("drug.anastrozole", "2021-07-01", "2021-12-01"),  # endocrine added to HER2 maintenance: same line
        med("drug.capecitabine", "2021-12-15", "2022-03-01"),  # new agent: new line
        med("drug.capecitabine", "2022-09-01", "2022-12-01"),  # restart after > 120 days off therapy
    )
    result = value("lines", rec)
    assert result.value == 3
    assert result.rule_set == "lines of therapy: RWD fallback"
    assert "restart after" in result.explanation


def test_regimen_window_groups_drugs_started_within_28_days() -> None:
    rec = record(
        BREAST,
        condition("condition.metastasis.liver", "2020-12-01"),
        med("drug.trastuzumab", "2021-01-01", "2021-06-01"),
        med("drug.vinorelbine", "2021-01-20", "2021-06-01"),
        med("drug.dexamethasone", "2021-03-01", "2021-03-02"),
    )
    result = value("lines", rec)
    assert result.value == 1
    assert "dexamethasone" not in result.explanation


def test_unknown_and_zero_cases() -> None:
    no_meds = record(BREAST, condition("condition.metastasis.liver", "2020-12-01"))
    assert value("lines", no_meds).value is None
    assert value("lines", no_meds).missing == "medication history (anticancer therapy)"
    early_stage = record(BREAST, med("drug.paclitaxel", "2019-02-01", "2019-06-01"))
    assert value("lines", early_stage).value == 0
    assert value("lines", record(med("drug.paclitaxel", "2019-02-01"))).value is None
    undated = record(BREAST, condition("condition.metastasis.bone"), med("drug.paclitaxel", "2019-02-01"))
    assert value("lines", undated).missing == "date of the metastatic diagnosis"


def test_drug_exposure_intervals_merge_touching_spans_and_roll_up_to_classes() -> None:
    rec = record(
        med("drug.trastuzumab", "2021-01-01", "2021-06-30", record_type="statement"),
        med("drug.trastuzumab", "2021-07-01", "2022-01-31"),
        med("drug.trastuzumab", "2022-03-03", "2022-04-01"),
        med("drug.trastuzumab_emtansine", "2024-05-20", status="active", record_type="request"),
    )
    ctx = Context.build(rec, AS_OF, default_library().is_a)
    spans = [(i.start, i.end) for i in exposure(ctx, "drug.trastuzumab")]
    assert spans == [(dt.date(2021, 1, 1), dt.date(2022, 1, 31)), (dt.date(2022, 3, 3), dt.date(2022, 4, 1))]
    anti_her2 = exposure(ctx, "drug.class.anti_her2")
    assert anti_her2[-1].ongoing and anti_her2[-1].end == AS_OF
    assert exposure(ctx, "drug.class.taxane") == ()
