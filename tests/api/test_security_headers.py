"""Every answer carries no-store (static assets excepted), nosniff and no-referrer (api/core/security_headers.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", "/coordinator/login"),  # a page
        ("GET", "/coordinator/referrals"),  # refused: 401
        ("GET", "/no/such/page"),  # 404
        ("POST", "/chat/messages"),  # refused: no session
    ],
)
def test_answers_are_not_kept_and_not_sniffed(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_static_assets_may_be_cached(client: TestClient) -> None:
    response = client.get("/static/embed.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_a_header_set_by_a_route_is_replaced_not_doubled(client: TestClient) -> None:
    """The chat routes set Cache-Control themselves: the answer has it once."""
    response = client.post("/chat/messages", json={"text": "hi"})
    assert response.headers.get_list("cache-control") == ["no-store"]
