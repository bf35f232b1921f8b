"""Reading drug ingredients from product names: "10 ML Doxorubicin Hydrochloride 2 MG/ML Injection".

One reader serves two places: the pack build, which reads RxNorm's own product names (every level: clinical
and branded drugs, dose-form groups, packs, brand names), and run time, which reads a coding's display when
its code is not in the pack (then the evidence says "recognised by name"). Names match whole words only,
longest first, so "trastuzumab deruxtecan" is not also trastuzumab and "capecitabinex" is nothing; a
biosimilar suffix ("trastuzumab-oysk") is part of the word. A bracketed brand ("... [Kadcyla]") names the
product, so its ingredient wins over words inside the brackets' product name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Dose forms that act locally (RxNorm dose form names): a corticosteroid cream is not a systemic steroid.
LOCAL_DOSE_FORM = re.compile(
    r"\b(topical|cream|ointment|lotion|gel|foam|shampoo|ophthalmic|otic|nasal|inhal\w*|inhaler|"
    r"vaginal|rectal|enema|mouthwash|dental|paste|medicated pad|transdermal)\b",
    re.IGNORECASE,
)
_BRACKET = re.compile(r"\[([^\]]+)\]")
_SUFFIX = r"(?:-[a-z]{4})?"


@dataclass(frozen=True)
class DrugName:
    """A name (ingredient or brand) and the ingredient concept it means."""

    name: str
    concept: str
    systemic_only: bool = False


class DrugNameReader:
    """Finds ingredient concepts named in a product name or display text."""

    def __init__(self, names: Iterable[DrugName]) -> None:
        ordered = sorted(names, key=lambda n: (-len(n.name), n.name))
        self._names = ordered
        self._by_name: dict[str, list[DrugName]] = {}
        for n in ordered:
            self._by_name.setdefault(_fold(n.name), []).append(n)
        alternatives = "|".join(_word_pattern(n.name) for n in ordered)
        self._pattern = re.compile(rf"(?<!\w)({alternatives}){_SUFFIX}(?![\w-])", re.IGNORECASE)

    def ingredients(self, text: str | None) -> tuple[str, ...]:
        """The ingredient concepts ``text`` names, in order of appearance, without repeats."""
        if not text or not self._names:
            return ()
        brand = _BRACKET.search(text)
        if brand:
            from_brand = self._scan(brand.group(1), local=bool(LOCAL_DOSE_FORM.search(text)))
            if from_brand:
                return from_brand
        return self._scan(text, local=bool(LOCAL_DOSE_FORM.search(text)))

    def _scan(self, text: str, *, local: bool) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for match in self._pattern.finditer(text):
            for entry in self._by_name.get(_fold(match.group(1)), ()):
                if not (local and entry.systemic_only):
                    found[entry.concept] = None
        return tuple(found)


def _fold(name: str) -> str:
    return " ".join(re.split(r"[\s-]+", name.strip().casefold()))


def _word_pattern(name: str) -> str:
    """A name as a regular expression: its words separated by any run of spaces or hyphens."""
    return r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", name.strip()))
