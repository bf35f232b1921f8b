"""feasibility.html in real headless Chromium: each trial's attrition chart reads top to bottom in protocol order,
with the criteria's short text as labels and every count visible beside its bar (never under the unknown bars),
and the page shows the same numbers as feasibility.csv."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from playwright.sync_api import Locator, sync_playwright
from typer.testing import CliRunner

from trialmatch.commands.cohort import app

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _csv(path: Path) -> dict[str, dict[str, list[dict[str, str]]]]:
    """feasibility.csv rows by trial and section."""
    by: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by[row["trial_id"]][row["section"]].append(row)
    return by


def _text(locator: Locator) -> str:
    """An SVG element's text (``inner_text`` is for HTML elements)."""
    return (locator.text_content() or "").strip()


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    return box


def test_feasibility_page_in_chromium(tmp_path: Path, chromium_launch: dict[str, object]) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["synth", "--patients", "400", "--seed", "3", "--out", str(tmp_path / "store")])
    assert made.exit_code == 0, made.output
    done = runner.invoke(app, ["screen", str(tmp_path / "store"), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    numbers = _csv(tmp_path / "out/feasibility.csv")
    trials = [t for t in numbers if t]
    assert len(trials) == 5
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium_launch)  # type: ignore[arg-type]
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto((tmp_path / "out/feasibility.html").as_uri())
        assert page.locator("table.summary tbody tr").count() == len(trials)
        coverage = {r["item"]: r["count"] for r in numbers[""]["coverage"]}
        assert page.locator('tr[data-item="patients_stored"] td').inner_text() == coverage["patients_stored"] == "400"
        for trial in trials:
            section = page.locator(f'section.trial[data-trial="{trial}"]')
            _check_headline(section, numbers[trial]["headline"])
            _check_chart(section, numbers[trial]["attrition"])
        page.screenshot(path=str(ARTIFACTS / "feasibility.png"))
        page.locator("section.trial").first.screenshot(path=str(ARTIFACTS / "feasibility-trial.png"))
        browser.close()
    assert requests == [(tmp_path / "out/feasibility.html").as_uri()]  # self-contained: nothing else fetched


def _check_headline(section: Locator, rows: list[dict[str, str]]) -> None:
    for row in rows:
        box = section.locator(f'.range [data-measure="{row["item"]}"]')
        assert box.locator(".n").inner_text() == row["count"]
        if row["item"] != "patients":
            assert f"({row['percent']}%)" in box.inner_text()


def _check_chart(section: Locator, rows: list[dict[str, str]]) -> None:
    """Rows in protocol order from the top; label, remaining count and percentage, and unknown count as in the
    CSV; each count to the right of its own bar and clear of the next column; labels left of the bars."""
    steps: dict[int, dict[str, str]] = defaultdict(dict)
    for row in rows:
        steps[int(row["position"])] |= {"id": row["item"], "label": row["label"], row["measure"]: row["count"]}
        steps[int(row["position"])][row["measure"] + "%"] = row["percent"]
    chart = section.locator("svg.attrition")
    groups = chart.locator("g.step")
    assert groups.count() == len(steps) + 1  # the whole cohort first
    first = steps[1]
    assert _text(groups.nth(0).locator("text.count")) == f"{first['remaining_before']} (100.0%)"
    unknown_column = _box(chart.locator("text.unknown-head"))["x"]
    previous_y = _box(groups.nth(0).locator("text.label"))["y"]
    for n in sorted(steps):
        step, group = steps[n], groups.nth(n)
        assert group.get_attribute("data-criterion") == step["id"]
        label, count = group.locator("text.label"), group.locator("text.count")
        assert _text(label) == step["label"] and step["label"]
        assert _text(count) == f"{step['remaining_after']} ({step['remaining_after%']}%)"
        assert _text(group.locator("text.unknown-count")) == step["unknown"]
        label_box, count_box, bar_box = _box(label), _box(count), group.locator("rect.remaining").bounding_box()
        assert label_box["y"] > previous_y  # top to bottom
        previous_y = label_box["y"]
        bar_x = bar_box["x"] if bar_box else count_box["x"]
        assert label_box["x"] + label_box["width"] <= bar_x + 1
        assert count_box["x"] >= bar_x + (bar_box["width"] if bar_box else 0)
        assert count_box["x"] + count_box["width"] < unknown_column
        unknown_text = _box(group.locator("text.unknown-count"))
        unknown_bar = group.locator("rect.unknown").bounding_box()
        assert unknown_text["x"] >= unknown_column + (unknown_bar["width"] if unknown_bar else 0)
