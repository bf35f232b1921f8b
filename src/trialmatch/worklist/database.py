"""Opening the work-list database: where it lives, owner-only file permissions, migrations, safe concurrency.

The default is one SQLite file in the user's data directory (``worklist.sqlite3`` beside the trial library);
``TRIALMATCH_WORKLIST_DB`` or an explicit URL names another (``postgresql+psycopg://...`` for a shared
deployment). SQLite writers take the write lock when their transaction begins (``BEGIN IMMEDIATE``) and wait
for each other, so two writers never lose an update. Statement parameters (patient records, notes) are kept
out of SQLAlchemy's log lines and error messages (``hide_parameters``), whatever the logging level.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from trialmatch.errors import WorklistError
from trialmatch.trials.library import default_library_dir

URL_ENV = "TRIALMATCH_WORKLIST_DB"
FILE_NAME = "worklist.sqlite3"
_MIGRATIONS = Path(__file__).with_name("migrations")
_BUSY_SECONDS = 60
_MIGRATING = threading.Lock()  # Alembic keeps the running migration in module globals: one at a time


def resolve_url(url: str | None = None, *, home: Path | None = None) -> str:
    """The database URL to use: the one given, else ``TRIALMATCH_WORKLIST_DB``, else the SQLite file in ``home``
    (the trial library's folder; by default the user data directory)."""
    chosen = url or os.environ.get(URL_ENV, "").strip()
    if chosen:
        return chosen
    return f"sqlite:///{(home or default_library_dir()) / FILE_NAME}"


def _create_private_file(path: Path) -> None:
    """Create the SQLite file readable and writable by its owner only (its journals inherit the mode)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        _create_private_file(Path(database))
    engine = create_engine(url, connect_args={"timeout": _BUSY_SECONDS}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver's own BEGIN would be DEFERRED
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def open_engine(url: str | None = None, *, home: Path | None = None) -> Engine:
    """An engine on the work-list database (see :func:`resolve_url`), its schema migrated to the current version."""
    resolved = resolve_url(url, home=home)
    try:
        backend = make_url(resolved).get_backend_name()
        engine = (
            _sqlite_engine(resolved)
            if backend == "sqlite"
            else create_engine(resolved, pool_pre_ping=True, hide_parameters=True)
        )
        migrate(engine)
    except Exception as exc:  # a bad URL, a missing driver, an unreachable server: all say the same to the user
        shown = make_url(resolved).render_as_string(hide_password=True) if "://" in resolved else resolved
        raise WorklistError(f"cannot open the work-list database {shown}: {exc.__class__.__name__}: {exc}") from exc
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there already)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with _MIGRATING, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
