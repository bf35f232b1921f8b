"""feasibility.html in real headless Chromium: every trial's funnel chart and table render offline."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from trialmatch.commands.cohort import app
from trialmatch.commands.trial_selection import select

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_feasibility_page_renders_every_trial_in_chromium(tmp_path: Path, chromium_launch: dict[str, object]) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["synth", "--patients", "400", "--seed", "3", "--out", str(tmp_path / "store")])
    assert made.exit_code == 0, made.output
    done = runner.invoke(app, ["screen", str(tmp_path / "store"), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    trials, _ = select([], None)
    with (tmp_path / "out/feasibility.csv").open(newline="") as f:
        steps = Counter(row["trial_id"] for row in csv.DictReader(f))
    assert set(steps) == {b.trial.trial_id for b in trials}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch)  # type: ignore[arg-type]
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((tmp_path / "out/feasibility.html").as_uri())
        page.wait_for_selector("section.trial .js-plotly-plot .main-svg")
        for trial, n in steps.items():
            section = page.locator(f'section.trial[data-trial="{trial}"]')
            assert section.locator(".js-plotly-plot").count() == 2  # funnel and top-excluders bars
            funnel_bars = section.locator(".js-plotly-plot").first.locator("g.funnellayer g.point")
            assert funnel_bars.count() == n
            assert section.locator("table.funnel tbody tr").count() == n
        page.screenshot(path=str(ARTIFACTS / "feasibility.png"), full_page=True)
        browser.close()
    assert errors == []
