"""Self-contained HTML reports (Jinja2): one page per patient and an index, no external assets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader

from trialmatch.engine.outcome import ScreeningOutcome

_env = Environment(
    loader=PackageLoader("trialmatch.reports", "templates"),
    autoescape=True,  # every value may come from a record or a trial page: always escape
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_name(patient_id: str) -> str:
    """A safe file name for a patient's page (ids may contain characters file systems refuse)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", patient_id) + ".html"


def render_patient(outcome: ScreeningOutcome) -> str:
    """One patient's page: a verdict card per trial with the criteria checklist."""
    return _env.get_template("patient.html.j2").render(o=outcome)


def render_index(outcomes: Sequence[ScreeningOutcome]) -> str:
    """The index of patients with their verdict counts."""
    return _env.get_template("index.html.j2").render(outcomes=outcomes, page_name=page_name)


def write_reports(outcomes: Sequence[ScreeningOutcome], out_dir: Path) -> list[Path]:
    """Write ``<patient_id>.html`` per patient and ``index.html``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for outcome in outcomes:
        path = out_dir / page_name(outcome.patient_id)
        path.write_text(render_patient(outcome), encoding="utf-8")
        written.append(path)
    index = out_dir / "index.html"
    index.write_text(render_index(outcomes), encoding="utf-8")
    written.append(index)
    return written
