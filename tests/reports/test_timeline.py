"""The patient timeline: which facts it draws, and that the SVG is well-formed and accessible whatever the text."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import trialmatch
from trialmatch.reports.timeline import Mark, render_timeline, timeline_marks, timeline_rows

EX02 = Path(__file__).resolve().parents[2] / "src" / "trialmatch" / "data" / "patients" / "examples" / "ex-02.json"
AS_OF = dt.date(2026, 11, 21)
SVG = "{http://www.w3.org/2000/svg}"


def _marks() -> list[Mark]:
    return timeline_marks(trialmatch.read_patients(EX02)[0], AS_OF)


def test_the_timeline_draws_diagnoses_lines_lesions_responses_and_labs() -> None:
    marks = _marks()
    lanes = {lane: [m for m in marks if m.lane == lane] for lane in {m.lane for m in marks}}
    assert [m.start for m in lanes["Diagnosis"]] == [dt.date(2021, 5, 10)]
    assert {m.series for m in lanes["Metastatic sites"]} == {"Lung structure", "Structure of lymph node"}
    therapy = {(m.label, m.start, m.end) for m in lanes["Therapy"]}
    assert ("L3 lapatinib", dt.date(2025, 5, 12), dt.date(2026, 11, 11)) in therapy
    assert {label.split()[0] for label, _, _ in therapy} == {"L1", "L2", "L3"}
    assert len(lanes["Lesions"]) == 12 and len({m.series for m in lanes["Lesions"]}) == 3
    assert [m.label for m in lanes["RECIST"]][:2] == ["PR", "PD"]
    assert any(m.said.startswith("Absolute neutrophil count: 2.8") for m in lanes["Labs"])


def test_the_svg_is_well_formed_titled_and_every_mark_says_what_it_is() -> None:
    marks = _marks()
    svg = ET.fromstring(render_timeline("ex-02", marks, AS_OF))
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "tl-title tl-desc"
    assert svg.find(f"{SVG}title").text == "Timeline of patient ex-02"
    assert "dated facts from 2021-05-10 to 2026-11-21" in svg.find(f"{SVG}desc").text
    titled = [e for e in svg.iter() if e.tag in (f"{SVG}circle", f"{SVG}rect")]
    assert titled and all(e.find(f"{SVG}title") is not None for e in titled)
    assert len(titled) == len(marks)
    rows = timeline_rows(marks)
    assert len(rows) == len(marks) and [r[0] for r in rows] == sorted(r[0] for r in rows)


def test_nothing_dated_draws_nothing() -> None:
    assert render_timeline("p", [], AS_OF) == ""


@given(st.text(min_size=1, max_size=40), st.text(max_size=40), st.sampled_from(["Diagnosis", "Therapy", "Labs"]))
def test_any_text_is_escaped(label: str, series: str, lane: str) -> None:
    day = dt.date(2024, 3, 1)
    mark = Mark(lane, day, day + dt.timedelta(days=30), label, f"{label} said", value=1.0, series=series or None)
    clean = "".join(ch for ch in label + series if ch.isprintable())
    if clean != label + series:
        return  # XML 1.0 cannot carry control characters at all; records never hold them in displays
    svg = ET.fromstring(render_timeline("p<&>", [mark], AS_OF))
    assert svg.find(f"{SVG}title").text == "Timeline of patient p<&>"
