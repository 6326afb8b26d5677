"""Issue 14, item 3: the gateway spreads conversations over several Rasa servers.

Each conversation sticks to one server (the same choice in every API process);
a server that refuses the connection is passed over for the next one; nothing
else is retried.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest

from api.services.rasa_client import RasaClient, RasaUnavailable, base_urls

URLS = "http://rasa-1:5005, http://rasa-2:5005/"


def _client(handler) -> RasaClient:  # type: ignore[no-untyped-def]
    return RasaClient(URLS, 2.0, transport=httpx.MockTransport(handler))


def test_the_setting_lists_one_or_more_servers() -> None:
    assert base_urls("http://127.0.0.1:5005") == ["http://127.0.0.1:5005"]
    assert base_urls(URLS) == ["http://rasa-1:5005", "http://rasa-2:5005"]
    with pytest.raises(ValueError):
        base_urls(" , ")


def test_each_conversation_sticks_to_one_server_and_they_share_the_load() -> None:
    seen: Counter[tuple[str, str]] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        seen[(json.loads(request.content)["sender"], request.url.host)] += 1
        return httpx.Response(200, json=[{"text": "hi"}])

    client = _client(handler)
    senders = [f"conversation-{n}" for n in range(40)]
    for _ in range(2):
        for sender in senders:
            assert asyncio.run(client.send(sender, message="hello")) == [{"text": "hi"}]
    hosts = {sender: {host for (s, host) in seen if s == sender} for sender in senders}
    assert all(len(h) == 1 for h in hosts.values()), "a conversation went to two servers"
    per_server = Counter(next(iter(h)) for h in hosts.values())
    assert set(per_server) == {"rasa-1", "rasa-2"} and min(per_server.values()) >= 10, per_server
    # Another API process (another client object) makes the same choice.
    assert RasaClient(URLS, 2.0).urls_for("conversation-7") == client.urls_for("conversation-7")


def test_a_server_that_refuses_the_connection_is_passed_over() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "rasa-1":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json=[{"text": f"from {request.url.host}"}])

    client = _client(handler)
    for n in range(10):
        assert asyncio.run(client.send(f"c-{n}", message="hello")) == [{"text": "from rasa-2"}]


def test_when_every_server_refuses_the_turn_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RasaUnavailable) as failure:
        asyncio.run(_client(handler).send("c-1", message="hello"))
    assert failure.value.kind == "connection (ConnectError)"


def test_a_turn_that_timed_out_is_not_sent_to_another_server() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.host)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(RasaUnavailable) as failure:
        asyncio.run(_client(handler).send("c-1", message="hello"))
    assert failure.value.kind == "timeout" and len(asked) == 1, asked
