"""The terminal report: a verdict per trial and, below, the failing and unknown criteria (Rich)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from trialmatch.engine.logic import Status
from trialmatch.engine.outcome import CriterionOutcome, ScreeningOutcome, TrialOutcome

VERDICT_STYLE = {"eligible": "bold green", "possible": "bold yellow", "ineligible": "bold red"}
STATUS_MARK = {Status.MET: "✔", Status.NOT_MET: "✔", Status.UNKNOWN: "?", Status.REVIEW: "●"}


def _when(trial: TrialOutcome) -> str:
    if trial.eligible_from:
        return f"eligible from {trial.eligible_from.isoformat()}"
    if trial.valid_until:
        return f"valid until {trial.valid_until.isoformat()}"
    return ""


def deceased_note(outcome: ScreeningOutcome) -> str:
    """'' for a living patient, else the sentence reports put above the trials."""
    if outcome.deceased is None:
        return ""
    died = outcome.deceased.date
    when = f"on {died.isoformat()}" if died else "(no date of death recorded)"
    return f"Deceased {when}: not screenable, every trial is ineligible."


def verdict_table(outcome: ScreeningOutcome) -> Table:
    """One row per trial, best candidates first."""
    title = f"Patient {outcome.patient_id} — as of {outcome.as_of.isoformat()}"
    if outcome.deceased is not None:
        title += " — deceased"
    table = Table(title=title, title_justify="left")
    for column in ("Trial", "Status", "Verdict", "Failed", "Unknown", "Review", "When"):
        table.add_column(column, overflow="fold")
    for trial in outcome.trials:
        table.add_row(
            trial.trial_id + (" (drafted rules)" if trial.rests_on_drafts else ""),
            trial.recruitment_status or "—",
            Text(trial.verdict, style=VERDICT_STYLE[trial.verdict]),
            ", ".join(trial.failed) or "—",
            str(trial.unknown_count),
            str(len(trial.needs_review)),
            _when(trial),
        )
    return table


def _details(trial: TrialOutcome) -> list[Text]:
    lines: list[Text] = []
    shown = [c for c in trial.criteria if c.id in trial.failed or c.status is Status.UNKNOWN]
    if not shown and not trial.stale_rules:
        return lines
    lines.append(Text(f"{trial.trial_id} ({trial.verdict})", style=VERDICT_STYLE[trial.verdict]))
    for criterion in shown:
        lines.append(_criterion_line(criterion))
    if trial.missing:
        lines.append(Text("  would settle it: " + "; ".join(trial.missing), style="yellow"))
    if trial.stale_rules:
        lines.append(Text("  stale rules (text changed since curation): " + ", ".join(trial.stale_rules), style="red"))
    return lines


def _criterion_line(criterion: CriterionOutcome) -> Text:
    failing = Status.NOT_MET if criterion.type == "inclusion" else Status.MET
    mark = "✘" if criterion.status is failing else STATUS_MARK[criterion.status]
    style = "red" if criterion.status is failing else "yellow"
    return Text(f"  {mark} {criterion.id} [{criterion.status.value}] {criterion.reason}", style=style)


def render(outcome: ScreeningOutcome) -> Group:
    """The whole terminal report for one patient."""
    parts: list[Table | Text] = [verdict_table(outcome)]
    if outcome.deceased is not None:
        parts.append(Text(deceased_note(outcome), style="bold red"))
    for trial in outcome.trials:
        parts.extend(_details(trial))
    if outcome.input_problems:
        parts.append(Text(f"{len(outcome.input_problems)} input problem(s) while reading the record:", style="red"))
        parts.extend(
            Text(f"  {p.source or '—'}: {p.problem} ({p.action})", style="red") for p in outcome.input_problems
        )
    return Group(*parts)


def print_report(outcome: ScreeningOutcome, console: Console) -> None:
    """Print one patient's report."""
    console.print(render(outcome))
    console.print()
