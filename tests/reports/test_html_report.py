"""The HTML report opened in real headless Chromium (Playwright driving Debian's /usr/bin/chromium)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.sync_api import sync_playwright

from trialmatch.commands.trial_selection import select
from trialmatch.engine.screening import screen_patient
from trialmatch.patients.sources import read_patients
from trialmatch.reports.html import page_name, page_names, render_patient, write_reports

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "src" / "trialmatch" / "data" / "patients" / "examples"
ARTIFACTS = REPO / "test-artifacts"
AS_OF = dt.date(2026, 11, 21)


def outcomes_for(paths: list[Path]):  # type: ignore[no-untyped-def]
    bound, errors = select([], None)
    assert not errors
    return [screen_patient(r, bound, AS_OF) for p in paths for r in read_patients(p)]


def test_report_pages_escape_text_and_name_files_safely() -> None:
    assert page_name("pat/../x y") == "pat%2F..%2Fx%20y.html"
    assert page_name("..") == page_name("..")
    assert page_name("..").startswith("patient-")
    assert page_names(["index", "a/b", "a_b", "A_B"]) == ["index-2.html", "a%2Fb.html", "a_b.html", "A_B-2.html"]
    [outcome] = outcomes_for([sorted(EXAMPLES.glob("*.json"))[0]])
    hostile = outcome.model_copy(update={"patient_id": "<script>alert(1)</script>"})
    html = render_patient(hostile)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_report_in_headless_chromium(chromium_launch: dict[str, object], tmp_path: Path) -> None:
    outcomes = outcomes_for(sorted(EXAMPLES.glob("*.json")))
    write_reports(outcomes, tmp_path)
    first = outcomes[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch)  # type: ignore[arg-type]
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto((tmp_path / "index.html").as_uri())
        assert page.locator("tbody tr").count() == len(outcomes)
        page.click(f"text={first.patient_id}")
        cards = page.locator("section.card[data-trial]")
        assert cards.count() == len(first.trials)
        shown = [cards.nth(i).locator("[data-verdict]").get_attribute("data-verdict") for i in range(cards.count())]
        assert shown == [t.verdict for t in first.trials]
        checklist = cards.first.locator("details.checklist")
        assert not checklist.locator("li.criterion").first.is_visible()
        checklist.locator("summary.checklist-toggle").click()
        assert checklist.locator("li.criterion").first.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
        browser.close()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
