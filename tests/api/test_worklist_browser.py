"""The coordinator's work-list in real headless Chromium (Debian's, driven by Playwright), across a restart.

Add two patients, read the board, open a patient, record an answer and a status, restart the server and find
everything still there; the audit trail shows each change; the downloaded CSV agrees with ``screen --answers``
run on the exported answers file; the print view renders. Screenshots go to ``test-artifacts/`` (the ones in
docs/images/ were made by this test).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from api_helpers import AS_OF, EXAMPLES_DIR, REPO, TOKEN, served
from typer.testing import CliRunner

from trialmatch.api.app import create_app
from trialmatch.api.service import Settings
from trialmatch.cli import app as cli_app

ARTIFACTS = REPO / "test-artifacts"
PATIENTS = [EXAMPLES_DIR / "ex-02.json", EXAMPLES_DIR / "ex-04.json"]


def _add_two_patients(page: Any, base: str, expect: Any) -> None:
    page.goto(f"{base}/login?token={TOKEN}")
    page.get_by_role("link", name="Work-list").click()
    page.get_by_label("Patient files (FHIR JSON, NDJSON, CSV)").set_input_files([str(p) for p in PATIENTS])
    page.get_by_label("Screen as of").fill(AS_OF)
    page.get_by_label("Who", exact=True).fill("RC One")
    page.get_by_role("button", name="Add and screen").click()
    expect(page.locator("td.cell")).to_have_count(10)


def _record_answer_and_status(page: Any, expect: Any) -> None:
    page.get_by_role("link", name="ex-04", exact=True).click()
    expect(page.get_by_role("heading", name="Patient ex-04")).to_be_visible()
    card = page.locator('[id="trial-NCT03530696"]')
    expect(card.locator(".verdict")).to_have_text("possible")
    card.locator("details.answers-box > summary").click()
    answers = card.get_by_role("form", name="Answers for NCT03530696")
    answers.locator('select[name="answer:inc-5"]').select_option("met")
    answers.locator('input[name="note:inc-5"]').fill("echocardiogram reviewed")
    answers.get_by_label("Who").fill("Dr Two")
    answers.get_by_role("button", name="Save answers and re-screen").click()
    card = page.locator('[id="trial-NCT03530696"]')
    expect(card.locator(".verdict")).to_have_text("eligible")
    card.locator("details.status-box > summary").click()
    status = card.get_by_role("form", name="Status for NCT03530696")
    status.get_by_label("Status").select_option("contacted")
    status.get_by_label("Who").fill("RC One")
    status.get_by_label("Note").fill("phoned, interested")
    status.get_by_role("button", name="Save status").click()
    expect(page.locator('[id="trial-NCT03530696"] .pair-status')).to_have_text("contacted")


def _answers_round_trip(settings: Settings, csv_text: str, tmp_path: Path) -> None:
    """The answers file the work-list exports gives ``screen --answers`` the verdicts the CSV download shows."""
    answers = tmp_path / "answers.yaml"
    db = f"sqlite:///{settings.library_root / 'worklist.sqlite3'}"
    common = ["--library", str(settings.library_root)]
    exported = CliRunner().invoke(
        cli_app, ["worklist", "export", "--format", "answers", "--out", str(answers), "--db", db, *common]
    )
    assert exported.exit_code == 0, exported.output
    args = ["screen", *map(str, PATIENTS), "--answers", str(answers), "--as-of", AS_OF, "--format", "json", *common]
    screened = CliRunner().invoke(cli_app, args)
    assert screened.exit_code == 0, screened.output
    verdicts = {
        (o["patient_id"], t["trial_id"]): t["verdict"] for o in json.loads(screened.stdout) for t in o["trials"]
    }
    downloaded = {(r["patient_id"], r["trial_id"]): r["verdict"] for r in csv.DictReader(io.StringIO(csv_text))}
    assert downloaded == verdicts and downloaded[("ex-04", "NCT03530696")] == "eligible"


def test_the_worklist_in_chromium_survives_a_restart(
    settings: Settings, chromium_launch: dict[str, Any], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            page = context.new_page()
            with served(create_app(settings)) as base:
                _add_two_patients(page, base, expect)
                washout = page.locator('tr:has(th a:text-is("ex-02")) td.cell[data-trial="NCT01565200"]')
                assert washout.get_attribute("title").startswith("fails: ")
                page.screenshot(path=str(ARTIFACTS / "worklist-board.png"), full_page=True)
                _record_answer_and_status(page, expect)
            with served(create_app(settings)) as base:  # a new server process state on the same files
                page.goto(f"{base}/login?token={TOKEN}")
                page.goto(f"{base}/ui/worklist")
                page.get_by_role("link", name="ex-04", exact=True).click()
                card = page.locator('[id="trial-NCT03530696"]')
                expect(card.locator(".verdict")).to_have_text("eligible")
                expect(card.locator(".pair-status")).to_have_text("contacted")
                page.screenshot(path=str(ARTIFACTS / "worklist-patient.png"))
                page.locator("figure.timeline-figure").screenshot(path=str(ARTIFACTS / "worklist-timeline.png"))
                expect(page.locator("figure.timeline-figure svg title").first).to_have_text("Timeline of patient ex-04")
                with page.expect_download() as download:
                    page.get_by_role("link", name="CSV").click()
                patient_csv = Path(download.value.path()).read_text(encoding="utf-8")
                assert {r["patient_id"] for r in csv.DictReader(io.StringIO(patient_csv))} == {"ex-04"}
                page.get_by_role("link", name="Print view").click()
                page.emulate_media(media="print")
                expect(page.locator("section.sheet")).to_have_count(5)
                expect(page.locator("section.sheet").first).to_contain_text("Investigator:")
                page.emulate_media(media="screen")
                page.goto(f"{base}/ui/worklist/history")
                trail = page.locator("table.history tbody tr")
                expect(trail).to_have_count(2)
                expect(trail.nth(0)).to_contain_text("NCT03530696: status contacted")
                expect(trail.nth(1)).to_contain_text("NCT03530696 inc-5: answered met")
                page.goto(f"{base}/ui/worklist")
                with page.expect_download() as download:
                    page.get_by_role("link", name="Download CSV").click()
                board_csv = Path(download.value.path()).read_text(encoding="utf-8")
        finally:
            context.close()
            browser.close()
    _answers_round_trip(settings, board_csv, tmp_path)
    for name in ("worklist-board.png", "worklist-patient.png", "worklist-timeline.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000
