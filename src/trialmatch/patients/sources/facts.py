"""Turning a reported result into a normalized fact: shared by the FHIR and CSV readers.

Codes roll up to concepts through the concept library; numbers are converted once to the concept's
canonical unit (with their own reference range); coded answers become categories. Every step that cannot be
done leaves the fact in place and says why in ``problems`` — never with the patient's value in the message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trialmatch.errors import UnitError
from trialmatch.patients.model import Coding, InputProblem, Measurement
from trialmatch.terminology.concepts import Concept, ConceptLibrary
from trialmatch.terminology.units import NormalizedValue, is_plausible, normalize

CATEGORY_SYSTEM = "http://trialmatch.org/fhir/CodeSystem/category"
"""System of the category codes coded results are rolled up to (``value_code.code`` is e.g. ``positive``)."""

UNKNOWN_CODE = "code not in the concept library"
KEPT_UNUSED = "kept, not used by rules"
IMPLAUSIBLE = "value outside physiological range; not used"

LOCAL_SYSTEM = "http://trialmatch.org/fhir/CodeSystem/"
"""Local code systems ``<LOCAL_SYSTEM><kind>`` whose codes name a concept directly: ``procedure`` +
``pet-fdg`` is ``procedure.pet_fdg`` (for what no standard code names, e.g. the PET tracer)."""

# IHC scores are written as text ("2+") or integers; no LOINC answer list exists (codes.md §2.1).
SCORE_CATEGORIES = {"marker.her2_ihc": frozenset({"0", "1+", "2+", "3+"})}
_IHC_TEXT = re.compile(r"^(?:ihc\s*)?(?:score\s*)?([0-3])\s*(\+*)$")
_NUMBER_TEXT = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*(\d+(?:\.\d+)?)\s*$")
# Comparators written out, as pathology reports do ("greater than 2.2", "less than 1.8").
_COMPARATOR_WORDS = (
    (re.compile(r"^\s*(?:greater than or equal to|at least|not less than)\b"), ">="),
    (re.compile(r"^\s*(?:less than or equal to|at most|not greater than|not more than)\b"), "<="),
    (re.compile(r"^\s*(?:greater than|more than|above|over)\b"), ">"),
    (re.compile(r"^\s*(?:less than|below|under)\b"), "<"),
)
_SYMBOLS = {"≤": "<=", "≥": ">="}


@dataclass(frozen=True)
class Quantity:
    """A reported number with its unit as written (UCUM code preferred) and a censoring comparator."""

    value: float
    unit: str | None = None
    comparator: str | None = None


@dataclass(frozen=True)
class RawResult:
    """A result as the record gives it, before normalization: any of a number, coded answers or text."""

    quantity: Quantity | None = None
    answers: tuple[Coding, ...] = ()
    text: str | None = None
    low: Quantity | None = None
    high: Quantity | None = None


@dataclass(frozen=True)
class Context:
    """Everything a measurement carries besides its value: when, where, about what, and from which record."""

    source: str
    date: dt.date | None = None
    status: str = "final"
    specimen: str | None = None
    specimen_site: str | None = None
    focus: str | None = None
    method: Coding | None = None
    body_site: Coding | None = None
    part_of: str | None = None
    flags: tuple[str, ...] = ()

    def fields(self) -> dict[str, object]:
        """The context as Measurement keyword arguments (shallow: its values are immutable, and a deep copy of
        each coding cost a tenth of reading a record)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass
class Normalizer:
    """Rolls codes up to concepts and values to canonical units, collecting the problems met on the way."""

    library: ConceptLibrary
    problems: list[InputProblem] = field(default_factory=list)

    def note(self, source: str | None, problem: str, action: str) -> None:
        """Record a problem with the record ``source`` (never a patient value in ``problem``)."""
        self.problems.append(InputProblem(source=source, problem=problem, action=action))

    def concepts_for(self, code: Coding, *, by_name: bool = False) -> tuple[str, ...]:
        """The concepts one code rolls up to: the terminology's, or a local concept code's; with ``by_name``
        (drugs), ingredients named in the display of a code the terminology does not know."""
        if code.system.startswith(LOCAL_SYSTEM):
            kind = code.system.removeprefix(LOCAL_SYSTEM)
            concept_id = f"{kind}.{code.code.replace('-', '_')}"
            return (concept_id,) if concept_id in self.library.ids() else ()
        return self.library.recognise(code.system, code.code, code.display, by_name=by_name).concepts

    def concepts(self, codes: Iterable[Coding], *, by_name: bool = False) -> tuple[str, ...]:
        """Every concept any of ``codes`` rolls up to, in code order, without repeats."""
        found: dict[str, None] = {}
        for c in codes:
            found.update(dict.fromkeys(self.concepts_for(c, by_name=by_name)))
        return tuple(found)

    def concept(self, codes: Sequence[Coding], source: str) -> str | None:
        """The concept of the first code the library knows; notes an unknown code."""
        for c in codes:
            found = self.concepts_for(c)
            if found:
                return found[0]
        self.note(source, UNKNOWN_CODE if codes else "no code given", KEPT_UNUSED)
        return None

    def unit_hint(self, codes: Iterable[Coding]) -> str | None:
        """The unit a site's local map gives for values of these codes, when records omit it."""
        return next((h for h in (self.library.unit_hint(c.system, c.code) for c in codes) if h), None)

    def measurement(
        self, concept_id: str | None, codes: tuple[Coding, ...], raw: RawResult, ctx: Context
    ) -> Measurement:
        """A Measurement of ``concept_id`` from ``raw``: numbers normalized, answers categorized."""
        if concept_id is None:
            return Measurement(concept=None, codes=codes, **_as_reported(raw), **ctx.fields())
        concept = self.library.get(concept_id)
        if concept.value_type == "number":
            hint = self.unit_hint(codes)
            if hint and raw.quantity is not None and raw.quantity.unit is None:
                raw = dataclasses.replace(raw, quantity=dataclasses.replace(raw.quantity, unit=hint))
            values = self._numeric(concept, raw, ctx.source)
        else:
            values = self._coded(concept, raw, ctx.source)
        extra = values.pop("flags", ())
        fields = ctx.fields() | {"flags": ctx.flags + (extra if isinstance(extra, tuple) else ())}
        return Measurement(concept=concept_id, codes=codes, **values, **fields)

    # -- numbers ------------------------------------------------------------------------------------------

    def _numeric(self, concept: Concept, raw: RawResult, source: str) -> dict[str, object]:
        quantity = raw.quantity or self._number_from_answers(concept, raw.answers) or number_from_text(raw.text)
        if quantity is None:
            self.note(source, _missing(raw, f"no numeric result for {concept.id}"), KEPT_UNUSED)
            return {"value_text": raw.text, "value_code": raw.answers[0] if raw.answers else None}
        converted = self._convert(quantity, concept, source, "value")
        if converted is None:
            return {
                "original_value": quantity.value,
                "original_unit": quantity.unit,
                "flags": ("unit not converted",),
            }
        flags: tuple[str, ...] = (f"censored {quantity.comparator}",) if quantity.comparator else ()
        if not is_plausible(converted.value, concept):
            flags += ("implausible",)
            self.note(source, f"{concept.id}: {IMPLAUSIBLE}", "kept, flagged implausible")
        low = self._bound(raw.low, quantity.unit, concept, source)
        high = self._bound(raw.high, quantity.unit, concept, source)
        return {
            "value": converted.value,
            "unit": converted.unit,
            "original_value": converted.original_value,
            "original_unit": converted.original_unit,
            "low": low,
            "high": high,
            "flags": flags,
        }

    def _convert(self, q: Quantity, concept: Concept, source: str, what: str) -> NormalizedValue | None:
        try:
            return normalize(q.value, q.unit, concept)
        except UnitError:
            given = f"unit '{q.unit}'" if q.unit else "no unit"
            self.note(source, f"{concept.id}: {what} has {given}, not convertible to {concept.unit}", KEPT_UNUSED)
            return None

    def _bound(self, q: Quantity | None, value_unit: str | None, concept: Concept, source: str) -> float | None:
        """A reference-range limit in the canonical unit; a limit without a unit takes the value's unit."""
        if q is None:
            return None
        converted = self._convert(Quantity(q.value, q.unit or value_unit), concept, source, "reference range")
        return converted.value if converted else None

    def _number_from_answers(self, concept: Concept, answers: tuple[Coding, ...]) -> Quantity | None:
        """A numeric scale answered with an answer code (ECOG LA9622-7 = 0, Karnofsky LA29175-9 = 100)."""
        category = self._category(concept, answers)
        try:
            return Quantity(float(category)) if category is not None else None
        except ValueError:
            return None

    # -- categories ---------------------------------------------------------------------------------------

    def _coded(self, concept: Concept, raw: RawResult, source: str) -> dict[str, object]:
        category = self._category(concept, raw.answers) or _category_from_text(raw.text, concept)
        if category is None and raw.quantity is not None and raw.quantity.value.is_integer():
            category = _category_from_text(f"{int(raw.quantity.value)}", concept)
        if category is not None:
            display = next((a.display for a in raw.answers if a.display), None) or category.replace("_", " ")
            return {
                "value_code": Coding(system=CATEGORY_SYSTEM, code=category, display=display),
                "value_text": raw.text,
            }
        if raw.answers:
            self.note(source, f"{concept.id}: answer code not in the concept library", KEPT_UNUSED)
        else:
            self.note(source, _missing(raw, f"{concept.id}: result not understood as a category"), KEPT_UNUSED)
        return {"value_code": raw.answers[0] if raw.answers else None, "value_text": raw.text}

    def _category(self, concept: Concept, answers: Iterable[Coding]) -> str | None:
        for a in answers:
            category = self.library.answer_category(concept.id, a.system, a.code)
            if category is not None:
                return category
        return None


def _as_reported(raw: RawResult) -> dict[str, object]:
    """A result kept exactly as reported (its code is unknown, so there is no canonical unit)."""
    q = raw.quantity
    return {
        "value": q.value if q else None,
        "unit": q.unit if q else None,
        "value_code": raw.answers[0] if raw.answers else None,
        "value_text": raw.text,
    }


def _missing(raw: RawResult, message: str) -> str:
    empty = raw.quantity is None and not raw.answers and raw.text is None
    return message.split(":")[0] + ": no result value" if empty else message


def number_from_text(text: str | None) -> Quantity | None:
    """A number written as text ("12", "<0.2", "greater than 2.2"), keeping a censoring comparator."""
    if not text:
        return None
    folded = text.strip().lower()
    for pattern, comparator in _COMPARATOR_WORDS:
        words = pattern.match(folded)
        if words:
            folded = comparator + folded[words.end() :]
            break
    match = _NUMBER_TEXT.match(folded)
    if match is None:
        return None
    comparator = _SYMBOLS.get(match.group(1) or "", match.group(1))
    return Quantity(float(match.group(2)), None, comparator)


def _category_from_text(text: str | None, concept: Concept) -> str | None:
    """A category named in free text: IHC scores ("2+", "score 3"), or a category the concept lists
    (case, spaces and underscores folded: "Not amplified" is ``not_amplified``)."""
    if not text:
        return None
    folded = _fold(text)
    ihc = _IHC_TEXT.match(folded)
    if ihc:
        folded = "0" if ihc.group(1) == "0" else f"{ihc.group(1)}+"
    return {_fold(c): c for c in _categories(concept)}.get(folded)


def _fold(text: str) -> str:
    return " ".join(text.strip().lower().replace("_", " ").split())


def _categories(concept: Concept) -> set[str]:
    """The category names a coded concept's answers roll up to."""
    return {a.category for a in concept.answers} | SCORE_CATEGORIES.get(concept.id, frozenset())
