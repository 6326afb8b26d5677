"""Clients of the running API, as a browser and a coordinator use it (API environment: httpx).

`Patient` is a browser-like client of the public chat gateway (cookie
session), timed; `coordinator` logs a staff account in and returns a client
that sends its CSRF token. tests/chat_client.py is the REST-channel client
for tests that talk to Rasa directly (the Rasa environment has no httpx).
"""

from __future__ import annotations

import time
from typing import Any, Optional

import httpx

from tests.personas import Answer
from tests.servers import ADMIN_EMAIL, ADMIN_PASSWORD


class Patient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.reply: dict[str, Any] = {}
        self.status = 0
        self.latencies: list[float] = []

    def start(self) -> None:
        response = self.http.post("/chat/sessions")
        assert response.status_code == 201, response.text
        self.status, self.reply = response.status_code, response.json()

    def post(self, body: dict[str, str]) -> None:
        started = time.perf_counter()
        response = self.http.post("/chat/messages", json=body)
        self.latencies.append(time.perf_counter() - started)
        self.status, self.reply = response.status_code, response.json()

    def buttons(self) -> dict[str, str]:
        return {b["title"]: b["payload"] for m in self.reply.get("messages") or [] for b in m.get("buttons") or []}

    def answer(self, reply: Answer) -> None:
        if isinstance(reply, tuple):
            self.post({"payload": self.buttons()[reply[0]]})
        else:
            self.post({"text": reply})
        assert self.status == 200, self.reply

    def texts(self) -> list[str]:
        return [m["text"] for m in self.reply.get("messages") or []]

    def converse(self, answers: dict[str, Answer], until: Optional[str] = None, max_turns: int = 40) -> Optional[str]:
        """Answer what the bot asks until it stops asking (or asks `until`); the outcome seen."""
        outcome = None
        for _ in range(max_turns):
            outcome = self.reply.get("outcome") or outcome
            asks = self.reply.get("asks")
            if asks is None or asks == until:
                return outcome
            assert asks in answers, f"unexpected question {asks}: {self.texts()}"
            self.answer(answers[asks])
        raise AssertionError("the conversation did not end")

    def complete(self, answers: dict[str, Answer], max_turns: int = 40) -> Optional[str]:
        """A whole conversation from a new session; the outcome seen."""
        self.start()
        return self.converse(answers, max_turns=max_turns)


def coordinator(base_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=30)
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def wait_for_referrals(client: httpx.Client, count: int, timeout_s: float = 20) -> list[dict[str, Any]]:
    """The queue once it holds at least `count` referrals (or after `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        items = client.get("/coordinator/referrals").json()["items"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.5)
