"""The Python API: ``import trialmatch``, read, load, screen; results as objects and as Arrow/pandas tables."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from worklist_helpers import AS_OF, EXAMPLES, Cli

import trialmatch
from trialmatch.errors import InputError, LibraryError


def test_results_match_what_the_cli_prints(cli: Cli) -> None:
    patients = trialmatch.read_patients(EXAMPLES / "ex-02.json") + trialmatch.read_patients(EXAMPLES / "ex-04.json")
    results = trialmatch.screen(patients, trialmatch.load_trials(library=cli.library), as_of=AS_OF)
    printed = cli.screen(
        str(EXAMPLES / "ex-02.json"), str(EXAMPLES / "ex-04.json"), "--as-of", AS_OF, "--format", "json"
    )
    assert results.to_json() == json.loads(printed.stdout)
    assert results["ex-02"].as_of == dt.date(2026, 11, 21) and len(results) == 2


def test_tables_have_one_row_per_patient_and_trial_and_per_criterion() -> None:
    results = trialmatch.screen(trialmatch.read_patients(EXAMPLES / "ex-02.json"), as_of=AS_OF)
    frame = results.to_pandas()
    assert len(frame) == 5 and set(frame["patient_id"]) == {"ex-02"}
    washout = frame.set_index("trial_id").loc["NCT01565200"]
    assert washout["verdict"] == "ineligible" and washout["eligible_from"] == dt.date(2026, 11, 27)
    assert washout["deciding"].startswith("fails: ") and list(washout["failed"]) == ["exc-15"]
    arrow = results.to_arrow()
    assert arrow.num_rows == 5 and arrow.schema.field("eligible_from").type.id == 16  # date32
    criteria = results.criteria_table()
    total = sum(len(t.criteria) for t in results["ex-02"].trials)
    assert criteria.num_rows >= total
    assert set(criteria.column("status").to_pylist()) <= {"met", "not_met", "unknown", "review"}


def test_answers_are_taken_from_a_file() -> None:
    patient = trialmatch.read_patients(EXAMPLES / "ex-03.json")[0]
    trials = trialmatch.load_trials(["NCT02286843"])
    without = trialmatch.screen(patient, trials, as_of=AS_OF)
    answered = trialmatch.screen(patient, trials, as_of=AS_OF, answers=EXAMPLES / "answers.yaml")
    assert without["ex-03"].trials[0].verdict == "possible"
    assert answered["ex-03"].trials[0].verdict == "eligible"


def test_errors_are_the_packages_own() -> None:
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        trialmatch.screen([], as_of="21/11/2026")
    with pytest.raises(LibraryError, match="NCT99999999"):
        trialmatch.load_trials(["NCT99999999"])
    with pytest.raises(AttributeError):
        _ = trialmatch.no_such_function


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = "import sys, trialmatch; print(sorted(m for m in ('pandas', 'sqlalchemy', 'pyarrow') if m in sys.modules))"
    printed = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert printed.strip() == "[]"
