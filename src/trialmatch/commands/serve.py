"""``trialmatch serve``: the HTTP API and the web page, secure by default (see ``docs/api.md``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from trialmatch.commands.exit_codes import ExitCode
from trialmatch.errors import WorklistError
from trialmatch.trials.library import default_library_dir

DEFAULT_HOST = "127.0.0.1"


def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (loopback unless told otherwise).")
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    token_file: Annotated[
        Path | None,
        typer.Option("--token-file", help="File whose first line is the API token (else $TRIALMATCH_API_TOKEN)."),
    ] = None,
    library: Annotated[Path | None, typer.Option("--library", help="Trial library directory.")] = None,
    audit_db: Annotated[
        Path | None, typer.Option("--audit-db", help="Audit SQLite file (default: in the library).")
    ] = None,
    worklist_db: Annotated[
        str | None,
        typer.Option(
            "--worklist-db", help="Work-list database URL (default: $TRIALMATCH_WORKLIST_DB or the library's)."
        ),
    ] = None,
    max_body: Annotated[int, typer.Option("--max-body", min=1024, help="Largest request body accepted, in bytes.")] = 10
    * 1024
    * 1024,
) -> None:
    """Serve the screening API and the web page for research coordinators."""
    # Imported here so that every other command starts without loading the web stack.
    import uvicorn

    from trialmatch.api.app import create_app
    from trialmatch.api.security import ConfigurationError, resolve_token
    from trialmatch.api.service import Settings

    try:
        token, generated = resolve_token(host, token_file)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    root = library or default_library_dir()
    settings = Settings(
        token=token,
        library_root=root,
        audit_db=audit_db or root / "audit.sqlite3",
        max_body=max_body,
        worklist_url=worklist_db,
    )
    try:
        app = create_app(settings)
    except WorklistError as exc:  # e.g. an unreachable --worklist-db server
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.NOTHING_DONE) from exc
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"trialmatch serving on http://{shown}:{port} (library {root})")
    if generated:
        typer.echo(
            f"open this link to log in (the token changes each start):\n  http://{shown}:{port}/login?token={token}"
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None, server_header=False)
