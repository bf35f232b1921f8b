"""``trialmatch trials import|list|show`` in-process, each against a temporary library."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.reports.trials import CriterionAnnotation, trial_json, trial_text
from trialmatch.trials.library import TrialLibrary
from trialmatch.trials.model import criterion_text_hash

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner(env={"COLUMNS": "150"})


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["trials", *(str(a) for a in args)])
    return result.exit_code, result.stdout, result.stderr


def test_import_prints_one_line_per_file(tmp_path: Path) -> None:
    code, out, err = _run(
        "import", FIXTURES / "ctgov_list.json", FIXTURES / "listing_synthetic.txt", "--library", tmp_path
    )
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2
    assert "NCT90000002" in lines[0] and "NCT90000003" in lines[0]
    assert "NCT90000009 (3 inclusion, 2 exclusion)" in lines[1]


def test_bad_files_rejected_others_imported(tmp_path: Path) -> None:
    bad = [
        FIXTURES / "malformed.json",
        FIXTURES / "empty.txt",
        FIXTURES / "notes.txt",
        tmp_path / "missing.txt",
    ]
    code, out, err = _run("import", *bad[:2], FIXTURES / "ctgov_studies.json", *bad[2:], "--library", tmp_path / "lib")
    assert code == 1
    errors = err.splitlines()
    assert len(errors) == 4
    for line, path in zip(errors, bad, strict=True):
        assert line.startswith("error: ") and path.name in line
    assert "not valid JSON (line 1, column" in errors[0]
    assert "NCT90000002" in out
    assert [t.trial_id for t in TrialLibrary(tmp_path / "lib", include_bundled=False).load_all()] == ["NCT90000002"]


def test_nothing_usable_exits_2(tmp_path: Path) -> None:
    code, out, err = _run("import", FIXTURES / "empty.txt", "--library", tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and "empty file" in err


def test_list_shows_bundled_and_imported(tmp_path: Path) -> None:
    _run("import", FIXTURES / "ctgov_escapes_nested.json", "--library", tmp_path)
    code, out, _ = _run("list", "--library", tmp_path)
    assert code == 0
    for trial_id in (
        "NCT01565200",
        "NCT02286843",
        "NCT01957332",
        "NCT03530696",
        "NCT06450314",
        "NCT90000001",
    ):
        assert trial_id in out
    row = next(line for line in out.splitlines() if "NCT90000001" in line)
    assert "PHASE1/PHASE2" in row and "3 / 3" in row and "no rules" in row


def test_list_without_bundled_on_empty_library(tmp_path: Path) -> None:
    code, out, _ = _run("list", "--no-bundled", "--library", tmp_path)
    assert code == 0 and "no trials" in out


def test_library_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALMATCH_HOME", str(tmp_path))
    assert _run("import", FIXTURES / "ctgov_studies.json")[0] == 0
    assert (tmp_path / "trials" / "NCT90000002.json").is_file()


def test_show_text_by_alias(tmp_path: Path) -> None:
    code, out, _ = _run("show", "hic-unknown", "--library", tmp_path)
    assert code == 2
    code, out, _ = _run("show", "2000023405", "--library", tmp_path)
    assert code == 0
    assert out.startswith("NCT03530696  A Randomized Phase II Study")
    assert "  exc-9    Concurrent hormonal or other anti-neoplastic therapy" in out


def test_show_text_indents_children() -> None:
    code, out, _ = _run("show", FIXTURES / "ctgov_escapes_nested.json")
    assert code == 0
    assert "\n    inc-2.1  ANC > 1.5 x 10^9/L\n" in out
    assert "\n      inc-2.2.1 or < 3 x ULN with Gilbert's syndrome\n" in out


def test_show_json_follows_contract(shared_dir: Path, tmp_path: Path) -> None:
    schema = json.loads((shared_dir / "contracts" / "trial.schema.json").read_text())
    for key in ("NCT01957332", "NCT06450314"):
        code, out, _ = _run("show", key, "--format", "json", "--library", tmp_path)
        assert code == 0
        document = json.loads(out)
        jsonschema.validate(document, schema)
        for criterion in document["criteria"]:
            assert criterion["computability"] in ("computable", "partial", "review")
            assert criterion["source_hash"] == criterion_text_hash(criterion["text"])
            assert criterion["rule"] or criterion["children"]
        assert document["rules_version"].startswith("2026-11-21.1+")
    code, out, _ = _run("show", FIXTURES / "ctgov_list.json", "--format", "json")
    assert [d["trial_id"] for d in json.loads(out)] == ["NCT90000002", "NCT90000003"]
    for document in json.loads(out):
        jsonschema.validate(document, schema)
        assert all(c["rule"] is None and c["computability"] is None for c in document["criteria"])


def test_show_rejects_unknown_format_and_bad_file(tmp_path: Path) -> None:
    assert _run("show", "NCT01957332", "--format", "xml", "--library", tmp_path)[0] == 2
    code, _, err = _run("show", FIXTURES / "malformed.json")
    assert code == 2 and "malformed.json" in err


def test_annotations_render_in_text_and_json(tmp_path: Path) -> None:
    trial = TrialLibrary(tmp_path).get("NCT02286843")
    criterion = trial.criterion("inc-4")
    notes = {"inc-4": CriterionAnnotation("score.ecog <= 2", "computable", criterion.text_hash, drafted=True)}
    document = trial_json(trial, notes)
    annotated = next(c for c in document["criteria"] if c["id"] == "inc-4")
    assert (annotated["rule"], annotated["computability"], annotated["drafted"]) == (
        "score.ecog <= 2",
        "computable",
        True,
    )
    assert annotated["source_hash"] == criterion.text_hash
    assert "rule: score.ecog <= 2 [computable, drafted: not reviewed]" in trial_text(trial, notes)
