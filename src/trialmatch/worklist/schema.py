"""The work-list's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create and evolve them.

Every table is append-only (the migration's triggers reject UPDATE and DELETE): the latest row of a key is its
current value, and the rows before it are its history.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# A patient file as received (FHIR JSON, NDJSON or CSV); several patients may come from one file.
sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("content", LargeBinary, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# Which file holds each patient's record; a patient added again points to the newer file.
records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(255), nullable=False, index=True),
    Column("source_id", Integer, ForeignKey("sources.id"), nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("added_by", String(200), nullable=False),
)


def _pair_table(name: str, *columns: Column[object]) -> Table:
    """An append-only table of rows about one (patient, trial) pair, read back newest-per-pair by id."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("patient_id", String(255), nullable=False),
        Column("trial_id", String(255), nullable=False),
        *columns,
        Index(f"ix_{name}_pair", "patient_id", "trial_id", "id"),
    )


def _who_when() -> list[Column[object]]:
    return [
        Column("by", String(200), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("note", Text),
    ]


screenings = _pair_table(
    "screenings",
    Column("as_of", Date, nullable=False),
    Column("screened_at", DateTime(timezone=True), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("rules_version", String(255)),
    Column("outcome", Text, nullable=False),  # the TrialOutcome as JSON
    Column("change", Text),  # what changed the verdict since the pair's previous screening
)
statuses = _pair_table("statuses", Column("status", String(32), nullable=False), *_who_when())
answers = _pair_table(
    "answers",
    Column("criterion_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    *_who_when(),
)
