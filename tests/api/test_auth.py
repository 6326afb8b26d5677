"""S1/S3: coordinator login, rate limit, idle expiry, logout, cookies, CSRF, and the account CLI."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.config import get_settings
from api.core.security import DUMMY_HASH, token_hash
from api.core.texts import text
from api.deps import COORDINATOR_COOKIE, CSRF_HEADER
from api.models import AuditEvent, Coordinator, CoordinatorSession
from tests.api.factories import PASSWORD, create_coordinator, db, logged_in, login, new_client

EMAIL = "coordinator@study.example"


def _set_cookie_headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def test_login_sets_http_only_strict_cookie_and_stores_only_a_hash(client: TestClient) -> None:
    coordinator_id = create_coordinator(EMAIL)
    response = client.post("/auth/login", json={"email": "  Coordinator@Study.example ", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["role"] == "coordinator" and body["email"] == EMAIL and len(body["csrf_token"]) >= 32
    cookies = _set_cookie_headers(response)
    session_cookie = cookies[COORDINATOR_COOKIE].lower()
    assert "httponly" in session_cookie and "samesite=strict" in session_cookie and "path=/" in session_cookie
    assert "secure" not in session_cookie.replace("samesite", "")  # cookie_secure is off in tests
    csrf_cookie = cookies["csrf_token"].lower()
    assert "httponly" not in csrf_cookie and "samesite=strict" in csrf_cookie
    token = client.cookies[COORDINATOR_COOKIE]
    with db() as session:
        stored = session.scalars(select(CoordinatorSession)).all()
        assert [s.token_hash for s in stored] == [token_hash(token)]
        assert token not in {s.token_hash for s in stored} and stored[0].csrf_token == body["csrf_token"]
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "login")).actor_id == coordinator_id
    me = client.get("/auth/me")
    assert me.status_code == 200 and me.json() == {"id": coordinator_id, "email": EMAIL, "role": "coordinator"}
    assert me.headers["cache-control"] == "no-store"


def test_cookies_are_secure_when_configured(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    create_coordinator(EMAIL)
    monkeypatch.setenv("COOKIE_SECURE", "true")
    get_settings.cache_clear()
    response = client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200
    for header in _set_cookie_headers(response).values():
        assert "; secure" in header.lower()


def test_wrong_password_and_unknown_email_get_the_same_answer(client: TestClient) -> None:
    create_coordinator(EMAIL)
    wrong = client.post("/auth/login", json={"email": EMAIL, "password": "not the password"})
    unknown = client.post("/auth/login", json={"email": "nobody@study.example", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json() == {"detail": text("login_failed")}
        assert COORDINATOR_COOKIE not in response.headers.get("set-cookie", "")
    assert client.get("/auth/me").status_code == 401
    with db() as session:
        assert session.scalars(select(CoordinatorSession)).all() == []
        failures = session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
        assert len(failures) == 2
        for row in failures:  # keyed hashes only, never the e-mail or the address
            assert "study.example" not in (row.detail or "") and "testclient" not in (row.detail or "")


def test_unknown_email_is_verified_against_the_dummy_hash(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import auth

    create_coordinator(EMAIL)
    seen: list[str] = []
    real = auth.verify_password

    def spy(password_hash: str, password: str) -> bool:
        seen.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", spy)
    client.post("/auth/login", json={"email": "nobody@study.example", "password": PASSWORD})
    client.post("/auth/login", json={"email": EMAIL, "password": "wrong password"})
    assert seen[0] == DUMMY_HASH and seen[1] != DUMMY_HASH and len(seen) == 2


def test_inactive_account_cannot_log_in_and_loses_its_sessions(client: TestClient) -> None:
    actor = logged_in(client.app)
    assert actor.get("/auth/me").status_code == 200
    with db() as session:
        account = session.get(Coordinator, actor.id)
        account.active = False
        session.commit()
    assert actor.get("/auth/me").status_code == 401
    assert client.post("/auth/login", json={"email": actor.email, "password": PASSWORD}).status_code == 401


def test_fifty_bad_logins_from_one_address_get_429(client: TestClient) -> None:
    create_coordinator(EMAIL)
    limit = get_settings().login_failures_per_address
    codes = [
        client.post("/auth/login", json={"email": f"guess{i}@study.example", "password": "x"}).status_code
        for i in range(limit + 5)
    ]
    assert codes[:limit] == [401] * limit and set(codes[limit:]) == {429}
    locked = client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert locked.status_code == 429 and locked.json()["detail"] == text("login_locked")
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    # Another address can still log in to the same account.
    assert new_client(client.app, address="10.9.9.9").post(
        "/auth/login", json={"email": EMAIL, "password": PASSWORD}
    ).status_code == 200


def test_login_limit_lifts_after_15_minutes(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.services import login_limit

    create_coordinator(EMAIL)
    now = datetime.now(timezone.utc)
    monkeypatch.setattr(login_limit, "_now", lambda: now)
    for i in range(get_settings().logins_per_15_minutes):
        assert client.post("/auth/login", json={"email": EMAIL, "password": f"guess {i}"}).status_code == 401
    assert client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).status_code == 429
    later = now + timedelta(minutes=16)
    monkeypatch.setattr(login_limit, "_now", lambda: later)
    assert client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).status_code == 200


def _move_last_seen(by: timedelta) -> None:
    with db() as session:
        for row in session.scalars(select(CoordinatorSession)).all():
            row.last_seen_at = datetime.now(timezone.utc) - by
        session.commit()


def test_session_expires_after_idle_minutes(client: TestClient) -> None:
    actor = logged_in(client.app)
    idle = get_settings().coordinator_idle_minutes
    _move_last_seen(timedelta(minutes=idle - 1))
    assert actor.get("/auth/me").status_code == 200, "still inside the idle window"
    _move_last_seen(timedelta(minutes=idle + 1))
    expired = actor.get("/auth/me")
    assert expired.status_code == 401
    with db() as session:
        assert session.scalar(select(CoordinatorSession)).revoked_at is not None
    # Expired stays expired even if the clock is moved back again.
    _move_last_seen(timedelta(0))
    assert actor.get("/auth/me").status_code == 401


def test_logout_invalidates_the_session_server_side(client: TestClient) -> None:
    actor = logged_in(client.app)
    old_cookie = actor.client.cookies[COORDINATOR_COOKIE]
    response = actor.post("/auth/logout")
    assert response.status_code == 200 and response.json() == {"logged_out": True}
    assert 'coordinator_session=""' in response.headers.get("set-cookie", "") or "max-age=0" in response.headers.get(
        "set-cookie", ""
    ).lower()
    replay = new_client(client.app)
    replay.cookies.set(COORDINATOR_COOKIE, old_cookie)
    assert replay.get("/auth/me").status_code == 401
    assert replay.post("/auth/logout", headers={CSRF_HEADER: actor.csrf}).status_code == 401
    with db() as session:
        assert session.scalar(select(CoordinatorSession)).revoked_at is not None
        assert [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))] == ["login", "logout"]


def test_state_changing_requests_need_the_csrf_header(client: TestClient) -> None:
    actor = logged_in(client.app)
    plain = actor.client
    assert plain.post("/auth/logout").status_code == 403
    assert plain.post("/auth/logout", headers={CSRF_HEADER: "wrong"}).status_code == 403
    assert plain.post("/coordinator/referrals/abc-12345/notes", json={"text": "hi"}).status_code == 403
    assert plain.request("DELETE", "/coordinator/referrals/abc-12345", json={"reason": "duplicate"}).status_code == 403
    # The CSRF token of another session does not work either.
    other = logged_in(client.app)
    assert plain.post("/auth/logout", headers={CSRF_HEADER: other.csrf}).status_code == 403
    assert actor.get("/auth/me").status_code == 200, "a refused request does not end the session"
    assert actor.post("/auth/logout").status_code == 200


def test_login_needs_a_json_body(client: TestClient) -> None:
    create_coordinator(EMAIL)
    form = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
    assert form.status_code == 422, "a cross-site HTML form cannot log someone in"
    assert client.post("/auth/login", json={"email": EMAIL}).status_code == 422
    assert client.post("/auth/login", json={"email": EMAIL, "password": "x" * 2000}).status_code == 422


# --- the account command line ---------------------------------------------------------


def test_cli_creates_accounts_once_and_refuses_short_passwords(
    settings_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    monkeypatch.setenv("ADMIN_PASSWORD", "too short")
    assert main(["create-admin", "--email", "Boss@Study.example"]) == 2
    assert text("password_too_short").format(minimum=12) in capsys.readouterr().err
    monkeypatch.setenv("ADMIN_PASSWORD", "a long enough admin password")
    assert main(["create-admin", "--email", "Boss@Study.example"]) == 0
    assert text("account_created").format(role="admin", email="boss@study.example") in capsys.readouterr().out
    assert main(["create-admin", "--email", "boss@study.example"]) == 0
    assert text("account_exists").format(email="boss@study.example") in capsys.readouterr().out

    monkeypatch.setenv("COORDINATOR_PASSWORD", "a long enough coordinator password")
    assert main(["create-coordinator", "--email", "helper@study.example"]) == 0
    with db() as session:
        accounts = {c.email: c for c in session.scalars(select(Coordinator))}
    assert set(accounts) == {"boss@study.example", "helper@study.example"}
    assert accounts["boss@study.example"].role == "admin" and accounts["helper@study.example"].role == "coordinator"
    assert accounts["boss@study.example"].password_hash.startswith("$argon2")
    from api.main import create_app

    login(TestClient(create_app()), "boss@study.example", "a long enough admin password")


def test_cli_prompts_for_the_password_twice(settings_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from api.cli import main

    monkeypatch.delenv("COORDINATOR_PASSWORD", raising=False)
    answers = iter(["first password typed", "second one differs!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    assert main(["create-coordinator", "--email", "c@study.example"]) == 2
    answers = iter(["the same password twice", "the same password twice"])
    assert main(["create-coordinator", "--email", "c@study.example"]) == 0
    with db() as session:
        assert [c.email for c in session.scalars(select(Coordinator))] == ["c@study.example"]


def test_cli_migrate_builds_a_new_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine, inspect

    from api.cli import main
    from api.db import get_engine, get_sessionmaker

    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    try:
        assert main(["migrate"]) == 0
        tables = set(inspect(create_engine(url)).get_table_names())
        assert {"referrals", "coordinators", "audit_events", "alembic_version"} <= tables
    finally:
        for cached in (get_settings, get_engine, get_sessionmaker):
            cached.cache_clear()
