"""Hostile trial ids and aliases through ``trials import`` and ``POST /trials``: ``..``, ``.``, absolute and
encoded paths, control characters. Nothing outside the library is touched, nothing in it is lost, and every
refusal is one line naming the input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from trialmatch.api.app import create_app
from trialmatch.api.service import Settings
from trialmatch.cli import app as cli_app
from trialmatch.identifiers import MAX_LENGTH, IdentifierError, PathEscapeError, check, file_stem, problem, within
from trialmatch.trials.library import TrialLibrary

TOKEN = "hostile-suite-token-5b1e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REFUSED = ["..", ".", "", " ", "...", "NCT1\n2", "a\x1b[31mb", "a\x00b", "x" * (MAX_LENGTH + 1), " NCT1"]
ENCODED = {
    "/etc/passwd": "%2Fetc%2Fpasswd",
    "../outside": "%2E.%2Foutside",
    "%2e%2e": "%252e%252e",
    "C:\\temp\\x": "C%3A%5Ctemp%5Cx",
    "NCT01234567": "NCT01234567",
    "2011-005437-39": "2011-005437-39",
    "CTRI/2020/05/1": "CTRI%2F2020%2F05%2F1",
    "HIC#:20 00": "HIC%23%3A20%2000",
    ".hidden": "%2Ehidden",
    "v1.2": "v1.2",
}


def study(nct_id: str, org_id: str = "SYN-1") -> dict[str, Any]:
    """A minimal CT.gov v2 study with the given ids."""
    return {
        "protocolSection": {
            "identificationModule": {"nctId": nct_id, "orgStudyIdInfo": {"id": org_id}, "briefTitle": "Hostile"},
            "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Adults.\n"},
        }
    }


def write_study(folder: Path, name: str, nct_id: str, org_id: str = "SYN-1") -> Path:
    path = folder / name
    path.write_text(json.dumps(study(nct_id, org_id)))
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("value", REFUSED)
def test_refused_identifiers_say_why(value: str) -> None:
    assert problem(value) is not None
    with pytest.raises(IdentifierError, match=r"^trial id '.*' is not allowed: ") as caught:
        check(value, "trial id")
    assert not any(c in str(caught.value) for c in "\n\x1b\x00")


@pytest.mark.parametrize(("value", "stem"), ENCODED.items())
def test_file_names_are_encoded(value: str, stem: str) -> None:
    assert file_stem(value) == stem


@given(st.lists(st.text(min_size=1, max_size=40).filter(lambda v: problem(v) is None), min_size=2, max_size=2))
def test_encoding_is_one_to_one_and_never_a_path(values: list[str]) -> None:
    first, second = (file_stem(v) for v in values)
    assert (first == second) == (values[0] == values[1])
    assert "/" not in first and "\\" not in first and not first.startswith(".") and first not in ("", ".", "..")


def test_paths_leaving_their_root_are_refused(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    assert within(tmp_path / "root", "a", "b") == (tmp_path / "root" / "a" / "b").resolve()
    for parts in (("..",), (".",), ("/etc",), ("a", "..", ".."), ("link", "x")):
        with pytest.raises(PathEscapeError, match="leads outside its folder"):
            within(tmp_path / "root", *parts)


def test_import_of_dot_dot_keeps_the_library_whole(library: Path, tmp_path: Path) -> None:
    good = write_study(tmp_path, "good.json", "NCT90000101")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["trials", "import", str(good), "--library", str(library)]).exit_code == 0
    kept = files_under(library) - {library / "audit.sqlite3"}
    hostile = [write_study(tmp_path, f"h{n}.json", value) for n, value in enumerate(["..", "."])]
    result = runner.invoke(cli_app, ["trials", "import", *map(str, hostile), "--library", str(library)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: h") and "is not allowed" in line for line in lines)
    assert kept <= files_under(library)
    assert [t.trial_id for t in TrialLibrary(library, include_bundled=False).load_all()] == ["NCT90000101"]


@pytest.mark.parametrize("value", ["/tmp/abs", "../sentinel/rules/x", "../../x", "%2e%2e%2fsentinel"])
def test_path_like_ids_and_aliases_stay_inside_the_library(library: Path, tmp_path: Path, value: str) -> None:
    path = write_study(tmp_path, "odd.json", value, org_id=f"../sentinel/rules/{value}")
    result = CliRunner().invoke(cli_app, ["trials", "import", str(path), "--library", str(library), "--draft"])
    assert result.exit_code == 0, result.output
    assert all(p.resolve().is_relative_to(library.resolve()) for p in library.rglob("*"))
    lib = TrialLibrary(library, include_bundled=False)
    assert lib.get(value).trial_id == value
    assert (library / "rules" / f"{file_stem(value)}.rules.yaml").is_file()


def test_control_characters_in_an_alias_refuse_the_file(library: Path, tmp_path: Path) -> None:
    path = write_study(tmp_path, "esc.json", "NCT90000102", org_id="SYN\x1b]0;owned\x07")
    result = CliRunner().invoke(cli_app, ["trials", "import", str(path), "--library", str(library)])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\\x1b" in result.stderr and "esc.json" in result.stderr
    assert TrialLibrary(library, include_bundled=False).stored() == []


@pytest.fixture
def client(library: Path) -> TestClient:
    settings = Settings(token=TOKEN, library_root=library, audit_db=library / "audit.sqlite3")
    return TestClient(create_app(settings))


@pytest.mark.parametrize("value", ["..", ".", "a\x1b[2Jb"])
def test_api_refuses_hostile_ids_with_a_422_that_shows_no_server_path(
    client: TestClient, library: Path, value: str
) -> None:
    response = client.post(
        "/trials", content=json.dumps(study(value)), headers=AUTH | {"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert str(library) not in response.text and "/tmp" not in response.json()["detail"]
    assert client.get("/trials/NCT01565200", headers=AUTH).status_code == 200


def test_api_filename_cannot_leave_the_library(client: TestClient, library: Path) -> None:
    body = json.dumps(study("NCT90000103"))
    response = client.post(
        "/trials",
        params={"filename": "../../sentinel/keep.txt", "draft": "true"},
        content=body,
        headers=AUTH | {"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert str(library) not in response.text
    assert (library / "sources" / "NCT90000103" / "keep.txt").is_file()


def test_api_cannot_replace_a_curated_trial_without_the_audited_override(client: TestClient, library: Path) -> None:
    body = json.dumps(study("NCT01565200"))
    headers = AUTH | {"content-type": "application/json"}
    refused = client.post("/trials", content=body, headers=headers)
    assert refused.status_code == 409 and refused.json()["type"] == "urn:trialmatch:problem:curated-trial"
    assert TrialLibrary(library, include_bundled=False).stored() == []
    assert client.post("/trials", params={"replace_bundled": "true"}, content=body, headers=headers).status_code == 201
    changes = TrialLibrary(library).audit.changes()
    assert [(c[1][:6], c[2], c[3]) for c in changes] == [("token:", "replace-bundled", "NCT01565200")]
