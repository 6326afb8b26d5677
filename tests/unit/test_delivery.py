"""The outbox delivery worker against a real local HTTP server."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from actions.delivery import Target, command, deliver_due
from actions.outbox import MAX_BACKOFF_S, Outbox


class Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    answer = 201
    answer_body: bytes = b""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorder.received.append({"key": self.headers["Idempotency-Key"], "auth": self.headers["Authorization"], "body": body})
        self.send_response(Recorder.answer)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(Recorder.answer_body)))
        self.end_headers()
        self.wfile.write(Recorder.answer_body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    Recorder.received, Recorder.answer, Recorder.answer_body = [], 201, b""
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/referrals"
    server.shutdown()


def test_delivers_with_the_referral_id_as_idempotency_key(tmp_path: Path, api: str) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-12345678", {"referral_id": "ref-12345678"})
    assert deliver_due(outbox, Target(api, "secret")) == {"delivered": 1, "refused": 0, "postponed": 0}
    assert Recorder.received == [{"key": "ref-12345678", "auth": "Bearer secret", "body": {"referral_id": "ref-12345678"}}]
    assert outbox.pending() == [] and outbox.state("ref-12345678") == "delivered"


def test_a_delivered_referral_leaves_only_its_id_and_times(tmp_path: Path, api: str) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    # As large as a real referral (criteria with reasons): it spills over SQLite pages,
    # which are freed, not rewritten, when the payload is cleared.
    criteria = [{"question_id": f"q{n}", "reason": "r" * 300} for n in range(30)]
    outbox.put("ref-contact1", {"contact": {"name": "Quentin Outboxmarker", "phone": "403-555-0177"}, "criteria": criteria})
    deliver_due(outbox, Target(api, "s"))
    with closing(sqlite3.connect(outbox.path)) as db:
        row = db.execute("SELECT referral_id, payload, delivered_at FROM referral_outbox").fetchone()
    assert row[0] == "ref-contact1" and row[1] == "" and row[2]
    # secure_delete: the cleared text is overwritten in the file, not only unlinked.
    assert b"Outboxmarker" not in outbox.path.read_bytes() and b"555-0177" not in outbox.path.read_bytes()


def test_keeps_the_referral_while_the_api_is_down(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-down", {"x": 1})
    assert deliver_due(outbox, Target("http://127.0.0.1:9/referrals", "s")) == {"delivered": 0, "refused": 0, "postponed": 1}
    assert [rid for rid, _ in outbox.pending()] == ["ref-down"]


@pytest.mark.parametrize("status", [401, 403, 408, 429, 500, 502, 503])
def test_config_and_passing_trouble_keeps_the_backoff(tmp_path: Path, api: str, status: int) -> None:
    Recorder.answer = status
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-later", {"x": 1})
    assert deliver_due(outbox, Target(api, "s")) == {"delivered": 0, "refused": 0, "postponed": 1}
    assert outbox.state("ref-later") == "pending" and outbox.due() == []
    later = datetime.now(timezone.utc) + timedelta(seconds=MAX_BACKOFF_S + 1)
    assert [rid for rid, _ in outbox.due(later)] == ["ref-later"], "tried again after the backoff"


def test_a_refusal_the_api_kept_clears_the_payload_and_stops_retrying(tmp_path: Path, api: str) -> None:
    Recorder.answer = 422
    Recorder.answer_body = json.dumps(
        {"detail": "Invalid request.", "fields": ["spine_levels: too_long"], "kept": True}
    ).encode()
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-kept-by-api", {"contact": {"name": "Rhea Deadlettermarker"}})
    assert deliver_due(outbox, Target(api, "s")) == {"delivered": 0, "refused": 1, "postponed": 0}
    assert outbox.state("ref-kept-by-api") == "refused" and outbox.pending() == []
    [row] = outbox.refused()
    assert (row.referral_id, row.holds_payload) == ("ref-kept-by-api", False)
    assert row.refusal == "kept by the API as a dead letter: spine_levels: too_long"
    assert b"Deadlettermarker" not in outbox.path.read_bytes()
    # Never tried again, however late it gets.
    far = datetime.now(timezone.utc) + timedelta(days=365)
    assert outbox.due(far) == []
    assert deliver_due(outbox, Target(api, "s")) == {"delivered": 0, "refused": 0, "postponed": 0}
    assert len(Recorder.received) == 1


@pytest.mark.parametrize("status,body", [(413, b""), (400, b"not json"), (422, b'{"detail": "Invalid request."}')])
def test_a_refusal_the_api_did_not_keep_stays_in_the_outbox(tmp_path: Path, api: str, status: int, body: bytes) -> None:
    Recorder.answer, Recorder.answer_body = status, body
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("ref-held-here", {"contact": {"name": "Held Here"}})
    assert deliver_due(outbox, Target(api, "s")) == {"delivered": 0, "refused": 1, "postponed": 0}
    [row] = outbox.refused()
    assert row.holds_payload and row.refusal == f"status {status}"
    assert outbox.counts() == {"pending": 0, "delivered": 0, "refused": 1, "refused_payload_here": 1}
    assert outbox.due(datetime.now(timezone.utc) + timedelta(days=365)) == []
    # A person deals with it: retry puts it back (the payload is here), resolve clears it.
    assert outbox.retry("ref-held-here") and outbox.state("ref-held-here") == "pending"
    assert deliver_due(outbox, Target(api, "s"))["refused"] == 1
    assert outbox.resolve("ref-held-here")
    assert outbox.counts()["refused_payload_here"] == 0 and not outbox.retry("ref-held-here")


def test_the_status_command_prints_counts_and_refused_ids_never_payloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "o.sqlite"))
    outbox = Outbox()
    for rid in ("ref-pending", "ref-delivered", "ref-refused"):
        outbox.put(rid, {"contact": {"name": "Status Printmarker"}})
    outbox.mark_delivered("ref-delivered")
    outbox.mark_refused("ref-refused", "status 413", kept_by_api=False)
    assert command(["--status"]) == 0
    printed = capsys.readouterr().out
    assert "1 pending, 1 delivered, 1 refused (1 with the referral still here)" in printed
    assert "refused ref-refused at " in printed and "status 413" in printed
    assert "Printmarker" not in printed
    assert command(["--resolve", "ref-refused"]) == 0 and command(["--resolve", "ref-pending"]) == 1
    assert command([]) is None, "no option: the worker runs"
