"""Issue 12: the outside security review, one test (or more) per finding, named after it.

Findings 5 (the embedded widget), 6 and 8 (deployment, dependencies) and the
coordinator-page items of 7 have their own files: tests/browser/, tests/unit/
test_deployment_files.py, tests/api/test_review_coordinators.py.
"""

from __future__ import annotations

import asyncio
import os
import stat
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.requests import Request

from api.core.config import Settings, get_settings
from api.core.texts import text
from tests.api.factories import PASSWORD, create_coordinator, new_client
from tests.api.test_role_matrix import route_table
from tests.servers import Servers

EMAIL = "coordinator@study.example"


def _settings(monkeypatch: pytest.MonkeyPatch, **values: object) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name.upper(), str(value))
    get_settings.cache_clear()


def _request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "headers": headers, "client": (peer, 5000)})


# --- Finding 1: the client address behind a proxy ------------------------------------


def test_finding_1_client_address_believes_only_trusted_proxies() -> None:
    from api.core.client_address import client_address

    # No trusted proxy (the default): the header is anyone's to write.
    assert client_address(_request("127.0.0.1", "203.0.113.9"), "") == "127.0.0.1"
    # A trusted proxy: the first hop from the right that is not a proxy.
    proxies = "10.0.0.0/8, 127.0.0.1"
    assert client_address(_request("10.0.0.2", "203.0.113.9"), proxies) == "203.0.113.9"
    assert client_address(_request("10.0.0.2", "198.51.100.1, 203.0.113.9, 10.0.0.3"), proxies) == "203.0.113.9"
    assert client_address(_request("10.0.0.2", "198.51.100.1", "203.0.113.9"), proxies) == "203.0.113.9"
    # A peer that is not a proxy cannot choose its address, whatever it sends.
    assert client_address(_request("198.51.100.7", "203.0.113.9"), proxies) == "198.51.100.7"
    # Only proxies, or no header: as close as we get.
    assert client_address(_request("10.0.0.2"), proxies) == "10.0.0.2"
    with pytest.raises(ValidationError):
        Settings(environment="local", trusted_proxies="10.0.0.0/8, proxy.example")


@pytest.fixture
def api_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Servers]:
    """The API as scripts/start.sh runs it (uvicorn and its flags), with a low address limit."""
    env = {"LOGINS_PER_15_MINUTES": "3", "LOGIN_FAILURES_PER_ADDRESS": "3", **getattr(request, "param", {})}
    running = Servers(tmp_path, with_api=True, env=env)
    try:
        running.start_api()
        yield running
    finally:
        running.stop()


def _bad_logins(url: str, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as http:
        return [
            http.post(
                "/auth/login",
                json={"email": f"guess{i}@study.example", "password": "not it"},
                headers={"X-Forwarded-For": hop},
            ).status_code
            for i, hop in enumerate(forwarded)
        ]


def test_finding_1_a_forged_forwarded_for_does_not_choose_the_address(api_server: Servers) -> None:
    # From 127.0.0.1 with no trusted proxy set, every forged address is still 127.0.0.1.
    codes = _bad_logins(api_server.api_url, [f"203.0.113.{i}" for i in range(1, 6)])
    assert codes == [401, 401, 401, 429, 429], codes


@pytest.mark.parametrize("api_server", [{"TRUSTED_PROXIES": "127.0.0.1"}], indirect=True)
def test_finding_1_behind_a_trusted_proxy_each_client_has_its_own_address(api_server: Servers) -> None:
    one, other = "203.0.113.7", "203.0.113.8"
    assert _bad_logins(api_server.api_url, [one, one, one]) == [401, 401, 401]
    # The same client again, with a forged hop in front: still that client.
    assert _bad_logins(api_server.api_url, [f"198.51.100.1, {one}"]) == [429]
    # Someone else behind the same proxy is not held back.
    assert _bad_logins(api_server.api_url, [other]) == [401]


# --- Finding 2: targeted lockout of a coordinator -----------------------------------


def test_finding_2_a_guesser_elsewhere_never_locks_the_owner_out(client: TestClient) -> None:
    create_coordinator(EMAIL)
    guesser = new_client(client.app, address="198.51.100.66")
    codes = [
        guesser.post("/auth/login", json={"email": EMAIL, "password": f"guess {i}"}).status_code
        for i in range(3 * get_settings().logins_per_15_minutes)
    ]
    assert 429 in codes, "the guesser is slowed down"
    owner = new_client(client.app, address="192.0.2.10")
    assert owner.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).status_code == 200


def test_finding_2_one_pair_is_slowed_down_not_locked(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import login_limit

    create_coordinator(EMAIL)
    now = datetime.now(timezone.utc)
    monkeypatch.setattr(login_limit, "_now", lambda: now)
    free = get_settings().logins_per_15_minutes
    for i in range(free):
        assert client.post("/auth/login", json={"email": EMAIL, "password": f"guess {i}"}).status_code == 401
    waits = []
    for i in range(4):
        refused = client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD})
        assert refused.status_code == 429 and refused.json()["detail"] == text("login_locked")
        waits.append(int(refused.headers["retry-after"]))
        now += timedelta(seconds=waits[-1])
        assert client.post("/auth/login", json={"email": EMAIL, "password": f"again {i}"}).status_code == 401
    assert waits == [1, 2, 4, 8], "each further failure doubles the wait, from one second"
    now += timedelta(seconds=16)
    assert client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).status_code == 200
    # A success starts the pair afresh.
    assert client.post("/auth/login", json={"email": EMAIL, "password": "wrong"}).status_code == 401


def _concurrent_logins(app: object, bodies: list[tuple[str, dict[str, str]]]) -> list[int]:
    async def run() -> list[int]:
        async def one(address: str, body: dict[str, str]) -> int:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
                return (await http.post("/auth/login", json=body)).status_code

        return list(await asyncio.gather(*(one(address, body) for address, body in bodies)))

    return asyncio.run(run())


def test_finding_2_concurrent_guesses_are_counted_before_the_password_check(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_coordinator(EMAIL)
    _settings(monkeypatch, logins_per_15_minutes=3, password_checks_at_once=8)
    codes = _concurrent_logins(
        client.app, [("198.51.100.5", {"email": EMAIL, "password": f"guess {i}"}) for i in range(12)]
    )
    # At most the allowance is checked (all may be refused if they all count each other first).
    assert codes.count(401) <= 3 and codes.count(401) + codes.count(429) == 12, codes


# --- Finding 3: /docs and /redoc ----------------------------------------------------


def test_finding_3_no_api_docs_outside_local_runs(settings_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.main import create_app

    _settings(monkeypatch, environment="production", secret_key="s" * 32, service_token="t" * 32)
    with TestClient(create_app()) as production:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            assert production.get(path).status_code == 404, path
        assert production.get("/health").status_code == 200


def test_finding_3_local_docs_are_routes_of_the_role_matrix(client: TestClient) -> None:
    routes, unknown = route_table(client.app)  # type: ignore[arg-type]
    assert unknown == []
    levels = {route.id: route.levels for route in routes}
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert levels.get(f"GET {path}") == ("public",), path
    assert client.get("/openapi.json").json()["info"]["title"]


# --- Finding 4: bodies and cookies capped before parsing; argon2 limited -------------


def _chunks(size: int) -> Iterator[bytes]:  # no Content-Length: counted as it streams
    for _ in range(size // 1024 + 2):
        yield b"a" * 1024


# The chat caps its own bodies far lower, in its reply shape (tests/api/test_chat_security.py).
@pytest.mark.parametrize("path", ["/auth/login", "/coordinator/referrals/r1/notes", "/coordinator/referrals/search"])
def test_finding_4_bodies_are_capped_before_parsing(client: TestClient, path: str) -> None:
    limit = get_settings().max_body_bytes
    big = b'{"x": "' + b"a" * (limit + 1) + b'"}'
    declared = client.post(path, content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413, declared.text
    assert declared.json() == {"detail": text("body_too_large")}
    streamed = client.post(path, content=_chunks(limit), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413 and "content-length" not in streamed.request.headers


def _stream_post(app: object, path: str, chunks: int) -> tuple[int, int]:
    """POST `chunks` KiB without a Content-Length, straight to the ASGI app: (status, KiB it read)."""
    read = 0
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": b"a" * 1024, "more_body": read < chunks}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"idempotency-key", b"r-123456789")],
        "client": ("198.51.100.9", 4000), "server": ("api", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[operator]
    return int(sent[0]["status"]), read  # type: ignore[call-overload]


@pytest.mark.parametrize("path", ["/auth/login", "/referrals"])
def test_finding_4_a_streamed_body_is_read_only_up_to_the_cap(client: TestClient, path: str) -> None:
    from api.routes import referrals

    # Anonymous, no Content-Length, 8 MiB on the way: refused once the cap is passed, not after buffering it all.
    cap = referrals.MAX_BODY_BYTES if path == "/referrals" else get_settings().max_body_bytes
    status, read = _stream_post(client.app, path, 8 * 1024)
    assert status == 413 and read <= cap // 1024 + 1, (status, read)


def test_finding_4_a_body_under_the_cap_still_works(client: TestClient) -> None:
    create_coordinator(EMAIL)
    assert client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).status_code == 200


def test_finding_4_the_cookie_header_is_capped(client: TestClient) -> None:
    limit = get_settings().max_cookie_bytes
    response = client.get("/health", headers={"Cookie": "a=" + "b" * limit})
    assert response.status_code == 431 and response.json() == {"detail": text("cookie_too_large")}
    assert client.get("/health", headers={"Cookie": "a=b"}).status_code == 200


def test_finding_4_password_checks_run_a_few_at_a_time(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import auth

    _settings(monkeypatch, password_checks_at_once=1)
    running, most = 0, 0
    lock = threading.Lock()

    def slow_verify(password_hash: str, password: str) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.1)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    # Different addresses and e-mails: no login limit is reached.
    codes = _concurrent_logins(
        client.app,
        [(f"198.51.100.{i}", {"email": f"u{i}@study.example", "password": "x"}) for i in range(1, 7)],
    )
    assert most == 1 and set(codes) <= {401, 503} and 401 in codes, (most, codes)


# --- Finding 7: smaller items (API side) ---------------------------------------------


def test_finding_7_environment_defaults_to_production(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "SECRET_KEY", "SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError, match="must be set outside local runs"):
        Settings()
    assert Settings(environment="local").is_local


def test_finding_7_database_files_are_private(tmp_path: Path) -> None:
    from sqlalchemy import text as sql

    from api.db import make_engine

    before = os.umask(0o022)  # what a shell usually has: files 0644 in folders 0755
    try:
        path = tmp_path / "new-data" / "api.sqlite"
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(sql("CREATE TABLE t (x TEXT)"))
        engine.dispose()
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_finding_6_the_migrate_job_needs_no_api_secret(tmp_path: Path) -> None:
    """docker-compose.yml's one-shot migrate job gets DATABASE_URL only, in production mode."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(root), "ENVIRONMENT": "production",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite'}"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == text("database_migrated"), done.stderr
