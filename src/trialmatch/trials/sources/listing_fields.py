"""Labelled values on trial web pages, in the three layouts seen: ``Label: value``, ``Label | value |`` and
a label line with its value on the following line(s)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Labels that end a multi-line value (a page prints "Condition", its values, then the next label).
_STOP_LABELS = frozenset(
    (
        "treatment",
        "treatments",
        "intervention",
        "interventions",
        "clinical study id",
        "phase",
        "sponsor",
        "study summary",
        "keywords",
        "eligibility criteria",
        "locations",
        "status",
        "study type",
    )
)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9#/._:-]{0,39}")


def clean_line(raw: str) -> str:
    """A page line without leading bullets, table pipes and surrounding space."""
    text = raw.replace("\u00a0", " ").strip()
    text = re.sub(r"^[•·▪*-]\s+", "", text)
    return re.sub(r"\s*\|\s*$", "", text).strip()


def is_id(text: str) -> bool:
    """A single token with a digit in it: NCT06450314, 14-156, UC-BCG-2312, 2023-509811-98-00."""
    return bool(_ID.fullmatch(text)) and any(c.isdigit() for c in text)


class Page:
    """The lines of a page, with lookups of labelled values."""

    def __init__(self, text: str) -> None:
        self.raw = text.splitlines()
        self.lines = [clean_line(line) for line in self.raw]

    def _label_at(self, index: int, label: str) -> str | None:
        """The same-line value when line ``index`` carries ``label`` ("" when the value is on later lines)."""
        pattern = rf"{re.escape(label)}\s*(?:[:|]\s*(?P<value>.*?))?[\s:|]*"
        match = re.fullmatch(pattern, self.lines[index], re.IGNORECASE)
        return None if match is None else (match.group("value") or "").strip(" |")

    def values(self, label: str, accept: Callable[[str], bool] = bool, *, many: bool = False) -> list[str]:
        """Values of the first line carrying ``label``: on the same line, else on the following lines.

        Following lines are read while ``accept`` holds (one line unless ``many``), stopping at a label.
        """
        for index in range(len(self.lines)):
            same_line = self._label_at(index, label)
            if same_line is None:
                continue
            if same_line:
                return [same_line] if accept(same_line) else []
            return self._following(index + 1, accept, many)
        return []

    def _following(self, start: int, accept: Callable[[str], bool], many: bool) -> list[str]:
        found: list[str] = []
        for line in self.lines[start:]:
            if not line:
                continue
            if line.lower().rstrip(":") in _STOP_LABELS or not accept(line):
                break
            found.append(line)
            if not many:
                break
        return found

    def value(self, labels: Sequence[str], accept: Callable[[str], bool] = bool) -> str | None:
        """The value of the first label (in priority order) the page carries."""
        for label in labels:
            found = self.values(label, accept)
            if found:
                return found[0]
        return None

    def table(self) -> dict[str, str]:
        """Header → cell of pipe tables (a header row, a ``---|---`` row, then the values row)."""
        cells: dict[str, str] = {}
        for index in range(len(self.raw) - 2):
            if re.fullmatch(r"[\s|:-]*---[\s|:-]*", self.raw[index + 1]):
                heads = _cells(self.raw[index])
                row = _cells(self.raw[index + 2])
                cells.update((head.lower(), value) for head, value in zip(heads, row, strict=False) if value)
        return cells


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]
