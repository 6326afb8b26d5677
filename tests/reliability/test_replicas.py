"""R3: two Rasa servers on one PostgreSQL tracker store and the Redis lock
store (bot/endpoints.replicas.yml), one action server (docs/safety-security.md
R3 and pitfall 7).

A throwaway database `prescreener_rel_<random>` on the local PostgreSQL
(127.0.0.1:5432, user postgres) is created for the module and dropped after;
the lock store uses Redis db RELIABILITY_REDIS_DB (default 5) on
127.0.0.1:6379, and only this module's lock keys are removed from it.

Checks, read back from the tracker events in PostgreSQL: events in order, no
user message stored twice, every user message answered before the next one
is handled, the slots hold the answers; and over HTTP: the right question each
turn and the final outcome.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Optional

import pytest

pytest.importorskip("httpx")
psycopg = pytest.importorskip("psycopg")

from tests.chat_client import Chat  # noqa: E402
from tests.personas import CONTACT_ORDER, LIKELY_FIT, LIKELY_FIT_ORDER, SENT, Answer, contact  # noqa: E402
from tests.reliability.conftest import outbox_rows  # noqa: E402
from tests.servers import Servers  # noqa: E402

pytestmark = pytest.mark.e2e

PG_ADMIN_URL = os.environ.get("RELIABILITY_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DB = int(os.environ.get("RELIABILITY_REDIS_DB", "5"))
LOCK_PREFIX = "prescreener:lock:"  # key_prefix of bot/endpoints.replicas.yml + Rasa's "lock:"
# To try another endpoints file (e.g. a candidate lock store) without editing this test.
ENDPOINTS = os.environ.get("RELIABILITY_REPLICAS_ENDPOINTS", "bot/endpoints.replicas.yml")
EXTRA_PYTHONPATH = os.environ.get("RELIABILITY_REPLICAS_PYTHONPATH")

# Study questions asked in the burst, each with words only its own answer has.
FAQS = {
    "what is vertebroplasty?": "bone cement",
    "where is the study?": "where the study visits take place",
    "does it cost anything?": "explain any costs",
    "who runs this study?": "runs this research study",
    "what is radiation?": "strong rays",
}


# --- PostgreSQL and Redis ------------------------------------------------------------


@pytest.fixture(scope="module")
def tracker_db() -> Iterator[str]:
    name = f"prescreener_rel_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_command(*args: str) -> Any:
    """One command on REDIS_DB over RESP (the API environment has no redis client)."""

    def encode(*parts: str) -> bytes:
        return f"*{len(parts)}\r\n".encode() + b"".join(f"${len(p.encode())}\r\n{p}\r\n".encode() for p in parts)

    with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as sock:
        reader = sock.makefile("rb")
        sock.sendall(encode("SELECT", str(REDIS_DB)) + encode(*args))

        def read() -> Any:
            line = reader.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:]
            if kind == b"+":
                return rest.decode()
            if kind == b"-":
                raise RuntimeError(rest.decode())
            if kind == b":":
                return int(rest)
            if kind == b"$":
                size = int(rest)
                if size < 0:
                    return None
                data = reader.read(size + 2)[:-2]
                return data.decode()
            if kind == b"*":
                return [read() for _ in range(int(rest))]
            raise RuntimeError(f"unexpected reply {line!r}")

        read()  # SELECT
        return read()


@pytest.fixture(scope="module")
def conversations() -> Iterator[list[str]]:
    """Sender ids used by this module; their lock keys are removed afterwards."""
    senders: list[str] = []
    yield senders
    for sender in senders:
        redis_command("DEL", LOCK_PREFIX + sender)


# --- the replicas --------------------------------------------------------------------


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, model: str, tracker_db: str) -> Iterator[tuple[Servers, list[str]]]:
    running = Servers(
        tmp_path_factory.mktemp("replicas"),
        endpoints=ENDPOINTS,
        env={
            "TRACKER_DB_URL": tracker_db,
            "REDIS_HOST": REDIS_HOST,
            "REDIS_PORT": str(REDIS_PORT),
            "REDIS_DB": str(REDIS_DB),
        },
    )
    if EXTRA_PYTHONPATH:
        running.env["PYTHONPATH"] += os.pathsep + EXTRA_PYTHONPATH
    try:
        running.model = model
        second = running.start_rasa("rasa2", wait=False)  # loads beside the first one
        running.start(model)
        running.wait_ready("rasa2")
        yield running, [running.url, second]
    finally:
        running.stop()


def tracker_events(tracker_db: str, sender: str) -> list[dict[str, Any]]:
    with psycopg.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT id, type_name, timestamp, action_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,)
        ).fetchall()
    return [
        {"id": id_, "event": kind, "timestamp": ts, "action": action, "data": json.loads(data)}
        for id_, kind, ts, action, data in rows
    ]


def split_turns(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Per user message (in the order they were handled), the events its handling produced."""
    turns: list[list[dict[str, Any]]] = []
    for event in events:
        if event["event"] == "user":
            turns.append([event])
        elif turns:
            turns[-1].append(event)
    return turns


def event_problems(events: list[dict[str, Any]], sent: list[str]) -> list[str]:
    """What is inconsistent in a stored conversation (empty when all is well)."""
    problems = []
    timestamps = [e["timestamp"] for e in events]
    if timestamps != sorted(timestamps):
        problems.append("event ids and timestamps disagree: two servers wrote at once")
    users = [e for e in events if e["event"] == "user"]
    message_ids = [u["data"].get("message_id") for u in users]
    if len(set(message_ids)) != len(message_ids):
        problems.append("a user message was stored twice")
    stored = sorted(u["data"].get("text") for u in users)
    # A typed button title is stored as that button's payload (nlu/channel.py):
    # each such press stands for one sent text not stored word for word.
    presses = [t for t in stored if t.startswith("/")]
    unmatched = sorted((Counter(sent) - Counter(t for t in stored if not t.startswith("/"))).elements())
    if len(stored) != len(sent) or len(unmatched) != len(presses):
        lost = unmatched or "none"
        problems.append(f"{len(stored)} user messages stored for {len(sent)} sent (lost: {lost}, typed titles pressed: {len(presses)})")
    for turn in split_turns(events):
        text = turn[0]["data"].get("text")
        actions = [e["action"] for e in turn if e["event"] == "action"]
        if not any(e["event"] == "bot" for e in turn):
            problems.append(f"user message {text!r} has no bot answer in the store")
        if not actions or actions[-1] != "action_listen" or actions.count("action_listen") != 1:
            problems.append(f"handling of {text!r} is not one whole turn: {actions}")
    return problems


def final_slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    slots: dict[str, Any] = {}
    for event in events:
        if event["event"] == "slot":
            slots[event["data"]["name"]] = event["data"]["value"]
    return slots


def asks_of(bot_events: list[dict[str, Any]]) -> Optional[str]:
    found = [
        e["data"]["data"]["custom"]["asks"]
        for e in bot_events
        if e["event"] == "bot" and ((e["data"].get("data") or {}).get("custom") or {}).get("asks")
    ]
    return found[-1] if found else None


class Alternating:
    """One conversation whose messages go to the replicas in turn."""

    def __init__(self, urls: list[str], senders: list[str]) -> None:
        self.urls = urls
        self.sent: list[str] = []  # what Rasa stores as the user's text, in order
        self.chat = Chat(urls[0])
        senders.append(self.chat.sender)

    def send(self, reply: Answer) -> None:
        self.chat.base_url = self.urls[len(self.sent) % len(self.urls)]
        if isinstance(reply, tuple):
            payload = next(
                b["payload"] for m in self.chat.last for b in m.get("buttons") or [] if b["title"] == reply[0]
            )
            self.sent.append(payload)
            self.chat._post({"payload": payload})
        else:
            self.sent.append(reply)
            self.chat.say(reply)


def test_one_conversation_alternating_between_two_replicas(
    replicas: tuple[Servers, list[str]], tracker_db: str, conversations: list[str], report: Callable[[str, str], None]
) -> None:
    test = "R3 alternating"
    servers, urls = replicas
    answers = {**LIKELY_FIT, **contact("Ari Replica", "ari.replica@example.com")}
    talk = Alternating(urls, conversations)
    talk.send("hi")
    outcome = None
    for expected in LIKELY_FIT_ORDER + CONTACT_ORDER:
        assert talk.chat.asks == expected, f"turn {len(talk.sent)}: asked {talk.chat.asks}, expected {expected}"
        talk.send(answers[expected])
        outcome = talk.chat.outcome or outcome
    assert talk.chat.asks is None and outcome == "likely_eligible"
    assert any(SENT in text for text in talk.chat.texts()), talk.chat.texts()

    events = tracker_events(tracker_db, talk.chat.sender)
    assert not event_problems(events, talk.sent), event_problems(events, talk.sent)
    turns = split_turns(events)
    stored = [t[0]["data"]["text"] for t in turns]
    # A typed button title is stored as the button's payload (nlu/channel.py).
    assert len(stored) == len(talk.sent) and all(
        got == sent or (got.startswith("/") and not sent.startswith("/")) for got, sent in zip(stored, talk.sent)
    ), f"messages stored in another order than sent: {stored} != {talk.sent}"
    slots = final_slots(events)
    expected_slots = {
        "respondent": "self", "red_flags": "no", "age": 64, "spine_mets_confirmed": "yes",
        "spine_region": ["thoracic"], "pain_score": 7, "pain_warning_signs": "no", "cord_compression_told": "no", "primary_cancer": "breast",
        "pregnancy": "not_applicable", "prior_spine_radiation": "no", "performance_status": 0,
        "visceral_metastases": "no", "able_to_attend": "yes", "consent_contact": "yes", "contact_confirmed": "yes",
        "contact_name": "Ari Replica", "contact_email": "ari.replica@example.com", "referral_sent": True,
    }
    assert {k: slots.get(k) for k in expected_slots} == expected_slots
    referral = [r for r in outbox_rows(servers) if r["payload"]["conversation_id"] == talk.chat.sender]
    assert len(referral) == 1 and referral[0]["payload"]["outcome"] == "likely_eligible"
    locks_left = redis_command("EXISTS", LOCK_PREFIX + talk.chat.sender)
    report(test, (
        f"{len(talk.sent)} messages alternating between 2 Rasa replicas: every question right, outcome {outcome}, "
        f"{len(events)} tracker events in order, {len(turns)} user messages stored once and answered, "
        f"turn latency median {statistics.median(talk.chat.latencies):.2f}s max {max(talk.chat.latencies):.2f}s, "
        f"outbox rows {len(referral)}, lock keys left {locks_left}"
    ))
    assert locks_left == 0


# Three bursts in one conversation, each at a question answered by typing: the
# answer and every study question at once. Then quick pairs of study questions
# (one to each replica): Rasa's RedisLockStore loses a race only now and then,
# so the test gives it many chances.
BURSTS = [("pain_score", "pain_warning_signs"), ("cord_compression_told", "primary_cancer"), ("primary_cancer", "pregnancy")]
QUICK_PAIRS = 12


def burst(
    talk: Alternating, messages: list[str], question: str, answer: Optional[str], following: str, tracker_db: str
) -> tuple[list[str], dict[str, Any]]:
    """Send `messages` (the answer, if any, and study questions) at once, alternating
    replicas, while the bot asks `question`; (problems, figures)."""
    replies: dict[str, Chat] = {}
    timings: dict[str, float] = {}
    gate = threading.Barrier(len(messages))

    def send(index: int, text: str) -> None:
        chat = Chat(talk.urls[index % 2], sender=talk.chat.sender)
        gate.wait()
        started = time.perf_counter()
        try:
            chat.say(text)
        finally:
            timings[text], replies[text] = time.perf_counter() - started, chat

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(i, text)) for i, text in enumerate(messages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    figures: dict[str, Any] = {"total_s": time.perf_counter() - started, "slowest_s": max(timings.values(), default=0)}
    talk.sent += messages
    problems = [f"no HTTP answer to {text!r}" for text in messages if text not in replies or not replies[text].last]

    events = tracker_events(tracker_db, talk.chat.sender)
    problems += event_problems(events, talk.sent)
    turns = split_turns(events)[-len(messages):]
    handled = [turn[0]["data"].get("text") for turn in turns]
    figures["order"] = [messages.index(t) if t in messages else "?" for t in handled]
    if sorted(handled) == sorted(messages):
        answered_at = handled.index(answer) if answer else len(handled)
        for position, (text, turn) in enumerate(zip(handled, turns)):
            expected = following if position >= answered_at else question
            stored, over_http = asks_of(turn), replies[text].asks
            if stored != expected or over_http != expected:
                problems.append(f"{text!r} handled {position + 1}th: asked {over_http} (stored {stored}), expected {expected}")
            said = " ".join(replies[text].texts())
            for faq, words in FAQS.items():
                if (words in said) != (faq == text):
                    problems.append(f"the reply to {text!r} {'lacks' if faq == text else 'has'} the answer to {faq!r}")
        talk.chat.last = replies[handled[-1]].last  # the conversation goes on from the last one handled
    return problems, figures


def test_bursts_to_both_replicas_are_handled_one_message_at_a_time(
    replicas: tuple[Servers, list[str]], tracker_db: str, conversations: list[str], report: Callable[[str, str], None]
) -> None:
    test = "R3 burst"
    servers, urls = replicas
    answers = {**LIKELY_FIT, **contact("Bo Burst", "bo.burst@example.com")}
    talk = Alternating(urls, conversations)
    talk.send("hi")
    problems: list[str] = []
    for number, (question, following) in enumerate(BURSTS, start=1):
        while talk.chat.asks != question:
            assert talk.chat.asks in answers, f"unexpected question {talk.chat.asks}: {talk.chat.texts()}"
            talk.send(answers[talk.chat.asks])  # type: ignore[index]
        reply = str(answers[question])
        found, figures = burst(talk, [reply, *FAQS], question, reply, following, tracker_db)
        report(test, (
            f"burst {number} at {question}: 1 answer + {len(FAQS)} study questions at once to 2 replicas, all "
            f"answered in {figures['total_s']:.2f}s (slowest {figures['slowest_s']:.2f}s), handled in the order "
            f"{figures['order']} (0 = the answer); problems: {found or 'none'}"
        ))
        problems += [f"burst {number}: {p}" for p in found]
        if found:
            break  # the conversation's state is not trustworthy any more
    assert not problems, problems

    question = BURSTS[-1][1]
    faqs = list(FAQS)
    pair_times: list[float] = []
    for number in range(QUICK_PAIRS):
        pair = [faqs[number % len(faqs)], faqs[(number + 1) % len(faqs)]]
        found, figures = burst(talk, pair, question, None, question, tracker_db)
        pair_times.append(figures["total_s"])
        problems += [f"pair {number + 1}: {p}" for p in found]
        if found:
            break
    report(test, (
        f"{len(pair_times)} pairs of study questions at once (one to each replica) at {question}: answered in "
        f"median {statistics.median(pair_times):.2f}s, max {max(pair_times):.2f}s; problems: {problems or 'none'}"
    ))
    assert not problems, problems

    # The conversation goes on and ends as it should.
    outcome = None
    for expected in LIKELY_FIT_ORDER[LIKELY_FIT_ORDER.index(question):] + CONTACT_ORDER:
        assert talk.chat.asks == expected, f"asked {talk.chat.asks}, expected {expected}"
        talk.send(answers[expected])
        outcome = talk.chat.outcome or outcome
    assert outcome == "likely_eligible" and any(SENT in text for text in talk.chat.texts())
    events = tracker_events(tracker_db, talk.chat.sender)
    assert not event_problems(events, talk.sent), event_problems(events, talk.sent)
    slots = final_slots(events)
    assert (slots["pain_score"], slots["cord_compression_told"], slots["primary_cancer"]) == (7, "no", "breast")
    referral = [r for r in outbox_rows(servers) if r["payload"]["conversation_id"] == talk.chat.sender]
    report(test, (
        f"after {len(BURSTS)} bursts and {QUICK_PAIRS} pairs the conversation finished {outcome}; "
        f"{len(events)} events consistent; outbox rows {len(referral)}"
    ))
    assert len(referral) == 1
