"""Progress of long commands on stderr (stdout may carry JSON): what is done, the rate and the time left.

Rich draws the bar only on a terminal and removes it when done, so scripts and logs see nothing of it.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, in the task's own unit (``unit`` field)."""

    def render(self, task: Task) -> Text:
        if task.speed is None:
            return Text("")
        return Text(f"{task.speed:,.0f} {task.fields.get('unit', '')}/s")


def progress_bar() -> Progress:
    """A transient progress display on stderr: description, bar, done of total, rate, elapsed, time left; off
    when stderr is not a terminal (Rich would still print blank lines there)."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
