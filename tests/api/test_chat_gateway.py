"""The public chat gateway (api/routes/chat.py) against a small fake Rasa.

The fake is an httpx.MockTransport injected through the `get_rasa_client`
dependency: it records every body the gateway sent and answers like the
guarded channel (nlu/channel.py) does, including the `recipient_id` the
channel adds to each message (the conversation id, which must never reach
the browser). Every test runs on SQLite and PostgreSQL (`client` fixture).

`FakeRasa`, `FakeClock` and the fixtures here are reused by
test_chat_security.py and test_schemathesis.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.core.config import get_settings
from api.core.security import token_hash
from api.core.texts import text as kind_text
from api.db import get_sessionmaker
from api.deps import request_settings
from api.models import ChatSession
from api.services.chat_runtime import ChatRuntime, get_chat_runtime
from api.services.rasa_client import RasaClient, RasaUnavailable, get_rasa_client

SELF = '/choose{"choice": "self"}'
CAREGIVER = '/choose{"choice": "caregiver"}'


def first_question(sender: str) -> list[dict[str, Any]]:
    return [
        {"text": "Hello! I can help you check if this study may fit.", "recipient_id": sender},
        {
            "text": "Are you chatting for yourself, or helping someone?",
            "buttons": [{"title": "For myself", "payload": SELF}, {"title": "Helping someone", "payload": CAREGIVER}],
            "custom": {"asks": "respondent"},
            "recipient_id": sender,
        },
    ]


def yes_no_question(sender: str, asks: str = "red_flags") -> list[dict[str, Any]]:
    return [
        {
            "text": "Do you have new weakness or numbness?",
            "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
            "custom": {"asks": asks},
            "recipient_id": sender,
        }
    ]


class FakeRasa:
    """Scripted stand-in for the guarded Rasa channel; records what the gateway sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        # Queued answers (each a list of bot messages, or an httpx.Response); when
        # empty, "hello" gets the first question and anything else a yes/no question.
        self.script: deque[Any] = deque()
        self.delay_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0

    async def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.received.append(body)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            answer = self.script.popleft() if self.script else self.default(body)
        finally:
            self.in_flight -= 1
        if isinstance(answer, httpx.Response):
            return answer
        if callable(answer):
            answer = answer(body["sender"])
        return httpx.Response(200, json=answer)

    @staticmethod
    def default(body: dict[str, Any]) -> list[dict[str, Any]]:
        if body.get("message") == "hello":
            return first_question(body["sender"])
        return yes_no_question(body["sender"])

    @property
    def senders(self) -> set[str]:
        return {body["sender"] for body in self.received}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def use_fake_rasa(client: TestClient, fake: FakeRasa, timeout_s: float = 5.0) -> None:
    client.app.dependency_overrides[get_rasa_client] = lambda: RasaClient(
        "http://rasa.invalid", timeout_s, transport=httpx.MockTransport(fake.handler)
    )


def use_settings(client: TestClient, **changes: Any) -> None:
    patched = get_settings().model_copy(update=changes)
    client.app.dependency_overrides[request_settings] = lambda: patched


@pytest.fixture
def fake_rasa(client: TestClient) -> FakeRasa:
    fake = FakeRasa()
    use_fake_rasa(client, fake)
    return fake


@pytest.fixture
def clock(client: TestClient) -> FakeClock:
    fake_clock = FakeClock()
    runtime = ChatRuntime(clock=fake_clock)
    client.app.dependency_overrides[get_chat_runtime] = lambda: runtime
    return fake_clock


def start(client: TestClient) -> dict[str, Any]:
    response = client.post("/chat/sessions")
    assert response.status_code == 201, response.text
    return response.json()


def send(client: TestClient, **body: Any) -> httpx.Response:
    return client.post("/chat/messages", json=body)


def chat_row(token: str) -> ChatSession:
    with get_sessionmaker()() as db:
        row = db.scalar(select(ChatSession).where(ChatSession.token_hash == token_hash(token)))
        assert row is not None
        return row


def all_rows() -> list[ChatSession]:
    with get_sessionmaker()() as db:
        return list(db.scalars(select(ChatSession)))


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts TCP connections (the kernel does) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


REPLY_KEYS = {"messages", "asks", "outcome", "urgent", "retry", "error"}


# --- starting a session -------------------------------------------------------


def test_start_sets_httponly_lax_cookie_and_returns_the_first_turn(client: TestClient, fake_rasa: FakeRasa) -> None:
    response = client.post("/chat/sessions")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == REPLY_KEYS | {"session_id"}
    token = body["session_id"]
    assert isinstance(token, str) and len(token) >= 32
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"chat_session={token};")
    flags = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "secure" not in flags  # cookie_secure is off in local runs
    assert response.cookies.get("chat_session") == token

    assert body["messages"] == [
        {"text": "Hello! I can help you check if this study may fit.", "buttons": []},
        {
            "text": "Are you chatting for yourself, or helping someone?",
            "buttons": [{"title": "For myself", "payload": SELF}, {"title": "Helping someone", "payload": CAREGIVER}],
        },
    ]
    assert body["asks"] == "respondent"
    assert (body["outcome"], body["urgent"], body["retry"], body["error"]) == (None, False, False, None)

    # The gateway said "hello" for the patient, under a conversation id of its own.
    assert len(fake_rasa.received) == 1
    assert fake_rasa.received[0]["message"] == "hello"
    conversation_id = fake_rasa.received[0]["sender"]
    assert conversation_id != token and len(conversation_id) >= 32
    assert conversation_id not in response.text
    assert conversation_id not in str(response.headers)

    row = chat_row(token)
    assert row.conversation_id == conversation_id
    assert row.token_hash == token_hash(token) != token
    assert token not in {row.token_hash, row.conversation_id}
    assert row.last_asks == "respondent"
    assert row.offered_payloads == [SELF, CAREGIVER]
    assert row.message_count == 0 and row.outcome is None and row.finished_at is None


def test_cookie_is_secure_when_configured(client: TestClient, fake_rasa: FakeRasa) -> None:
    use_settings(client, cookie_secure=True)
    response = client.post("/chat/sessions")
    assert response.status_code == 201
    flags = [part.strip().lower() for part in response.headers["set-cookie"].split(";")[1:]]
    assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags


def test_every_start_is_a_new_conversation(client: TestClient, fake_rasa: FakeRasa) -> None:
    first, second = start(client), start(client)
    assert first["session_id"] != second["session_id"]
    assert len(fake_rasa.senders) == 2
    assert len(all_rows()) == 2


def test_a_body_cannot_choose_the_conversation(client: TestClient, fake_rasa: FakeRasa) -> None:
    response = client.post("/chat/sessions", json={"sender": "chosen-by-client", "session_id": "x" * 43})
    assert response.status_code == 201
    assert response.json()["session_id"] != "x" * 43
    assert send(client, text="hi", sender="chosen-by-client").status_code == 200
    assert "chosen-by-client" not in fake_rasa.senders
    assert len(fake_rasa.senders) == 1


# --- finding the session --------------------------------------------------------


def test_the_header_alone_finds_the_session(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    client.cookies.clear()
    assert send(client, text="hi").status_code == 401

    response = client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": token})

    assert response.status_code == 200, response.text
    assert response.json()["asks"] == "red_flags"
    assert [body["sender"] for body in fake_rasa.received] == [chat_row(token).conversation_id] * 2


def test_the_header_wins_over_the_cookie(client: TestClient, fake_rasa: FakeRasa) -> None:
    first = start(client)["session_id"]
    second = start(client)["session_id"]  # the cookie now holds the second session
    response = client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": first})
    assert response.status_code == 200
    assert fake_rasa.received[-1]["sender"] == chat_row(first).conversation_id
    assert chat_row(first).message_count == 1 and chat_row(second).message_count == 0


@pytest.mark.parametrize(
    "token",
    [None, "", "x" * 43, "short", "not a token at all!", "a" * 500, "../../etc/passwd"],
    ids=["missing", "empty", "unknown", "short", "spaces", "long", "path"],
)
def test_unknown_or_missing_session_is_401_with_kind_words(
    client: TestClient, fake_rasa: FakeRasa, token: str | None
) -> None:
    start(client)
    client.cookies.clear()
    headers = {} if token is None else {"X-Chat-Session": token}
    response = client.post("/chat/messages", json={"text": "hi"}, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == REPLY_KEYS
    assert body["error"] == "session_unknown"
    assert body["messages"] == [{"text": kind_text("session_unknown"), "buttons": []}]
    assert len(fake_rasa.received) == 1  # only the opening "hello"


def test_the_stored_hash_does_not_open_the_session(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    client.cookies.clear()
    response = client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": token_hash(token)})
    assert response.status_code == 401


def test_a_forged_cookie_is_401(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    client.cookies.clear()
    client.cookies.set("chat_session", "y" * 43)
    assert send(client, text="hi").status_code == 401


# --- typed text and buttons -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("/affirm", "affirm"),
        ('/inform{"pain_score": 9}', 'inform{"pain_score": 9}'),
        ("  / //deny", "deny"),
        ("\u200b/affirm", "affirm"),
        ("\n/restart", "restart"),
        (SELF, 'choose{"choice": "self"}'),  # typing an offered payload is still just text
        ("I am 6/10", "I am 6/10"),
    ],
)
def test_slash_text_is_sent_as_plain_text_without_the_slash(
    client: TestClient, fake_rasa: FakeRasa, typed: str, sent: str
) -> None:
    start(client)
    response = send(client, text=typed)
    assert response.status_code == 200, response.text
    assert fake_rasa.received[-1] == {"sender": fake_rasa.received[0]["sender"], "message": sent}


def test_an_offered_payload_is_sent_as_a_payload(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    response = send(client, payload=CAREGIVER)
    assert response.status_code == 200, response.text
    assert fake_rasa.received[-1] == {"sender": chat_row(token).conversation_id, "payload": CAREGIVER}
    # The next turn offered other buttons: those are now the only ones accepted.
    assert chat_row(token).offered_payloads == ["/affirm", "/deny"]
    assert send(client, payload="/deny").status_code == 200
    assert fake_rasa.received[-1]["payload"] == "/deny"


@pytest.mark.parametrize(
    "payload",
    ["/affirm", '/inform{"pain_score": 9}', SELF + " ", "/restart", '/choose{"choice": "admin"}'],
)
def test_a_payload_not_offered_is_refused_with_409(client: TestClient, fake_rasa: FakeRasa, payload: str) -> None:
    token = start(client)["session_id"]
    response = send(client, payload=payload)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "button_not_offered"
    assert body["messages"] == [{"text": kind_text("button_not_offered"), "buttons": []}]
    assert body["asks"] == "respondent"  # the bot's last question is still open
    assert payload not in response.text
    assert len(fake_rasa.received) == 1  # nothing went to the bot
    row = chat_row(token)
    assert row.offered_payloads == [SELF, CAREGIVER] and row.message_count == 0


def test_a_button_of_an_earlier_turn_is_refused(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    assert send(client, payload=SELF).status_code == 200
    assert send(client, payload=SELF).status_code == 409
    assert fake_rasa.received[-1]["payload"] == SELF and len(fake_rasa.received) == 2


# --- what the page gets -----------------------------------------------------------


def test_asks_outcome_and_urgent_come_from_custom_and_custom_only_messages_stay_home(
    client: TestClient, fake_rasa: FakeRasa
) -> None:
    start(client)
    fake_rasa.script.append(
        lambda sender: [
            {"text": "Thank you.", "recipient_id": sender},
            {"custom": {"asks": "ignored_because_later_one_wins"}, "recipient_id": sender},
            {"text": "Please get care now.", "custom": {"outcome": "urgent_care", "urgent": True}},
            {"custom": {"outcome_reasons": ["red_flags"]}, "recipient_id": sender},
            {"image": "https://example.org/x.png"},
            {"text": "", "buttons": [{"title": "Start over", "payload": "/restart"}]},
        ]
    )
    body = send(client, text="I cannot feel my legs").json()
    assert body == {
        "messages": [
            {"text": "Thank you.", "buttons": []},
            {"text": "Please get care now.", "buttons": [{"title": "Start over", "payload": "/restart"}]},
        ],
        "asks": "ignored_because_later_one_wins",
        "outcome": "urgent_care",
        "urgent": True,
        "retry": False,
        "error": None,
    }


def test_urgent_care_outcome_alone_sets_urgent(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    fake_rasa.script.append([{"text": "Please call 911.", "custom": {"outcome": "urgent_care"}}])
    body = send(client, text="my legs are weak").json()
    assert (body["outcome"], body["urgent"], body["asks"]) == ("urgent_care", True, None)


def test_a_question_has_asks_and_no_outcome(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    body = send(client, payload=SELF).json()
    assert (body["asks"], body["outcome"], body["urgent"]) == ("red_flags", None, False)


def test_the_outcome_is_recorded_on_the_session(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    fake_rasa.script.append(
        [
            {"text": "You may be a fit.", "custom": {"outcome": "likely_eligible"}},
            {"custom": {"outcome_reasons": ["age", "pain_score", 7, {"x": 1}]}},
            {
                "text": "May we send your answers to the study team?",
                "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
                "custom": {"asks": "consent_contact"},
            },
        ]
    )
    before = chat_row(token)
    body = send(client, text="no").json()
    assert (body["outcome"], body["asks"]) == ("likely_eligible", "consent_contact")

    row = chat_row(token)
    assert row.outcome == "likely_eligible"
    assert row.outcome_reasons == ["age", "pain_score"]
    assert row.finished_at is not None
    assert row.last_asks == "consent_contact"
    assert row.offered_payloads == ["/affirm", "/deny"]
    assert row.message_count == 1
    assert row.last_seen_at >= before.last_seen_at

    # The conversation goes on after the outcome (consent, contact details).
    assert send(client, payload="/affirm").status_code == 200
    row = chat_row(token)
    assert row.message_count == 2 and row.outcome == "likely_eligible" and row.last_asks == "red_flags"


def test_cache_control_no_store_on_every_chat_answer(client: TestClient, fake_rasa: FakeRasa) -> None:
    answers = [client.post("/chat/sessions")]
    answers.append(send(client, text="hi"))
    answers.append(send(client, text=""))
    answers.append(send(client, payload="/nope"))
    client.cookies.clear()
    answers.append(send(client, text="hi"))
    assert [a.status_code for a in answers] == [201, 200, 422, 409, 401]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store"


# --- when Rasa fails -----------------------------------------------------------------


def assert_try_again(response: httpx.Response, asks: str | None) -> None:
    assert response.status_code == 503
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body == {
        "messages": [{"text": kind_text("try_again"), "buttons": []}],
        "asks": asks,
        "outcome": None,
        "urgent": False,
        "retry": True,
        "error": "try_again",
    }


def test_rasa_down_is_503_retry_and_the_session_still_works(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    # The real client (no fake) against a port where nobody listens.
    client.app.dependency_overrides.pop(get_rasa_client)
    use_settings(client, rasa_url=closed_port_url())

    response = send(client, payload=SELF)

    assert_try_again(response, asks="respondent")
    row = chat_row(token)
    assert row.message_count == 0 and row.offered_payloads == [SELF, CAREGIVER] and row.last_asks == "respondent"

    use_fake_rasa(client, fake_rasa)  # Rasa is back: the same message simply goes again
    again = send(client, payload=SELF)
    assert again.status_code == 200 and again.json()["asks"] == "red_flags"
    assert fake_rasa.received[-1]["payload"] == SELF
    assert chat_row(token).message_count == 1


def test_rasa_slower_than_the_timeout_is_503_quickly(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    client.app.dependency_overrides.pop(get_rasa_client)
    with silent_server() as url:
        use_settings(client, rasa_url=url, rasa_timeout_s=0.3)
        began = time.monotonic()
        response = send(client, text="65")
        elapsed = time.monotonic() - began
    assert_try_again(response, asks="respondent")
    assert elapsed < 3

    use_fake_rasa(client, fake_rasa)
    assert send(client, text="65").status_code == 200
    assert chat_row(token).message_count == 1


def test_the_timeout_covers_the_whole_exchange(client: TestClient, fake_rasa: FakeRasa) -> None:
    # A transport that ignores httpx's per-phase timeouts: the total deadline still holds.
    start(client)
    use_fake_rasa(client, fake_rasa, timeout_s=0.2)
    fake_rasa.delay_s = 1.5
    began = time.monotonic()
    response = send(client, payload=SELF)
    assert_try_again(response, asks="respondent")
    assert time.monotonic() - began < 1.2
    fake_rasa.delay_s = 0
    # Still running in the background: a re-send now is told to wait again ...
    assert_try_again(send(client, payload=SELF), asks="respondent")
    time.sleep(1.5)
    # ... and once Rasa has answered, the re-send gets that late answer: the
    # message reached Rasa once, so no question is answered twice.
    assert send(client, payload=SELF).status_code == 200
    assert [body.get("payload") for body in fake_rasa.received].count(SELF) == 1


def test_a_new_message_after_a_late_turn_goes_to_rasa_after_it(client: TestClient, fake_rasa: FakeRasa) -> None:
    start(client)
    use_fake_rasa(client, fake_rasa, timeout_s=0.2)
    fake_rasa.delay_s = 0.5
    assert_try_again(send(client, text="65"), asks="respondent")
    fake_rasa.delay_s = 0
    time.sleep(0.6)
    assert send(client, text="something else").status_code == 200
    assert [body.get("message") for body in fake_rasa.received][-2:] == ["65", "something else"]


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500, json={"error": "boom"}),
        httpx.Response(503, json={"error": "The assistant could not answer."}),
        httpx.Response(200, content=b"<html>proxy error</html>"),
        httpx.Response(200, json={"not": "a list"}),
        httpx.Response(200, json=["not a message"]),
    ],
    ids=["500", "503", "html", "object", "list-of-strings"],
)
def test_a_broken_rasa_answer_is_503(client: TestClient, fake_rasa: FakeRasa, answer: httpx.Response) -> None:
    start(client)
    fake_rasa.script.append(answer)
    assert_try_again(send(client, text="hi"), asks="respondent")
    assert send(client, text="hi").status_code == 200


def test_start_when_rasa_is_down_creates_nothing(client: TestClient) -> None:
    use_settings(client, rasa_url=closed_port_url())
    response = client.post("/chat/sessions")
    assert response.status_code == 503
    assert response.json() == {
        "messages": [{"text": kind_text("try_again"), "buttons": []}],
        "asks": None,
        "outcome": None,
        "urgent": False,
        "retry": True,
        "error": "try_again",
        "session_id": None,
    }
    assert "set-cookie" not in response.headers
    assert all_rows() == []


# --- one conversation, one message at a time ----------------------------------------


def test_two_messages_at_once_are_serialised(client: TestClient, fake_rasa: FakeRasa) -> None:
    token = start(client)["session_id"]
    fake_rasa.delay_s = 0.3
    barrier = threading.Barrier(2)
    results: list[int] = []

    def post(text: str) -> None:
        barrier.wait()
        results.append(client.post("/chat/messages", json={"text": text}).status_code)

    threads = [threading.Thread(target=post, args=(text,)) for text in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert results == [200, 200]
    assert fake_rasa.max_in_flight == 1  # the second waited for the first
    assert sorted(body.get("message") for body in fake_rasa.received[1:]) == ["first", "second"]
    assert chat_row(token).message_count == 2


def test_different_conversations_run_side_by_side(client: TestClient, fake_rasa: FakeRasa) -> None:
    tokens = [start(client)["session_id"] for _ in range(2)]
    fake_rasa.delay_s = 0.3
    barrier = threading.Barrier(2)
    results: list[int] = []

    def post(token: str) -> None:
        barrier.wait()
        response = client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": token})
        results.append(response.status_code)

    threads = [threading.Thread(target=post, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == [200, 200]
    assert fake_rasa.max_in_flight == 2


def test_a_message_waiting_for_the_lock_sees_a_withdrawal(client: TestClient, fake_rasa: FakeRasa) -> None:
    """api/services/queue.py cuts the token off when a referral is withdrawn: a
    message that was already queued behind the conversation lock is refused."""
    token = start(client)["session_id"]
    fake_rasa.delay_s = 0.4

    def withdraw_then_answer(sender: str) -> list[dict[str, Any]]:
        with get_sessionmaker()() as db:
            row = db.scalar(select(ChatSession).where(ChatSession.token_hash == token_hash(token)))
            row.token_hash = token_hash("cut-off-" + token)
            db.commit()
        return yes_no_question(sender)

    fake_rasa.script.append(withdraw_then_answer)
    results: dict[str, int] = {}

    def post(text: str) -> None:
        results[text] = client.post("/chat/messages", json={"text": text}).status_code

    first = threading.Thread(target=post, args=("first",))
    first.start()
    time.sleep(0.15)  # the second passes the session check while the first talks to the bot
    second = threading.Thread(target=post, args=("second",))
    second.start()
    first.join(timeout=10)
    second.join(timeout=10)

    assert results == {"first": 200, "second": 401}
    assert [body.get("message") for body in fake_rasa.received[1:]] == ["first"]


def test_the_tls_context_is_built_once_not_per_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the profile under load (make bench): a TLS context per call was
    over half of the API's time. Several turns must build at most one."""
    import ssl

    from api.services import rasa_client

    built: list[int] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    rasa_client.tls_context.cache_clear()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=[{"text": "hi"}]))
    client = rasa_client.RasaClient("http://rasa.invalid", 5, transport=transport)

    async def turns() -> None:
        for _ in range(5):
            assert await client.send("c1", message="hello") == [{"text": "hi"}]

    asyncio.run(turns())
    assert len(built) == 1
    rasa_client.tls_context.cache_clear()


# --- what one message costs (issue 14) -----------------------------------------


def test_a_message_with_the_lock_free_reads_its_session_once(client: TestClient, fake_rasa: FakeRasa) -> None:
    """The read under the lock is skipped when nobody else held or took it since the first read."""
    from sqlalchemy import event

    from api.db import get_engine

    token = start(client)["session_id"]
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "chat_sessions" in statement:
            statements.append(statement.split(None, 1)[0].upper())

    event.listen(get_engine(), "before_cursor_execute", seen)
    try:
        assert send(client, text="first").status_code == 200
    finally:
        event.remove(get_engine(), "before_cursor_execute", seen)
    assert statements == ["SELECT", "UPDATE"]
    assert chat_row(token).message_count == 1


def test_a_read_is_fresh_only_if_nobody_held_or_took_the_lock_since() -> None:
    from api.services.chat_runtime import ConversationLocks

    async def scenario() -> list[bool]:
        lock = ConversationLocks().get("session-hash")
        fresh: list[bool] = []
        mark = lock.mark()  # free: a read now is fresh if nobody takes the lock first
        async with lock:
            fresh.append(lock.still_fresh(mark))
        mark = lock.mark()
        async with lock:  # another message, answered between the read and our turn
            pass
        async with lock:
            fresh.append(lock.still_fresh(mark))
        async with lock:
            mark = lock.mark()  # read while another message is being answered
        async with lock:
            fresh.append(lock.still_fresh(mark))
        return fresh

    assert asyncio.run(scenario()) == [True, False, False]


@contextmanager
def keep_alive_server(delay_s: float = 0.0, busy: dict[str, Any] | None = None) -> Iterator[tuple[str, list[int]]]:
    """A real HTTP/1.1 server answering `[]` on kept-alive connections; lists one entry per connection.

    `delay_s`: each answer takes that long; `busy` then records the most turns in
    progress at once ("peak") and the senders in the order their turns began ("order").
    """
    connections: list[int] = []
    ready = threading.Event()
    state: dict[str, Any] = {}
    busy = busy if busy is not None else {}
    busy.update(now=0, peak=0, order=[])

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
                    0,
                )
                body = await reader.readexactly(length)
                busy["now"] += 1
                busy["peak"] = max(busy["peak"], busy["now"])
                busy["order"].append(json.loads(body).get("sender"))
                await asyncio.sleep(delay_s)
                busy["now"] -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        state["loop"] = loop
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        state["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        handlers = asyncio.all_tasks(loop)
        for task in handlers:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*handlers, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield f"http://127.0.0.1:{state['port']}", connections
    finally:
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        thread.join(5)


def test_messages_reuse_one_kept_alive_connection_to_rasa() -> None:
    """A new client and TCP connection per message were a measurable share of the API's CPU."""
    from api.services.rasa_client import RasaConnections

    with keep_alive_server() as (url, connections):
        pool = RasaConnections()

        async def turns() -> None:
            for number in range(5):
                client = RasaClient(url, 5, connections=pool)  # one per request, as the dependency makes
                assert await client.send(f"c{number}", message="hello") == []
            await pool.aclose()

        asyncio.run(turns())
    assert len(connections) == 1


def test_turns_beyond_the_limit_wait_in_line_in_the_order_they_came() -> None:
    """Issue 14: fifty turns in progress at one Rasa made some wait past the deadline."""
    from api.services.rasa_client import RasaConnections

    busy: dict[str, Any] = {}
    with keep_alive_server(delay_s=0.1, busy=busy) as (url, _connections):
        pool = RasaConnections()

        async def turns(in_flight: int) -> list[Any]:
            async def one(number: int) -> Any:
                await asyncio.sleep(number * 0.005)  # they come in this order
                return await RasaClient(url, 5, connections=pool, in_flight=in_flight).send(f"c{number}", message="hi")

            try:
                return await asyncio.gather(*(one(number) for number in range(10)))
            finally:
                await pool.aclose()

        assert asyncio.run(turns(3)) == [[]] * 10
        assert busy["peak"] == 3
        assert busy["order"] == [f"c{number}" for number in range(10)]
        # The control: without a limit all ten are in progress at once.
        assert asyncio.run(turns(0)) == [[]] * 10
        assert busy["peak"] == 10


def test_the_wait_in_line_counts_against_the_turns_deadline() -> None:
    from api.services.rasa_client import RasaConnections

    with keep_alive_server(delay_s=0.3) as (url, _connections):
        pool = RasaConnections()

        async def turns() -> list[Any]:
            async def one(number: int) -> Any:
                await asyncio.sleep(number * 0.01)
                return await RasaClient(url, 0.5, connections=pool, in_flight=1).send(f"c{number}", message="hi")

            try:
                return await asyncio.gather(*(one(number) for number in range(3)), return_exceptions=True)
            finally:
                await pool.aclose()

        first, second, third = asyncio.run(turns())
    assert first == [] and isinstance(second, RasaUnavailable) and second.kind == "timeout"
    assert isinstance(third, RasaUnavailable) and third.kind == "timeout"


def test_the_gateway_limits_turns_in_progress_as_configured() -> None:
    from api.core.config import Settings
    from api.services.rasa_client import RasaConnections

    async def made() -> RasaClient:
        return await get_rasa_client(Settings(rasa_max_in_flight=7), RasaConnections())

    assert asyncio.run(made()).in_flight == 7
    assert Settings().rasa_max_in_flight == 4


def test_without_kept_connections_each_call_opens_its_own() -> None:
    """The control for the test above: it can tell one connection from several."""
    with keep_alive_server() as (url, connections):

        async def turns() -> None:
            for number in range(3):
                assert await RasaClient(url, 5).send(f"c{number}", message="hello") == []

        asyncio.run(turns())
    assert len(connections) == 3


def test_the_gateway_keeps_one_set_of_connections_per_app(client: TestClient) -> None:
    from api.services.rasa_client import get_rasa_connections

    seen: list[Any] = []
    real = get_rasa_connections

    async def spy(request: Request) -> Any:
        connections = await real(request)
        seen.append(connections)
        return connections

    client.app.dependency_overrides[get_rasa_connections] = spy
    with keep_alive_server() as (url, _connections):
        use_settings(client, rasa_url=url)
        start(client)
        start(client)
    assert len(seen) == 2 and seen[0] is seen[1]


def test_httpcore_finds_sniffio_in_memory() -> None:
    """httpcore imports sniffio whenever it makes a lock; without the package each
    import failed afresh, searching the disk on every request (issue 14's profile)."""
    import sys

    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=[]))

    async def one_request() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get("http://rasa.invalid/")
        from httpcore._synchronization import current_async_library

        assert current_async_library() == "asyncio"

    asyncio.run(one_request())
    assert "sniffio" in sys.modules
