"""Build trialmatch's embedded terminology pack from public sources (maintainers only).

Reads ../shared/terminology (VSAC eCQM value sets, mCODE value sets expanded against SNOMED CT, MITRE's trial
matching element lists) and the ICD-10-CM hierarchy of the ``simple-icd-10-cm`` package, applies the concept
library's bindings (value sets by name and version, ICD-10-CM codes with their descendants, drug names), and
writes ``src/trialmatch/data/terminology/{codes.tsv.gz,manifest.json}``. The output is byte-reproducible:
tests rebuild it and compare. Usage::

    .venv/bin/python scripts/build_terminology.py [--sources ../shared/terminology] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import simple_icd_10_cm as icd

from trialmatch.terminology.concepts import ICD10CM, RXNORM, ConceptLibrary, ValueSetBinding
from trialmatch.terminology.pack import write_rows

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCES = ROOT.parent / "shared" / "terminology"
DEFAULT_OUT = ROOT / "src" / "trialmatch" / "data" / "terminology"
PACK_FORMAT = 1
ATTRIBUTION = [
    "SNOMED CT(R) is a registered trademark of SNOMED International (IHTSDO); use outside member countries "
    "needs a licence.",
    "LOINC(R) is a registered trademark of the Regenstrief Institute, used under the LOINC licence.",
    "RxNorm: courtesy of the U.S. National Library of Medicine (public domain).",
    "ICD-10-CM: CDC National Center for Health Statistics / CMS (public domain), hierarchy read with the "
    "simple-icd-10-cm package (MIT).",
    "Value sets from the Value Set Authority Center (VSAC), U.S. National Library of Medicine, as published in "
    "the CMS 2025 eCQM content (CC0).",
    "mCODE value sets expanded by MITRE's mCODE Extraction Framework, and MITRE's clinical trial matching "
    "element lists: Copyright The MITRE Corporation, Apache License 2.0 (NOTICE carried).",
]

Row = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class ValueSet:
    """One source value set's expansion: (system, code, display) members."""

    name: str
    version: str
    source: str
    members: tuple[tuple[str, str, str], ...]


def read_value_sets(sources: Path) -> dict[tuple[str, str], ValueSet]:
    """Every value set the sources hold, by (name, version)."""
    found: dict[tuple[str, str], ValueSet] = {}
    for path in sorted((sources / "vsac-ecqm-2025").glob("valueset-*.json")):
        found.update(_fhir_value_set(path, f"VSAC {path.stem.removeprefix('valueset-')}"))
    for path in sorted((sources / "mcode-expanded").glob("ValueSet-*.json")):
        found.update(_fhir_value_set(path, f"mCODE {path.stem.removeprefix('ValueSet-')}"))
    for path in sorted((sources / "mitre-patient-elements").glob("*.json")):
        data = json.loads(path.read_bytes())
        if not isinstance(data, list) or not data or "system" not in data[0]:
            continue
        version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        name = f"MITRE trial-matching {path.stem}"
        members = tuple((e["system"], str(e["code"]), e.get("display") or "") for e in data)
        found[(name, version)] = ValueSet(name, version, f"MITRE {path.name}", members)
    return found


def _fhir_value_set(path: Path, source: str) -> dict[tuple[str, str], ValueSet]:
    data = json.loads(path.read_bytes())
    name = data.get("title") or data.get("name") or path.stem
    version = str(data.get("version", ""))
    contains = data.get("expansion", {}).get("contains", [])
    members = tuple((c["system"], str(c["code"]), c.get("display") or "") for c in contains)
    return {(name, version): ValueSet(name, version, source, members)}


def bound_rows(library: ConceptLibrary, sets: dict[tuple[str, str], ValueSet]) -> Iterator[Row]:
    """Rows for every value-set binding of every concept; a binding to a missing set stops the build."""
    for cid in sorted(library.ids()):
        for binding in library.get(cid).value_sets:
            value_set = sets.get((binding.name, binding.version))
            if value_set is None:
                raise SystemExit(f"{cid}: value set '{binding.name}' version {binding.version} not in the sources")
            via = f"value_set:{binding.name}|{binding.version}"
            for system, code, display in value_set.members:
                if _keeps(binding, system, display):
                    yield system, code, display, cid, via


def _keeps(binding: ValueSetBinding, system: str, display: str) -> bool:
    if binding.system is not None and system != binding.system:
        return False
    if binding.display is not None and not re.search(binding.display, display, re.IGNORECASE):
        return False
    return binding.exclude is None or not re.search(binding.exclude, display, re.IGNORECASE)


def icd_rows(library: ConceptLibrary) -> Iterator[Row]:
    """Every ICD-10-CM code below a code (or block) a concept lists with its descendants."""
    for cid in sorted(library.ids()):
        for entry in library.get(cid).codes:
            if entry.system != ICD10CM or not entry.descendants:
                continue
            if not icd.is_valid_item(entry.code):
                raise SystemExit(f"{cid}: '{entry.code}' is not an ICD-10-CM code or block")
            for code in icd.get_descendants(entry.code):
                if icd.is_category_or_subcategory(code) or icd.is_extended_subcategory(code):
                    yield ICD10CM, code, icd.get_description(code), cid, f"hierarchy:icd-10-cm:{entry.code}"


def rxnorm_rows(library: ConceptLibrary, sets: dict[tuple[str, str], ValueSet]) -> Iterator[Row]:
    """Every RxNorm code the sources name, with the ingredient concepts its RxNorm name names (or none)."""
    names: dict[str, str] = {}
    for key in sorted(sets):
        for system, code, display in sets[key].members:
            if system == RXNORM and display:
                names.setdefault(code, display)
    for code, display in sorted(names.items()):
        ingredients = library.ingredients_named(display)
        for cid in ingredients:
            yield RXNORM, code, display, cid, f"rxnorm:{cid}"
        if not ingredients:
            yield RXNORM, code, display, "", ""


def build(sources: Path, out: Path) -> dict[str, object]:
    """Write the pack to ``out``; returns its manifest."""
    library = ConceptLibrary.load()
    sets = read_value_sets(sources)
    rows = [*bound_rows(library, sets), *icd_rows(library), *rxnorm_rows(library, sets)]
    codes = write_rows(rows)
    used = sorted({r[4].removeprefix("value_set:") for r in rows if r[4].startswith("value_set:")})
    manifest = {
        "format": PACK_FORMAT,
        "version": hashlib.sha256(codes).hexdigest()[:12],
        "concept_bindings": library.binding_digest(),
        "sources": {
            "value_sets": [
                {"name": n, "version": v, "source": sets[(n, v)].source} for n, v in (u.rsplit("|", 1) for u in used)
            ],
            "icd-10-cm": f"simple-icd-10-cm {metadata.version('simple-icd-10-cm')}",
            "rxnorm": "RxNorm names as given in the VSAC and MITRE sources above",
        },
        "counts": {
            "codes": len({(r[0], r[1]) for r in rows}),
            "recognised": len({(r[0], r[1]) for r in rows if r[3]}),
        },
        "attribution": ATTRIBUTION,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "codes.tsv.gz").write_bytes(codes)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES, help="the shared terminology folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the pack is written")
    args = parser.parse_args(argv)
    if not args.sources.is_dir():
        print(f"{args.sources}: no such folder (see its README for the sources)", file=sys.stderr)
        return 2
    manifest = build(args.sources, args.out)
    print(f"terminology pack {manifest['version']}: {manifest['counts']} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
