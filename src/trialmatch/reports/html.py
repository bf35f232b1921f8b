"""Self-contained HTML reports (Jinja2): one page per patient and an index, no external assets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader

from trialmatch.engine.outcome import ScreeningOutcome
from trialmatch.identifiers import file_stem, problem

_env = Environment(
    loader=PackageLoader("trialmatch.reports", "templates"),
    autoescape=True,  # every value may come from a record or a trial page: always escape
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_name(patient_id: str) -> str:
    """A file name for a patient's page by the identifier policy (an id it refuses gets a hash of itself)."""
    if problem(patient_id) is not None:
        return "patient-" + hashlib.sha256(patient_id.encode("utf-8", "surrogatepass")).hexdigest()[:16] + ".html"
    return file_stem(patient_id) + ".html"


def page_names(patient_ids: Sequence[str]) -> list[str]:
    """One distinct file name per patient: ``index`` is reserved, and clashing names get ``-2``, ``-3`` ..."""
    taken = {"index.html"}
    names = []
    for patient_id in patient_ids:
        base = page_name(patient_id)
        name, number = base, 1
        while name.casefold() in taken:
            number += 1
            name = f"{base.removesuffix('.html')}-{number}.html"
        taken.add(name.casefold())
        names.append(name)
    return names


def render_patient(outcome: ScreeningOutcome) -> str:
    """One patient's page: a verdict card per trial with the criteria checklist."""
    return _env.get_template("patient.html.j2").render(o=outcome)


def render_index(outcomes: Sequence[ScreeningOutcome], names: Sequence[str]) -> str:
    """The index of patients with their verdicts, linking each patient's page."""
    return _env.get_template("index.html.j2").render(rows=list(zip(outcomes, names, strict=True)))


def write_reports(outcomes: Sequence[ScreeningOutcome], out_dir: Path) -> list[Path]:
    """Write ``<patient_id>.html`` per patient and ``index.html``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = page_names([o.patient_id for o in outcomes])
    written = []
    for outcome, name in zip(outcomes, names, strict=True):
        path = out_dir / name
        path.write_text(render_patient(outcome), encoding="utf-8")
        written.append(path)
    index = out_dir / "index.html"
    index.write_text(render_index(outcomes, names), encoding="utf-8")
    written.append(index)
    return written
