"""The outbox delivery worker against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from actions.delivery import Target, deliver_due
from actions.outbox import Outbox


class Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    answer = 201

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorder.received.append({"key": self.headers["Idempotency-Key"], "auth": self.headers["Authorization"], "body": body})
        self.send_response(Recorder.answer)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    Recorder.received, Recorder.answer = [], 201
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/referrals"
    server.shutdown()


def test_delivers_with_the_referral_id_as_idempotency_key(tmp_path: Path, api: str) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-12345678", {"referral_id": "ref-12345678"})
    assert deliver_due(outbox, Target(api, "secret")) == {"delivered": 1, "postponed": 0}
    assert Recorder.received == [{"key": "ref-12345678", "auth": "Bearer secret", "body": {"referral_id": "ref-12345678"}}]
    assert outbox.pending() == []


def test_keeps_the_referral_while_the_api_is_down(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-down", {"x": 1})
    assert deliver_due(outbox, Target("http://127.0.0.1:9/referrals", "s")) == {"delivered": 0, "postponed": 1}
    assert [rid for rid, _ in outbox.pending()] == ["ref-down"]


def test_a_refused_referral_is_kept_for_review(tmp_path: Path, api: str) -> None:
    Recorder.answer = 422
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-bad", {"x": 1})
    assert deliver_due(outbox, Target(api, "s"))["postponed"] == 1
    assert outbox.pending() and outbox.due() == []
