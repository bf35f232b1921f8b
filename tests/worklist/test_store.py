"""The work-list store: owner-only file, append-only history, the migrated schema, concurrent writers, restart."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from worklist_helpers import AS_OF, EXAMPLES

from trialmatch.engine.logic import Status
from trialmatch.errors import WorklistError
from trialmatch.worklist.database import URL_ENV, resolve_url
from trialmatch.worklist.model import PairStatus
from trialmatch.worklist.schema import metadata
from trialmatch.worklist.service import Worklist
from trialmatch.worklist.store import WorklistStore, answer_event

WRITES = 40


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_the_database_file_is_readable_by_its_owner_only(db_url: str) -> None:
    store = WorklistStore(db_url)
    store.set_status("p1", "NCT00000001", PairStatus.CONTACTED, by="rc1", note=None)
    store.close()
    path = _file(db_url)
    for file in [path, *path.parent.glob(path.name + "-*")]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_the_default_database_is_in_the_users_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.setenv("TRIALMATCH_HOME", str(tmp_path / "home"))
    assert resolve_url() == f"sqlite:///{tmp_path / 'home' / 'worklist.sqlite3'}"
    assert resolve_url(home=tmp_path / "lib") == f"sqlite:///{tmp_path / 'lib' / 'worklist.sqlite3'}"
    monkeypatch.setenv(URL_ENV, "postgresql+psycopg://db.example/worklist")
    assert resolve_url() == "postgresql+psycopg://db.example/worklist"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"


def test_history_cannot_be_rewritten(db_url: str) -> None:
    store = WorklistStore(db_url)
    store.set_status("p1", "NCT00000001", PairStatus.CONTACTED, by="rc1", note=None)
    for statement in ("UPDATE statuses SET status = 'enrolled'", "DELETE FROM statuses"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(text(statement))
    assert [e.status for e in store.status_history()] == [PairStatus.CONTACTED]
    store.close()


def test_the_migrations_build_exactly_the_schema_the_code_uses(db_url: str) -> None:
    store = WorklistStore(db_url)
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    store.close()


def test_an_unreachable_database_is_an_error_that_names_it_without_its_password() -> None:
    with pytest.raises(WorklistError, match=r"postgresql\+psycopg://rc:\*\*\*@127.0.0.1:1/none") as caught:
        WorklistStore("postgresql+psycopg://rc:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "secret" not in str(caught.value)


def _writer(url: str, who: str) -> None:
    store = WorklistStore(url)
    for n in range(WRITES):
        store.set_status("p1", "NCT00000001", PairStatus.TO_REVIEW, by=who, note=str(n))
        store.add_answers([answer_event("p1", "NCT00000001", f"inc-{n}", Status.MET, by=who, note=None)])
    store.close()


def test_two_concurrent_writers_lose_nothing(db_url: str) -> None:
    WorklistStore(db_url).close()  # migrated once, before the writers race
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(db_url, who)) for who in ("rc1", "rc2")]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = WorklistStore(db_url)
    statuses = store.status_history()
    assert len(statuses) == 2 * WRITES
    for who in ("rc1", "rc2"):
        assert [e.note for e in statuses if e.by == who] == [str(n) for n in range(WRITES)]
    assert len(store.answer_history()) == 2 * WRITES
    store.close()


def test_everything_is_still_there_after_a_restart(db_url: str) -> None:
    worklist = Worklist.open(db_url)
    worklist.add_file(EXAMPLES / "ex-04.json", as_of=dt.date.fromisoformat(AS_OF), by="rc1")
    worklist.set_status("ex-04", "NCT03530696", PairStatus.CONSENTING, by="rc1", note="visit booked")
    worklist.answer("ex-04", [("NCT03530696", "inc-5", Status.MET, "echo")], by="dr2")
    before = [(p.patient_id, p.trial_id, p.screening.verdict, p.current_status) for p in worklist.pairs()]
    worklist.close()
    reopened = Worklist.open(db_url)
    after = [(p.patient_id, p.trial_id, p.screening.verdict, p.current_status) for p in reopened.pairs()]
    assert after == before and ("ex-04", "NCT03530696", "eligible", PairStatus.CONSENTING) in after
    assert [(a.criterion_id, a.by, a.note) for a in reopened.store.current_answers()] == [("inc-5", "dr2", "echo")]
    records, errors = reopened.records()
    assert [r.patient_id for r in records] == ["ex-04"] and errors == []
    reopened.close()


@given(st.sampled_from(list(PairStatus)), st.lists(st.sampled_from([" ", "-", "_"]), min_size=1), st.booleans())
def test_a_status_reads_back_however_it_is_typed(status: PairStatus, separators: list[str], upper: bool) -> None:
    words = status.value.replace("-", " ").split(" ")
    typed = separators[0].join(words)
    assert PairStatus.parse(typed.upper() if upper else typed) is status


@pytest.mark.parametrize(
    ("typed", "status", "is_open"),
    [
        ("new", PairStatus.NEW, True),
        ("to review", PairStatus.TO_REVIEW, True),
        ("contacted", PairStatus.CONTACTED, True),
        ("consenting", PairStatus.CONSENTING, True),
        ("screen-failed", PairStatus.SCREEN_FAILED, False),
        ("enrolled", PairStatus.ENROLLED, False),
        ("not pursued", PairStatus.NOT_PURSUED, False),
    ],
)
def test_statuses_and_which_are_still_open(typed: str, status: PairStatus, is_open: bool) -> None:
    assert PairStatus.parse(typed) is status and status.is_open is is_open


def test_an_unknown_status_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="use one of: new, to review"):
        PairStatus.parse("eligible")
