"""Reliability tests (docs safety-security R1-R3) against the real services.

Run with the API environment (httpx, psycopg 3):

    MODEL=$(./scripts/train.sh | tail -1) .venv/api/bin/python -m pytest tests/reliability -q -s

Each module starts its own `Servers` (tests/servers.py) on free ports with its
own data folder. The model file is copied once per session into a temporary
folder, so a training started elsewhere (train.sh deletes old models) cannot
pull it from under a restarted Rasa server. Measured figures are printed (see
them with -s) and appended to results/reliability.txt.

The Rasa environment has neither httpx nor psycopg: every module starts with
pytest.importorskip, so that run skips this folder.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Union

import pytest

from tests.chat_client import Chat
from tests.outbox_view import outbox_rows as read_outbox
from tests.servers import API_PY, ROOT, Servers, trained_model

RESULTS = ROOT / "results" / "reliability.txt"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "correct horse battery staple"

Click = tuple[str]  # ("Button title",) presses a button; a plain string is typed
Answer = Union[str, Click]

# A likely fit who consents; the questions a likely fit is asked, in order.
LIKELY_FIT: dict[str, Answer] = {
    "respondent": "it's for me",
    "red_flags": "no, none of those",
    "age": "I'm 64",
    "spine_mets_confirmed": "yes, the MRI showed it",
    "spine_region": "between my shoulder blades",
    "pain_score": "about a 6 or 7 out of 10",
    "cord_compression_told": "no",
    "primary_cancer": "breast cancer",
    "pregnancy": ("Not possible",),
    "prior_spine_radiation": "never had radiation",
    "performance_status": ("Does all usual activities, with no limits",),
    "visceral_metastases": "no",
    "able_to_attend": "yes I can come",
}
LIKELY_FIT_ORDER = list(LIKELY_FIT)  # breastfeeding is skipped when pregnancy is not possible
CONTACT_ORDER = ["consent_contact", "contact_name", "contact_reach", "contact_time", "contact_language", "contact_confirmed"]
SENT = "sent your answers"  # utter_referral_sent


def contact(name: str, email: str) -> dict[str, Answer]:
    return {
        "consent_contact": ("Yes",),
        "contact_name": name,
        "contact_reach": email,
        "contact_time": ("Morning",),
        "contact_language": ("English",),
        "contact_confirmed": ("Yes, send it",),
    }


# --- measured figures ---------------------------------------------------------


@pytest.fixture(scope="session")
def report() -> Callable[[str, str], None]:
    """report(test, line): print a measured figure and append it to results/reliability.txt."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def write(test: str, line: str) -> None:
        text = f"{stamp} {test}: {line}"
        print(f"\n[reliability] {text}", flush=True)
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text + "\n")

    return write


# --- the model and the servers -------------------------------------------------


@pytest.fixture(scope="session")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    source = Path(trained_model())
    copy = tmp_path_factory.mktemp("model") / source.name
    shutil.copyfile(source, copy)
    return str(copy)


def create_admin(servers: Servers) -> None:
    subprocess.run(
        [str(API_PY), "-m", "api.cli", "create-admin", "--email", ADMIN_EMAIL],
        cwd=ROOT, env={**servers.env, "ADMIN_PASSWORD": ADMIN_PASSWORD}, check=True, capture_output=True,
    )


def stop_quietly(servers: Servers) -> None:
    """Stop every service that still runs (some may have been killed by the test)."""
    alive = [name for name in servers.processes if servers.running(name)]
    if alive:
        servers.stop(*alive)


def unreachable(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) != 0


# --- patients ------------------------------------------------------------------


def answer(chat: Chat, reply: Answer) -> None:
    if isinstance(reply, tuple):
        chat.click(reply[0])
    else:
        chat.say(reply)


def converse(chat: Chat, answers: dict[str, Answer], until: Optional[str] = None, max_turns: int = 40) -> list[str]:
    """Answer what the bot asks until it stops asking (or asks `until`); the question ids asked."""
    asked: list[str] = []
    for _ in range(max_turns):
        question = chat.asks
        if question is None or question == until:
            return asked
        assert question in answers, f"unexpected question {question}: {chat.texts()}"
        asked.append(question)
        answer(chat, answers[question])
    raise AssertionError(f"the conversation did not end; asked {asked}")


class Patient:
    """A browser-like client of the public gateway (cookie session), timed."""

    def __init__(self, base_url: str) -> None:
        import httpx

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
        """Answer until the bot stops asking (or asks `until`); the outcome seen."""
        outcome = None
        for _ in range(max_turns):
            outcome = self.reply.get("outcome") or outcome
            asks = self.reply.get("asks")
            if asks is None or asks == until:
                return outcome
            self.answer(answers[asks])
        raise AssertionError("the conversation did not end")


def coordinator(base_url: str) -> Any:
    import httpx

    client = httpx.Client(base_url=base_url, timeout=30)
    response = client.post("/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


# --- the outbox and the API database ---------------------------------------------


def outbox_rows(servers: Servers) -> list[dict[str, Any]]:
    """Outbox rows; a delivered row's payload (cleared there) comes from the API's copy (tests/outbox_view.py)."""
    return read_outbox(servers.data_dir)


def api_referrals(servers: Servers) -> list[dict[str, Any]]:
    """Rows of the API's referrals table (SQLite in the Servers data folder)."""
    with closing(sqlite3.connect(servers.data_dir / "api.sqlite", timeout=5)) as db:
        rows = db.execute("SELECT id, conversation_id, contact_name, outcome FROM referrals").fetchall()
    return [dict(zip(("id", "conversation_id", "contact_name", "outcome"), row)) for row in rows]


def received_audit_count(servers: Servers, referral_ids: set[str]) -> int:
    with closing(sqlite3.connect(servers.data_dir / "api.sqlite", timeout=5)) as db:
        rows = db.execute("SELECT referral_id FROM audit_events WHERE action = 'received'").fetchall()
    return sum(1 for (rid,) in rows if rid in referral_ids)


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    """Callbacks run after the test, last first (restore a service, stop a proxy)."""
    callbacks: list[Callable[[], None]] = []
    yield callbacks
    for callback in reversed(callbacks):
        callback()
