"""Secure by default: token resolution, the serve command's refusals, the append-only audit log."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import typer
from api_helpers import AUTH, EXAMPLES, post_bundle
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from trialmatch.api import security
from trialmatch.api.security import ConfigurationError, is_loopback, resolve_token
from trialmatch.commands import serve as serve_module


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_token_from_environment_or_file(tmp_path: Path) -> None:
    assert resolve_token("0.0.0.0", None, {security.TOKEN_ENV: " s3cret "}) == ("s3cret", False)
    token_file = tmp_path / "token"
    token_file.write_text("from-file\nignored\n")
    assert resolve_token("0.0.0.0", token_file, {security.TOKEN_ENV: "env"})[0] == "from-file"


def test_empty_or_missing_token_file_is_a_configuration_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    with pytest.raises(ConfigurationError, match="empty"):
        resolve_token("127.0.0.1", empty, {})
    with pytest.raises(ConfigurationError, match="cannot read"):
        resolve_token("127.0.0.1", tmp_path / "absent", {})


def test_loopback_without_token_generates_one_and_other_hosts_refuse() -> None:
    first, generated = resolve_token("127.0.0.1", None, {})
    assert generated and len(first) >= 32 and first != resolve_token("::1", None, {})[0]
    with pytest.raises(ConfigurationError, match="refusing"):
        resolve_token("0.0.0.0", None, {})


def _serve_cli() -> typer.Typer:
    cli = typer.Typer()
    cli.command()(serve_module.serve)
    return cli


def test_serve_refuses_a_public_host_without_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(security.TOKEN_ENV, raising=False)
    result = CliRunner().invoke(_serve_cli(), ["--host", "0.0.0.0", "--library", str(tmp_path)])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output and "TRIALMATCH_API_TOKEN" in result.output


def test_serve_prints_a_login_url_whose_token_opens_a_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(security.TOKEN_ENV, raising=False)
    started: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.update(app=app, **kwargs))
    result = CliRunner().invoke(_serve_cli(), ["--library", str(tmp_path), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert started["host"] == "127.0.0.1" and started["port"] == 8123 and started["access_log"] is False
    match = re.search(r"http://127\.0\.0\.1:8123(/login\?token=\S+)", result.output)
    assert match, result.output
    with TestClient(started["app"]) as client:
        response = client.get(match.group(1), follow_redirects=False)
        assert response.status_code == 303 and "trialmatch_session" in response.headers["set-cookie"]
    assert (tmp_path / "audit.sqlite3").is_file()


def test_audit_log_is_append_only_and_holds_no_patient_id(client: TestClient, settings: Any) -> None:
    payload = post_bundle(client, EXAMPLES[0].read_bytes()).json()
    outcomes = payload if isinstance(payload, list) else [payload]
    with sqlite3.connect(settings.audit_db) as connection:
        rows = connection.execute(
            "SELECT actor, patient_hash, trial_id, verdict, rules_version FROM screenings"
        ).fetchall()
        assert len(rows) == sum(len(o["trials"]) for o in outcomes)
        assert {r[0] for r in rows} == {security.token_id(AUTH["Authorization"].split()[1])}
        assert {(r[2], r[3]) for r in rows} == {(t["trial_id"], t["verdict"]) for o in outcomes for t in o["trials"]}
        assert all(o["patient_id"] not in r[1] for o in outcomes for r in rows)
        for statement in ("UPDATE screenings SET verdict = 'eligible'", "DELETE FROM screenings"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(statement)
    salt = settings.audit_db.with_name(settings.audit_db.name + ".salt")
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
