"""``write_store`` and ``cohort ingest`` of ``write_fhir`` give the same facts store for the same synthetic cohort."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from cohort_data import trial_rules

from trialmatch.cohort.calls import Call, Calls
from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.cohort.screen import screen_store
from trialmatch.cohort.synth import generate, write_store
from trialmatch.cohort.synth_fhir import write_fhir
from trialmatch.cohort.tables import TABLES, derived_column, derived_parts
from trialmatch.commands.trial_selection import select

AS_OF = dt.date(2025, 1, 15)
PATIENTS = 300
# The patient calls the generator does not model (docs/cohort.md, "Synthetic cohorts"): NULL in the direct store,
# and in the ingested one (the FHIR records carry nothing that decides them), which the table equality checks.
UNMODELLED = {
    ("er", "specimen=any"),
    ("er", "specimen=latest"),
    ("er", "specimen=metastatic"),
    ("er", "specimen=primary"),
    ("pr", "specimen=any"),
    ("pr", "specimen=latest"),
    ("pr", "specimen=metastatic"),
    ("pr", "specimen=primary"),
    ("her2", "specimen=metastatic"),
    ("her2_low", "specimen=metastatic"),
    ("measurable_disease", ""),
    ("progression", ""),
    ("progression", "within=2y"),
    ("recist", "which=best"),
    ("recist", "which=last"),
}

LINES_WITH_DRUG = ("lines", "setting=metastatic,drug=drug.class.anti_her2")  # an open call no bundled trial makes


@pytest.fixture(scope="module", params=[11, 12])
def stores(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The direct store and the ingested FHIR store of one seed's cohort."""
    root = tmp_path_factory.mktemp(f"synth{request.param}")
    trials, _ = select([], None)
    held = store_calls(trial_rules(trials))
    calls = Calls(held.patient | {LINES_WITH_DRUG}, held.lesion, held.latest)
    cohort = generate(PATIENTS, request.param, AS_OF)
    write_store(cohort, root / "direct", calls)
    write_fhir(cohort, root / "fhir")
    manifest = ingest([root / "fhir"], root / "ingested", AS_OF, calls)
    assert (manifest.patients_stored, manifest.records_rejected) == (PATIENTS, 0)
    return root / "direct", root / "ingested"


def _rows(store: Path, table: str, columns: list[str]) -> list[tuple[object, ...]]:
    """A table's rows, sorted, without ``source`` and ``pk`` (which differ by writer; ``patient_id`` stays)."""
    kept = ", ".join(f'"{c}"' for c in columns if c not in ("source", "pk"))
    sql = f"SELECT {kept} FROM read_parquet('{store / table}/*.parquet') ORDER BY ALL"
    return duckdb.sql(sql).fetchall()


def _schema(store: Path, table: str) -> pa.Schema:
    return duckdb.sql(f"SELECT * FROM read_parquet('{store / table}/*.parquet') LIMIT 0").arrow().schema


@pytest.mark.parametrize("table", [t for t in TABLES if t != "patients"])
def test_fact_tables_are_identical(stores: tuple[Path, Path], table: str) -> None:
    direct, ingested = stores
    assert _schema(direct, table) == _schema(ingested, table)
    columns = _schema(direct, table).names
    expected = _rows(ingested, table, columns)
    assert table == "lesions" or expected  # the comparison is not vacuous
    assert _rows(direct, table, columns) == expected


def test_patients_table_is_identical(stores: tuple[Path, Path]) -> None:
    """Counts, every derived call's columns and every latest reading, patient by patient."""
    direct, ingested = stores
    assert _schema(direct, "patients") == _schema(ingested, "patients")
    columns = _schema(direct, "patients").names
    assert _rows(direct, "patients", columns) == _rows(ingested, "patients", columns)


def test_only_the_unmodelled_calls_are_left_unknown(stores: tuple[Path, Path]) -> None:
    """The direct store knows every other call for some patients (so the equality above is not all NULLs)."""
    direct, _ = stores
    calls = sorted(store_calls(trial_rules(select([], None)[0])).patient | {LINES_WITH_DRUG})
    columns = [[derived_column(call, part) for part, _ in derived_parts(call)] for call in calls]
    counts = ", ".join(f'count("{c}")' for group in columns for c in group)
    (known,) = duckdb.sql(f"SELECT {counts} FROM read_parquet('{direct / 'patients'}/*.parquet')").fetchall()
    sizes = iter(known)
    unknown = {call for call, group in zip(calls, columns, strict=True) if sum(next(sizes) for _ in group) == 0}
    assert unknown == UNMODELLED


def test_the_unmodelled_calls_are_the_ones_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs/cohort.md").read_text(encoding="utf-8")
    section = docs.split("## Synthetic cohorts")[1].split("\n## ")[0]
    named = {name for name, _ in UNMODELLED}
    assert all(f"`{name}`" in section for name in named)
    held: set[Call] = store_calls(trial_rules(select([], None)[0])).patient
    assert held >= UNMODELLED


def test_both_stores_screen_alike(stores: tuple[Path, Path], tmp_path: Path) -> None:
    direct, ingested = stores
    trials, _ = select([], None)
    screen_store(direct, trials, tmp_path / "direct")
    screen_store(ingested, trials, tmp_path / "ingested")
    for name in ("criteria.parquet", "verdicts.parquet"):
        got = _sorted(tmp_path / "direct" / name)
        assert got and got == _sorted(tmp_path / "ingested" / name)


def _sorted(path: Path) -> list[tuple[object, ...]]:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}') ORDER BY ALL").fetchall()
