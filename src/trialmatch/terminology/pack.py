"""The embedded terminology pack: every code the public sources let trialmatch recognise, and why.

The pack is derived by ``scripts/build_terminology.py`` from public value sets (VSAC, mCODE, MITRE's trial
matching lists), the ICD-10-CM hierarchy and RxNorm product names, against the concept library's bindings; it
is committed under ``trialmatch/data/terminology`` (``codes.tsv.gz`` plus ``manifest.json`` with the sources'
versions and attributions). Run time reads only the pack, never the sources (docs/terminology.md).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from trialmatch.errors import ConceptError

PACK_FILES = ("codes.tsv.gz", "manifest.json")
COLUMNS = ("system", "code", "display", "concept", "via")


@dataclass(frozen=True)
class PackEntry:
    """One code the pack knows: its display and each concept it means with the way it was derived.

    ``via`` reads ``value_set:<name>|<version>``, ``hierarchy:<system>:<ancestor code>`` or
    ``rxnorm:<ingredient concept>``; a code with no concept (a drug whose ingredient trialmatch does not
    classify) is kept for its display.
    """

    display: str
    concepts: tuple[tuple[str, str], ...]


class TerminologyPack:
    """The pack's codes by (system, code), and its manifest."""

    def __init__(self, entries: Mapping[tuple[str, str], PackEntry], manifest: Mapping[str, Any]) -> None:
        self._entries = dict(entries)
        self.manifest = dict(manifest)
        self.version = str(self.manifest.get("version", "unversioned"))

    @classmethod
    def from_text(cls, rows: str, manifest: Mapping[str, Any]) -> TerminologyPack:
        """A pack from its TSV text (header first) and manifest."""
        grouped: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {}
        for line in rows.splitlines()[1:]:
            system, code, display, concept, via = line.split("\t")
            _, pairs = grouped.setdefault((system, code), (display, []))
            if concept:
                pairs.append((concept, via))
        entries = {key: PackEntry(display, tuple(pairs)) for key, (display, pairs) in grouped.items()}
        return cls(entries, manifest)

    def get(self, system: str, code: str) -> PackEntry | None:
        """The pack's entry for a code, or None."""
        return self._entries.get((system, code))

    def codes_of(self, concept_id: str) -> Iterator[tuple[str, str, str, str]]:
        """Every (system, code, display, via) the pack binds directly to ``concept_id``."""
        for (system, code), entry in self._entries.items():
            for concept, via in entry.concepts:
                if concept == concept_id:
                    yield system, code, entry.display, via

    def __len__(self) -> int:
        return len(self._entries)


def write_rows(rows: list[tuple[str, str, str, str, str]]) -> bytes:
    """The pack's TSV rows, sorted and gzip'd byte-reproducibly (no timestamp, no file name)."""
    text = io.StringIO()
    text.write("\t".join(COLUMNS) + "\n")
    for row in sorted(set(rows)):
        text.write("\t".join(_clean(v) for v in row) + "\n")
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def _clean(value: str) -> str:
    return " ".join(value.replace("\t", " ").split())


def load_bundled() -> TerminologyPack:
    """The pack shipped with trialmatch."""
    folder = resources.files("trialmatch") / "data" / "terminology"
    codes, manifest = (folder / name for name in PACK_FILES)
    if not codes.is_file() or not manifest.is_file():
        raise ConceptError("the terminology pack is missing: run scripts/build_terminology.py (docs/terminology.md)")
    rows = gzip.decompress(codes.read_bytes()).decode("utf-8")
    return TerminologyPack.from_text(rows, json.loads(manifest.read_text(encoding="utf-8")))
