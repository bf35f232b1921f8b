"""Fixtures for the service tests: an app on a temporary library and audit log, and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import TOKEN
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialmatch.api.app import create_app
from trialmatch.api.service import Settings


@pytest.fixture
def settings(library: Path) -> Settings:
    return Settings(token=TOKEN, library_root=library, audit_db=library / "audit.sqlite3", max_body=4 * 1024 * 1024)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
