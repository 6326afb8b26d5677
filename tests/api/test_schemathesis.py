"""safety-security S9: the whole app's OpenAPI schema holds.

Schemathesis (4.x, in-process over ASGI) generates requests for every operation
the app's /openapi.json lists, whoever wrote the router, and checks that no
answer is a 5xx and that every answer with a documented status matches its
documented schema. New routes are covered without touching this file.

The bot is the fake Rasa of test_chat_gateway.py (a real outage is a
documented 503, tested there). Requests carry a valid chat session, the
service credential and a logged-in admin's cookie and CSRF token, so
generated requests reach the code behind the access checks instead of
stopping at 401 (until a generated POST /auth/logout ends the admin session).
Chat rate limits are off for this run.

Budget: the coverage and stateful phases are off; examples + fuzzing at
MAX_EXAMPLES per operation, spread so the whole run stays at a few hundred
requests per database (about TOTAL_BUDGET), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.deps import COORDINATOR_COOKIE, CSRF_HEADER
from api.main import create_app
from tests.api.conftest import SERVICE_TOKEN
from tests.api.factories import logged_in
from tests.api.test_chat_gateway import FakeRasa, start, use_fake_rasa, use_settings

TOTAL_BUDGET = 300
MAX_EXAMPLES = 25
SEED = 4242589


def _config(operation_count: int) -> schemathesis.Config:
    per_operation = max(5, min(MAX_EXAMPLES, TOTAL_BUDGET // max(operation_count, 1)))
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "warnings": False,
            "generation": {
                "mode": "all",  # valid and invalid requests
                "max-examples": per_operation,
                "database": "none",  # no .hypothesis directory in the repository
                "deterministic": True,
            },
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )


def _operation_count(openapi: dict) -> int:
    methods = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
    return sum(1 for item in openapi.get("paths", {}).values() for method in item if method in methods)


# Loaded once from a fresh app: serving /openapi.json needs no database. Each
# test then sends the generated requests to the app of its own `client` (its
# own database), through `app=` below. (schemathesis.pytest.from_fixture would
# be the lazy way, but 4.32 reads `Function._nodeid`, which pytest 9.2 removed.)
_app = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", _app, config=_config(_operation_count(_app.openapi())))


@pytest.fixture
def api_app(client: TestClient) -> FastAPI:
    use_fake_rasa(client, FakeRasa())
    use_settings(client, session_messages_per_minute=0, client_messages_per_minute=0)  # 0 = no limit
    return client.app


@pytest.fixture
def credentials(client: TestClient, api_app: FastAPI) -> dict[str, dict[str, str]]:
    """A chat session, the service credential and a logged-in admin, on every request."""
    token = start(client)["session_id"]
    client.cookies.clear()
    admin = logged_in(api_app, role="admin")
    return {
        "headers": {"X-Chat-Session": token, "Authorization": f"Bearer {SERVICE_TOKEN}", CSRF_HEADER: admin.csrf},
        "cookies": {COORDINATOR_COOKIE: admin.client.cookies[COORDINATOR_COOKIE]},
    }


@schema.parametrize()
# The `client` database is shared by all examples of one operation on purpose.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_openapi_schema_holds(case: schemathesis.Case, api_app: FastAPI, credentials: dict[str, dict[str, str]]) -> None:
    case.call_and_validate(
        app=api_app,
        headers=credentials["headers"],
        cookies=credentials["cookies"],
        checks=[not_a_server_error, response_schema_conformance],
    )


def test_the_schema_lists_the_chat_gateway(client: TestClient) -> None:
    """The run above is only as good as the schema: the chat routes must be in it."""
    paths = client.app.openapi()["paths"]
    assert {"/chat/sessions", "/chat/messages"} <= set(paths)
    body = paths["/chat/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"text", "payload"}
    for code in ("200", "401", "409", "422", "429", "503"):
        assert paths["/chat/messages"]["post"]["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ChatReply"
        }
