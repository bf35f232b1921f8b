"""``trialmatch worklist``: add, list, set, answer, history and export, as a coordinator runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from worklist_helpers import AS_OF, EXAMPLES, Cli

from trialmatch.worklist.export import REDCAP_COLUMNS, STATUS_CODES, VERDICT_CODES


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_add_screens_each_patient_against_every_trial(cli: Cli) -> None:
    result = cli("add", str(EXAMPLES / "ex-02.json"), str(EXAMPLES / "ex-04.json"), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "added ex-02" in result.stdout and "added ex-04" in result.stdout
    rows = _rows(cli("export", "--format", "csv").stdout)
    assert len(rows) == 10
    assert {r["status"] for r in rows} == {"new"}
    washout = next(r for r in rows if (r["patient_id"], r["trial_id"]) == ("ex-02", "NCT01565200"))
    assert washout["verdict"] == "ineligible" and washout["eligible_from"] == "2026-11-27"
    assert washout["deciding"].startswith("fails: ") and "lapatinib" in washout["deciding"]


def test_add_reports_an_unreadable_file_and_keeps_the_others(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a patient record\n")
    result = cli("add", str(bad), str(EXAMPLES / "ex-02.json"), "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "notes.txt" in result.stderr and "added ex-02" in result.stdout
    assert cli("add", str(bad)).exit_code == 2


def test_list_filters_by_trial_status_and_change(cli: Cli) -> None:
    cli("add", str(EXAMPLES / "ex-02.json"), "--as-of", AS_OF)
    assert cli("set", "ex-02", "NCT03530696", "contacted", "--note", "phoned", "--by", "rc1").exit_code == 0
    listed = cli("list", "--status", "Contacted")
    assert listed.exit_code == 0 and "1 pairs" in listed.stdout and "NCT03530696" in listed.stdout
    assert "1 pairs" in cli("list", "--trial", "impact-mbc").stdout
    assert "0 pairs" in cli("list", "--changed").stdout
    assert cli("list", "--status", "maybe").exit_code == 2


def test_set_and_answer_refuse_pairs_and_criteria_not_on_the_list(cli: Cli) -> None:
    cli("add", str(EXAMPLES / "ex-02.json"), "--as-of", AS_OF)
    assert cli("set", "ex-99", "NCT03530696", "contacted").exit_code == 2
    assert cli("answer", "ex-02", "NCT03530696", "inc-99", "met").exit_code == 2
    assert cli("answer", "ex-02", "NCT03530696", "inc-1", "perhaps").exit_code == 2


def test_history_shows_each_change_with_who_and_when(cli: Cli) -> None:
    cli("add", str(EXAMPLES / "ex-04.json"), "--as-of", AS_OF)
    cli("set", "ex-04", "NCT03530696", "to review", "--by", "rc1")
    cli("answer", "ex-04", "NCT03530696", "inc-5", "met", "--by", "dr2", "--note", "echo 2026-11-18")
    cli("set", "ex-04", "NCT03530696", "contacted", "--by", "rc1", "--note", "phoned")
    lines = cli("history", "ex-04").stdout.splitlines()
    assert len(lines) == 3
    assert "rc1: ex-04 NCT03530696: status to review" in lines[0]
    assert "dr2: ex-04 NCT03530696 inc-5: answer met — echo 2026-11-18" in lines[1]
    assert lines[2].endswith("status contacted — phoned")


def test_answer_rescreens_the_patient_and_exported_answers_give_screen_the_same_verdicts(
    cli: Cli, tmp_path: Path
) -> None:
    cli("add", str(EXAMPLES / "ex-04.json"), str(EXAMPLES / "ex-03.json"), "--as-of", AS_OF)
    answered = cli("answer", "ex-04", "NCT03530696", "inc-5", "met", "--by", "dr2")
    assert answered.exit_code == 0
    assert "ex-04 NCT03530696: possible → eligible (inc-5 settled met (answered by dr2" in answered.stdout
    cli("answer", "ex-03", "NCT01957332", "exc-2", "not_met", "--by", "dr2")
    answers_file = tmp_path / "answers.yaml"
    assert cli("export", "--format", "answers", "--out", str(answers_file)).exit_code == 0
    document = yaml.safe_load(answers_file.read_text())
    assert {(a["patient_id"], a["criterion_id"]) for a in document["answers"]} == {
        ("ex-04", "inc-5"),
        ("ex-03", "exc-2"),
    }
    pairs = {(r["patient_id"], r["trial_id"]): r["verdict"] for r in _rows(cli("export").stdout)}
    assert pairs[("ex-04", "NCT03530696")] == "eligible" and pairs[("ex-03", "NCT01957332")] == "eligible"
    screened = cli.screen(
        str(EXAMPLES / "ex-04.json"),
        str(EXAMPLES / "ex-03.json"),
        "--answers",
        str(answers_file),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert screened.exit_code == 0, screened.output
    again = {(o["patient_id"], t["trial_id"]): t["verdict"] for o in json.loads(screened.stdout) for t in o["trials"]}
    assert again == pairs


def test_answers_export_as_json_is_read_by_screen(cli: Cli, tmp_path: Path) -> None:
    cli("add", str(EXAMPLES / "ex-04.json"), "--as-of", AS_OF)
    cli("answer", "ex-04", "NCT03530696", "inc-5", "met", "--by", "dr2")
    out = tmp_path / "answers.json"
    cli("export", "--format", "answers", "--out", str(out))
    screened = cli.screen(str(EXAMPLES / "ex-04.json"), "--answers", str(out), "--as-of", AS_OF, "--format", "json")
    verdicts = {t["trial_id"]: t["verdict"] for t in json.loads(screened.stdout)["trials"]}
    assert verdicts["NCT03530696"] == "eligible"


def test_redcap_export_matches_its_data_dictionary(cli: Cli, tmp_path: Path) -> None:
    cli("add", str(EXAMPLES / "ex-02.json"), str(EXAMPLES / "ex-04.json"), "--as-of", AS_OF)
    cli("set", "ex-02", "NCT01565200", "screen-failed", "--by", "rc1")
    dictionary = tmp_path / "dictionary.csv"
    result = cli("export", "--format", "redcap", "--dictionary", str(dictionary))
    assert result.exit_code == 0
    rows = _rows(result.stdout)
    assert tuple(rows[0]) == REDCAP_COLUMNS
    fields = {r["Variable / Field Name"]: r for r in _rows(dictionary.read_text())}
    assert next(iter(fields)) == "record_id" and fields["record_id"]["Identifier?"] == "y"
    bookkeeping = {"redcap_repeat_instrument", "redcap_repeat_instance", "trial_screening_complete"}
    assert set(REDCAP_COLUMNS) - bookkeeping == set(fields)
    choices = dict(c.split(", ", 1) for c in fields["status"]["Choices, Calculations, OR Slider Labels"].split(" | "))
    assert choices == {str(n): s for s, n in STATUS_CODES.items()}
    assert {r["verdict"] for r in rows} <= {str(n) for n in VERDICT_CODES.values()}
    assert [r["redcap_repeat_instance"] for r in rows if r["record_id"] == "ex-02"] == ["1", "2", "3", "4", "5"]
    failed = next(r for r in rows if (r["record_id"], r["trial_id"]) == ("ex-02", "NCT01565200"))
    assert failed["status"] == str(STATUS_CODES["screen-failed"]) and failed["trial_screening_complete"] == "2"


def test_export_refuses_an_unknown_format(cli: Cli) -> None:
    assert cli("export", "--format", "xlsx").exit_code == 2
