"""The web page in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no download).

The server runs in a thread on a free loopback port; the test logs in through the login URL, uploads an
example bundle, checks the verdicts against the CLI's, expands a card and saves a screenshot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import AS_OF, EXAMPLES, REPO, TOKEN, cli_screen, served
from fastapi import FastAPI

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_chromium() -> None:
    if CHROMIUM.is_file():
        return
    reason = f"{CHROMIUM} not found (install Debian's chromium package)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; the browser test must run in CI")
    print(f"skipping the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread on 127.0.0.1."""
    with served(app) as url:
        yield url


def test_coordinator_screens_an_example_in_chromium(base_url: str, library: Path) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    example = EXAMPLES[0]
    expected = cli_screen(library, example)
    outcome = expected[0] if isinstance(expected, list) else expected
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{base_url}/login?token={TOKEN}")
            expect(page).to_have_url(f"{base_url}/ui")
            cookie = next(c for c in context.cookies() if c["name"] == "trialmatch_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

            page.get_by_label("FHIR bundle file (.json)").set_input_files(str(example))
            page.get_by_label("Screen as of").fill(AS_OF)
            page.get_by_role("button", name="Screen").click()
            expect(page.get_by_role("heading", name="Screening results")).to_be_visible()

            for trial in outcome["trials"]:
                card = page.locator(f'[id="card-1-{trial["trial_id"]}"]')
                expect(card.locator(".verdict")).to_have_text(trial["verdict"])
            first = page.locator("article.card").first
            checklist = first.locator("details.checklist-box")
            expect(checklist.locator("li.criterion").first).to_be_hidden()
            checklist.locator(":scope > summary").focus()
            page.keyboard.press("Enter")
            expect(checklist.locator("li.criterion").first).to_be_visible()
            criteria_shown = checklist.locator(":scope > ul > li.criterion").count()
            assert criteria_shown == len(outcome["trials"][0]["criteria"])
            expect(page.get_by_role("button", name="Expand all")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "web-results.png"))
        finally:
            context.close()
            browser.close()
    assert (ARTIFACTS / "web-results.png").stat().st_size > 10_000
