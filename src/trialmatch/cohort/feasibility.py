"""Feasibility: per trial, how many patients remain after each criterion in protocol order, how many are
unknown there, and which criteria exclude the most; written as ``feasibility.csv`` and a self-contained
``feasibility.html`` (plotly, its JavaScript inline so the page works offline).
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from trialmatch.atomic import replacing, write_text
from trialmatch.cohort.plan import TrialQuery
from trialmatch.cohort.status import MET, NOT_MET

FIELDS = (
    "trial_id",
    "step",
    "criterion_id",
    "type",
    "remaining_before",
    "excluded",
    "unknown",
    "remaining_after",
    "excluded_alone",
)


@dataclass(frozen=True)
class Step:
    """One criterion of the funnel."""

    trial_id: str
    step: int
    criterion_id: str
    type: str
    remaining_before: int
    excluded: int
    unknown: int
    remaining_after: int
    excluded_alone: int


def funnel(query: TrialQuery, wide: pa.Table) -> list[Step]:
    """The trial's funnel from its wide status table (criteria not compiled are left out, and say so)."""
    remaining = np.ones(wide.num_rows, dtype=bool)
    steps = []
    for n, column in enumerate(query.compiled):
        values = wide.column(column.name).to_numpy(zero_copy_only=False)
        statuses = np.where(np.isnan(values.astype(float)), -1, values.astype(float)).astype(int)
        fails = statuses == (NOT_MET if column.inclusion else MET)
        before = int(remaining.sum())
        excluded = int((fails & remaining).sum())
        unknown = int(((statuses == -1) & remaining).sum())
        remaining = remaining & ~fails
        kind = "inclusion" if column.inclusion else "exclusion"
        steps.append(
            Step(
                query.trial_id,
                n + 1,
                column.criterion_id,
                kind,
                before,
                excluded,
                unknown,
                int(remaining.sum()),
                int(fails.sum()),
            )
        )
    return steps


def write_csv(steps: list[Step], path: Path) -> None:
    """One row per trial and criterion."""
    with replacing(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIELDS)
        writer.writerows([getattr(s, f) for f in FIELDS] for s in steps)


def write_html(runs: list[tuple[TrialQuery, list[Step]]], path: Path, patients: int) -> None:
    """A page with, per trial, the funnel and the criteria that exclude the most."""
    import plotly.graph_objects as go

    parts = [f"<h1>Cohort feasibility</h1><p>{patients} patients in the facts store.</p>"]
    for n, (query, steps) in enumerate(runs):
        trial = html.escape(query.trial_id)
        parts.append(f'<section class="trial" data-trial="{trial}"><h2>{trial}</h2>')
        if query.uncompiled:
            names = ", ".join(html.escape(c.criterion_id) for c in query.uncompiled)
            parts.append(f"<p><strong>Not compiled (left out of the funnel):</strong> {names}</p>")
        if not steps:
            parts.append("</section>")
            continue
        labels = [s.criterion_id for s in steps]
        fig = go.Figure(go.Funnel(y=labels, x=[s.remaining_after for s in steps], name="remaining"))
        fig.add_trace(go.Bar(y=labels, x=[s.unknown for s in steps], orientation="h", name="unknown at this step"))
        fig.update_layout(
            title="Patients remaining after each criterion (protocol order)", height=200 + 24 * len(steps)
        )
        top = sorted(steps, key=lambda s: -s.excluded_alone)[:10]
        bars = go.Figure(go.Bar(x=[s.criterion_id for s in top], y=[s.excluded_alone for s in top]))
        bars.update_layout(title="Criteria that exclude the most patients (each on its own)")
        parts.append(fig.to_html(full_html=False, include_plotlyjs="inline" if n == 0 else False))
        parts.append(bars.to_html(full_html=False, include_plotlyjs=False))
        parts.append(_table(steps) + "</section>")
    body = "\n".join(parts)
    head = '<head><meta charset="utf-8"><title>Cohort feasibility</title></head>'
    page = f'<!DOCTYPE html><html lang="en">{head}<body>{body}</body></html>'
    write_text(path, page)


def _table(steps: list[Step]) -> str:
    """The funnel as a plain table too: readable without JavaScript and by screen readers."""
    columns = FIELDS[1:]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(getattr(s, c)))}</td>" for c in columns) + "</tr>" for s in steps
    )
    return f'<table class="funnel"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
