"""Security review finding 6, for real: the database roles of docker/postgres-init.sh on this machine's PostgreSQL.

The init script (docker/postgres-init.sh running docker/postgres-roles.sql) is run as the postgres image
runs it, under unique role and database names; the API database is migrated as the owner role, then the
API runs as the runtime role and Rasa's role tries to read it. With trust auth the passwords are not
checked, but every privilege is. Also here (it needs the API environment's package metadata): the
runtime lock of the API image is closed under the dependencies of the runtime requirements.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib.metadata import distribution
from pathlib import Path

import psycopg
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.api.factories import SERVICE_TOKEN

# The same server as tests/api/conftest.py (this machine's PostgreSQL, trust auth).
PG_ADMIN = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[2]
INIT = ROOT / "docker" / "postgres-init.sh"
ROLES_SQL = ROOT / "docker" / "postgres-roles.sql"
EVENTS = (
    "CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, data TEXT)"
)


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(PG_ADMIN, autocommit=True)


def _reset_caches() -> None:
    from api.core.config import get_settings
    from api.db import get_engine, get_sessionmaker

    for cached in (get_sessionmaker, get_engine, get_settings):
        cached.cache_clear()


@dataclass
class Deployment:
    rasa_role: str
    rasa_db: str
    migrate_role: str
    api_role: str
    app_db: str

    def url(self, role: str, database: str) -> str:
        # PG_ADMIN is postgresql://postgres@host:port/db: the same server as another role.
        server = PG_ADMIN.split("@", 1)[1].rsplit("/", 1)[0]
        return f"postgresql://{role}@{server}/{database}"

    def connect(self, role: str, database: str) -> psycopg.Connection:
        return psycopg.connect(self.url(role, database), autocommit=True)


def _server_reachable() -> bool:
    try:
        with _pg_admin():
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    if shutil.which("psql") is None or not _server_reachable():
        pytest.skip("needs psql and the PostgreSQL of this machine")
    tag = f"fd6_{uuid.uuid4().hex[:8]}"
    names = Deployment(f"{tag}_rasa", f"{tag}_rasa", f"{tag}_migrate", f"{tag}_api", f"{tag}_prescreener")
    admin = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    env = {
        **os.environ,
        "PGHOST": str(admin.get("host", "127.0.0.1")),
        "PGPORT": str(admin.get("port", "5432")),
        "POSTGRES_USER": str(admin.get("user", "postgres")),
        "PRESCREENER_ROLES_SQL": str(ROLES_SQL),
        "PRESCREENER_RASA_ROLE": names.rasa_role,
        "PRESCREENER_RASA_DB": names.rasa_db,
        "PRESCREENER_MIGRATE_ROLE": names.migrate_role,
        "PRESCREENER_API_ROLE": names.api_role,
        "PRESCREENER_APP_DB": names.app_db,
        "RASA_DB_PASSWORD": uuid.uuid4().hex,
        "MIGRATE_DB_PASSWORD": uuid.uuid4().hex,
        "API_DB_PASSWORD": uuid.uuid4().hex,
    }
    try:
        run = subprocess.run(["bash", str(INIT)], env=env, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        from api.db import migrate

        migrate(names.url(names.migrate_role, names.app_db))
        with names.connect(names.rasa_role, names.rasa_db) as rasa:
            rasa.execute(EVENTS)  # as Rasa's SQL tracker store does at start, as its own role
        yield names
    finally:
        from api.db import get_engine

        get_engine.cache_clear()
        with _pg_admin() as pg:
            for database in (names.app_db, names.rasa_db):
                pg.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in (names.api_role, names.migrate_role, names.rasa_role):
                pg.execute(f'DROP ROLE IF EXISTS "{role}"')


def _denied(connection: psycopg.Connection, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute(statement)


def test_finding_6_roles_have_no_attributes_beyond_login(deployment: Deployment) -> None:
    with _pg_admin() as pg:
        for role in (deployment.rasa_role, deployment.migrate_role, deployment.api_role):
            row = pg.execute(
                "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin "
                "FROM pg_roles WHERE rolname = %s",
                (role,),
            ).fetchone()
            assert row == (False, False, False, False, False, True), role
        owners = dict(
            pg.execute(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname IN (%s, %s)",
                (deployment.app_db, deployment.rasa_db),
            ).fetchall()
        )
    assert owners == {deployment.app_db: deployment.migrate_role, deployment.rasa_db: deployment.rasa_role}


def test_finding_6_api_role_has_dml_only_on_every_migrated_table(deployment: Deployment) -> None:
    with deployment.connect(deployment.api_role, deployment.app_db) as api:
        tables = api.execute(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        assert {"referrals", "audit_events", "coordinators"} <= {name for name, _ in tables}
        for table, owner in tables:
            assert owner == deployment.migrate_role, table
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                assert api.execute("SELECT has_table_privilege(%s, %s)", (table, privilege)).fetchone() == (True,)
            for privilege in ("TRUNCATE", "REFERENCES", "TRIGGER"):
                assert api.execute("SELECT has_table_privilege(%s, %s)", (table, privilege)).fetchone() == (False,)


def test_finding_6_api_role_can_insert_and_select_but_not_alter_or_create(deployment: Deployment) -> None:
    with deployment.connect(deployment.api_role, deployment.app_db) as api:
        # A SERIAL id: the sequence is open to it too.
        api.execute("INSERT INTO audit_events (at, action, detail) VALUES (now(), 'login', 'finding 6')")
        assert api.execute("SELECT count(*) FROM audit_events WHERE detail = 'finding 6'").fetchone() == (1,)
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            api.execute("DELETE FROM audit_events")
        _denied(api, "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        _denied(api, "ALTER TABLE audit_events DISABLE TRIGGER ALL")
        _denied(api, "DROP TRIGGER audit_events_append_only ON audit_events")
        _denied(api, "TRUNCATE audit_events")
        _denied(api, "DROP TABLE audit_events")
        _denied(api, "CREATE TABLE sneaky (id int)")
        _denied(api, "CREATE TEMPORARY TABLE sneaky (id int)")
        _denied(api, "CREATE SCHEMA sneaky")
        assert api.execute("SELECT count(*) FROM audit_events WHERE detail = 'finding 6'").fetchone() == (1,)


def test_finding_6_api_role_can_only_read_and_delete_rasa_events(deployment: Deployment) -> None:
    from api.services.tracker import delete_conversation

    with deployment.connect(deployment.rasa_role, deployment.rasa_db) as rasa:
        rasa.execute("INSERT INTO events (sender_id, type_name, timestamp) VALUES ('conv-f6', 'user', 1.0)")
    # The real withdrawal code path, as the runtime role.
    assert delete_conversation(deployment.url(deployment.api_role, deployment.rasa_db), "conv-f6") == 1
    with deployment.connect(deployment.api_role, deployment.rasa_db) as api:
        assert api.execute("SELECT count(*) FROM events").fetchone() == (0,)
        _denied(api, "INSERT INTO events (sender_id, type_name) VALUES ('x', 'user')")
        _denied(api, "UPDATE events SET data = 'x'")
        _denied(api, "TRUNCATE events")
        _denied(api, "DROP TABLE events")
        _denied(api, "CREATE TABLE sneaky (id int)")


def test_finding_6_rasa_role_cannot_read_referrals_on_a_real_server(deployment: Deployment) -> None:
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        deployment.connect(deployment.rasa_role, deployment.app_db)
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        deployment.connect(deployment.migrate_role, deployment.rasa_db)
    # Even granted CONNECT by mistake, it has no use of the schema and no right on any table.
    with _pg_admin() as pg:
        pg.execute(f'GRANT CONNECT ON DATABASE "{deployment.app_db}" TO "{deployment.rasa_role}"')
        try:
            with deployment.connect(deployment.rasa_role, deployment.app_db) as rasa:
                assert rasa.execute("SELECT has_schema_privilege('public', 'USAGE')").fetchone() == (False,)
                _denied(rasa, "SELECT * FROM public.referrals")
                _denied(rasa, "SELECT * FROM public.audit_events")
        finally:
            pg.execute(f'REVOKE CONNECT ON DATABASE "{deployment.app_db}" FROM "{deployment.rasa_role}"')


def test_finding_6_the_api_runs_as_the_runtime_role(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Intake, login, a withdrawal (tracker events too) and retention: no DDL, no privilege missing."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.services.retention import run_retention
    from tests.api.factories import add_referral, logged_in

    monkeypatch.setenv("ENVIRONMENT", "local")
    monkeypatch.setenv("DATABASE_URL", deployment.url(deployment.api_role, deployment.app_db))
    monkeypatch.setenv("TRACKER_DB_URL", deployment.url(deployment.api_role, deployment.rasa_db))
    monkeypatch.setenv("SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")
    _reset_caches()
    try:
        with TestClient(create_app()) as client:
            body = add_referral(client)
            with deployment.connect(deployment.rasa_role, deployment.rasa_db) as rasa:
                rasa.execute(
                    "INSERT INTO events (sender_id, type_name, timestamp) VALUES (%s, 'user', 1.0), (%s, 'user', 2.0)",
                    (body["conversation_id"], "conv-old"),
                )
            coordinator = logged_in(client.app)  # type: ignore[arg-type]
            gone = coordinator.delete(f"/coordinator/referrals/{body['referral_id']}", json={"reason": "patient_withdrawal"})
            assert gone.status_code == 200, gone.text
            assert gone.json()["tracker_events_deleted"] == 1
            result = run_retention(days=1, now=datetime.now(timezone.utc) + timedelta(days=2))
            assert result.errors == [], result.errors
            assert result.tracker_events == 1
    finally:
        from api.db import get_engine

        get_engine().dispose()
        _reset_caches()


# --- the API image's runtime lock -----------------------------------------------------------


def _pins(path: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in found}


def test_finding_6_runtime_lock_holds_every_dependency_of_the_runtime_requirements() -> None:
    source = (ROOT / "requirements" / "api.in").read_text()
    runtime_part = source.split("# --- runtime", 1)[1].split("# --- tests only", 1)[0]
    wanted = [Requirement(line) for line in runtime_part.splitlines()[1:] if line and not line.startswith("#")]
    lock = _pins(ROOT / "requirements" / "api.runtime.lock.txt")
    environment = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux",
                   "implementation_name": "cpython", "platform_python_implementation": "CPython",
                   "os_name": "posix", "platform_machine": "x86_64"}
    seen: set[tuple[str, frozenset[str]]] = set()
    while wanted:
        requirement = wanted.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        assert key[0] in lock, f"{requirement.name} is needed at run time but not in the runtime lock"
        for line in distribution(requirement.name).requires or []:
            needed = Requirement(line)
            extras = sorted(requirement.extras) or [""]
            if needed.marker is None or any(needed.marker.evaluate({**environment, "extra": e}) for e in extras):
                wanted.append(needed)
    assert {name for name, _ in seen} == set(lock), "the runtime lock holds packages nothing at run time needs"
