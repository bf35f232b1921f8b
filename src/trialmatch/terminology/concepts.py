"""The concept library: the concept ids rules name, each with its value set of standard codes.

Rules speak in concepts (``lab.anc``, ``drug.class.anti_her2``); records carry codes (LOINC 751-8, a branded
RxNorm code). The library maps codes to concepts, rolls narrower concepts up to broader ones (a drug to its
classes, a metastasis site to metastatic disease) and holds what unit normalization needs (canonical unit,
molar mass, plausible range). The bundled YAML files live in ``trialmatch/data/concepts``; the format is
documented in ``docs/concepts.md``.
"""

from __future__ import annotations

import csv
import difflib
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trialmatch.errors import ConceptError, UnitError
from trialmatch.terminology.athena import VOCABULARIES, AthenaVocabulary, load_vocabulary
from trialmatch.terminology.drug_names import DrugName, DrugNameReader
from trialmatch.terminology.pack import TerminologyPack, load_bundled
from trialmatch.yaml_loader import FAST_LOADER

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
ATC = "http://www.whocc.no/atc"
MCODE_REQUESTED = "http://hl7.org/fhir/us/mcode/CodeSystem/snomed-requested-cs"
"""mCODE's codes requested from SNOMED CT before release (e.g. USCRS-33529 radiotherapy course of treatment)."""
HL7_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
"""HL7's observation interpretation codes (POS, NEG), which some systems send as a coded result."""
STANDARD_SYSTEMS = frozenset({LOINC, SNOMED, RXNORM, ICD10CM, DICOM, ATC, MCODE_REQUESTED, HL7_INTERPRETATION})

Kind = Literal[
    "lab",
    "vital",
    "score",
    "observation",
    "marker",
    "imaging",
    "condition",
    "drug",
    "drug_class",
    "procedure",
]
CodeStatus = Literal["verified", "secondary", "unverified", "local"]
LOCAL_MAP_COLUMNS = ("system", "code", "concept", "unit_hint", "note")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


class Code(_Frozen):
    """A code of a concept; ``descendants`` adds every code below it in the system's hierarchy (ICD-10-CM),
    which the terminology pack expands (``scripts/build_terminology.py``)."""

    system: str
    code: str = Field(min_length=1)
    display: str | None = None
    status: CodeStatus = "unverified"
    descendants: bool = False
    unit_hint: str | None = Field(default=None, description="Unit of a local code's values when records omit it")


class ValueSetBinding(_Frozen):
    """Members of a published value set (by name and version) that mean the concept.

    ``system`` keeps one code system's members; ``display``/``exclude`` (case-insensitive regular expressions
    on the member's display) narrow a broad set where no is-a hierarchy can be shipped: the secondary-cancer
    set's members that name the brain are brain metastases.
    """

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    system: str | None = None
    display: str | None = None
    exclude: str | None = None


class Answer(_Frozen):
    """A coded result value and the normalized category it means for its concept."""

    system: str
    code: str = Field(min_length=1)
    category: str = Field(min_length=1)
    display: str | None = None
    status: CodeStatus = "unverified"


class Concept(_Frozen):
    """A clinical concept rules can name: its value set, canonical unit and place in the hierarchy."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
    label: str
    kind: Kind
    value_type: Literal["number", "coded"] = "coded"
    unit: str | None = None
    molar_mass: float | None = Field(default=None, gt=0, description="g/mol, for molar <-> mass conversion")
    plausible: tuple[float, float] | None = None
    broader: tuple[str, ...] = ()
    note: str | None = None
    codes: tuple[Code, ...] = ()
    value_sets: tuple[ValueSetBinding, ...] = ()
    names: tuple[str, ...] = Field(default=(), description="Drugs: ingredient and brand names, read whole-word")
    systemic_only: bool = Field(default=False, description="Drugs: products in a local dose form do not count")
    answers: tuple[Answer, ...] = ()

    @model_validator(mode="after")
    def _check_numeric(self) -> Concept:
        if self.value_type == "number" and not self.unit:
            raise ValueError("a numeric concept needs a canonical unit")
        if self.value_type == "coded" and (self.unit or self.molar_mass or self.plausible):
            raise ValueError("a coded concept has no unit, molar mass or plausible range")
        if self.plausible and self.plausible[0] > self.plausible[1]:
            raise ValueError("plausible range low is above high")
        return self


@dataclass(frozen=True)
class Recognition:
    """What a coding was recognised as, and how.

    ``recognised_by`` is ``code`` (listed in the concept library), ``local_map``, ``value_set:<name>``,
    ``hierarchy:<system>``, ``rxnorm`` (an RxNorm product whose ingredient is classified) or ``name`` (an
    ingredient named in the display text); None when nothing was recognised. ``via`` says exactly which value
    set and version, which ancestor code or which ingredient.
    """

    concepts: tuple[str, ...] = ()
    recognised_by: str | None = None
    via: tuple[str, ...] = ()


def recognised_by(via: str) -> str:
    """The kind of a pack derivation: ``value_set:<name>|<version>`` -> ``value_set:<name>``, and so on."""
    kind, _, rest = via.partition(":")
    if kind == "value_set":
        return f"value_set:{rest.rpartition('|')[0]}"
    if kind == "hierarchy":
        return f"hierarchy:{rest.rpartition(':')[0]}"
    return kind


def _normalize_code(system: str, code: str) -> str:
    """Spell a record's code the way the library does (ICD-10-CM without its dot -> with it)."""
    code = code.strip()
    if system == ICD10CM:
        code = code.upper()
        if "." not in code and len(code) > 3:
            code = f"{code[:3]}.{code[3:]}"
    return code


_SYSTEM_NAMES = {
    LOINC: "LOINC",
    SNOMED: "SNOMED CT",
    RXNORM: "RxNorm",
    ICD10CM: "ICD-10-CM",
    ATC: "ATC",
    DICOM: "DICOM",
}


_SYSTEM_ALIASES = {
    "snomed": SNOMED,
    "sct": SNOMED,
    "snomedct": SNOMED,
    "loinc": LOINC,
    "rxnorm": RXNORM,
    "icd10cm": ICD10CM,
    "icd-10-cm": ICD10CM,
    "atc": ATC,
    "dicom": DICOM,
}


def system_name(system: str) -> str:
    """A code system's usual name (its URI when it has none)."""
    return _SYSTEM_NAMES.get(system, system)


def resolve_system(name: str) -> str:
    """A code system URI from a URI or a short name (``snomed``, ``rxnorm``, ``icd10cm`` ...)."""
    return _SYSTEM_ALIASES.get(name.strip().lower().replace(" ", ""), name.strip())


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A ``Did you mean 'x'?`` suffix for an unknown name, or an empty string."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


class ConceptLibrary:
    """Concepts by id, a code index, and the broader-than hierarchy; build with :meth:`load`."""

    def __init__(
        self,
        concepts: Mapping[str, Concept],
        version: str,
        pack: TerminologyPack | None = None,
        vocabulary: AthenaVocabulary | None = None,
    ) -> None:
        self._concepts = dict(concepts)
        self.pack = pack
        self.vocabulary = vocabulary
        self.version = version
        self._names = DrugNameReader(
            DrugName(name, c.id, c.systemic_only) for c in self._concepts.values() for name in c.names
        )
        self._ancestors = _ancestor_closure(self._concepts)
        self._exact: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        for concept in self._concepts.values():
            for entry in concept.codes:
                key = (entry.system, entry.code)
                self._exact.setdefault(key, []).append((concept.id, entry.status == "local"))
        self._ids = frozenset(self._concepts)
        # Answers per coding: a cohort ingest meets the same few hundred codings millions of times.
        self._recognised: dict[tuple[str, str, str | None, bool], Recognition] = {}
        self._hints: dict[tuple[str, str], str | None] = {}

    @classmethod
    def load(cls, paths: Sequence[Path] | None = None) -> ConceptLibrary:
        """Read and validate concept files (``None``: the bundled ones); ConceptError names the file."""
        sources = _bundled_sources() if paths is None else [(str(p), _read_text(p)) for p in paths]
        concepts: dict[str, Concept] = {}
        origin: dict[str, str] = {}
        versions: list[str] = []
        for name, text in sources:
            version, file_concepts = _parse_file(name, text)
            versions.append(version)
            for concept in file_concepts:
                if concept.id in concepts:
                    raise ConceptError(f"{name}: concept '{concept.id}' is also defined in {origin[concept.id]}")
                concepts[concept.id] = concept
                origin[concept.id] = name
        _check_library(concepts, origin)
        digest = hashlib.sha256("\0".join(text for _, text in sources).encode()).hexdigest()[:12]
        return cls(concepts, f"{'+'.join(sorted(set(versions)))}#{digest}")

    def ids(self) -> frozenset[str]:
        """Every concept id."""
        return self._ids

    def get(self, concept_id: str) -> Concept:
        """The concept called ``concept_id``; an unknown id raises ConceptError with a suggestion."""
        try:
            return self._concepts[concept_id]
        except KeyError:
            raise ConceptError(f"unknown concept '{concept_id}'.{did_you_mean(concept_id, self._concepts)}") from None

    def ancestors(self, concept_id: str) -> frozenset[str]:
        """Every broader concept, transitively (not the concept itself)."""
        self.get(concept_id)
        return self._ancestors[concept_id]

    def descendants(self, concept_id: str) -> frozenset[str]:
        """Every narrower concept, transitively (not itself): what a rule on ``concept_id`` also covers."""
        self.get(concept_id)
        return frozenset(c for c, above in self._ancestors.items() if concept_id in above)

    def is_a(self, concept_id: str, ancestor_id: str) -> bool:
        """Whether ``concept_id`` is ``ancestor_id`` or narrower than it."""
        self.get(ancestor_id)
        return concept_id == ancestor_id or ancestor_id in self.ancestors(concept_id)

    def concepts_for_code(self, system: str, code: str) -> tuple[str, ...]:
        """The most specific concepts a record's code belongs to (library codes and the pack); empty if none."""
        return self.recognise(system, code).concepts

    def recognise(self, system: str, code: str, display: str | None = None, *, by_name: bool = False) -> Recognition:
        """What a coding means: the library's own codes and the pack's derivations, most specific concepts
        first; with ``by_name``, a drug coding nobody knows is read for ingredient names in its display."""
        key = (system, code, display if by_name else None, by_name)
        known = self._recognised.get(key)
        if known is None:
            known = self._recognised[key] = self._recognise(system, code, display, by_name)
        return known

    def _recognise(self, system: str, code: str, display: str | None, by_name: bool) -> Recognition:
        code = _normalize_code(system, code)
        known = self._known(system, code)
        if known.concepts:
            return known
        if self.vocabulary is not None:
            licensed = self._from_vocabulary(self.vocabulary, system, code)
            if licensed.concepts:
                return licensed
        if by_name:
            named = self._names.ingredients(display)
            if named:
                return Recognition(self._most_specific(set(named)), "name", tuple(f"name:{c}" for c in named))
        return Recognition()

    def _known(self, system: str, code: str) -> Recognition:
        """What the library's own codes and the pack say about a (normalized) code."""
        listed = self._exact.get((system, code), [])
        entry = self.pack.get(system, code) if self.pack is not None else None
        derived = [(c, via) for c, via in entry.concepts if c in self._concepts] if entry else []
        found = {c for c, _ in listed} | {c for c, _ in derived}
        if not found:
            return Recognition()
        how = ("local_map" if any(local for _, local in listed) else "code") if listed else None
        vias = tuple(dict.fromkeys(via for _, via in derived))
        return Recognition(self._most_specific(found), how or recognised_by(vias[0]), vias)

    def display_of(self, system: str, code: str) -> str | None:
        """A code's display as the library, the pack or the site's vocabulary knows it."""
        code = _normalize_code(system, code)
        entry = self.pack.get(system, code) if self.pack is not None else None
        if entry is not None:
            return entry.display
        listed = (e for c in self._concepts.values() for e in c.codes if (e.system, e.code) == (system, code))
        found = next((e.display for e in listed), None)
        return found or (self.vocabulary.name(system, code) if self.vocabulary is not None else None)

    def _from_vocabulary(self, vocabulary: AthenaVocabulary, system: str, code: str) -> Recognition:
        """A code the pack does not know, through the site's licensed vocabulary: a concept whose own (or pack)
        code is one of its ancestors; for RxNorm, its ingredients."""
        found: set[str] = set()
        vias: list[str] = []
        for ancestor in vocabulary.ancestors(system, code):
            uri = next((u for u, v in VOCABULARIES.items() if v == ancestor.vocabulary), None)
            if uri is None:
                continue
            if uri == RXNORM and ancestor.concept_class == "Ingredient":
                hits = set(self._names.ingredients(ancestor.name)) | set(self._known(uri, ancestor.code).concepts)
            else:
                hits = set(self._known(uri, _normalize_code(uri, ancestor.code)).concepts)
            if hits:
                found |= hits
                vias.append(f"athena:{ancestor.vocabulary} {ancestor.code}")
        if not found:
            return Recognition()
        how = "rxnorm" if system == RXNORM else f"hierarchy:{system}"
        return Recognition(self._most_specific(found), how, tuple(vias))

    def ingredients_named(self, text: str | None) -> tuple[str, ...]:
        """The ingredient concepts a product name or display names (whole words, ingredient and brand names)."""
        return self._names.ingredients(text)

    def _most_specific(self, found: set[str]) -> tuple[str, ...]:
        return tuple(sorted(c for c in found if not any(c in self._ancestors[o] for o in found)))

    def answer_category(self, concept_id: str, system: str, code: str) -> str | None:
        """The normalized category of a coded result for a concept (``positive``, ``stable`` ...), or None."""
        code = code.strip()
        return next((a.category for a in self.get(concept_id).answers if a.system == system and a.code == code), None)

    def unit_hint(self, system: str, code: str) -> str | None:
        """The unit a site's local map gives for a code's values, for records that omit it."""
        if (system, code) not in self._hints:
            normal = _normalize_code(system, code)
            entries = (
                e
                for c in self._concepts.values()
                for e in c.codes
                if e.unit_hint and (e.system, e.code) == (system, normal)
            )
            self._hints[(system, code)] = next((e.unit_hint for e in entries), None)
        return self._hints[(system, code)]

    def with_local_map(self, path: Path) -> ConceptLibrary:
        """A copy that also maps a site's local codes, read from a CSV (see ``docs/concepts.md``)."""
        text = _read_text(path)
        added: dict[str, list[Code]] = {}
        for line, row in _local_rows(path, text):
            if not row["concept"]:
                continue  # a work-list row still to map (``terminology unmapped``)
            concept_id, entry = _local_entry(self, path, line, row)
            if self.concepts_for_code(entry.system, entry.code) or any(
                (e.system, e.code) == (entry.system, entry.code) for entries in added.values() for e in entries
            ):
                raise ConceptError(f"{path}, line {line}: code {entry.system}|{entry.code} is already mapped")
            added.setdefault(concept_id, []).append(entry)
        concepts = {
            cid: c.model_copy(update={"codes": c.codes + tuple(added.get(cid, ()))})
            for cid, c in self._concepts.items()
        }
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        return ConceptLibrary(concepts, f"{self.version}+local#{digest}", self.pack, self.vocabulary)

    def with_pack(self, pack: TerminologyPack) -> ConceptLibrary:
        """A copy that also recognises the codes of a terminology pack."""
        return ConceptLibrary(self._concepts, f"{self.version}+pack#{pack.version}", pack, self.vocabulary)

    def with_vocabulary(self, vocabulary: AthenaVocabulary) -> ConceptLibrary:
        """A copy that also asks a site's licensed vocabulary about codes the pack does not know."""
        return ConceptLibrary(self._concepts, f"{self.version}+athena#{vocabulary.version}", self.pack, vocabulary)

    def binding_digest(self) -> str:
        """A digest of what the terminology pack is derived from (codes with descendants, value-set
        bindings, drug names): the pack records it, so a library edited without a rebuild is noticed."""
        parts = [
            (
                c.id,
                [e.model_dump() for e in c.codes if e.descendants],
                [b.model_dump() for b in c.value_sets],
                list(c.names),
                c.systemic_only,
            )
            for c in sorted(self._concepts.values(), key=lambda c: c.id)
        ]
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


@functools.cache
def default_library() -> ConceptLibrary:
    """The bundled concept library with the bundled terminology pack (and the site's imported vocabulary, when
    there is one), loaded once."""
    library = ConceptLibrary.load().with_pack(load_bundled())
    vocabulary = load_vocabulary()
    return library if vocabulary is None else library.with_vocabulary(vocabulary)


# ------------------------------------------------------------------------------------------------------------
# Loading and validation


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConceptError(f"{path}: cannot read concept file ({exc.strerror})") from None


def _bundled_sources() -> list[tuple[str, str]]:
    folder = resources.files("trialmatch") / "data" / "concepts"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
    return [(f"trialmatch/data/concepts/{f.name}", f.read_text(encoding="utf-8")) for f in files]


def _parse_file(name: str, text: str) -> tuple[str, list[Concept]]:
    """The file's version and concepts; structural and per-concept errors name the file and concept."""
    try:
        data = yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError as exc:
        raise ConceptError(f"{name}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), list):
        raise ConceptError(f"{name}: expected a mapping with 'version' and a 'concepts' list")
    version = data.get("version")
    if not isinstance(version, str | int | float) or not str(version):
        raise ConceptError(f"{name}: missing 'version'")
    return str(version), [_parse_concept(name, i, raw) for i, raw in enumerate(data["concepts"], start=1)]


def _parse_concept(name: str, index: int, raw: Any) -> Concept:
    label = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
    try:
        concept = Concept.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'concept'}: {e['msg']}" for e in exc.errors())
        raise ConceptError(f"{name}: concept '{label}': {problems}") from None
    for system in {c.system for c in concept.codes} | {a.system for a in concept.answers}:
        if system not in STANDARD_SYSTEMS:
            raise ConceptError(f"{name}: concept '{concept.id}': unknown code system '{system}'")
    return concept


def _check_library(concepts: Mapping[str, Concept], origin: Mapping[str, str]) -> None:
    """Cross-concept checks: broader ids exist, no cycles, no code in two places."""
    owner: dict[tuple[str, str, bool], str] = {}
    for concept in concepts.values():
        where = f"{origin[concept.id]}: concept '{concept.id}'"
        for parent in concept.broader:
            if parent not in concepts:
                raise ConceptError(f"{where}: broader concept '{parent}' is unknown.{did_you_mean(parent, concepts)}")
        for entry in concept.codes:
            key = (entry.system, entry.code, entry.descendants)
            if key in owner:
                raise ConceptError(f"{where}: code {entry.system}|{entry.code} is also in '{owner[key]}'")
            owner[key] = concept.id
    _ancestor_closure(concepts, origin)


def _ancestor_closure(
    concepts: Mapping[str, Concept], origin: Mapping[str, str] | None = None
) -> dict[str, frozenset[str]]:
    """Each concept's transitive broader set; a cycle raises ConceptError naming a concept on it."""
    closure: dict[str, frozenset[str]] = {}

    def visit(cid: str, path: tuple[str, ...]) -> frozenset[str]:
        if cid in path:
            where = f"{origin[cid]}: " if origin else ""
            raise ConceptError(f"{where}concept '{cid}': cycle in broader: {' -> '.join((*path, cid))}")
        if cid not in closure:
            parents = concepts[cid].broader
            closure[cid] = frozenset(parents).union(*(visit(p, (*path, cid)) for p in parents))
        return closure[cid]

    for cid in concepts:
        visit(cid, ())
    return closure


def _local_rows(path: Path, text: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in LOCAL_MAP_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ConceptError(f"{path}: local map is missing column(s) {', '.join(missing)}")
    for row in reader:
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def _local_entry(library: ConceptLibrary, path: Path, line: int, row: Mapping[str, str]) -> tuple[str, Code]:
    """The concept a local-map row names and the code entry it adds; problems name the file and line."""
    where = f"{path}, line {line}"
    if not row["system"] or not row["code"]:
        raise ConceptError(f"{where}: system and code are required")
    try:
        concept = library.get(row["concept"])
    except ConceptError as exc:
        raise ConceptError(f"{where}: {exc}") from None
    hint = row["unit_hint"] or None
    if hint:
        _check_unit_hint(where, hint, concept)
    code = _normalize_code(row["system"], row["code"])
    return concept.id, Code(
        system=row["system"], code=code, display=row["note"] or None, status="local", unit_hint=hint
    )


def _check_unit_hint(where: str, hint: str, concept: Concept) -> None:
    # Imported here: the units module depends on Concept, so a module-level import would be circular.
    from trialmatch.terminology.units import normalize

    if concept.unit is None:
        raise ConceptError(f"{where}: {concept.id} is coded; a unit hint makes no sense")
    try:
        normalize(1.0, hint, concept)
    except UnitError as exc:
        raise ConceptError(f"{where}: {exc}") from None
