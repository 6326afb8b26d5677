"""Security review finding 5 (issue 12): the embedded chat is a frame of /embed, not part of the host page.

Only /embed may be framed, and only by the origins in EMBED_ORIGINS (CSP
frame-ancestors; 'none' when unset). Every other page keeps frame-ancestors
'none' and X-Frame-Options: DENY. The chat gateway answers no cross-origin
reads any more: the chat inside the frame talks to the API on its own origin.
The browser side is tests/browser/test_embed_frame.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.api.factories import logged_in

TRIAL = "https://trial.example.org"
OTHER_TRIAL = "http://localhost:8081"
UNLISTED = "https://elsewhere.example"
# FastAPI's own doc pages: served on local runs only, never in a deployment (finding 3).
LOCAL_DOCS = {"/docs", "/redoc", "/docs/oauth2-redirect"}


def _directives(policy: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            found[name] = value.strip()
    return found


@pytest.fixture
def app_with_origins(settings_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    monkeypatch.setenv("EMBED_ORIGINS", f"{TRIAL}, {OTHER_TRIAL}/")
    from api.main import create_app

    app = create_app()
    with TestClient(app):
        yield app


def test_finding_5_the_embed_page_may_be_framed_only_by_embed_origins(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBED_ORIGINS", f"{TRIAL}, {OTHER_TRIAL}/")
    response = client.get("/embed")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = _directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == f"{TRIAL} {OTHER_TRIAL}"
    # X-Frame-Options cannot list origins; frame-ancestors supersedes it.
    assert "x-frame-options" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    # Otherwise the very policy of every page.
    page = _directives(client.get("/").headers["content-security-policy"])
    assert {k: v for k, v in policy.items() if k != "frame-ancestors"} == {
        k: v for k, v in page.items() if k != "frame-ancestors"
    }
    assert page["frame-ancestors"] == "'none'"
    # The chat alone, with its own scripts from this server; nothing that points elsewhere.
    body = response.text
    assert "data-chat-widget" in body and '<script src="/static/chat.js"' in body
    assert "data-api" not in body and "http" not in body.split("<body>", 1)[1]

    for unset in ("", "*", f"{TRIAL}; script-src *", "javascript:alert(1)", f"{TRIAL}/path"):
        monkeypatch.setenv("EMBED_ORIGINS", unset)
        answer = client.get("/embed")
        assert _directives(answer.headers["content-security-policy"])["frame-ancestors"] == "'none'", unset
        assert "x-frame-options" not in answer.headers
    monkeypatch.delenv("EMBED_ORIGINS")
    policy = _directives(client.get("/embed").headers["content-security-policy"])
    assert policy["frame-ancestors"] == "'none'"


def _sample_path(route: Any) -> str:
    path = route.path_format
    for name, convertor in (route.param_convertors or {}).items():
        sample = "1" if type(convertor).__name__ in ("IntegerConvertor", "FloatConvertor") else "x"
        path = path.replace("{" + name + "}", sample)
    return path


def test_finding_5_every_other_page_still_refuses_to_be_framed(app_with_origins: FastAPI) -> None:
    """Generated from the route table: every GET that answers HTML, anonymous and as an admin."""
    app = app_with_origins
    callers = {
        "anonymous": TestClient(app, raise_server_exceptions=False),
        "admin": logged_in(app, role="admin").client,
    }
    paths = sorted(
        {
            _sample_path(context)
            for context in iter_route_contexts(app.routes)
            if isinstance(context.original_route, APIRoute)
            and "GET" in (context.methods or ())
            and context.path_format not in LOCAL_DOCS
        }
    )
    framable: dict[str, str] = {}
    refused: set[str] = set()
    for who, caller in callers.items():
        for path in paths:
            response = caller.get(path)
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            where = f"GET {path} as {who} ({response.status_code})"
            ancestors = _directives(response.headers.get("content-security-policy", "")).get(
                "frame-ancestors"
            )
            if path == "/embed":
                framable[who] = ancestors or ""
                assert "x-frame-options" not in response.headers, where
                continue
            assert ancestors == "'none'", where
            assert response.headers.get("x-frame-options") == "DENY", where
            refused.add(path)
    assert framable == {"anonymous": f"{TRIAL} {OTHER_TRIAL}", "admin": f"{TRIAL} {OTHER_TRIAL}"}
    assert {"/", "/staff/login", "/staff/referrals"} <= refused, refused


def test_finding_5_the_chat_gateway_answers_no_cross_origin_reads(app_with_origins: FastAPI) -> None:
    """The frame talks to its own origin: CORS is left for /static/embed.js alone (Subresource Integrity)."""
    client = TestClient(app_with_origins, raise_server_exceptions=False)
    preflight = client.options(
        "/chat/messages",
        headers={
            "Origin": TRIAL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-chat-session",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    started = client.post("/chat/sessions", json={}, headers={"Origin": TRIAL})
    assert "access-control-allow-origin" not in started.headers
    for path in ("/static/chat.js", "/static/chat.css", "/embed", "/"):
        assert "access-control-allow-origin" not in client.get(path, headers={"Origin": TRIAL}).headers, path
    # The markup-only route that the old embed fetched across origins is gone.
    assert client.get("/chat/widget", headers={"Origin": TRIAL}).status_code == 404

    script = client.get("/static/embed.js", headers={"Origin": TRIAL})
    assert script.status_code == 200
    assert script.headers["access-control-allow-origin"] == TRIAL
    assert "access-control-allow-credentials" not in script.headers
    assert "origin" in script.headers.get("vary", "").lower()
    unlisted = client.get("/static/embed.js", headers={"Origin": UNLISTED})
    assert "access-control-allow-origin" not in unlisted.headers
