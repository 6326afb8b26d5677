"""API test fixtures: every test gets a fresh, migrated database, SQLite or PostgreSQL.

Run with the API environment: `.venv/api/bin/python -m pytest tests/api`
(scripts/test.sh does). PostgreSQL is the one running on this machine
(127.0.0.1:5432, trust auth); each run makes a template database with the
migrations applied and copies it for every test, then drops them all.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

# The tests are a local run (scripts/lib.sh says so for this machine): also at import time,
# where test modules build an app to read its route table.
os.environ.setdefault("ENVIRONMENT", "local")
PG_ADMIN = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SERVICE_TOKEN = "test-service-token"


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True)


def _pg_url(database: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + database


def _reset_caches() -> None:
    from api.core.config import get_settings
    from api.db import get_engine, get_sessionmaker

    for cached in (get_sessionmaker, get_engine, get_settings):
        cached.cache_clear()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from api.db import migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "api.sqlite"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    from api.db import migrate

    name = f"prescreener_tmpl_{uuid.uuid4().hex[:8]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    migrate(_pg_url(name))
    from api.db import get_engine

    get_engine.cache_clear()
    yield name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated database for one test, on each engine."""
    if request.param == "sqlite":
        path = tmp_path / "api.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"prescreener_t_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    from api.db import get_engine

    get_engine().dispose()
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENVIRONMENT", "local")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.sqlite'}")
    monkeypatch.setenv("SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_URL", os.environ.get("TEST_RASA_URL", "http://127.0.0.1:9"))
    _reset_caches()
    yield
    _reset_caches()


@pytest.fixture
def client(settings_env: None) -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture
def service_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {SERVICE_TOKEN}"}
