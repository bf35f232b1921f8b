"""``trialmatch trials import --draft`` and ``trialmatch trials coverage``, against temporary libraries."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.rules.catalog import bind, library_rules_dir
from trialmatch.rules.rulefile import load_rule_file
from trialmatch.trials.library import TrialLibrary

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).parents[2] / "src" / "trialmatch" / "data" / "trials" / "seeds"
runner = CliRunner(env={"COLUMNS": "150"})


def _run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["trials", *(str(a) for a in args)])
    return result.exit_code, result.stdout, result.stderr


def test_import_draft_writes_a_drafted_rule_file_the_library_binds(tmp_path: Path) -> None:
    code, out, err = _run("import", FIXTURES / "listing_synthetic.txt", "--draft", "--library", tmp_path)
    assert code == 0 and err == ""
    assert "NCT90000009: drafted" in out
    path = library_rules_dir(tmp_path) / "NCT90000009.rules.yaml"
    rules = load_rule_file(path)
    assert all(c.drafted for c in rules.criteria)
    bound = bind(TrialLibrary(tmp_path).get("NCT90000009"), [library_rules_dir(tmp_path)])
    assert bound.rules is not None and bound.coverage().no_rule == 0


def test_trial_with_curated_rules_is_not_drafted(tmp_path: Path) -> None:
    seed = next(SEEDS.glob("000_*.txt"))
    code, _, err = _run("import", seed, "--draft", "--library", tmp_path)
    assert code == 2 and "NCT01565200 is the bundled, curated trial" in err
    code, out, _ = _run("import", seed, "--draft", "--replace-bundled", "--library", tmp_path)
    assert code == 0
    assert "NCT01565200: curated rules exist" in out
    assert not (library_rules_dir(tmp_path) / "NCT01565200.rules.yaml").exists()


def test_site_rules_are_kept(tmp_path: Path) -> None:
    _run("import", FIXTURES / "listing_synthetic.txt", "--draft", "--library", tmp_path)
    path = library_rules_dir(tmp_path) / "NCT90000009.rules.yaml"
    edited = path.read_text(encoding="utf-8").replace("    drafted: true\n", "", 1)
    path.write_text(edited, encoding="utf-8")
    code, out, _ = _run("import", FIXTURES / "listing_synthetic.txt", "--draft", "--library", tmp_path)
    assert code == 0 and "own rules" in out
    assert path.read_text(encoding="utf-8") == edited


def test_import_without_draft_writes_no_rules(tmp_path: Path) -> None:
    code, _, _ = _run("import", FIXTURES / "listing_synthetic.txt", "--library", tmp_path)
    assert code == 0 and not library_rules_dir(tmp_path).exists()


def test_pallas_imports_with_drafts(tmp_path: Path, shared_dir: Path) -> None:
    record = shared_dir / "fixtures" / "ctgov" / "NCT02513394.json"
    code, out, err = _run("import", record, "--draft", "--library", tmp_path)
    assert code == 0 and err == ""
    assert "NCT02513394: drafted 33 criteria" in out


def test_coverage_of_seed_folder_and_bundled_ids(tmp_path: Path) -> None:
    code, out, _ = _run("coverage", SEEDS)
    assert code == 0
    last = out.strip().splitlines()[-1]
    assert last.startswith("5 trials, ") and last.endswith("review")
    code, out, _ = _run("coverage", "NCT01565200")
    assert code == 0 and out.strip().splitlines()[-1].startswith("1 trials, 28 criteria:")
    assert "labs" in out and not list(tmp_path.iterdir())


def test_coverage_rejects_unknown_source() -> None:
    code, _, err = _run("coverage", "NCT00000000")
    assert code != 0 and "not a file, a folder or a bundled trial id" in err


def test_limits_read_from_criteria_are_stored_with_the_trial(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        "A Study of Something in Metastatic Breast Cancer\n\nNCT90000077\n\nInclusion Criteria:\n\n"
        "1. Women aged 18 years or older\n2. ECOG performance status 0-1\n\n"
        "Exclusion Criteria:\n\n1. Pregnant or breast-feeding\n",
        encoding="utf-8",
    )
    code, out, err = _run("import", page, "--draft", "--library", tmp_path / "lib")
    assert code == 0, err
    assert "limits read from criteria and stored" in out
    stored = TrialLibrary(tmp_path / "lib").get("NCT90000077")
    assert (stored.sex, stored.minimum_age_years) == ("FEMALE", 18)
    assert stored.source.file == "page.txt"


def test_coverage_reports_bad_inputs_and_counts_the_rest(tmp_path: Path) -> None:
    (tmp_path / "empty.json").write_text("", encoding="utf-8")
    code, out, err = _run("coverage", "NCT03530696", tmp_path / "empty.json")
    assert code == 1 and "empty.json" in err
    assert out.rstrip().splitlines()[-1].startswith("1 trials, 19 criteria:")
    empty = tmp_path / "nothing"
    empty.mkdir()
    code, _, err = _run("coverage", empty)
    assert code == 2 and "no .json or .txt trial records" in err
