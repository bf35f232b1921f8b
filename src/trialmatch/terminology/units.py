"""Unit normalization: read the unit spellings laboratories use, convert values to a concept's canonical unit.

Rules compare values in each concept's canonical UCUM unit (``docs/concepts.md``), whatever unit the record
used. Spellings such as ``K/uL``, ``x10^9/L`` or ``mm Hg`` are first rewritten to UCUM; UCUM is then parsed
with ucumvert into pint quantities, so any UCUM unit of the right dimension converts. Molar <-> mass
conversion uses the concept's molar mass. Errors name the unit and concept, never the value.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from trialmatch.errors import UnitError
from trialmatch.terminology.concepts import Concept
from trialmatch.terminology.unit_cache import FactorCache

# Conversion factors the units library worked out, kept between runs: loading the library costs most of a
# second, and a site's units are few. The file is named after the library versions, so an upgrade starts afresh.
FACTORS = FactorCache(("pint", "ucumvert"))
_CHARACTERS = str.maketrans({"µ": "u", "μ": "u", "×": "x"})
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT_RUN = re.compile(f"([{_SUPERSCRIPT_DIGITS}]+)")
_ANNOTATION = re.compile(r"\{[^}]*\}")
# Keys are lower case without spaces; "mcL" (US spelling of microlitre) is rewritten to "uL" first.
_ALIASES = {
    "k/ul": "10*3/uL",
    "k/mm3": "10*3/mm3",
    "mmhg": "mm[Hg]",
    "iu/l": "U/L",  # enzyme activity: laboratories write IU/L for the enzyme unit U/L
    "sec": "s",
    "secs": "s",
    "seconds": "s",
}
_POWER_OF_TEN = re.compile(r"^x?10(?:\^|\*\*|\*|e)(\d+)(?:cells?)?/(l|ul|mm3)$")
_CELLS = re.compile(r"^cells?/(ul|mm3)$")
_VOLUME = {"l": "L", "ul": "uL", "mm3": "mm3"}


@dataclass(frozen=True)
class NormalizedValue:
    """A value in its concept's canonical unit, with what the record said and how it was converted."""

    value: float
    unit: str
    original_value: float
    original_unit: str | None
    note: str | None = None


def to_ucum(unit: str) -> str:
    """The UCUM spelling of a unit as laboratories write it (``K/uL`` -> ``10*3/uL``); UCUM is unchanged."""
    text = _SUPERSCRIPT_RUN.sub(_superscript, unit.translate(_CHARACTERS)).strip()
    key = re.sub(r"\s+", "", text).lower().replace("mcl", "ul")
    if key in _ALIASES:
        return _ALIASES[key]
    if power := _POWER_OF_TEN.match(key):
        return f"10*{power[1]}/{_VOLUME[power[2]]}"
    if cells := _CELLS.match(key):
        return f"/{_VOLUME[cells[1]]}"
    return text


def _superscript(match: re.Match[str]) -> str:
    """``10⁹`` -> ``10^9`` (a power of ten), ``mm³`` -> ``mm3`` (a UCUM exponent)."""
    digits = "".join(str(_SUPERSCRIPT_DIGITS.index(ch)) for ch in match[1])
    before = match.string[: match.start()]
    return f"^{digits}" if before.endswith("10") else digits


def convert(value: float, from_unit: str, to_unit: str, molar_mass: float | None = None) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (both UCUM or lab spellings); raises UnitError."""
    return _convert(value, to_ucum(from_unit), to_ucum(to_unit), molar_mass)[0]


def normalize(value: float, unit: str | None, concept: Concept) -> NormalizedValue:
    """``value`` in ``concept``'s canonical unit; unitless values pass only for dimensionless concepts."""
    if concept.unit is None:
        raise UnitError(f"{concept.id} is a coded concept and has no unit")
    if unit is None or _is_blank(unit):
        if not _is_blank(concept.unit) and not _quantity(concept.unit).dimensionless:
            raise UnitError(
                f"{concept.id}: unit '{unit or ''}' is missing or only an annotation; "
                f"expected one convertible to '{concept.unit}'"
            )
        return NormalizedValue(value, concept.unit, value, unit)
    ucum = to_ucum(unit)
    try:
        converted, used_molar_mass = _convert(value, ucum, concept.unit, concept.molar_mass)
    except UnitError as exc:
        recorded = f" (recorded as '{unit}')" if ucum != unit.strip() else ""
        raise UnitError(f"{concept.id}: {exc}{recorded}") from None
    notes = []
    if ucum != unit.strip():
        notes.append(f"unit '{unit}' read as UCUM '{ucum}'")
    if used_molar_mass:
        notes.append(f"converted from {ucum} with molar mass {concept.molar_mass:g} g/mol")
    return NormalizedValue(converted, concept.unit, value, unit, "; ".join(notes) or None)


def is_plausible(value: float, concept: Concept) -> bool:
    """Whether a value in the canonical unit is physiologically possible (a unit mix-up shows up here)."""
    if not math.isfinite(value):
        return False
    if concept.plausible is None:
        return True
    low, high = concept.plausible
    return low <= value <= high


def _is_blank(unit: str) -> bool:
    """No unit at all, or only UCUM annotations (``{score}``, ``{copies}/{cell}``)."""
    return not _ANNOTATION.sub("", unit).strip().strip("/.")


def _convert(value: float, source: str, target: str, molar_mass: float | None) -> tuple[float, bool]:
    """The converted value and whether the molar mass was needed."""
    if source == target:
        return value, False  # the common case needs no units library (and none of its start-up time)
    key = f"{source}|{target}|{molar_mass!r}"
    known = FACTORS.get(key)
    if known is None:
        known = _factor(source, target, molar_mass)
        FACTORS.put(key, known)
    factor, used_molar_mass = known
    return value * factor, used_molar_mass


def _factor(source: str, target: str, molar_mass: float | None) -> tuple[float, bool]:
    """The factor from ``source`` to ``target`` worked out by the units library; raises UnitError."""
    ratio = _quantity(source) / _quantity(target)
    used_molar_mass = False
    if not ratio.dimensionless and molar_mass is not None:
        mass_per_mole = _registry()[0].Quantity(molar_mass, "g/mol")
        candidate = next((r for r in (ratio * mass_per_mole, ratio / mass_per_mole) if r.dimensionless), None)
        if candidate is not None:
            ratio, used_molar_mass = candidate, True
    if not ratio.dimensionless:
        raise UnitError(f"cannot convert unit '{source}' to '{target}'")
    return float(ratio.to("dimensionless").magnitude), used_molar_mass


@functools.cache
def _registry() -> tuple[Any, Any, Any]:
    """The pint registry with UCUM definitions, a UCUM -> pint transformer bound to it, the UCUM parser."""
    # Imported here: pint and ucumvert take most of a second to import, which every command would pay.
    from ucumvert import PintUcumRegistry, UcumToPintTransformer, get_ucum_parser

    try:
        # pint caches the parsed unit definitions in the user's cache folder: ten times faster start-up.
        registry = PintUcumRegistry(cache_folder=":auto:")
    except OSError:
        registry = PintUcumRegistry()
    return registry, UcumToPintTransformer(ureg=registry), get_ucum_parser()


@functools.lru_cache(maxsize=1024)
def _quantity(ucum: str) -> Any:
    """The pint quantity one ``ucum`` unit stands for; annotations count as 1, as UCUM defines them."""
    from lark.exceptions import VisitError
    from pint.errors import PintError
    from ucumvert import InvalidUcumError, parse_ucum

    registry, transformer, parser = _registry()
    stripped = _ANNOTATION.sub("", ucum).strip()
    if not stripped.strip("/."):
        stripped = "1"
    try:
        result = transformer.transform(parse_ucum(stripped, parser))
    except (InvalidUcumError, VisitError, PintError):
        raise UnitError(f"unknown unit '{ucum}'") from None
    return result if hasattr(result, "dimensionless") else registry.Quantity(float(result))
