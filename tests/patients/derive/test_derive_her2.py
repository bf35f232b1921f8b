"""HER2 per ASCO/CAP (REFERENCE §1): ISH groups with concurrent IHC, older rule sets, patient-level choice."""

from __future__ import annotations

import pytest
from derive_factory import coded, measure, record, value
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trialmatch.patients.derive.ish import ASCO_2007, ASCO_2013, ASCO_2018, Number, dual_probe_group, ish_call

RULE_SETS = (ASCO_2018, ASCO_2013, ASCO_2007)

# (ratio, copies/cell) inside each 2018 dual-probe group (REFERENCE §1.2).
GROUPS = {1: (2.3, 4.5), 2: (2.2, 3.5), 3: (1.5, 6.5), 4: (1.6, 4.8), 5: (1.2, 2.5)}

# REFERENCE §1.3 with §1.6: status per group (rows) and concurrent IHC score (columns; None = no IHC).
# None as a status means a blinded recount or the concurrent IHC is still needed.
IHC_COLUMNS = ("0", "1+", "2+", "3+", None)
ROWS_2018 = {
    1: ("positive", "positive", "positive", "positive", "positive"),
    2: ("negative", "negative", None, "positive", None),
    3: ("negative", "negative", None, "positive", None),
    4: ("negative", "negative", None, "positive", None),
    5: ("negative", "negative", "negative", "positive", "negative"),
}
TABLE_2018 = {(g, ihc): row[i] for g, row in ROWS_2018.items() for i, ihc in enumerate(IHC_COLUMNS)}


def _specimen(date: str, ihc: str | None, ratio: float | None, copies: float | None, **fields: object) -> list:
    facts = [coded("marker.her2_ihc", date, ihc, specimen="S1", **fields)] if ihc is not None else []
    if ratio is not None:
        facts.append(measure("marker.her2_ish_ratio", date, ratio, specimen="S1", **fields))
    if copies is not None:
        facts.append(measure("marker.her2_copy_number", date, copies, specimen="S1", **fields))
    return facts


@pytest.mark.parametrize(("group", "ihc"), sorted(TABLE_2018, key=str))
def test_2018_group_with_concurrent_ihc(group: int, ihc: str | None) -> None:
    ratio, copies = GROUPS[group]
    result = value("her2", record(*_specimen("2023-04-02", ihc, ratio, copies)))
    assert result.value == TABLE_2018[(group, ihc)]
    assert result.rule_set == "ASCO/CAP 2018"
    assert f"(group {group})" in result.explanation
    if result.value is None:
        assert result.missing


@pytest.mark.parametrize(
    ("ratio", "copies", "group"),
    [(2.0, 4.0, 1), (1.98, 4.0, 4), (2.0, 3.99, 2), (1.99, 6.0, 3), (1.5, 5.99, 4), (1.5, 3.99, 5)],
)
def test_group_boundaries_compare_reported_values_unrounded(ratio: float, copies: float, group: int) -> None:
    assert dual_probe_group(ratio, copies) == group


def test_explanation_names_values_date_and_rule_set() -> None:
    result = value("her2", record(*_specimen("2024-03-02", "2+", 2.3, 4.5)))
    assert result.explanation == (
        "HER2 IHC 2+ with ISH HER2/CEP17 ratio 2.3 and 4.5 copies/cell (group 1) "
        "specimen S1 on 2024-03-02: positive per ASCO/CAP 2018."
    )
    assert len(result.sources) == 3


@pytest.mark.parametrize(
    ("ratio", "copies", "expected"),
    [(2.2, 3.5, "positive"), (1.5, 6.5, "positive"), (1.6, 4.8, "equivocal"), (1.2, 2.5, "negative")],
)
def test_2013_ish_cutoffs(ratio: float, copies: float, expected: str) -> None:
    call = ish_call("ASCO/CAP 2013", ratio, copies, "2+")
    assert call is not None and call.status == expected


@pytest.mark.parametrize(
    ("ratio", "expected"), [(2.3, "positive"), (2.2, "equivocal"), (1.8, "equivocal"), (1.7, "negative")]
)
def test_2007_ratio_cutoffs(ratio: float, expected: str) -> None:
    call = ish_call("ASCO/CAP 2007", ratio, 3.0, "2+")
    assert call is not None and call.status == expected


def test_an_older_test_is_read_under_its_own_rules_where_2018_agrees() -> None:
    result = value("her2", record(*_specimen("2016-05-10", "2+", 2.5, 6.5)))  # group 1 under 2018 too
    assert (result.value, result.rule_set) == ("positive", "ASCO/CAP 2013")


@pytest.mark.parametrize(("ihc", "ratio", "copies"), [("1+", 2.1, 3.6), ("2+", 1.6, 4.8), ("2+", 2.2, 3.5)])
def test_an_older_test_the_2018_rules_would_call_differently_is_not_settled(
    ihc: str, ratio: float, copies: float
) -> None:
    result = value("her2", record(*_specimen("2016-05-10", ihc, ratio, copies)))
    assert result.value is None
    assert result.missing is not None and "ASCO/CAP 2018" in result.missing


def test_ihc_2_plus_without_ish_is_equivocal_and_names_the_missing_test() -> None:
    result = value("her2", record(*_specimen("2024-01-05", "2+", None, None)))
    assert result.value == "equivocal"
    assert result.missing == "HER2 ISH result for the IHC 2+ specimen"


@pytest.mark.parametrize(("ihc", "expected"), [("0", "negative"), ("1+", "negative"), ("3+", "positive")])
def test_ihc_alone(ihc: str, expected: str) -> None:
    assert value("her2", record(*_specimen("2024-01-05", ihc, None, None))).value == expected


def test_numeric_ihc_score_is_read() -> None:
    rec = record(measure("marker.her2_ihc", "2024-01-05", 3.0, specimen="S1"))
    assert value("her2", rec).value == "positive"


def test_missing_copy_number_decides_only_when_every_possible_group_agrees() -> None:
    assert value("her2", record(*_specimen("2023-01-05", "3+", 2.5, None))).value == "positive"
    undecided = value("her2", record(*_specimen("2023-01-05", "0", 2.5, None)))
    assert undecided.value is None
    assert undecided.missing == "HER2 copy number per cell"


@pytest.mark.parametrize(
    ("copies", "ihc", "expected"),
    [
        (6.2, None, "positive"),
        (3.5, None, "negative"),
        (4.5, "3+", "positive"),
        (4.5, "1+", "negative"),
        (4.5, "2+", None),
    ],
)
def test_single_probe_2018(copies: float, ihc: str | None, expected: str | None) -> None:
    assert value("her2", record(*_specimen("2023-01-05", ihc, None, copies))).value == expected


def test_guideline_reading_of_a_score_wins_over_a_disagreeing_interpretation() -> None:
    facts = [
        *_specimen("2023-01-05", "3+", None, None),
        coded("marker.her2_interpretation", "2023-01-05", "Negative", specimen="S1"),
    ]
    result = value("her2", record(*facts))
    assert result.value == "positive"
    assert result.explanation.endswith("The lab reported negative; the guideline reading is used.")


def test_interpretation_settles_what_the_measurements_leave_open() -> None:
    facts = [
        *_specimen("2023-01-05", "2+", 2.2, 3.5),  # group 2 with IHC 2+: needs a blinded recount
        coded("marker.her2_interpretation", "2023-01-05", "Positive", specimen="S1"),
    ]
    result = value("her2", record(*facts))
    assert result.value == "positive"
    assert "as reported by the lab (interpretation)" in result.explanation
    assert "alone: not determinable under ASCO/CAP 2018" in result.explanation


def test_reported_ish_call_is_used_with_ihc() -> None:
    facts = [
        *_specimen("2023-01-05", "2+", None, None),
        coded("marker.her2_ish", "2023-01-06", "Not amplified", specimen="S1"),
    ]
    assert value("her2", record(*facts)).value == "negative"


def test_results_without_specimen_group_by_date() -> None:
    rec = record(
        coded("marker.her2_ihc", "2023-01-05", "2+"),
        measure("marker.her2_ish_ratio", "2023-01-05", 2.4),
        measure("marker.her2_copy_number", "2023-01-05", 5.0),
        coded("marker.her2_ihc", "2022-01-05", "1+"),
    )
    assert value("her2", rec).value == "positive"


def _two_specimens(primary: str, metastatic: str) -> list:
    return [
        coded("marker.her2_ihc", "2019-02-01", primary, specimen="P", specimen_site="primary"),
        coded("marker.her2_ihc", "2023-07-01", metastatic, specimen="M", specimen_site="metastatic"),
    ]


@pytest.mark.parametrize(
    ("primary", "metastatic", "expected"),
    [
        (
            "1+",
            "3+",
            {"latest": "positive", "any": "positive", "primary": "negative", "metastatic": "positive"},
        ),
        (
            "3+",
            "1+",
            {"latest": "negative", "any": "positive", "primary": "positive", "metastatic": "negative"},
        ),
        (
            "0",
            "2+",
            {"latest": "equivocal", "any": "equivocal", "primary": "negative", "metastatic": "equivocal"},
        ),
        (
            "0",
            "1+",
            {"latest": "negative", "any": "negative", "primary": "negative", "metastatic": "negative"},
        ),
    ],
)
def test_patient_level_specimen_choice(primary: str, metastatic: str, expected: dict[str, str]) -> None:
    rec = record(*_two_specimens(primary, metastatic))
    assert {mode: value("her2", rec, specimen=mode).value for mode in expected} == expected


def test_latest_skips_an_undeterminable_newer_specimen_and_says_so() -> None:
    rec = record(
        coded("marker.her2_ihc", "2020-01-01", "3+", specimen="A"),
        measure("marker.her2_ish_ratio", "2024-01-01", 2.2, specimen="B"),
        measure("marker.her2_copy_number", "2024-01-01", 3.5, specimen="B"),
    )
    result = value("her2", rec)
    assert result.value == "positive"
    assert "newer result (specimen B on 2024-01-01) could not be classified" in result.explanation


def test_no_specimen_of_requested_site_is_unknown() -> None:
    result = value(
        "her2",
        record(coded("marker.her2_ihc", "2020-01-01", "3+", specimen_site="primary")),
        specimen="metastatic",
    )
    assert result.value is None
    assert result.missing == "HER2 result on tissue from a metastasis"


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (_specimen("2023-01-05", "1+", None, None), True),
        (_specimen("2023-01-05", "2+", 1.2, 2.5), True),
        (_specimen("2023-01-05", "0", None, None), False),
        (_specimen("2023-01-05", "3+", None, None), False),
        (_specimen("2023-01-05", "2+", 2.3, 4.5), False),
        (_specimen("2023-01-05", "2+", None, None), None),
        ([coded("marker.her2_interpretation", "2023-01-05", "Negative")], None),
    ],
)
def test_her2_low(facts: list, expected: bool | None) -> None:
    assert value("her2_low", record(*facts)).value is expected


def test_implausible_values_are_not_used_and_the_explanation_says_so() -> None:
    rec = record(
        coded("marker.her2_ihc", "2023-01-05", "1+", specimen="S1"),
        measure("marker.her2_ish_ratio", "2023-01-05", 25.0, specimen="S1", flags=("implausible",)),
    )
    result = value("her2", rec)
    assert result.value == "negative"
    assert "1 value flagged implausible not used" in result.explanation


@pytest.mark.parametrize(
    ("rule_set", "ratio", "copies", "expected"),
    [
        ("ASCO/CAP 2018", Number(2.2, ">"), 4.6, "positive"),
        ("ASCO/CAP 2018", Number(1.8, "<"), 2.0, "negative"),
        ("ASCO/CAP 2018", Number(2.2, "<"), 4.6, None),  # could be either side of 2.0
        ("ASCO/CAP 2007", Number(2.2, ">"), None, "positive"),
        ("ASCO/CAP 2007", Number(1.8, "<"), None, "negative"),
        ("ASCO/CAP 2007", Number(2.0, ">"), None, None),  # straddles the 2007 cut-off 2.2
        ("ASCO/CAP 2018", None, Number(6.0, ">="), "positive"),
        ("ASCO/CAP 2018", None, Number(4.0, "<"), "negative"),
        ("ASCO/CAP 2018", None, Number(6.0, "<="), None),
    ],
)
def test_bounds_decide_only_when_on_one_side_of_every_cut(
    rule_set: str, ratio: Number | None, copies: float | Number | None, expected: str | None
) -> None:
    call = ish_call(rule_set, ratio, copies, None)
    assert call is not None
    assert call.status == expected


_BOUND = st.builds(
    Number,
    st.one_of(st.sampled_from([1.8, 2.0, 2.2, 4.0, 6.0]), st.floats(min_value=0.5, max_value=8.0)),
    st.sampled_from(["<", "<=", ">", ">="]),
)
_TRUTH = st.one_of(st.sampled_from([1.8, 2.0, 2.2, 4.0, 6.0]), st.floats(min_value=0.0, max_value=12.0))


@settings(max_examples=200, deadline=None)
@given(bound=_BOUND, truth=_TRUTH, rule_set=st.sampled_from(RULE_SETS), as_ratio=st.booleans())
def test_a_bound_that_decides_agrees_with_every_value_it_admits(
    bound: Number, truth: float, rule_set: str, as_ratio: bool
) -> None:
    admitted = {"<": truth < bound.value, "<=": truth <= bound.value, ">": truth > bound.value}.get(
        bound.comparator or "", truth >= bound.value
    )
    assume(admitted)
    from_bound = ish_call(rule_set, bound, None, "1+") if as_ratio else ish_call(rule_set, None, bound, "1+")
    assert from_bound is not None
    if from_bound.status is not None:
        exact = ish_call(rule_set, truth, None, "1+") if as_ratio else ish_call(rule_set, None, truth, "1+")
        assert exact is not None and exact.status == from_bound.status
