"""Fault tests for the facts store: two ingests at once, ``kill -9`` of a multi-worker ingest at several points
and a re-run, a full disk, and a store changed after its manifest was written. The store is always the old
complete one or the new complete one, and ``cohort screen`` refuses one whose manifest disagrees with its tables."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import tree_hash, weight
from trialmatch.cli import app
from trialmatch.cohort import store as store_module
from trialmatch.cohort.building import StoreBusyError, leftovers, store_lock
from trialmatch.cohort.ingest import ingest, store_calls
from trialmatch.cohort.store import read_manifest, verify
from trialmatch.errors import InputError

AS_OF = "2025-01-15"
DAY = dt.date.fromisoformat(AS_OF)
TRIALMATCH = str(Path(sys.executable).with_name("trialmatch"))
PATIENTS = 1500


def export(folder: Path, patients: int = PATIENTS) -> Path:
    """An NDJSON export: each patient with a body weight."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(patients):
        lines.append({"resourceType": "Patient", "id": f"p{n}", "gender": "female", "birthDate": "1961-04-02"})
        lines.append(weight(f"p{n}", 61.5, f"w{n}"))
    path = folder / "export.ndjson"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def ingest_command(source: Path, out: Path, workers: int) -> list[str]:
    return [TRIALMATCH, "cohort", "ingest", str(source), "--out", str(out), "--as-of", AS_OF, "--workers", str(workers)]


def group_members(group: int) -> list[int]:
    """Processes still running in a process group (zombies excluded)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def test_a_second_writer_fails_at_once_and_leaves_the_store_alone(tmp_path: Path) -> None:
    source, out = export(tmp_path / "in", 30), tmp_path / "store"
    ingest([source], out, DAY, store_calls([]))
    before = tree_hash(out)
    with store_lock(out):
        with pytest.raises(StoreBusyError, match="another ingest is writing this facts store"):
            ingest([source], out, DAY, store_calls([]))
        result = CliRunner().invoke(app, ["cohort", "ingest", str(source), "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "another ingest" in result.stderr
    assert tree_hash(out) == before


def test_two_ingests_started_together_never_mix(tmp_path: Path) -> None:
    source, out = export(tmp_path / "in", 600), tmp_path / "store"
    runs = [subprocess.Popen(ingest_command(source, out, 1), stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [run.communicate(timeout=600)[1] for run in runs]
    outcomes = list(zip((run.returncode for run in runs), errors, strict=True))
    assert all(code == 0 or (code == 2 and "another ingest" in err) for code, err in outcomes), outcomes
    assert any(code == 0 for code, _ in outcomes)
    manifest = read_manifest(out)
    verify(out, manifest)
    assert manifest.patients_stored == 600 and manifest.rows["patients"] == 600
    assert leftovers(out) == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process groups from /proc")
def test_kill_9_of_a_multi_worker_ingest_at_several_points_then_a_rerun(tmp_path: Path) -> None:
    source, out = export(tmp_path / "in"), tmp_path / "store"
    assert subprocess.run(ingest_command(source, out, 2), capture_output=True, timeout=900).returncode == 0
    complete = tree_hash(out)
    for delay in (0.5, 2.0, 4.0):
        run = subprocess.Popen(ingest_command(source, out, 2), start_new_session=True, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 10
        while group_members(run.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert group_members(run.pid) == [], f"workers outlived their ingest (killed after {delay} s)"
        assert tree_hash(out) == complete, "the old store changed"
    assert subprocess.run(ingest_command(source, out, 2), capture_output=True, timeout=900).returncode == 0
    manifest = read_manifest(out)
    verify(out, manifest)
    assert manifest.patients_stored == PATIENTS and manifest.rows["patients"] == PATIENTS
    assert leftovers(out) == []
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"trialmatch-ndjson-{run.pid}-*"))


def test_a_full_disk_keeps_the_old_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, out = export(tmp_path / "in", 30), tmp_path / "store"
    ingest([source], out, DAY, store_calls([]))
    before = tree_hash(out)

    def no_space(self: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module.PartWriter, "flush", no_space)
    result = CliRunner().invoke(app, ["cohort", "ingest", str(source), "--out", str(out), "--as-of", AS_OF])
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr and "the old one is kept" in result.stderr
    assert tree_hash(out) == before and leftovers(out) == []


def test_screen_refuses_a_store_whose_tables_disagree_with_its_manifest(tmp_path: Path) -> None:
    source, out = export(tmp_path / "in", 30), tmp_path / "store"
    ingest([source], out, DAY, store_calls([]))
    [part] = (out / "patients").iterdir()
    shutil.copy(part, out / "patients" / "part-stray.parquet")
    screen = ["cohort", "screen", str(out), "--out", str(tmp_path / "results")]
    result = CliRunner().invoke(app, screen)
    assert result.exit_code == 2 and "do not match its manifest (patients)" in result.stderr
    manifest = read_manifest(out)
    manifest.write(out)  # the counts now agree, but 30 keys are held twice
    with pytest.raises(InputError, match="holds a patient key twice"):
        verify(out, read_manifest(out))
    assert pq.read_table(out / "patients").num_rows == 60


def test_a_folder_that_is_not_a_store_is_never_replaced(tmp_path: Path) -> None:
    source, out = export(tmp_path / "in", 5), tmp_path / "documents"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work\n")
    with pytest.raises(InputError, match="exists and is not a facts store"):
        ingest([source], out, DAY, store_calls([]))
    assert (out / "thesis.txt").read_text() == "years of work\n"
