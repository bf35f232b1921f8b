"""``trialmatch screen`` in-process: contract JSON for every example patient, HTML pages, table, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from trialmatch.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "src" / "trialmatch" / "data" / "patients" / "examples"
PATIENTS = sorted(EXAMPLES.glob("ex-*.json"))
ANSWERS = EXAMPLES / "answers.yaml"
AS_OF = "2026-11-21"


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_json_for_every_example_patient_follows_the_contract(shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "contracts" / "screening-result.schema.json").read_text())
    code, out, err = run("screen", *PATIENTS, "--as-of", AS_OF, "--answers", ANSWERS, "--format", "json")
    assert code == 0, err
    documents = json.loads(out)
    assert [d["patient_id"] for d in documents] == [p.stem for p in PATIENTS]
    for document in documents:
        jsonschema.validate(document, schema)
        assert document["as_of"] == AS_OF and document["engine_version"]
        assert len(document["trials"]) == 5
        assert all(t["rules_version"] for t in document["trials"])


def test_one_patient_gives_one_object_and_out_writes_it(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    code, out, _ = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--out", target)
    assert code == 0 and out == ""
    document = json.loads(target.read_text())
    assert document["patient_id"] == "ex-01"
    order = {"eligible": 0, "possible": 1, "ineligible": 2}
    verdicts = [order[t["verdict"]] for t in document["trials"]]
    assert verdicts == sorted(verdicts)


def test_table_shows_a_verdict_per_trial_and_what_fails() -> None:
    code, out, _ = run("screen", EXAMPLES / "ex-02.json", "--as-of", AS_OF)
    assert code == 0
    assert "Patient ex-02" in out
    row = next(line for line in out.splitlines() if "NCT01565200" in line and "ineligible" in line)
    assert "exc-15" in row and "eligible from 2026-11-27" in row


def test_html_pages_for_each_patient_and_an_index(tmp_path: Path) -> None:
    code, out, _ = run("screen", *PATIENTS[:3], "--as-of", AS_OF, "--format", "html", "--out", tmp_path)
    assert code == 0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ex-01.html", "ex-02.html", "ex-03.html", "index.html"]
    page = (tmp_path / "ex-02.html").read_text()
    assert 'data-verdict="ineligible"' in page and "2026-11-27" in page


def test_recruiting_only_leaves_out_closed_trials() -> None:
    code, out, _ = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--recruiting-only")
    assert code == 0
    ids = {t["trial_id"] for t in json.loads(out)["trials"]}
    assert "NCT02286843" not in ids and "NCT01957332" not in ids  # completed; active, not recruiting
    assert {"NCT01565200", "NCT06450314", "NCT03530696"} <= ids  # NCT03530696 states no status: kept


def test_a_bad_file_is_reported_and_the_others_still_screened(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [')
    code, out, err = run("screen", broken, PATIENTS[0], "--as-of", AS_OF, "--format", "json")
    assert code == 1
    assert "broken.json" in err and err.count("error:") == 1
    assert json.loads(out)["patient_id"] == "ex-01"


def test_usage_errors_exit_2() -> None:
    assert run("screen", PATIENTS[0], "--as-of", "21/11/2026")[0] == 2
    assert run("screen", PATIENTS[0], "--format", "xml")[0] == 2
    assert run("screen", PATIENTS[0], "--format", "html")[0] == 2
    code, _, err = run("screen", PATIENTS[0], "--trials", "NCT99999999")
    assert code == 2 and "NCT99999999" in err


def test_a_reimported_trial_whose_text_changed_has_stale_rules_everywhere(tmp_path: Path) -> None:
    seeds = REPO / "src" / "trialmatch" / "data" / "trials" / "seeds"
    page = tmp_path / "yale.txt"
    original = next(seeds.glob("003_*.txt")).read_text(encoding="utf-8")
    page.write_text(original.replace("ECOG Performance status of 0-2", "ECOG Performance status of 0-1"))
    library = tmp_path / "library"
    assert run("trials", "import", page, "--library", library)[0] == 2  # a curated trial: the override is needed
    assert run("trials", "import", page, "--library", library, "--replace-bundled")[0] == 0
    code, out, _ = run("trials", "show", "NCT03530696", "--library", library)
    assert code == 0
    assert "STALE" in out and out.rstrip().endswith("1 stale")
    code, out, _ = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--library", library)
    trial = next(t for t in json.loads(out)["trials"] if t["trial_id"] == "NCT03530696")
    assert trial["stale_rules"] == ["inc-3"]
    stale = next(c for c in trial["criteria"] if c["id"] == "inc-3")
    assert stale["status"] == "unknown" and "stale" in stale["reason"]


def test_a_sites_local_codes_are_read_through_its_mapping_file(tmp_path: Path) -> None:
    bundle = (EXAMPLES / "ex-01.json").read_text(encoding="utf-8")
    local = bundle.replace('"system": "http://loinc.org",\n              "code": "751-8"', LOCAL_ANC)
    assert local != bundle
    patient = tmp_path / "local.json"
    patient.write_text(local, encoding="utf-8")
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "system,code,concept,unit_hint,note\nhttp://hospital.example.org/lab,NEUT-ABS,lab.anc,10*9/L,analyser ANC\n"
    )

    def anc(*extra: object) -> str:
        out = run("screen", patient, "--as-of", AS_OF, "--format", "json", "--trials", "NCT01565200", *extra)[1]
        inc8 = next(c for c in json.loads(out)["trials"][0]["criteria"] if c["id"] == "inc-8")
        return str(next(p["status"] for p in inc8["parts"] if p["id"] == "inc-8/anc"))

    assert anc() == "unknown"
    assert anc("--map", mapping) == "met"


LOCAL_ANC = '"system": "http://hospital.example.org/lab",\n              "code": "NEUT-ABS"'


def test_entries_a_record_could_not_use_are_warned_about_and_exit_1(tmp_path: Path) -> None:
    bundle = json.loads((EXAMPLES / "ex-01.json").read_text(encoding="utf-8"))
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["birthDate"] = "1961-02-30"
    broken = tmp_path / "bad-birth-date.json"
    broken.write_text(json.dumps(bundle), encoding="utf-8")
    code, out, err = run("screen", broken, "--as-of", AS_OF, "--format", "json")
    assert code == 1
    assert "warning:" in err and "patient ex-01: Patient/" in err and "1961" not in err
    assert json.loads(out)["input_problems"]


def test_an_answer_that_matches_nothing_is_reported(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("- {trial_id: NCT01565200, criterion_id: inc-99, status: met, by: Dr A}\n", encoding="utf-8")
    code, _, err = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--answers", answers)
    assert code == 1 and "NCT01565200 inc-99 matches nothing screened" in err


def test_an_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--out", tmp_path / "no" / "x.json")
    assert code == 2 and err.startswith("error: cannot write")


def test_a_bad_trial_file_or_rule_file_is_reported_and_the_rest_screened(tmp_path: Path) -> None:
    folder = tmp_path / "trials"
    folder.mkdir()
    seeds = REPO / "src" / "trialmatch" / "data" / "trials" / "seeds"
    (folder / "yale.txt").write_text(next(seeds.glob("003_*.txt")).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "empty.json").write_text("", encoding="utf-8")
    code, out, err = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--trials", folder)
    assert code == 1 and "empty.json" in err
    assert [t["trial_id"] for t in json.loads(out)["trials"]] == ["NCT03530696"]
    library = tmp_path / "library"
    (library / "rules").mkdir(parents=True)
    (library / "rules" / "NCT03530696.rules.yaml").write_text("rules_schema: 1\n\ttrial_id: x\n", encoding="utf-8")
    code, out, err = run("screen", PATIENTS[0], "--as-of", AS_OF, "--format", "json", "--library", library)
    assert code == 1 and "NCT03530696: its rule file cannot be used" in err
    assert len(json.loads(out)["trials"]) == 4
