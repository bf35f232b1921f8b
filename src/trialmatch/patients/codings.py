"""Every coding a patient's record uses, with what the terminology recognised it as: the check report's codes
and the mapping work-list (``unmapped_codes.csv``) a data team fills in and feeds back with ``--map``.

Codings are taken from the clinically meaningful elements the readers keep: condition, medication, procedure
and observation codes, and coded observation values. Never a patient value: a coding is the code system's
vocabulary, not the patient's result.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from trialmatch.patients.model import Coding, PatientRecord
from trialmatch.patients.sources.facts import CATEGORY_SYSTEM, LOCAL_SYSTEM
from trialmatch.terminology.concepts import LOCAL_MAP_COLUMNS, ConceptLibrary, Recognition
from trialmatch.terminology.possible import possible_concepts

WORKLIST_COLUMNS = (*LOCAL_MAP_COLUMNS, "element", "records", "patients", "possible")
_DOMAINS = {"Condition": "condition", "Procedure": "procedure"}


@dataclass(frozen=True)
class CodingUse:
    """One distinct coding in one element of a patient's record, how many resources carry it, and what it
    was recognised as (``recognised_by`` None when nothing)."""

    system: str
    code: str
    display: str | None
    element: str
    count: int
    concepts: tuple[str, ...]
    recognised_by: str | None
    possible: tuple[str, ...] = ()

    @property
    def relevant(self) -> bool:
        """Whether an unrecognised coding may matter to criteria: its display names a concept rules use."""
        return bool(self.possible)

    def as_json(self) -> dict[str, object]:
        """The coding as ``patients check --format json`` prints it (patient-check.schema.json)."""
        return {
            "system": self.system,
            "code": self.code,
            "display": self.display,
            "element": self.element,
            "count": self.count,
            "concepts": list(self.concepts),
            "recognised_by": self.recognised_by,
            "relevant": self.relevant,
        }


def record_codings(record: PatientRecord, library: ConceptLibrary) -> list[CodingUse]:
    """Every distinct (system, code, element) of the record, with its recognition."""
    seen: Counter[tuple[str, str, str]] = Counter()
    displays: dict[tuple[str, str, str], str | None] = {}
    for element, coding in _codings(record):
        if coding.system == CATEGORY_SYSTEM:
            continue  # a coded result the reader already rolled up to its category: the original is not kept
        key = (coding.system, coding.code, element)
        seen[key] += 1
        displays[key] = displays.get(key) or coding.display
    uses = []
    for (system, code, element), count in seen.items():
        display = displays[(system, code, element)]
        found = _recognise(library, system, code, display, element)
        possible = () if found.concepts else possible_concepts(_domain(element), display)
        uses.append(CodingUse(system, code, display, element, count, found.concepts, found.recognised_by, possible))
    return sorted(uses, key=lambda u: (u.element, u.system, -u.count, u.code))


def _recognise(library: ConceptLibrary, system: str, code: str, display: str | None, element: str) -> Recognition:
    if system.startswith(LOCAL_SYSTEM):
        concept = f"{system.removeprefix(LOCAL_SYSTEM)}.{code.replace('-', '_')}"
        return Recognition((concept,), "code") if concept in library.ids() else Recognition()
    return library.recognise(system, code, display, by_name=element.endswith(".medication"))


def _codings(record: PatientRecord) -> Iterator[tuple[str, Coding]]:
    for c in record.conditions:
        yield from ((f"{_resource(c.source, 'Condition')}.code", k) for k in c.codes)
    for m in record.medications:
        yield from ((f"{_resource(m.source, 'Medication')}.medication", k) for k in m.codes)
    for p in record.procedures:
        yield from ((f"{_resource(p.source, 'Procedure')}.code", k) for k in p.codes)
    for o in record.measurements:
        yield from ((f"{_resource(o.source, 'Observation')}.code", k) for k in o.codes)
        if o.value_code is not None:
            yield f"{_resource(o.source, 'Observation')}.value", o.value_code


def _resource(source: str, default: str) -> str:
    """The resource type a fact came from (``MedicationRequest/x``), or the domain's for CSV lines."""
    head = source.split("/", 1)[0]
    return head if "/" in source and head[:1].isupper() else default


def _domain(element: str) -> str:
    return _DOMAINS.get(element.split(".", 1)[0], "other")


@dataclass
class UnmappedCodes:
    """The mapping work-list over many patients: every unrecognised coding with its records and patients."""

    records: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    patients: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    displays: dict[tuple[str, str, str], str] = field(default_factory=dict)
    possible: dict[tuple[str, str, str], tuple[str, ...]] = field(default_factory=dict)

    def add(self, uses: Iterable[CodingUse]) -> None:
        """Count one patient's unrecognised codings."""
        for use in uses:
            if use.concepts or use.recognised_by is not None:
                continue
            key = (use.system, use.code, use.element)
            self.records[key] += use.count
            self.patients[key] += 1
            self.displays.setdefault(key, use.display or "")
            self.possible[key] = use.possible

    def merge(self, other: UnmappedCodes) -> None:
        """Add another work-list's counts (from another process)."""
        self.records.update(other.records)
        self.patients.update(other.patients)
        for key, display in other.displays.items():
            self.displays.setdefault(key, display)
        self.possible.update(other.possible)

    def rows(self) -> list[dict[str, str]]:
        """The work-list, most frequent first, in the layout ``--map`` reads (concept left to fill in)."""
        ordered = sorted(self.records, key=lambda k: (-self.records[k], -self.patients[k], k))
        return [
            {
                "system": system,
                "code": code,
                "concept": "",
                "unit_hint": "",
                "note": self.displays[(system, code, element)],
                "element": element,
                "records": str(self.records[(system, code, element)]),
                "patients": str(self.patients[(system, code, element)]),
                "possible": " ".join(self.possible[(system, code, element)]),
            }
            for system, code, element in ordered
        ]

    def write(self, path: Path) -> None:
        """Write the work-list as CSV."""
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=WORKLIST_COLUMNS)
            writer.writeheader()
            writer.writerows(self.rows())
