"""Stage group and M category as records carry them, and the evidence of metastatic disease they give.

Stage groups come from mCODE TNM stage group observations (LOINC 21908-9 clinical, 21902-2 pathological) and
from a cancer Condition's stage summary; M categories from M category observations (21907-1, 21901-4). Real
records write them as SNOMED qualifiers ("Stage 4 (qualifier value)", "M1 category (finding)"), AJCC codes
("c4", "cM1", "pIIIA") or text ("Stage IV", "stage 2B"): all are read to one form, roman numerals with the
substage letter. Stage IV or M1 is metastatic disease (AJCC: M1 is stage IV whatever T and N are).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from trialmatch.patients.derive.base import Context, condition_date
from trialmatch.patients.model import Measurement

STAGE_GROUP = "obs.stage_group"
M_CATEGORY = "obs.tnm_m"
_ROMAN = {"0": "0", "1": "I", "2": "II", "3": "III", "4": "IV", "i": "I", "ii": "II", "iii": "III", "iv": "IV"}
_STAGE_WORDS = re.compile(r"\bstage\s*(iv|iii|ii|i|[0-4])\s*([abc])?(?![a-z0-9])")
_STAGE_CODE = re.compile(r"^(?:y?[cp])?\s*(iv|iii|ii|i|[0-4])([abc])?$")
_M_WORDS = re.compile(r"(?<![a-z])(?:y?[cp])?m\s*([01])(?![0-9])")


def stage_in(texts: Iterable[str | None]) -> str | None:
    """The stage group ("IIIA", "IV") the first readable text names, or None."""
    for text in texts:
        folded = (text or "").strip().lower()
        found = _STAGE_WORDS.search(folded) or _STAGE_CODE.match(folded)
        if found:
            return _ROMAN[found.group(1)] + (found.group(2) or "").upper()
    return None


def m_in(texts: Iterable[str | None]) -> str | None:
    """``M0`` or ``M1`` as the first readable text names it (M1a–c are M1), or None (MX, nothing)."""
    for text in texts:
        found = _M_WORDS.search((text or "").lower())
        if found:
            return f"M{found.group(1)}"
    return None


def _texts(m: Measurement) -> list[str | None]:
    code = m.value_code
    return [code.code if code else None, code.display if code else None, m.value_text]


def main_group(stage: str) -> str:
    """The stage group without its substage letter (IIIA → III); stage 0 is carcinoma in situ (Tis N0 M0)."""
    group = stage.rstrip("ABC")
    return "in_situ" if group == "0" else group


@dataclass(frozen=True)
class StageRecord:
    """One recorded stage or M category: when, where it was read, and what it says."""

    date: dt.date | None
    source: str
    stage: str | None
    m: str | None

    @property
    def metastatic(self) -> bool:
        """Stage IV or M1."""
        return self.m == "M1" or (self.stage is not None and main_group(self.stage) == "IV")

    @property
    def words(self) -> str:
        """How explanations name it."""
        return f"stage {self.stage}" if self.stage else f"{self.m} category"


def stage_records(ctx: Context) -> list[StageRecord]:
    """Every readable stage group and M category, from observations and condition stage summaries."""
    found = [
        StageRecord(m.date, m.source, stage_in(_texts(m)) if m.concept == STAGE_GROUP else None, m_in(_texts(m)))
        for m in ctx.results(STAGE_GROUP, M_CATEGORY)
    ]
    found += [
        StageRecord(condition_date(c), c.source, stage_in([c.stage]), m_in([c.stage]))
        for c in ctx.conditions
        if c.stage
    ]
    return [r for r in found if r.stage or r.m]
