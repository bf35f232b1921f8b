"""The same work-list on a real PostgreSQL server: a private cluster started for these tests, then removed.

Debian's postgresql package provides the server (``.ci/run`` installs it); outside CI the tests skip with the
reason printed when it is absent. The cluster listens only on a Unix socket in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from worklist_helpers import AS_OF, EXAMPLES

from trialmatch.engine.logic import Status
from trialmatch.worklist.model import PairStatus
from trialmatch.worklist.service import Worklist
from trialmatch.worklist.store import WorklistStore, answer_event


def _server_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        reason = "PostgreSQL server not found under /usr/lib/postgresql (install Debian's postgresql; .ci/run does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        print(f"skipping the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    return found[-1].parent


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` account then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = _server_bin()
    folder = Path(tempfile.mkdtemp(prefix="trialmatch-pg-"))
    data, socket_dir = folder / "data", folder / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(socket_dir, "postgres")
    run = lambda *args: subprocess.run(_as_server_user(list(args)), check=True, capture_output=True)  # noqa: E731
    run(str(binaries / "initdb"), "-D", str(data), "-U", "trialmatch", "--auth=trust", "-E", "UTF8")
    options = f"-c listen_addresses='' -c unix_socket_directories={socket_dir} -c fsync=off"
    run(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"), "start")
    try:
        yield f"postgresql+psycopg://trialmatch@/postgres?host={socket_dir}"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_the_worklist_runs_on_postgresql(postgres_url: str) -> None:
    worklist = Worklist.open(postgres_url)
    worklist.add_file(EXAMPLES / "ex-02.json", as_of=dt.date.fromisoformat(AS_OF), by="rc1")
    worklist.set_status("ex-02", "NCT03530696", PairStatus.CONTACTED, by="rc1", note="phoned")
    changes = worklist.rescreen(dt.date(2026, 11, 27)).changes
    assert [(c.patient_id, c.trial_id, c.new) for c in changes] == [("ex-02", "NCT01565200", "eligible")]
    worklist.close()
    reopened = Worklist.open(postgres_url)
    pairs = {p.trial_id: p for p in reopened.pairs()}
    assert pairs["NCT03530696"].current_status is PairStatus.CONTACTED
    assert pairs["NCT01565200"].screening.verdict == "eligible"
    with pytest.raises(DBAPIError, match="append-only"), reopened.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM statuses"))
    reopened.close()


def test_two_writers_on_postgresql_lose_nothing(postgres_url: str) -> None:
    def write(who: str) -> None:
        store = WorklistStore(postgres_url)
        for n in range(25):
            store.add_answers([answer_event("p9", "NCT00000009", f"inc-{n}", Status.MET, by=who, note=None)])
        store.close()

    threads = [threading.Thread(target=write, args=(who,)) for who in ("rc1", "rc2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    store = WorklistStore(postgres_url)
    assert len(store.answer_history("p9")) == 50
    store.close()
