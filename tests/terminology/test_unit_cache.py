"""The on-disk cache of unit conversion factors: round trip, damaged files, unwritable folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialmatch.terminology.unit_cache import FactorCache
from trialmatch.terminology.units import FACTORS, convert


def test_factors_survive_a_new_process(tmp_path: Path) -> None:
    first = FactorCache(("pint",), tmp_path)
    first.put("umol/L|mg/dL|113.12", (0.0113, True))
    again = FactorCache(("pint",), tmp_path)
    assert again.get("umol/L|mg/dL|113.12") == (0.0113, True)
    assert again.path.name.startswith("unit-factors-pint")


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    cache = FactorCache(("pint",), tmp_path)
    cache.path.write_text("{not json", encoding="utf-8")
    assert FactorCache(("pint",), tmp_path).get("a|b|None") is None


def test_an_unwritable_folder_only_costs_speed(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("", encoding="utf-8")
    cache = FactorCache(("pint",), blocked)
    cache.put("a|b|None", (2.0, False))
    assert cache.get("a|b|None") == (2.0, False)


def test_conversions_are_the_same_from_the_cache() -> None:
    computed = convert(177, "umol/L", "mg/dL", molar_mass=113.12)
    assert FACTORS.get("umol/L|mg/dL|113.12") is not None
    assert convert(177, "umol/L", "mg/dL", molar_mass=113.12) == pytest.approx(computed)
    assert computed == pytest.approx(2.0, abs=0.01)
