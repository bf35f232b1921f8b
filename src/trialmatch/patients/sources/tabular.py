"""CSV input for registries and spreadsheets: one row per patient, columns per ``tabular_columns``.

Every fact's source is ``line N, column X``, so a problem points at the cell to fix.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trialmatch.errors import InputError, RecordError
from trialmatch.patients.model import (
    ConditionFact,
    InputProblem,
    Measurement,
    MedicationFact,
    PatientRecord,
    ProcedureFact,
)
from trialmatch.patients.sources.facts import KEPT_UNUSED, Context, Normalizer, Quantity, RawResult
from trialmatch.patients.sources.shards import WHOLE, Shard
from trialmatch.patients.sources.tabular_columns import (
    BRAIN_STATES,
    LAB_SUFFIXES,
    LABS,
    LISTS,
    VALUES,
    ValueColumn,
    all_columns,
)
from trialmatch.terminology.concepts import ConceptLibrary

_ITEM = re.compile(r"^([a-z0-9_]+)(?::(\d{4}-\d{2}-\d{2})?(?:\.\.(\d{4}-\d{2}-\d{2})?)?)?$")
_SEXES = ("female", "male", "other", "unknown")
_YES = ("yes", "true", "1", "y")
_NO = ("no", "false", "0", "n")


def read_csv(
    path: Path, library: ConceptLibrary, problems: list[InputProblem], shard: Shard = WHOLE
) -> Iterator[PatientRecord]:
    """The shard's patients of a CSV file; unknown columns are noted once in ``problems``."""
    reader = _reader(path)
    known = set(all_columns())
    for column in reader.fieldnames or []:
        if column not in known:
            problems.append(InputProblem(source=f"column {column}", problem="column not recognized", action="ignored"))
    return _rows(shard.select(reader), reader, library, str(path))


def count_csv(path: Path) -> int:
    """How many patients (rows) a CSV file holds, without building their records."""
    return sum(1 for _ in _reader(path))


def _reader(path: Path) -> csv.DictReader[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
    reader = csv.DictReader(text.splitlines())
    if "patient_id" not in (reader.fieldnames or []):
        raise RecordError(f"{path}: no patient_id column")
    return reader


def _rows(
    rows: Iterable[dict[str, str | None]], reader: csv.DictReader[str], library: ConceptLibrary, source: str
) -> Iterator[PatientRecord]:
    """One record per row; ``reader`` gives each row's line number."""
    for row in rows:
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        yield _Row(reader.line_num, cells, Normalizer(library)).record((source,))


def _item(item: str, prefix: str) -> tuple[str, dt.date | None, dt.date | None] | None:
    """(concept id, start, end) of one list item, or None when it does not parse."""
    match = _ITEM.match(item.lower())
    if match is None:
        return None
    try:
        start, end = (dt.date.fromisoformat(g) if g else None for g in match.group(2, 3))
    except ValueError:
        return None
    return f"{prefix}.{match.group(1)}", start, end


@dataclass
class _Row:
    """One CSV row being read; problems and facts name ``line N, column X``."""

    line: int
    cells: dict[str, str]
    norm: Normalizer

    def where(self, column: str) -> str:
        return f"line {self.line}, column {column}"

    def record(self, sources: tuple[str, ...]) -> PatientRecord:
        patient_id = self.cells.get("patient_id") or f"line-{self.line}"
        if not self.cells.get("patient_id"):
            self.norm.note(self.where("patient_id"), "no patient_id; the line number stands in", "kept")
        measurements = [m for column in VALUES if (m := self._value(column)) is not None]
        measurements += [m for lab in LABS if (m := self._lab(lab)) is not None]
        conditions = self._conditions()
        died = self._deceased()
        return PatientRecord(
            patient_id=patient_id,
            birth_date=self._birth_date(),
            sex=self._choice("sex", _SEXES),
            deceased=died[0],
            deceased_on=died[1],
            measurements=tuple(measurements),
            conditions=tuple(conditions),
            medications=tuple(self._medications()),
            procedures=tuple(self._procedures()),
            problems=tuple(self.norm.problems),
            sources=sources,
        )

    # -- cells ---------------------------------------------------------------------------------------------

    def date(self, column: str | None) -> dt.date | None:
        text = self.cells.get(column or "", "")
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            self.norm.note(self.where(column or ""), "not an ISO 8601 date (YYYY-MM-DD)", "date ignored")
            return None

    def number(self, column: str) -> float | None:
        text = self.cells.get(column, "")
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            self.norm.note(self.where(column), "not a number", "value ignored")
            return None

    def _choice(self, column: str, allowed: tuple[str, ...]) -> str | None:
        text = self.cells.get(column, "").lower()
        if text and text not in allowed:
            self.norm.note(self.where(column), f"expected one of {', '.join(allowed)}", "value ignored")
            return None
        return text or None

    def _deceased(self) -> tuple[bool, dt.date | None]:
        """``deceased`` is yes / no or the date of death (YYYY-MM-DD)."""
        text = self.cells.get("deceased", "").lower()
        if not text or text in _NO:
            return False, None
        if text in _YES:
            return True, None
        died = self.date("deceased")
        return died is not None, died

    def _birth_date(self) -> dt.date | None:
        birth = self.date("birth_date")
        if birth is None and not self.cells.get("birth_date"):
            self.norm.note(self.where("birth_date"), "birth_date missing; age unknown", "kept; age criteria unknown")
        return birth

    # -- results -------------------------------------------------------------------------------------------

    def _value(self, column: ValueColumn) -> Measurement | None:
        text = self.cells.get(column.name, "")
        if not text:
            return None
        concept = self.norm.library.get(column.concept)
        if concept.value_type == "number":
            number = self.number(column.name)
            if number is None:
                return None
            raw = RawResult(quantity=Quantity(number, column.unit))
        else:
            raw = RawResult(text=text)
        site = self._choice(column.site, ("primary", "metastatic")) if column.site else None
        ctx = Context(source=self.where(column.name), date=self.date(column.date), specimen_site=site)
        return self.norm.measurement(column.concept, (), raw, ctx)

    def _lab(self, lab: str) -> Measurement | None:
        value, unit, day, uln = (f"{lab}{s}" for s in LAB_SUFFIXES)
        number = self.number(value)
        if number is None:
            return None
        high = self.number(uln)
        raw = RawResult(
            quantity=Quantity(number, self.cells.get(unit) or None),
            high=Quantity(high, self.cells.get(unit) or None) if high is not None else None,
        )
        return self.norm.measurement(LABS[lab], (), raw, Context(source=self.where(value), date=self.date(day)))

    # -- lists ---------------------------------------------------------------------------------------------

    def items(self, column: str) -> Iterator[tuple[str, dt.date | None, dt.date | None]]:
        """(concept id, start, end) of a "name[:start[..end]]" list; unknown names and bad items noted."""
        prefix = LISTS[column]
        for item in filter(None, (part.strip() for part in self.cells.get(column, "").split(";"))):
            parsed = _item(item, prefix)
            if parsed is None or parsed[0] not in self.norm.library.ids():
                self.norm.note(
                    self.where(column),
                    "item not understood (name[:YYYY-MM-DD[..YYYY-MM-DD]])",
                    "item ignored",
                )
                continue
            yield parsed

    def _conditions(self) -> list[ConditionFact]:
        out = []
        primary = self.cells.get("primary_cancer", "")
        if primary:
            concept_id = f"condition.{primary.lower()}"
            if concept_id in self.norm.library.ids():
                where = self.where("primary_cancer")
                out.append(
                    ConditionFact(
                        concept=concept_id,
                        category="primary-cancer",
                        clinical_status="active",
                        onset=self.date("diagnosis_date"),
                        source=where,
                    )
                )
            else:
                self.norm.note(self.where("primary_cancer"), "not a condition concept name", KEPT_UNUSED)
        for column, category in (("metastatic_sites", "secondary-cancer"), ("comorbidities", "comorbidity")):
            for concept_id, start, end in self.items(column):
                out.append(
                    ConditionFact(
                        concept=concept_id,
                        category=category,
                        clinical_status="active",
                        onset=start,
                        abatement=end,
                        source=self.where(column),
                    )
                )
        return out + self._brain()

    def _brain(self) -> list[ConditionFact]:
        """``brain_metastases``: active, or treated_stable (recorded as clinical status ``remission``)."""
        state = self._choice("brain_metastases", BRAIN_STATES)
        if state in (None, "none"):
            return []
        status = "active" if state == "active" else "remission"
        return [
            ConditionFact(
                concept="condition.metastasis.brain",
                category="secondary-cancer",
                clinical_status=status,
                onset=self.date("brain_metastases_date"),
                source=self.where("brain_metastases"),
            )
        ]

    def _medications(self) -> Iterator[MedicationFact]:
        for concept_id, start, end in self.items("drugs"):
            yield MedicationFact(
                concepts=(concept_id,),
                record_type="statement",
                status="completed" if end else "active",
                start=start,
                end=end,
                source=self.where("drugs"),
            )

    def _procedures(self) -> Iterator[ProcedureFact]:
        for concept_id, start, end in self.items("procedures"):
            yield ProcedureFact(
                concept=concept_id,
                status="completed",
                start=start,
                end=end or start,
                source=self.where("procedures"),
            )
