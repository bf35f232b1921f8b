"""A site's licensed vocabularies (optional, off by default): an OHDSI Athena download in a local DuckDB file.

Sites that hold SNOMED CT and RxNorm licences can download them from Athena (CONCEPT, CONCEPT_ANCESTOR,
CONCEPT_RELATIONSHIP, CONCEPT_SYNONYM: tab-separated, unquoted, a header row). ``trialmatch terminology
import-athena DIR`` loads them into ``vocabulary.duckdb`` in the user's data directory; when that file exists,
codes the embedded pack does not know are answered from it: a SNOMED CT code is the concept whose own code is
one of its ancestors (is-a, from CONCEPT_ANCESTOR), an RxNorm product is its ingredients (ancestors of class
Ingredient), and the ingredients' classes follow from the library. The file is the site's own: never shipped,
never committed.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import platformdirs

from trialmatch.errors import ConceptError

ENV_VAR = "TRIALMATCH_VOCABULARY"
TABLES = ("CONCEPT", "CONCEPT_ANCESTOR", "CONCEPT_RELATIONSHIP", "CONCEPT_SYNONYM")
REQUIRED = ("CONCEPT", "CONCEPT_ANCESTOR")
# FHIR code system URI -> Athena vocabulary_id.
VOCABULARIES = {
    "http://snomed.info/sct": "SNOMED",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "http://loinc.org": "LOINC",
}


def vocabulary_path() -> Path:
    """``$TRIALMATCH_VOCABULARY``, else ``vocabulary.duckdb`` in the user data directory (or TRIALMATCH_HOME)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    home = os.environ.get("TRIALMATCH_HOME")
    return Path(home or platformdirs.user_data_dir("trialmatch")) / "vocabulary.duckdb"


@dataclass(frozen=True)
class ImportSummary:
    """Rows loaded per table, and the file written."""

    path: Path
    rows: dict[str, int]


def import_athena(folder: Path, target: Path) -> ImportSummary:
    """Load an Athena download into a DuckDB file (replacing an earlier one); ConceptError names what is wrong."""
    files = {t: _table_file(folder, t) for t in TABLES}
    missing = [t for t in REQUIRED if files[t] is None]
    if missing:
        raise ConceptError(f"{folder}: not an Athena download ({', '.join(missing)} missing)")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    with duckdb.connect(str(partial)) as db:
        for table, path in files.items():
            if path is None:
                continue
            db.execute(
                f"CREATE TABLE {table.lower()} AS SELECT * FROM read_csv(?, delim='\t', quote='', escape='', "
                "header=true, all_varchar=true)",
                [str(path)],
            )
            rows[table] = int(db.execute(f"SELECT count(*) FROM {table.lower()}").fetchone()[0])  # type: ignore[index]
        _check_columns(db, folder)
        db.execute("CREATE INDEX concept_code ON concept (vocabulary_id, concept_code)")
        db.execute("CREATE INDEX ancestor_of ON concept_ancestor (descendant_concept_id)")
    partial.replace(target)
    return ImportSummary(target, rows)


def _table_file(folder: Path, table: str) -> Path | None:
    for name in (f"{table}.csv", f"{table}.tsv", f"{table.lower()}.csv"):
        if (folder / name).is_file():
            return folder / name
    return None


def _check_columns(db: duckdb.DuckDBPyConnection, folder: Path) -> None:
    needed = {
        "concept": {"concept_id", "concept_name", "vocabulary_id", "concept_class_id", "concept_code"},
        "concept_ancestor": {"ancestor_concept_id", "descendant_concept_id"},
    }
    for table, columns in needed.items():
        have = {str(r[0]).lower() for r in db.execute(f"DESCRIBE {table}").fetchall()}
        if not columns <= have:
            raise ConceptError(f"{folder}: {table.upper()} lacks column(s) {', '.join(sorted(columns - have))}")


@dataclass(frozen=True)
class Ancestor:
    """An Athena ancestor of a code: its vocabulary, code, name and concept class."""

    vocabulary: str
    code: str
    name: str
    concept_class: str


class AthenaVocabulary:
    """Read-only look-ups in an imported Athena vocabulary."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = duckdb.connect(str(path), read_only=True)
        stat = path.stat()
        self.version = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]

    def name(self, system: str, code: str) -> str | None:
        """The concept name Athena gives a code, or None."""
        vocabulary = VOCABULARIES.get(system)
        if vocabulary is None:
            return None
        row = self._db.execute(
            "SELECT concept_name FROM concept WHERE vocabulary_id = ? AND concept_code = ?", [vocabulary, code]
        ).fetchone()
        return str(row[0]) if row else None

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one vocabulary per library, kept for the process
    def ancestors(self, system: str, code: str) -> tuple[Ancestor, ...]:
        """Every ancestor of a code (CONCEPT_ANCESTOR), the code itself excluded; empty when Athena lacks it."""
        vocabulary = VOCABULARIES.get(system)
        if vocabulary is None:
            return ()
        rows = self._db.execute(
            "SELECT a.vocabulary_id, a.concept_code, a.concept_name, a.concept_class_id "
            "FROM concept c JOIN concept_ancestor x ON x.descendant_concept_id = c.concept_id "
            "JOIN concept a ON a.concept_id = x.ancestor_concept_id "
            "WHERE c.vocabulary_id = ? AND c.concept_code = ? AND a.concept_id <> c.concept_id "
            "ORDER BY a.vocabulary_id, a.concept_code",
            [vocabulary, code],
        ).fetchall()
        return tuple(Ancestor(str(v), str(k), str(n), str(cc)) for v, k, n, cc in rows)


def load_vocabulary() -> AthenaVocabulary | None:
    """The site's imported vocabulary, or None (the default: nothing imported)."""
    path = vocabulary_path()
    return AthenaVocabulary(path) if path.is_file() else None
