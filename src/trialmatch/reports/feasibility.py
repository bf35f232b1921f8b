"""``feasibility.html``: the cohort run's feasibility a sponsor can be shown, as one self-contained page.

Plain HTML and inline SVG (no script, no external asset): the attrition chart is laid out here, row by row in
protocol order from the top, so every count sits beside its bar and the unknown bars have a column of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader

from trialmatch.atomic import write_text
from trialmatch.cohort.feasibility import TrialFeasibility, headline, percent

_env = Environment(
    loader=PackageLoader("trialmatch.reports", "templates"),
    autoescape=True,  # criterion text and trial titles come from documents: always escape
    trim_blocks=True,
    lstrip_blocks=True,
)

ROW = 26
TOP = 30
LABEL_END = 390
BAR_X = 400
BAR_WIDTH = 280
UNKNOWN_X = 830
UNKNOWN_WIDTH = 110
WIDTH = 1040


@dataclass(frozen=True)
class ChartRow:
    """One row of the attrition chart: the cohort, then each criterion in protocol order."""

    criterion_id: str
    label: str
    text: str
    remaining: int
    remaining_percent: float
    excluded: int
    unknown: int
    y: int
    bar: float
    unknown_bar: float


def chart_rows(t: TrialFeasibility) -> list[ChartRow]:
    """The chart's rows with their geometry: bar widths in proportion to the cohort."""
    whole = max(t.patients, 1)

    def row(n: int, criterion_id: str, label: str, text: str, remaining: int, excluded: int, unknown: int) -> ChartRow:
        return ChartRow(
            criterion_id,
            label,
            text,
            remaining,
            percent(remaining, t.patients),
            excluded,
            unknown,
            TOP + n * ROW,
            BAR_WIDTH * remaining / whole,
            UNKNOWN_WIDTH * unknown / whole,
        )

    everyone = "All patients in the store"
    rows = [row(0, "", everyone, everyone, t.patients, 0, 0)]
    for s in t.steps:
        rows.append(row(s.step, s.criterion_id, s.label, s.text, s.remaining_after, s.excluded, s.unknown))
    return rows


def render(
    trials: Sequence[TrialFeasibility],
    coverage: dict[str, int],
    not_screened: Sequence[str],
    as_of: str,
) -> str:
    """The page: data coverage, the cross-trial summary, trials not screened, then one section per trial."""
    charts = {t.trial_id: chart_rows(t) for t in trials}
    return _env.get_template("feasibility.html.j2").render(
        trials=trials,
        charts=charts,
        coverage=coverage,
        not_screened=not_screened,
        as_of=as_of,
        headline=headline,
        percent=percent,
        geometry={
            "row": ROW,
            "label_end": LABEL_END,
            "bar_x": BAR_X,
            "unknown_x": UNKNOWN_X,
            "width": WIDTH,
            "top": TOP,
        },
    )


def write_page(
    trials: Sequence[TrialFeasibility],
    coverage: dict[str, int],
    not_screened: Sequence[str],
    as_of: str,
    path: Path,
) -> None:
    """Write ``feasibility.html``."""
    write_text(path, render(trials, coverage, not_screened, as_of))
