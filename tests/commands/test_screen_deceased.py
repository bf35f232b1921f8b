"""The death gate end to end: a record that says the patient died is not screenable (contract ``deceased``).

The patients are the first example patient with a death added to its Patient resource: dated before as-of,
undated, and dated after as-of (alive at as-of, screened as before).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from trialmatch.cli import app
from trialmatch.patients.derive import derive
from trialmatch.patients.sources import read_patients

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "src" / "trialmatch" / "data" / "patients" / "examples" / "ex-01.json"
AS_OF = "2026-11-21"
DEATHS: dict[str, dict[str, Any]] = {
    "died-dated": {"deceasedDateTime": "2026-04-01T10:20:00+01:00"},
    "died-undated": {"deceasedBoolean": True},
    "dies-after-as-of": {"deceasedDateTime": "2027-01-05"},
    "alive": {},
}


def _variant(name: str, death: dict[str, Any], folder: Path) -> Path:
    """ex-01 under another id, with ``death`` on its Patient resource."""
    text = (
        EXAMPLE.read_text(encoding="utf-8").replace('"ex-01"', f'"{name}"').replace("Patient/ex-01", f"Patient/{name}")
    )
    bundle = json.loads(text)
    patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient.update(copy.deepcopy(death))
    path = folder / f"{name}.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("deceased")
    return {name: _variant(name, death, folder) for name, death in DEATHS.items()}


@pytest.fixture(scope="module")
def documents(bundles: dict[str, Path]) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(app, ["screen", *map(str, bundles.values()), "--as-of", AS_OF, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    return {d["patient_id"]: d for d in json.loads(result.stdout)}


def test_every_document_follows_the_contract(documents: dict[str, dict[str, Any]], shared_dir: Path) -> None:
    schema = json.loads((shared_dir / "contracts" / "screening-result.schema.json").read_text())
    for document in documents.values():
        jsonschema.validate(document, schema)


@pytest.mark.parametrize(("patient", "date"), [("died-dated", "2026-04-01"), ("died-undated", None)])
def test_deceased_patient_is_ineligible_for_every_trial_citing_the_record(
    documents: dict[str, dict[str, Any]], patient: str, date: str | None
) -> None:
    document = documents[patient]
    assert document["deceased"] == {"date": date}
    assert document["trials"]
    for trial in document["trials"]:
        assert trial["verdict"] == "ineligible"
        assert trial["failed"] == ["deceased"]
        assert trial["missing"] == []
        gate = trial["criteria"][0]
        assert (gate["id"], gate["type"], gate["text"], gate["status"]) == (
            "deceased",
            "inclusion",
            "Alive at the screening date",
            "not_met",
        )
        assert gate["evidence"][0]["source"] == f"Patient/{patient}"


def test_death_after_as_of_changes_nothing(documents: dict[str, dict[str, Any]]) -> None:
    later, alive = documents["dies-after-as-of"], documents["alive"]
    assert later["deceased"] is None
    assert [(t["trial_id"], t["verdict"], t["failed"]) for t in later["trials"]] == [
        (t["trial_id"], t["verdict"], t["failed"]) for t in alive["trials"]
    ]


def test_age_stops_at_the_date_of_death(bundles: dict[str, Path]) -> None:
    record = next(read_patients(bundles["died-dated"]))
    age = derive("age", {}, record, dt.date.fromisoformat(AS_OF))
    assert age.value == 62  # born 1963-04-18: 63 on as-of, 62 on the day of death
    assert age.changes_on is None
    assert "date of death" in age.explanation


def test_table_and_check_say_the_patient_died(bundles: dict[str, Path]) -> None:
    table = CliRunner().invoke(app, ["screen", str(bundles["died-dated"]), "--as-of", AS_OF])
    assert "Deceased on 2026-04-01: not screenable" in table.stdout
    check = CliRunner().invoke(app, ["patients", "check", str(bundles["died-dated"]), "--as-of", AS_OF])
    assert "deceased: 2026-04-01; not screenable" in check.stdout


def test_html_page_says_the_patient_died(bundles: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["screen", str(bundles["died-undated"]), "--as-of", AS_OF, "--format", "html", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.stdout
    page = (tmp_path / "died-undated.html").read_text(encoding="utf-8")
    assert "Deceased (no date of death recorded)" in page
    assert "(deceased)" in (tmp_path / "index.html").read_text(encoding="utf-8")
