"""RECIST 1.1 (REFERENCE §3): measurability, target selection, response categories, best and last."""

from __future__ import annotations

import pytest
from derive_factory import AS_OF, coded, lesion, lesion_value, measure, procedure, record, value

from trialmatch.patients.derive.base import Context
from trialmatch.patients.derive.lesions import lesion_series
from trialmatch.patients.derive.recist import choose_baseline
from trialmatch.terminology.concepts import default_library

LIVER, LUNG, BONE = "10200004", "39607008", "272673000"
LESIONS = (lesion("L1", site=LIVER), lesion("L2", site=LUNG), lesion("N1", is_lymph_node=True))
BASELINE = "2024-01-10"


def _scan(date: str, **sizes: float) -> list:
    return [measure("imaging.tumor_size", date, size, focus=lesion_id) for lesion_id, size in sizes.items()]


def _recist(*facts: object, which: str = "last", lesions: tuple = LESIONS) -> object:
    return value("recist", record(*facts, lesions=lesions), which=which)


@pytest.mark.parametrize(
    ("follow_up", "expected"),
    [
        ({"L1": 28, "L2": 21, "N1": 14}, "PR"),  # 63 = 70 % of 90: a 30 % decrease
        ({"L1": 29, "L2": 21, "N1": 14}, "SD"),  # 64: a 29 % decrease
        ({"L1": 50, "L2": 36, "N1": 22}, "PD"),  # 108 = 120 % of 90 and +18 mm
        ({"L1": 0, "L2": 0, "N1": 9}, "CR"),  # nodes under 10 mm short axis are normal
        ({"L1": 0, "L2": 0, "N1": 10}, "PR"),  # a 10 mm node keeps it from CR
        ({"L1": 30, "N1": 20}, "NE"),  # a target not assessed
        ({"L1": 90, "N1": 20}, "PD"),  # ... unless the assessed ones already prove PD
    ],
)
def test_target_response_categories(follow_up: dict[str, float], expected: str) -> None:
    result = _recist(*_scan(BASELINE, L1=40, L2=30, N1=20), *_scan("2024-03-10", **follow_up))
    assert result.value == expected
    assert result.rule_set == "RECIST 1.1"


@pytest.mark.parametrize(("size", "expected"), [(15, "SD"), (16, "SD"), (17, "PD")])
def test_progression_needs_5_mm_absolute_increase(size: float, expected: str) -> None:
    # 12 mm -> 15/16 mm is a 25-33 % increase but under 5 mm; 17 mm is +5 mm.
    result = _recist(*_scan(BASELINE, L1=12), *_scan("2024-03-10", L1=size))
    assert result.value == expected


def test_progression_is_measured_from_the_nadir_and_partial_response_from_baseline() -> None:
    facts = [*_scan(BASELINE, L1=40, L2=30, N1=20), *_scan("2024-03-10", L1=30, L2=20, N1=10)]
    facts += _scan("2024-05-10", L1=35, L2=25, N1=13)  # 73 >= 1.2 x nadir 60 and +13 mm, yet below baseline 90
    assert _recist(*facts).value == "PD"
    assert _recist(*facts, which="best").value == "PR"
    assert "nadir 60 mm" in _recist(*facts).explanation


def test_new_lesion_is_progression() -> None:
    facts = [*_scan(BASELINE, L1=40, L2=30), *_scan("2024-03-10", L1=20, L2=15, L9=8)]
    result = _recist(*facts)
    assert result.value == "PD"
    assert "new lesion L9" in result.explanation


def test_new_node_counts_only_from_10_mm() -> None:
    lesions = (*LESIONS, lesion("N2", is_lymph_node=True))
    small = _recist(*_scan(BASELINE, L1=40), *_scan("2024-03-10", L1=40, N2=9), lesions=lesions)
    large = _recist(*_scan(BASELINE, L1=40), *_scan("2024-03-10", L1=40, N2=11), lesions=lesions)
    assert (small.value, large.value) == ("SD", "PD")


def test_target_cr_with_persisting_non_target_is_pr() -> None:
    lesions = (*LESIONS, lesion("B1", site=BONE))
    facts = [*_scan(BASELINE, L1=40, B1=30), *_scan("2024-03-10", L1=0, B1=30)]
    assert _recist(*facts, lesions=lesions).value == "PR"


@pytest.mark.parametrize(("size", "expected"), [(12, "SD"), (8, "CR")])
def test_non_target_only_disease(size: float, expected: str) -> None:
    result = _recist(*_scan(BASELINE, N1=12), *_scan("2024-03-10", N1=size))
    assert result.value == expected


def test_recorded_response_replaces_the_computed_one_that_day() -> None:
    facts = [
        *_scan(BASELINE, L1=40),
        *_scan("2024-03-10", L1=39),
        coded("obs.recist_response", "2024-03-10", "PR"),
    ]
    result = _recist(*facts)
    assert result.value == "PR"
    assert "as recorded by the reader" in result.explanation


def test_baseline_only_is_unknown() -> None:
    result = _recist(*_scan(BASELINE, L1=40))
    assert result.value is None
    assert result.missing == "a follow-up tumour assessment after baseline"


def test_targets_at_most_two_per_organ_and_five_in_all() -> None:
    lesions = [lesion(f"H{i}", site=LIVER) for i in range(3)] + [lesion(f"P{i}", site=LUNG) for i in range(3)]
    lesions += [lesion("N1", is_lymph_node=True), lesion("N2", is_lymph_node=True)]
    sizes = {"H0": 50, "H1": 40, "H2": 30, "P0": 45, "P1": 35, "P2": 25, "N1": 20, "N2": 18}
    rec = record(*_scan(BASELINE, **sizes), lesions=lesions)
    ctx = Context.build(rec, AS_OF, default_library().is_a)
    base = choose_baseline(ctx, lesion_series(ctx))
    assert [s.lesion.id for s in base.targets] == ["H0", "P0", "H1", "P1", "N1"]
    assert {s.lesion.id for s in base.non_targets} == {"H2", "P2", "N2"}


@pytest.mark.parametrize(
    ("item", "size", "expected"),
    [
        (lesion("X", is_lymph_node=True), 15, True),
        (lesion("X", is_lymph_node=True), 14.9, False),
        (lesion("X", site=LIVER), 10, True),
        (lesion("X", site=LIVER), 9.9, False),
        (lesion("X", site=BONE), 25, None),
        (lesion("X", site=LIVER, previously_irradiated=True), 30, False),
    ],
)
def test_lesion_measurability(item: object, size: float, expected: bool | None) -> None:
    rec = record(*_scan("2024-05-01", X=size), lesions=(item,))
    result = lesion_value("measurable", "X", rec)
    assert result.value is expected
    assert lesion_value("diameter", "X", rec).value == size


def test_measurable_disease_uses_each_lesions_latest_measurement() -> None:
    shrunk = record(*_scan("2024-01-01", L1=30), *_scan("2024-05-01", L1=8), lesions=LESIONS)
    assert value("measurable_disease", shrunk).value is False
    assert value("measurable_disease", shrunk, as_of=shrunk.measurements[0].date).value is True
    bone = record(*_scan("2024-05-01", B1=30), lesions=(lesion("B1", site=BONE),))
    assert value("measurable_disease", bone).missing == "whether the bone lesion has a measurable soft-tissue component"
    assert value("measurable_disease", record()).value is None


def test_irradiated_lesion() -> None:
    item = lesion("L1", site=LIVER)
    aimed = record(procedure("procedure.radiotherapy", "2023-01-01", focus=("L1",)), lesions=(item,))
    elsewhere = record(procedure("procedure.radiotherapy", "2023-01-01", focus=("L7",)), lesions=(item,))
    assert lesion_value("irradiated", "L1", aimed).value is True
    assert lesion_value("irradiated", "L1", elsewhere).value is False
    assert lesion_value("irradiated", "L1", record(lesions=(item,))).value is None


@pytest.mark.parametrize(
    ("item", "flags"),
    [
        (lesion("X", site=LIVER), {"visceral": True, "nodal": False, "bone": False}),
        (lesion("X", site=BONE), {"visceral": False, "nodal": False, "bone": True}),
        (lesion("X", is_lymph_node=True), {"visceral": False, "nodal": True, "bone": False}),
        (
            lesion("X", location_text="right lung, lower lobe"),
            {"visceral": True, "nodal": False, "bone": False},
        ),
        (lesion("X"), {"visceral": None, "nodal": None, "bone": None}),
    ],
)
def test_lesion_location_flags(item: object, flags: dict[str, bool | None]) -> None:
    rec = record(lesions=(item,))
    assert {name: lesion_value(name, "X", rec).value for name in flags} == flags


def test_confluent_as_recorded() -> None:
    rec = record(lesions=(lesion("A", confluent=True), lesion("B")))
    assert lesion_value("confluent", "A", rec).value is True
    assert lesion_value("confluent", "B", rec).missing == "whether lesion B is confluent"


def test_a_new_lesion_is_progression_once_and_a_new_baseline_follows() -> None:
    lesions = (*LESIONS, lesion("L9", site=LUNG))
    facts = [*_scan(BASELINE, L1=40, L2=30), *_scan("2024-03-10", L1=30, L2=20, L9=8)]  # L9 new: PD
    facts += _scan("2024-04-10", L1=30, L2=20, L9=8)  # new baseline after the PD (a new line of care)
    facts += _scan("2024-05-10", L1=20, L2=12, L9=5)  # 32 vs 50: a 36 % decrease from the new baseline
    result = _recist(*facts, lesions=lesions)
    assert result.value == "PR"
    assert "new lesion" not in result.explanation and "baseline 50 mm on 2024-04-10" in result.explanation


def test_nodal_targets_that_shrink_under_10_mm_are_cr_even_if_their_sum_grows_from_the_nadir() -> None:
    facts = [*_scan(BASELINE, N1=20), *_scan("2024-03-10", N1=2), *_scan("2024-05-10", N1=8)]
    assert _recist(*facts).value == "CR"
