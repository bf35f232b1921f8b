"""The ``trialmatch`` command line: assembles the command groups from :mod:`trialmatch.commands`."""

from __future__ import annotations

import typer

from trialmatch import __version__

app = typer.Typer(
    name="trialmatch",
    help="Screen cancer patients against clinical-trial eligibility criteria.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trialmatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Screen cancer patients against clinical-trial eligibility criteria."""


def _register() -> None:
    """Attach each command group; imported here so ``trialmatch --help`` stays fast."""
    from trialmatch.commands import cohort, patients, rules, rules_sql, screen, serve, trials, worklist

    app.add_typer(trials.app, name="trials")
    rules.app.command("sql")(rules_sql.sql)
    app.add_typer(rules.app, name="rules")
    app.add_typer(patients.app, name="patients")
    app.add_typer(cohort.app, name="cohort")
    app.add_typer(worklist.app, name="worklist")
    app.command("screen")(screen.screen)
    app.command("serve")(serve.serve)


_register()
