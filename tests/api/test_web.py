"""The web page in-process: login exchange, cookie flags, CSRF, screening, site answers, the trials pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from api_helpers import AS_OF, EXAMPLES, SYNTHETIC, TOKEN, cli_screen
from fastapi.testclient import TestClient

from trialmatch.api.security import COOKIE


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    """A client logged in through the login URL."""
    response = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui"
    return client


def _screen(browser: TestClient, example: Path) -> str:
    csrf = _csrf(browser.get("/ui").text)
    files = {"bundle_file": (example.name, example.read_bytes(), "application/json")}
    response = browser.post("/ui/screen", data={"csrf": csrf, "as_of": AS_OF}, files=files)
    assert response.status_code == 200, response.text
    return response.text


def test_login_sets_a_strict_httponly_cookie(client: TestClient) -> None:
    response = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert f"{COOKIE}=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert TOKEN not in response.headers["set-cookie"]


@pytest.mark.parametrize("path", ["/login?token=wrong", "/login", "/ui", "/ui/trials", "/ui/results"])
def test_pages_without_a_session_ask_to_log_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert "login" in response.text.lower()


def test_forged_cookie_is_no_session(client: TestClient) -> None:
    client.cookies.set(COOKIE, "abc.def")
    assert client.get("/ui").status_code == 401


def test_form_posts_need_the_session_csrf_token(browser: TestClient) -> None:
    files = {"bundle_file": ("b.json", EXAMPLES[0].read_bytes(), "application/json")}
    for data in ({}, {"csrf": "forged"}):
        response = browser.post("/ui/screen", data=data | {"as_of": AS_OF}, files=files)
        assert response.status_code == 403 and "security token" in response.text


@pytest.mark.parametrize("example", [EXAMPLES[0], SYNTHETIC], ids=lambda p: p.stem)
def test_upload_shows_one_card_per_trial_with_the_cli_verdicts(
    browser: TestClient, library: Path, example: Path
) -> None:
    html = _screen(browser, example)
    expected = cli_screen(library, example)
    outcomes = expected if isinstance(expected, list) else [expected]
    sections = html.split('<section class="patient"')[1:]
    assert len(sections) == len(outcomes)
    for number, (section, outcome) in enumerate(zip(sections, outcomes, strict=True), start=1):
        shown = re.findall(rf'id="card-{number}-([^"]+)".*?data-verdict="(\w+)"', section, re.S)
        assert shown == [(t["trial_id"], t["verdict"]) for t in outcome["trials"]]
        for trial in outcome["trials"]:
            if trial["eligible_from"]:
                assert trial["eligible_from"] in section


def test_a_site_answer_is_kept_in_the_session_and_rescreens(browser: TestClient) -> None:
    html = _screen(browser, EXAMPLES[0])
    form = re.search(r'<form method="post" action="/ui/answers".*?</form>', html, re.S)
    assert form, "no open criterion to answer"
    fields = dict(re.findall(r'name="(patient_id|trial_id|criterion_id)" value="([^"]+)"', form.group(0)))
    cookie_before = browser.cookies.get(COOKIE)
    response = browser.post(
        "/ui/answers", data=fields | {"csrf": _csrf(html), "status": "met", "by": "Nurse Example", "note": "checked"}
    )
    assert response.status_code == 200
    assert "answered by Nurse Example on" in response.text
    assert "1 site answer(s)" in response.text
    assert browser.cookies.get(COOKIE) == cookie_before


def test_a_bad_bundle_is_shown_on_the_form(browser: TestClient) -> None:
    csrf = _csrf(browser.get("/ui").text)
    response = browser.post("/ui/screen", data={"csrf": csrf, "as_of": AS_OF, "bundle_text": '{"resourceType": '})
    assert response.status_code == 422 and 'role="alert"' in response.text and "not valid JSON" in response.text


def test_trials_pages_show_coverage_and_each_criterion_beside_its_rule(browser: TestClient) -> None:
    listing = browser.get("/ui/trials").text
    trial_ids = re.findall(r'<tr data-trial="([^"]+)"', listing)
    assert trial_ids
    page = browser.get(f"/ui/trials/{trial_ids[0]}").text
    pairs = re.findall(r'<div class="pair[^"]*" data-criterion="([^"]+)">', page)
    assert "inc-1" in pairs and page.count('class="rule"') > 0
    assert browser.get("/ui/trials/NCT00000000").status_code == 404


def test_logout_ends_the_session(browser: TestClient) -> None:
    csrf = _csrf(browser.get("/ui").text)
    assert browser.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert browser.get("/ui").status_code == 401
