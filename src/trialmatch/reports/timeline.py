"""A patient's history as one picture, drawn on the server as SVG: readable without JavaScript, and accessible.

Lanes, top to bottom: the cancer diagnosis, metastatic sites (when each was found), lines of therapy with each
drug's span, lesion sizes over time with the RECIST 1.1 response at each assessment, and key labs. Every mark
carries a ``<title>`` (a tooltip, and what a screen reader reads); the figure has a title and a description,
and :func:`timeline_rows` gives the same facts as rows for a table beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from trialmatch.patients.derive.base import Context
from trialmatch.patients.derive.lines import build_lines
from trialmatch.patients.derive.recist import time_points
from trialmatch.patients.model import PatientRecord
from trialmatch.terminology.concepts import default_library

WIDTH, LEFT, RIGHT, ROW = 980, 170, 150, 22
KEY_LABS = (
    "lab.anc",
    "lab.hemoglobin",
    "lab.platelets",
    "lab.creatinine",
    "lab.bilirubin_total",
    "lab.alt",
    "obs.lvef",
)
_PALETTE = ("#1a4f9c", "#a4161a", "#146c2e", "#8a5a00", "#5b2a86", "#00606b")


@dataclass(frozen=True)
class Mark:
    """One fact on the timeline: its lane, when (a day or a span), a short label and the full sentence."""

    lane: str
    start: dt.date
    end: dt.date | None
    label: str
    said: str
    value: float | None = None
    series: str | None = None


def _label(concept: str | None, fallback: str) -> str:
    if concept is None:
        return fallback
    try:
        return default_library().get(concept).label
    except KeyError:
        return concept.rsplit(".", 1)[-1].replace("_", " ")


def _diagnoses(record: PatientRecord) -> list[Mark]:
    marks = []
    for c in record.conditions:
        when = c.onset or c.recorded
        if when is None or c.category not in ("primary-cancer", "secondary-cancer"):
            continue
        name = c.codes[0].display if c.codes and c.codes[0].display else _label(c.concept, "diagnosis")
        lane = "Diagnosis" if c.category == "primary-cancer" else "Metastatic sites"
        site = c.body_site[0].display if c.body_site and c.body_site[0].display else name
        series = None if lane == "Diagnosis" else site
        marks.append(
            Mark(
                lane, when, None, name if series is None else "", f"{name}, diagnosed {when.isoformat()}", series=series
            )
        )
    return marks


def _therapy(ctx: Context) -> list[Mark]:
    lines, _ = build_lines(ctx)
    marks = []
    for line in lines:
        setting = "metastatic" if line.metastatic else "early"
        for episode in line.episodes:
            drug = _label(episode.drug, episode.drug)
            span = episode.span
            said = f"Line {line.number} ({setting}): {drug} from {span.start.isoformat()} to {span.end.isoformat()}"
            marks.append(Mark("Therapy", span.start, span.end, f"L{line.number} {drug}", said, series=drug))
    return marks


def _lesions(ctx: Context) -> list[Mark]:
    places = {lesion.id: lesion.location_text for lesion in ctx.record.lesions if lesion.location_text}
    marks = []
    for m in ctx.measurements:
        if m.concept == "imaging.tumor_size" and m.value is not None and m.date is not None:
            name = places.get(m.focus or "", m.focus or "lesion")
            said = f"Lesion {name}: {m.value:g} {m.unit or ''} on {m.date.isoformat()}"
            label = f"{m.value:g} {m.unit or ''}"
            marks.append(Mark("Lesions", m.date, None, label, said, value=m.value, series=name))
    _, points = time_points(ctx)
    for p in points:
        marks.append(Mark("RECIST", p.date, None, p.response, f"RECIST 1.1 {p.response} on {p.date.isoformat()}"))
    return marks


def _labs(ctx: Context) -> list[Mark]:
    marks = []
    for m in ctx.measurements:
        if m.concept in KEY_LABS and m.value is not None and m.date is not None:
            name = _label(m.concept, m.concept)
            said = f"{name}: {m.value:.3g} {m.unit or ''} on {m.date.isoformat()}"
            marks.append(Mark("Labs", m.date, None, f"{m.value:.3g} {m.unit or ''}", said, value=m.value, series=name))
    return marks


def timeline_marks(record: PatientRecord, as_of: dt.date) -> list[Mark]:
    """Every fact the picture shows, known at ``as_of``."""
    ctx = Context.build(record, as_of, default_library().is_a)
    return [*_diagnoses(record), *_therapy(ctx), *_lesions(ctx), *_labs(ctx)]


def timeline_rows(marks: Sequence[Mark]) -> list[tuple[str, str, str]]:
    """The picture's facts as (date, lane, sentence) rows, in date order: the text alternative."""
    return sorted(((m.start.isoformat(), m.lane, m.said) for m in marks), key=lambda r: (r[0], r[1]))


@dataclass
class _Canvas:
    """Dates to x coordinates, and the SVG drawn so far."""

    first: dt.date
    last: dt.date
    parts: list[str]

    def x(self, day: dt.date) -> float:
        span = max((self.last - self.first).days, 1)
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - self.first).days / span

    def add(self, text: str) -> None:
        self.parts.append(text)


def _titled(element: str, said: str) -> str:
    return element.replace("/>", f"><title>{escape(said)}</title></{element.split()[0][1:]}>", 1)


def _lane_heading(canvas: _Canvas, y: float, name: str) -> None:
    canvas.add(f'<text x="8" y="{y + 15:.0f}" class="lane">{escape(name)}</text>')
    canvas.add(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.0f}" y2="{y:.0f}" class="rule"/>')


def _points_lane(canvas: _Canvas, y: float, marks: list[Mark], shape: str) -> float:
    """Dated points, one row per series (a metastatic site, a lab) under the lane's name, each labelled."""
    series = list(dict.fromkeys(m.series for m in marks))
    offset = ROW if series[0] else 0  # named rows start under the lane's name
    for row, name in enumerate(series):
        top = y + offset + row * ROW
        if name:
            canvas.add(f'<text x="16" y="{top + 15:.0f}" class="small">{escape(name[:26])}</text>')
        for m in (m for m in marks if m.series == name):
            x = canvas.x(m.start)
            dot = f'<circle cx="{x:.1f}" cy="{top + 11:.0f}" r="5" class="{shape}"/>'
            canvas.add(_titled(dot, m.said))
            if m.label:
                canvas.add(f'<text x="{x + 7:.1f}" y="{top + 15:.0f}" class="small">{escape(m.label[:28])}</text>')
    return offset + len(series) * ROW


def _therapy_lane(canvas: _Canvas, y: float, marks: list[Mark]) -> float:
    drugs = list(dict.fromkeys(m.series or m.label for m in marks))
    for m in marks:
        row = drugs.index(m.series or m.label)
        x0, x1 = canvas.x(m.start), canvas.x(m.end or m.start)
        colour = _PALETTE[row % len(_PALETTE)]
        top = y + 4 + row * ROW
        bar = f'<rect x="{x0:.1f}" y="{top:.0f}" width="{max(x1 - x0, 3):.1f}" height="14" fill="{colour}"/>'
        canvas.add(_titled(bar, m.said))
        canvas.add(f'<text x="{x0 + 3:.1f}" y="{top + 11:.0f}" class="onbar">{escape(m.label[:30])}</text>')
    return max(len(drugs), 1) * ROW + 6


def _series_lane(canvas: _Canvas, y: float, marks: list[Mark], height: float) -> float:
    """Values over time, one polyline per series (lesion or lab), scaled to the lane's own range."""
    values = [m.value for m in marks if m.value is not None]
    low, high = min(values), max(values)
    scale: Callable[[float], float] = lambda v: y + height - 6 - (height - 16) * (v - low) / ((high - low) or 1)  # noqa: E731
    series = list(dict.fromkeys(m.series or "" for m in marks))
    for n, name in enumerate(series):
        colour = _PALETTE[n % len(_PALETTE)]
        points = sorted((m for m in marks if (m.series or "") == name), key=lambda m: m.start)
        path = " ".join(f"{canvas.x(m.start):.1f},{scale(m.value or 0):.1f}" for m in points)
        canvas.add(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for m in points:
            dot = f'<circle cx="{canvas.x(m.start):.1f}" cy="{scale(m.value or 0):.1f}" r="3.5" fill="{colour}"/>'
            canvas.add(_titled(dot, m.said))
        last = points[-1]
        label = f"{name[:22]} {last.label}"
        canvas.add(
            f'<text x="{canvas.x(last.start) + 6:.1f}" y="{scale(last.value or 0) + 4:.1f}" class="small">'
            f"{escape(label)}</text>"
        )
    return height


def _axis(canvas: _Canvas, y: float, height: float, as_of: dt.date) -> None:
    for year in range(canvas.first.year + 1, canvas.last.year + 1):
        x = canvas.x(dt.date(year, 1, 1))
        canvas.add(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="14" y2="{y:.0f}" class="grid"/>')
        canvas.add(f'<text x="{x + 2:.1f}" y="12" class="small">{year}</text>')
    x = canvas.x(as_of)
    canvas.add(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="14" y2="{height:.0f}" class="asof"/>')
    canvas.add(f'<text x="{x - 4:.1f}" y="{height - 4:.0f}" class="small" text-anchor="end">as of {as_of}</text>')


_STYLE = (
    "<style>.lane{font:600 13px system-ui,sans-serif;fill:#1b1b1b}.small{font:11px system-ui,sans-serif;"
    "fill:#333}.onbar{font:11px system-ui,sans-serif;fill:#fff}.rule{stroke:#d0d0d0}.grid{stroke:#eee}"
    ".asof{stroke:#a4161a;stroke-dasharray:4 3}.diag{fill:#5b2a86}.met{fill:#a4161a}.resp{fill:#8a5a00}"
    ".lab{fill:#00606b}</style>"
)
_SHAPES = {"Diagnosis": "diag", "Metastatic sites": "met", "RECIST": "resp", "Labs": "lab"}
_LANES = ("Diagnosis", "Metastatic sites", "Therapy", "Lesions", "RECIST", "Labs")


def render_timeline(patient_id: str, marks: Sequence[Mark], as_of: dt.date) -> str:
    """The SVG picture (a ``<figure>``-ready fragment); an empty string when there is nothing dated to draw."""
    if not marks:
        return ""
    first = min(m.start for m in marks)
    canvas = _Canvas(first=dt.date(first.year, 1, 1), last=max(as_of, *(m.end or m.start for m in marks)), parts=[])
    y = 22.0
    for lane in _LANES:
        chosen = [m for m in marks if m.lane == lane]
        if not chosen:
            continue
        _lane_heading(canvas, y, lane)
        if lane == "Therapy":
            y += _therapy_lane(canvas, y, chosen)
        elif lane == "Lesions":
            y += _series_lane(canvas, y, chosen, 130)
        else:
            y += _points_lane(canvas, y, chosen, _SHAPES[lane])
    height = y + 20
    _axis(canvas, y, height, as_of)
    lanes = ", ".join(dict.fromkeys(m.lane for m in marks))
    desc = f"{len(marks)} dated facts from {first.isoformat()} to {as_of.isoformat()} in lanes: {lanes}."
    title = f"Timeline of patient {patient_id}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="tl-title tl-desc" class="timeline" width="100%">'
        f'<title id="tl-title">{escape(title)}</title><desc id="tl-desc">{escape(desc)}</desc>{_STYLE}'
    )
    return head + "".join(canvas.parts) + "</svg>"
