"""Unit normalization: REFERENCE.md §6.2 conversions, lab spellings, round trips and errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialmatch.errors import UnitError
from trialmatch.terminology.concepts import Concept, default_library
from trialmatch.terminology.units import convert, is_plausible, normalize, to_ucum


def concept(concept_id: str) -> Concept:
    return default_library().get(concept_id)


# REFERENCE.md §6.2: creatinine x 88.4, bilirubin x 17.1, haemoglobin g/dL x 10 = g/L and x 0.6206 = mmol/L
# (monomer), counts 1 x 10^9/L = 1 x 10^3/uL = 1,000/uL = 1,000/mm3.
@pytest.mark.parametrize(
    ("concept_id", "value", "unit", "expected", "tolerance"),
    [
        ("lab.creatinine", 177, "µmol/L", 2.00, 0.005),
        ("lab.creatinine", 88.4, "umol/L", 1.00, 0.005),
        ("lab.creatinine", 1.2, "mg/dl", 1.2, 1e-9),
        ("lab.bilirubin_total", 17.1, "µmol/L", 1.0, 0.005),
        ("lab.bilirubin_total", 25.65, "umol/L", 1.5, 0.005),
        ("lab.hemoglobin", 80, "g/L", 8.0, 1e-9),
        ("lab.hemoglobin", 6.206, "mmol/L", 10.0, 0.005),
        ("lab.anc", 1.5, "×10⁹/L", 1.5, 1e-9),
        ("lab.anc", 1500, "/mm3", 1.5, 1e-9),
        ("lab.anc", 1500, "cells/uL", 1.5, 1e-9),
        ("lab.platelets", 100_000, "/mm3", 100, 1e-9),
        ("lab.platelets", 100, "x10^9/L", 100, 1e-9),
        ("lab.platelets", 150, "K/uL", 150, 1e-9),
        ("lab.wbc", 4500, "/µL", 4.5, 1e-9),
        ("vital.bp_systolic", 150, "mm Hg", 150, 1e-9),
        ("vital.body_weight", 154, "[lb_av]", 69.85, 0.01),
        ("imaging.tumor_size", 1.2, "cm", 12, 1e-9),
        ("lab.alt", 0.5, "ukat/L", 30.0, 0.01),
    ],
)
def test_reference_conversions(concept_id: str, value: float, unit: str, expected: float, tolerance: float) -> None:
    result = normalize(value, unit, concept(concept_id))
    assert result.value == pytest.approx(expected, abs=tolerance)
    assert result.unit == concept(concept_id).unit
    assert (result.original_value, result.original_unit) == (value, unit)


def test_threshold_conversion_uses_molar_mass() -> None:
    # A rule may write "creatinine < 177 umol/L" for a concept held in mg/dL.
    assert convert(177, "umol/L", "mg/dL", molar_mass=113.12) == pytest.approx(2.0, abs=0.005)
    assert convert(2.0, "mg/dL", "umol/L", molar_mass=113.12) == pytest.approx(176.8, abs=0.1)
    assert convert(8.0, "g/dL", "mmol/L", molar_mass=16114.5) == pytest.approx(8.0 * 0.6206, rel=1e-3)


def test_molar_conversion_is_noted() -> None:
    note = normalize(177, "umol/L", concept("lab.creatinine")).note
    assert note is not None and "113.12 g/mol" in note
    assert normalize(2.0, "mg/dL", concept("lab.creatinine")).note is None


SPELLINGS = [
    ("K/uL", "10*3/uL", "lab.anc"),
    ("K/µL", "10*3/uL", "lab.anc"),
    ("k/mcL", "10*3/uL", "lab.anc"),
    ("x10^9/L", "10*9/L", "lab.anc"),
    ("x10E9/L", "10*9/L", "lab.anc"),
    ("10^9/L", "10*9/L", "lab.anc"),
    ("10*9/L", "10*9/L", "lab.anc"),
    ("10^3/uL", "10*3/uL", "lab.anc"),
    ("cells/mm3", "/mm3", "lab.anc"),
    ("/mm3", "/mm3", "lab.anc"),
    ("/mm³", "/mm3", "lab.anc"),
    ("/uL", "/uL", "lab.anc"),
    ("µmol/L", "umol/L", "lab.creatinine"),
    ("μmol/L", "umol/L", "lab.creatinine"),  # Greek mu, not the micro sign
    ("umol/L", "umol/L", "lab.creatinine"),
    ("mmol/L", "mmol/L", "lab.hemoglobin"),
    ("g/L", "g/L", "lab.hemoglobin"),
    ("g/dl", "g/dl", "lab.hemoglobin"),
    ("mg/dl", "mg/dl", "lab.bilirubin_total"),
    ("IU/L", "U/L", "lab.ast"),
    ("U/L", "U/L", "lab.ast"),
    ("%", "%", "obs.lvef"),
    ("mm Hg", "mm[Hg]", "vital.bp_diastolic"),
    ("mmHg", "mm[Hg]", "vital.bp_diastolic"),
    ("sec", "s", "lab.aptt"),
]


@pytest.mark.parametrize(("spelling", "ucum", "concept_id"), SPELLINGS)
def test_lab_spellings_are_read_as_ucum(spelling: str, ucum: str, concept_id: str) -> None:
    assert to_ucum(spelling) == ucum
    expected = convert(1.0, ucum, concept(concept_id).unit or "", concept(concept_id).molar_mass)
    assert normalize(1.0, spelling, concept(concept_id)).value == pytest.approx(expected)


def test_every_numeric_concept_has_a_parseable_canonical_unit() -> None:
    library = default_library()
    numeric = [library.get(i) for i in sorted(library.ids()) if library.get(i).value_type == "number"]
    assert len(numeric) > 20
    for c in numeric:
        assert c.unit is not None
        assert normalize(3.0, c.unit, c).value == pytest.approx(3.0), c.id


@pytest.mark.parametrize(
    ("concept_id", "unit"),
    [
        ("lab.inr", None),
        ("lab.inr", "{INR}"),
        ("score.ecog", None),
        ("score.ecog", "{score}"),
        ("score.karnofsky", ""),
    ],
)
def test_unitless_scores_pass_through(concept_id: str, unit: str | None) -> None:
    result = normalize(2.0, unit, concept(concept_id))
    assert (result.value, result.unit, result.note) == (2.0, concept(concept_id).unit, None)


@pytest.mark.parametrize(
    ("unit", "concept_id", "named"),
    [
        ("furlongs/fortnight", "lab.creatinine", "furlongs/fortnight"),
        ("mg/dL", "lab.anc", "mg/dL"),
        ("K/uL", "lab.creatinine", "K/uL"),
        (None, "lab.platelets", "10*3/uL"),
        ("{cells}", "lab.anc", "{cells}"),
        ("mmol/L", "lab.alt", "mmol/L"),
    ],
)
def test_unconvertible_units_raise_naming_unit_and_concept(unit: str | None, concept_id: str, named: str) -> None:
    with pytest.raises(UnitError) as caught:
        normalize(123.456, unit, concept(concept_id))
    message = str(caught.value)
    assert concept_id in message and named in message
    assert "123.456" not in message


def test_molar_units_need_a_molar_mass() -> None:
    with pytest.raises(UnitError, match="umol/L"):
        convert(177, "umol/L", "mg/dL")


def test_coded_concepts_have_no_unit() -> None:
    with pytest.raises(UnitError, match=r"marker\.er is a coded concept"):
        normalize(1.0, "%", concept("marker.er"))


@pytest.mark.parametrize(
    ("concept_id", "value", "plausible"),
    [
        ("lab.anc", 1.5, True),
        ("lab.anc", 0, True),
        ("lab.anc", 3000, False),  # a count in /uL stored as if in 10*3/uL
        ("lab.platelets", 150_000, False),
        ("lab.hemoglobin", 80, False),  # g/L taken for g/dL
        ("obs.lvef", 0.55, False),  # a fraction taken for a percentage
        ("score.ecog", 6, False),
        ("lab.creatinine", math.nan, False),
    ],
)
def test_plausibility(concept_id: str, value: float, plausible: bool) -> None:
    assert is_plausible(value, concept(concept_id)) is plausible


UNIT_FAMILIES = [
    ("10*3/uL", "10*9/L", "/mm3", "/uL", "K/uL", "cells/mm3"),
    ("mg/dL", "g/L", "mg/dl", "ug/mL", "g/dL"),
    ("umol/L", "mmol/L", "µmol/L", "nmol/mL"),
    ("U/L", "IU/L", "ukat/L"),
    ("mm[Hg]", "mmHg", "kPa"),
    ("mm", "cm", "m"),
    ("%", "1"),
]


@st.composite
def unit_pairs(draw: st.DrawFn) -> tuple[str, str]:
    family = draw(st.sampled_from(UNIT_FAMILIES))
    return draw(st.sampled_from(family)), draw(st.sampled_from(family))


@given(st.floats(min_value=1e-3, max_value=1e6), unit_pairs())
def test_conversion_round_trip(value: float, pair: tuple[str, str]) -> None:
    a, b = pair
    assert convert(convert(value, a, b), b, a) == pytest.approx(value, rel=1e-9)


@given(
    st.floats(min_value=1e-3, max_value=1e4),
    st.sampled_from(["umol/L", "mmol/L"]),
    st.sampled_from(["mg/dL", "g/L"]),
    st.sampled_from([113.12, 584.66, 16114.5]),
)
def test_molar_round_trip(value: float, molar: str, mass: str, molar_mass: float) -> None:
    there = convert(value, molar, mass, molar_mass)
    assert convert(there, mass, molar, molar_mass) == pytest.approx(value, rel=1e-9)


@given(st.floats(min_value=0, max_value=1e5), st.sampled_from(["lab.anc", "lab.platelets", "lab.wbc"]))
def test_count_spellings_agree(value: float, concept_id: str) -> None:
    c = concept(concept_id)
    per_litre = normalize(value, "x10^9/L", c).value
    assert normalize(value * 1000, "/mm3", c).value == pytest.approx(per_litre, rel=1e-9)
    assert normalize(value, "K/uL", c).value == pytest.approx(per_litre, rel=1e-9)
