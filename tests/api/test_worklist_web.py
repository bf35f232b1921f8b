"""The work-list pages in-process: board, trial twin, patient page, answers and statuses, print, downloads."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest
from api_helpers import AS_OF, EXAMPLES_DIR, TOKEN
from fastapi.testclient import TestClient

from trialmatch.api.app import create_app
from trialmatch.api.service import Settings

BASE = "/ui/worklist"
EX02, EX04 = EXAMPLES_DIR / "ex-02.json", EXAMPLES_DIR / "ex-04.json"


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "page has no CSRF field"
    return match.group(1)


def _login(client: TestClient) -> str:
    client.get(f"/login?token={TOKEN}")
    return _csrf(client.get(BASE).text)


def _add(client: TestClient, csrf: str, *paths: Path) -> None:
    files = [("files", (p.name, p.read_bytes(), "application/json")) for p in paths]
    response = client.post(f"{BASE}/add", data={"csrf": csrf, "as_of": AS_OF, "by": "rc1"}, files=files)
    assert response.status_code == 200, response.text


@pytest.fixture
def board(client: TestClient) -> tuple[TestClient, str]:
    """A logged-in client with ex-02 and ex-04 on the work-list."""
    csrf = _login(client)
    _add(client, csrf, EX02, EX04)
    return client, csrf


def _patient(client: TestClient, patient_id: str) -> str:
    """The patient page's address, as the board links it (a key, never the patient id)."""
    match = re.search(rf'<th scope="row"><a href="([^"]+)">{re.escape(patient_id)}</a>', client.get(BASE).text)
    assert match, f"{patient_id} is not on the board"
    return match.group(1)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def test_the_board_shows_each_pair_with_its_verdict_status_and_deciding_criterion(
    board: tuple[TestClient, str],
) -> None:
    client, _ = board
    page = client.get(BASE).text
    cells = re.findall(r'<td class="cell (\w+)" data-trial="([^"]+)" data-verdict="\w+" title="([^"]*)"', page)
    assert len(cells) == 10
    washout = next(c for c in cells if c[1] == "NCT01565200" and "lapatinib" in html.unescape(c[2]))
    assert washout[0] == "ineligible" and html.unescape(washout[2]).startswith("fails: ")
    assert "inc-6" not in html.unescape(washout[2]).split(" — ")[0]  # the criterion in words, not its id
    only_eligible = client.get(BASE, params={"verdict": "eligible"}).text
    assert set(re.findall(r'data-verdict="(\w+)"', only_eligible)) == {"eligible"}
    assert client.get(BASE, params={"status": "nonsense"}).status_code == 422


def test_the_trial_twin_lists_who_could_go_on_it(board: tuple[TestClient, str]) -> None:
    client, _ = board
    page = _text(client.get(f"{BASE}/trials/NCT03530696").text)
    assert "Who could go on NCT03530696?" in page
    rows = re.findall(r'<tr class="(\w+)"> <th scope="row"><a href="[^"]+">(ex-0\d)</a>', page)
    assert rows == [("eligible", "ex-02"), ("possible", "ex-04")]
    assert "unknown: " in page  # ex-04's open criterion, in words
    assert client.get(f"{BASE}/trials/NCT00000000").status_code == 404


def test_the_patient_page_leads_with_verdicts_and_deciding_criteria_in_words(board: tuple[TestClient, str]) -> None:
    client, _ = board
    page = client.get(_patient(client, "ex-04")).text
    cards = re.findall(r'<article class="card (\w+)" id="trial-([^"]+)"', page)
    assert cards[0] == ("eligible", "NCT06450314") and len(cards) == 5
    possible = page[page.index('id="trial-NCT03530696"') :].split("</article>")[0]
    assert "Still unknown" in possible and "What would settle it" in possible
    assert 'name="answer:inc-5"' in possible
    closed = [c for c in page.split("<article")[1:] if 'class="card ineligible"' in c and "Eligible from" not in c]
    assert closed and all("What would settle it" not in c and 'name="answer:' not in c for c in closed)
    assert '<details class="checklist-box">' in page and '<details class="checklist-box" open' not in page
    assert page.index("Verdicts and what decides them") < page.index("Timeline")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page
    assert client.get(f"{BASE}/patients/nobody").status_code == 404
    assert all("ex-0" not in href for href in re.findall(r'href="([^"]+)"', page))


def test_answers_and_statuses_persist_are_audited_and_survive_a_restart(
    board: tuple[TestClient, str], settings: Settings
) -> None:
    client, csrf = board
    form = {
        "csrf": csrf,
        "trial_id": "NCT03530696",
        "by": "Dr Two",
        "answer:inc-5": "met",
        "note:inc-5": "echo read by cardiology",
        "answer:inc-1": "met",
        "answer:inc-2": "",
    }
    assert client.post(_patient(client, "ex-04") + "/answers", data=form).status_code == 200
    status = {"csrf": csrf, "trial_id": "NCT03530696", "status": "contacted", "by": "RC One", "note": "phoned"}
    assert client.post(_patient(client, "ex-04") + "/status", data=status).status_code == 200
    with TestClient(create_app(settings)) as restarted:
        _login(restarted)
        page = _text(restarted.get(_patient(restarted, "ex-04")).text)
        card = page[page.index('id="trial-NCT03530696"') :].split("</article>")[0]
        assert 'data-verdict="eligible"' in card and 'data-status="contacted"' in card
        history = _text(restarted.get(f"{BASE}/history").text)
    url = _patient(client, "ex-04")
    for line in (
        f'<td>Dr Two</td><td><a href="{url}">ex-04</a></td><td>NCT03530696 inc-5: answered met</td>',
        f'<td>Dr Two</td><td><a href="{url}">ex-04</a></td><td>NCT03530696 inc-1: answered met</td>',
        f'<td>RC One</td><td><a href="{url}">ex-04</a></td><td>NCT03530696: status contacted</td><td>phoned',
    ):
        assert line in history
    assert "inc-2" not in history


def test_forms_need_the_csrf_token_and_a_name(board: tuple[TestClient, str]) -> None:
    client, csrf = board
    status = {"trial_id": "NCT03530696", "status": "contacted", "by": "RC One"}
    assert client.post(_patient(client, "ex-04") + "/status", data=status).status_code == 403
    answer = {"csrf": csrf, "trial_id": "NCT03530696", "answer:inc-5": "met"}
    assert client.post(_patient(client, "ex-04") + "/answers", data=answer).status_code == 422
    bad = answer | {"by": "x", "answer:inc-5": "maybe"}
    assert client.post(_patient(client, "ex-04") + "/answers", data=bad).status_code == 422
    unknown = answer | {"by": "x", "answer:inc-99": "met"}
    assert client.post(_patient(client, "ex-04") + "/answers", data=unknown).status_code == 422


def test_the_print_view_has_one_signed_sheet_per_trial(board: tuple[TestClient, str]) -> None:
    client, _ = board
    page = client.get(_patient(client, "ex-02") + "/print").text
    assert page.count('<section class="sheet"') == 5 and page.count("Investigator:") == 5
    one = client.get(_patient(client, "ex-02") + "/print", params={"trial": "NCT01565200"}).text
    assert one.count('<section class="sheet"') == 1 and "eligible from 2026-11-27" in one


def test_downloads_are_csv_and_json_of_the_pairs(board: tuple[TestClient, str]) -> None:
    client, _ = board
    response = client.get(f"{BASE}/export.csv")
    assert response.headers["content-disposition"] == 'attachment; filename="worklist.csv"'
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 10 and {r["patient_id"] for r in rows} == {"ex-02", "ex-04"}
    document = client.get(f"{BASE}/export.json", params={"patient": _patient(client, "ex-02").rsplit("/", 1)[1]}).json()
    assert len(document) == 5 and all(d["outcome"]["trial_id"] == d["trial_id"] for d in document)
    assert json.dumps(document)


def test_rescreen_from_the_page_flags_the_washout_pair(board: tuple[TestClient, str]) -> None:
    client, csrf = board
    assert client.post(f"{BASE}/rescreen", data={"csrf": csrf, "as_of": "2026-11-27"}).status_code == 200
    page = client.get(BASE, params={"sort": "changed"}).text
    cells = re.findall(r'<td class="cell \w+" data-trial="([^"]+)" data-verdict="(\w+)".*?</td>', page, re.S)
    flags = re.findall(r'<td class="cell \w+".*?</td>', page, re.S)
    flagged = [
        (trial, verdict, html.unescape(re.findall(r'<span class="flag" title="([^"]+)"', cell)[0]))
        for (trial, verdict), cell in zip(cells, flags, strict=True)
        if 'class="flag"' in cell
    ]
    assert flagged == [("NCT01565200", "eligible", "eligible from 2026-11-27 has passed")]


def test_an_unreadable_upload_is_refused_with_the_reason(client: TestClient) -> None:
    csrf = _login(client)
    files = [("files", ("notes.txt", b"not a record", "text/plain"))]
    response = client.post(f"{BASE}/add", data={"csrf": csrf, "as_of": AS_OF}, files=files)
    assert response.status_code == 422 and "notes.txt" in response.text


def test_serve_refuses_an_unreachable_worklist_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from trialmatch.cli import app as cli_app

    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: pytest.fail("the server must not start"))
    url = "postgresql+psycopg://rc:secret@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(cli_app, ["serve", "--library", str(tmp_path), "--worklist-db", url])
    assert result.exit_code == 2
    assert "cannot open the work-list database postgresql+psycopg://rc:***@" in result.output
    assert "secret" not in result.output
