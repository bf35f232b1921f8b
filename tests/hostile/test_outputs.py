"""Outputs on a full disk: ``screen --out`` (JSON and HTML) and the feasibility files are written whole under
their names or not at all; the earlier file stays, and no partial file is left behind."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialmatch import atomic
from trialmatch.cli import app
from trialmatch.cohort.feasibility import write_csv
from trialmatch.reports.feasibility import write_page

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "src/trialmatch/data/patients/examples").glob("ex-*.json"))


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file written through ``trialmatch.atomic`` fails as a full disk fails: when it is flushed."""

    def no_space(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", no_space)


def screen(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["screen", *map(str, EXAMPLES[:2]), "--as-of", "2026-11-21", *args])
    return result.exit_code, result.stderr


def test_screen_json_out_is_whole_or_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "results.json"
    assert screen("--format", "json", "--out", str(out))[0] in (0, 1)
    before = out.read_bytes()
    assert len(json.loads(before)) == 2
    full_disk(monkeypatch)
    code, err = screen("--format", "json", "--out", str(out))
    assert code == 2 and "No space left on device" in err
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_screen_html_pages_are_whole_or_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    full_disk(monkeypatch)
    code, err = screen("--format", "html", "--out", str(tmp_path / "pages"))
    assert code == 2 and "No space left on device" in err
    assert list((tmp_path / "pages").iterdir()) == []


def test_feasibility_files_are_whole_or_the_old_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv_path, page_path = tmp_path / "feasibility.csv", tmp_path / "feasibility.html"
    csv_path.write_text("an earlier run's file\n")
    page_path.write_text("an earlier run's page\n")
    full_disk(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        write_csv([], {"patients_read": 1}, [], csv_path)
    with pytest.raises(OSError, match="No space left"):
        write_page([], {"patients_read": 1}, [], "2026-01-01", page_path)
    assert csv_path.read_text() == "an earlier run's file\n" and page_path.read_text() == "an earlier run's page\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feasibility.csv", "feasibility.html"]
