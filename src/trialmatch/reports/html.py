"""Self-contained HTML reports (Jinja2): one page per patient and an index, no external assets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from jinja2 import Environment, PackageLoader

from trialmatch.atomic import write_text
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
    return [_next_name(patient_id, taken) for patient_id in patient_ids]


def _next_name(patient_id: str, taken: set[str]) -> str:
    """The patient's page name, distinct (ignoring case) from the names ``taken``, which it joins."""
    base = page_name(patient_id)
    name, number = base, 1
    while name.casefold() in taken:
        number += 1
        name = f"{base.removesuffix('.html')}-{number}.html"
    taken.add(name.casefold())
    return name


def render_patient(outcome: ScreeningOutcome) -> str:
    """One patient's page: a verdict card per trial with the criteria checklist."""
    return _env.get_template("patient.html.j2").render(o=outcome)


def render_index(outcomes: Sequence[ScreeningOutcome], names: Sequence[str]) -> str:
    """The index of patients with their verdicts, linking each patient's page."""
    return _env.get_template("index.html.j2").render(rows=list(zip(outcomes, names, strict=True)))


class ReportWriter:
    """Writes each patient's page as it comes (so memory does not grow with the patients: the index keeps only
    each patient's verdicts), then the index; every file is written whole or not at all."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.written: list[Path] = []
        self._rows: list[ScreeningOutcome] = []
        self._names: list[str] = []
        self._taken = {"index.html"}
        out_dir.mkdir(parents=True, exist_ok=True)

    def add(self, outcome: ScreeningOutcome) -> None:
        """Write one patient's page."""
        name = _next_name(outcome.patient_id, self._taken)
        write_text(self.out_dir / name, render_patient(outcome))
        self.written.append(self.out_dir / name)
        trials = tuple(t.model_copy(update={"criteria": ()}) for t in outcome.trials)
        self._rows.append(outcome.model_copy(update={"trials": trials, "input_problems": ()}))
        self._names.append(name)

    def finish(self) -> list[Path]:
        """Write the index; the paths written."""
        index = self.out_dir / "index.html"
        write_text(index, render_index(self._rows, self._names))
        return [*self.written, index]


def write_reports(outcomes: Sequence[ScreeningOutcome], out_dir: Path) -> list[Path]:
    """Write ``<patient_id>.html`` per patient and ``index.html``; returns the paths written."""
    writer = ReportWriter(out_dir)
    for outcome in outcomes:
        writer.add(outcome)
    return writer.finish()
