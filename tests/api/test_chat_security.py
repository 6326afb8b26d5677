"""Input limits, rate limits and privacy of the chat gateway (safety-security S7, S8, P2).

Uses the fake Rasa of test_chat_gateway.py; every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import unicodedata

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings, strategies as st

from api.core.texts import text as kind_text
from api.services.rate_limit import SlidingWindowLimiter
from tests.api.test_chat_gateway import (  # noqa: F401  (fixtures)
    REPLY_KEYS,
    SELF,
    FakeClock,
    FakeRasa,
    chat_row,
    clock,
    closed_port_url,
    fake_rasa,
    send,
    start,
    use_fake_rasa,
    use_settings,
)

MARKER = "ZQXJ-canary-7781"


def assert_kind_refusal(response: httpx.Response, status: int, key: str, **fmt: object) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == REPLY_KEYS
    assert body["error"] == key
    assert body["messages"] == [{"text": kind_text(key).format(**fmt), "buttons": []}]
    return body


# --- length, emptiness, shape --------------------------------------------------------


def test_too_long_is_422_with_the_limit_and_no_echo(client: TestClient, fake_rasa: FakeRasa) -> None:
    use_settings(client, max_message_chars=40)
    start(client)
    response = send(client, text=MARKER * 3)
    body = assert_kind_refusal(response, 422, "too_long", limit=40)
    assert "40" in body["messages"][0]["text"]
    assert MARKER not in response.text
    assert body["asks"] == "respondent"
    assert len(fake_rasa.received) == 1


def test_exactly_the_limit_is_accepted(client: TestClient, fake_rasa: FakeRasa) -> None:
    use_settings(client, max_message_chars=40)
    start(client)
    assert send(client, text="a" * 40).status_code == 200
    assert fake_rasa.received[-1]["message"] == "a" * 40
    assert send(client, text="a" * 41).status_code == 422


def test_the_default_limit_is_settings_max_message_chars(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    assert send(client, text="b" * 500).status_code == 200
    assert_kind_refusal(send(client, text="b" * 501), 422, "too_long", limit=500)


def test_a_huge_body_is_refused_before_parsing(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    response = client.post(
        "/chat/messages",
        content=json.dumps({"text": MARKER * 100_000}),
        headers={"Content-Type": "application/json"},
    )
    assert_kind_refusal(response, 413, "too_long", limit=500)
    assert MARKER not in response.text


@pytest.mark.parametrize("typed", ["", "   ", "\n\t \r\n", "\x00\x01\x7f", "///", " / / ", "\u200b\u200e\u202e"])
def test_empty_or_invisible_text_is_422(client: TestClient, fake_rasa: FakeRasa, typed: str) -> None:
    start(client)
    assert_kind_refusal(send(client, text=typed), 422, "empty")
    assert len(fake_rasa.received) == 1


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({}, "empty"),
        ({"text": None}, "empty"),
        ({"payload": ""}, "empty"),
        ({"text": "hi", "payload": SELF}, "invalid_message"),
        ({"text": 123}, "invalid_message"),
        ({"text": ["hi"]}, "invalid_message"),
        ({"payload": {"intent": "affirm"}}, "invalid_message"),
        ({"text": True}, "invalid_message"),
    ],
)
def test_wrong_fields_are_422(client: TestClient, fake_rasa: FakeRasa, body: dict, key: str) -> None:
    start(client)
    assert_kind_refusal(client.post("/chat/messages", json=body), 422, key)
    assert len(fake_rasa.received) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"{",
        b'{"text": "unterminated',
        b"[1, 2]",
        b'"just a string"',
        b"null",
        b"NaN",
        b"\xff\xfe\x00\x01binary\x00",
        b'{"text": "\xc3\x28"}',  # invalid UTF-8
        b"[" * 5000,
        b'{"a":' * 5000,
        b'{"text": "\\ud800"}',  # a lone surrogate, escaped
    ],
    ids=lambda raw: repr(raw[:16]),
)
def test_malformed_or_binary_json_is_4xx_never_500(client: TestClient, fake_rasa: FakeRasa, raw: bytes) -> None:
    start(client)
    response = client.post("/chat/messages", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"] in {"invalid_message", "empty", "too_long"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream"],
)
def test_only_json_bodies_are_read(client: TestClient, fake_rasa: FakeRasa, content_type: str | None) -> None:
    start(client)
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/chat/messages", content=b'{"text": "hi"}', headers=headers)
    assert_kind_refusal(response, 415, "invalid_message")
    assert len(fake_rasa.received) == 1


def test_control_characters_are_stripped(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    typed = "I am\x00 6\x1b[1m5\x07\nyears\u202e old\ud800"
    # json.dumps escapes the lone surrogate (a browser's JSON.stringify does too)
    response = client.post("/chat/messages", content=json.dumps({"text": typed}), headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    sent = fake_rasa.received[-1]["message"]
    assert sent == "I am 6[1m5 years old"
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in sent)


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "😀👍🏽 👨‍👩‍👧 yes",
        "J'ai soixante-cinq ans",
        "我六十五岁",
        "مرحبا، عمري ٦٥ سنة",
        "Ich habe Schmerzen, 7/10",
        "'; DROP TABLE chat_sessions; --",
    ],
)
def test_html_emoji_and_other_languages_get_an_answer(client: TestClient, fake_rasa: FakeRasa, typed: str) -> None:
    token = start(client)["session_id"]
    response = send(client, text=typed)
    assert response.status_code == 200
    assert fake_rasa.received[-1]["message"] == typed  # nothing to strip: passed on unchanged
    assert response.json()["messages"]
    assert chat_row(token).message_count == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=600).map(lambda t: json.dumps({"text": t}).encode()),
        st.text(max_size=80).map(lambda t: json.dumps({"payload": t}).encode()),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda children: st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["text", "payload", "x"]), children, max_size=3),
            max_leaves=10,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_fuzz_any_body_gets_a_polite_answer_never_a_500(client: TestClient, fake_rasa: FakeRasa, body: bytes) -> None:
    use_settings(client, session_messages_per_minute=0, client_messages_per_minute=0)  # 0 = no limit
    if "chat_session" not in client.cookies:
        start(client)
    response = client.post("/chat/messages", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in {200, 409, 413, 422}, response.text
    reply = response.json()
    assert set(reply) == REPLY_KEYS
    assert reply["messages"] and all(message["text"] for message in reply["messages"])


# --- rate limits ------------------------------------------------------------------------


def test_rate_limit_per_session(client: TestClient, fake_rasa: FakeRasa, clock: FakeClock) -> None:
    use_settings(client, session_messages_per_minute=3, client_messages_per_minute=100)
    token = start(client)["session_id"]
    for _ in range(3):
        assert send(client, text="hi").status_code == 200
    response = send(client, text="hi")
    body = assert_kind_refusal(response, 429, "too_many")
    assert body["retry"] is True and body["asks"] == "red_flags"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert len(fake_rasa.received) == 4  # hello + 3

    other = client.post("/chat/sessions").json()["session_id"]  # another session is not affected
    assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": other}).status_code == 200

    clock.advance(30)
    assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": token}).status_code == 429
    clock.advance(31)  # a sliding minute after the first message
    assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": token}).status_code == 200
    assert chat_row(token).message_count == 4


def test_rate_limit_per_client_address(client: TestClient, fake_rasa: FakeRasa, clock: FakeClock) -> None:
    use_settings(client, session_messages_per_minute=100, client_messages_per_minute=5)
    first = start(client)["session_id"]  # 1: starting counts (it costs a bot turn)
    second = start(client)["session_id"]  # 2
    for token in (first, first, second):  # 3, 4, 5
        assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": token}).status_code == 200

    refused = client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": second})
    assert_kind_refusal(refused, 429, "too_many")
    start_refused = client.post("/chat/sessions")
    assert start_refused.status_code == 429
    assert start_refused.json()["session_id"] is None and "set-cookie" not in start_refused.headers
    assert len(fake_rasa.received) == 5

    clock.advance(61)
    assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": second}).status_code == 200


def test_refused_tries_do_not_extend_the_wait() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(clock)
    assert [limiter.hit("k", 2) for _ in range(3)] == [True, True, False]
    for _ in range(59):
        clock.advance(1)
        assert limiter.hit("k", 2) is False
    clock.advance(1)
    assert limiter.hit("k", 2) is True  # the first two left the window at t+60
    assert limiter.hit("k", 2) is True
    assert limiter.hit("k", 2) is False
    assert limiter.hit("other", 2) is True


def test_the_limiter_forgets_idle_keys() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(clock, sweep_every=10)
    for n in range(9):
        limiter.hit(f"client:{n}", 5)
    assert len(limiter) == 9
    clock.advance(120)
    limiter.hit("client:new", 5)  # the 10th call sweeps
    assert len(limiter) == 1


def test_the_limiter_is_thread_safe() -> None:
    import threading

    limiter = SlidingWindowLimiter()
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(200):
            result = limiter.hit("shared", 500)
            with lock:
                allowed.append(result)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 500 and len(allowed) == 1600


# --- privacy --------------------------------------------------------------------------------


def test_no_message_text_payload_or_token_in_the_logs(
    client: TestClient, fake_rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marked_payload = f'/choose{{"choice": "{MARKER}"}}'
    fake_rasa.script.append(
        lambda sender: [{"text": "Pick one", "buttons": [{"title": "x", "payload": marked_payload}], "custom": {"asks": "q"}}]
    )
    token = start(client)["session_id"]
    conversation_id = chat_row(token).conversation_id

    send(client, text=f"my name is {MARKER}")  # 200
    send(client, payload=f"/inform{{\"x\": \"{MARKER}\"}}")  # 409
    send(client, text=MARKER * 100)  # 422
    use_settings(client, rasa_url=closed_port_url())
    from api.services.rasa_client import get_rasa_client

    client.app.dependency_overrides.pop(get_rasa_client)
    assert send(client, text=f"again {MARKER}").status_code == 503
    use_fake_rasa(client, fake_rasa)
    fake_rasa.script.append(httpx.Response(500, json={"error": MARKER}))
    assert send(client, text=f"once more {MARKER}").status_code == 503

    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert "rasa unavailable" in logged  # the failure is logged, by kind
    for secret in (MARKER, token, conversation_id):
        assert secret not in logged


def test_the_conversation_id_never_leaves_the_server(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    conversation_id = chat_row(token).conversation_id
    answers = [
        send(client, text="hi"),
        send(client, payload="/nope"),
        send(client, text=""),
        client.post("/chat/messages", content=b"xx", headers={"Content-Type": "application/json"}),
    ]
    fake_rasa.script.append(httpx.Response(500))
    answers.append(send(client, text="hi"))
    for answer in answers:
        assert conversation_id not in answer.text
        assert conversation_id not in str(answer.headers)
    assert [a.status_code for a in answers] == [200, 409, 422, 422, 503]
