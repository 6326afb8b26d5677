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
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.outbox_view import outbox_rows as read_outbox
from tests.servers import ROOT, Servers, trained_model

RESULTS = ROOT / "results" / "reliability.txt"


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


def unreachable(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) != 0


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
