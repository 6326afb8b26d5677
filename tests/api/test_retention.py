"""P3 retention (time-shifted, SQLite and PostgreSQL) and P4 withdrawal: nothing left behind.

What the job deletes and keeps, and why, is documented in api/services/retention.py.
The withdrawal's basics (referral, notes, history and tracker events gone) are in
test_queue.py; here every table of both stores is searched for the patient's values.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select, text

from actions.outbox import Outbox
from api.cli import main as cli
from api.core.config import ROOT, get_settings
from api.db import sqlalchemy_url
from api.models import AuditEvent, ChatSession, Referral, ReferralDeadLetter
from api.retention_task import retention_lifespan, retention_loop, start_retention
from api.services import stats
from api.services.bot_turns import BotTurn
from api.services.chat_sessions import create_session
from api.services.retention import run_retention
from tests.api.factories import add_referral, db, logged_in, post_referral, referral_body
from tests.api.test_queue import _events, _make_events_table, tracker_url  # noqa: F401 - fixture reused

DAYS = 30
# The job's moved clock; rows are dated relative to it.
NOW = datetime.now(timezone.utc).replace(microsecond=0)
OLD = NOW - timedelta(days=DAYS + 1)
NEW = NOW - timedelta(days=1)


@pytest.fixture
def stores(settings_env: None, tracker_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:  # noqa: F811
    """The API database (the test's engine), a Rasa-shaped tracker store beside it, an outbox file."""
    outbox = tmp_path / "outbox.sqlite"
    monkeypatch.setenv("OUTBOX_PATH", str(outbox))
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    get_settings.cache_clear()
    _make_events_table(tracker_url, [])
    return {"tracker": tracker_url, "outbox": outbox}


def _add_events(url: str, sender: str, moments: list[datetime], text_: str = "my answer") -> None:
    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        # The table of test_queue.py has no id sequence (Rasa's has one): number the rows here.
        next_id = connection.execute(text("SELECT COALESCE(MAX(id), 0) + 1 FROM events")).scalar_one()
        for offset, moment in enumerate(moments):
            connection.execute(
                text(
                    "INSERT INTO events (id, sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (:i, :s, 'user', :t, 'inform', NULL, :d)"
                ),
                {"i": next_id + offset, "s": sender, "t": moment.timestamp(),
                 "d": json.dumps({"event": "user", "text": text_})},
            )
    engine.dispose()


def _add_chat(conversation_id: str, moment: datetime, outcome: str | None = None) -> str:
    """A chat session as the gateway stores it, last seen at `moment`; returns its cookie token."""
    with db() as session:
        token, chat = create_session(
            session, conversation_id, BotTurn(asks="age", offered_payloads=["/choose{\"choice\": \"self\"}"])
        )
        chat.created_at = chat.last_seen_at = moment
        if outcome:
            chat.outcome, chat.finished_at, chat.outcome_reasons = outcome, moment, ["age"]
        session.commit()
    return token


def _chats() -> dict[int, ChatSession]:
    with db() as session:
        return {c.id: c for c in session.scalars(select(ChatSession))}


def _outbox_rows(path: Path) -> dict[str, str | None]:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as connection:
        return dict(connection.execute("SELECT referral_id, delivered_at FROM referral_outbox"))


def _put_outbox(path: Path, referral_id: str, delivered_at: datetime | None) -> None:
    import sqlite3
    from contextlib import closing

    box = Outbox(path)
    box.put(referral_id, {"referral_id": referral_id, "contact": {"name": "Outbox Person"}})
    if delivered_at is not None:
        with closing(sqlite3.connect(path)) as connection, connection:
            connection.execute(
                "UPDATE referral_outbox SET delivered_at = ? WHERE referral_id = ?",
                (delivered_at.isoformat(), referral_id),
            )


def _funnel() -> dict[str, Any]:
    with db() as session:
        return stats.funnel(session, weeks=8, today=NOW.date())


def test_retention_deletes_old_rows_and_keeps_new_ones(
    client: TestClient, stores: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tracker, outbox = stores["tracker"], stores["outbox"]
    # Tracker store: conversations whose last event is N+1 days old go, referred or not.
    _add_events(tracker, "conv-old", [OLD - timedelta(hours=1), OLD])
    _add_events(tracker, "conv-old-referred", [OLD - timedelta(minutes=5), OLD])
    _add_events(tracker, "conv-new", [NEW])
    _add_events(tracker, "conv-resumed", [OLD, NEW])  # old start, recent last event: kept whole
    # API: chat sessions (funnel rows) and referrals.
    old_token = _add_chat("conv-old", OLD, outcome="not_eligible")
    _add_chat("conv-old-referred", OLD, outcome="likely_eligible")
    new_token = _add_chat("conv-new", NEW)
    withdrawn_id = f"deleted-{uuid.uuid4().hex}"
    _add_chat(withdrawn_id, OLD, outcome="needs_review")
    old_referral = add_referral(client, conversation_id="conv-old-referred")["referral_id"]
    new_referral = add_referral(client, conversation_id="conv-new")["referral_id"]
    with db() as session:
        session.get(Referral, old_referral).received_at = OLD
        session.commit()
    # Action-server outbox: the API's job leaves it to its owner (the delivery worker prunes it).
    _put_outbox(outbox, "delivered-old", OLD)
    _put_outbox(outbox, "delivered-new", NEW)
    _put_outbox(outbox, "pending-old", None)
    # Dead letters: an old unresolved one keeps its body; a resolved one never holds one.
    _add_dead_letter("dead-letter-old-waiting", OLD)
    _add_dead_letter("dead-letter-resolved", OLD, resolved=True)
    before_chats, before_funnel = _chats(), _funnel()

    assert cli(["retention", "--now", NOW.isoformat()]) == 0
    printed = capsys.readouterr().out
    print(printed)

    assert sorted(set(_events(tracker))) == ["conv-new", "conv-resumed"]
    assert len(_events(tracker)) == 3
    after = _chats()
    assert set(after) == set(before_chats), "chat sessions are unlinked, never deleted"
    for chat_id, chat in after.items():
        was = before_chats[chat_id]
        # The anonymous funnel fields never change.
        assert (chat.created_at, chat.finished_at, chat.outcome, chat.outcome_reasons, chat.message_count) == (
            was.created_at, was.finished_at, was.outcome, was.outcome_reasons, was.message_count
        )
        if was.conversation_id in ("conv-old", "conv-old-referred"):
            assert chat.conversation_id.startswith("expired-") and chat.token_hash != was.token_hash
            assert chat.last_asks is None and chat.offered_payloads == []
        else:  # recent, or already unlinked by a withdrawal: untouched
            assert (chat.conversation_id, chat.token_hash, chat.last_asks) == (
                was.conversation_id, was.token_hash, was.last_asks
            )
    assert _funnel() == before_funnel, "the weekly statistics are the same after retention"
    with db() as session:
        assert {r.id for r in session.scalars(select(Referral))} == {old_referral, new_referral}, "referrals stay"
    assert set(_outbox_rows(outbox)) == {"delivered-old", "delivered-new", "pending-old"}, "the API never prunes the outbox"
    with db() as session:
        letters = {d.id: d for d in session.scalars(select(ReferralDeadLetter))}
    assert set(letters) == {"dead-letter-old-waiting", "dead-letter-resolved"}, "dead letters are never deleted"
    assert letters["dead-letter-old-waiting"].body and "Dead Letter Person" in letters["dead-letter-old-waiting"].body
    assert letters["dead-letter-resolved"].body is None and letters["dead-letter-resolved"].reason
    assert "tracker conversations deleted 2 (4 events)" in printed
    assert "chat sessions unlinked 2" in printed and "resolved dead-letter bodies cleared 1" in printed
    assert "unresolved dead letters older than 30 days (kept) 1" in printed

    # The old cookie no longer finds a session; the recent one still does (Rasa is down here: 503).
    assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": old_token}).status_code == 401
    assert client.post("/chat/messages", json={"text": "hi"}, headers={"X-Chat-Session": new_token}).status_code == 503

    # Safe to repeat: a second pass at the same moment changes nothing.
    again = run_retention(now=NOW)
    assert (again.tracker_conversations, again.chat_sessions_unlinked, again.dead_letter_bodies_cleared, again.errors) == (
        0, 0, 0, []
    )
    # A month later the recent rows (the chat session was just used) have aged out too.
    later = run_retention(now=NOW + timedelta(days=DAYS + 1))
    assert (later.tracker_conversations, later.tracker_events, later.chat_sessions_unlinked) == (2, 3, 1)
    assert _events(tracker) == [] and len(_outbox_rows(outbox)) == 3
    assert later.dead_letters_waiting == 1
    assert _funnel() == before_funnel


def _add_dead_letter(dead_letter_id: str, received_at: datetime, *, resolved: bool = False) -> None:
    with db() as session:
        session.add(
            ReferralDeadLetter(
                id=dead_letter_id,
                received_at=received_at,
                reason="spine_levels: too_long",
                body=json.dumps({"contact": {"name": "Dead Letter Person"}}),
                # A resolution whose clearing did not happen: the job must catch it.
                resolved_at=received_at if resolved else None,
            )
        )
        session.commit()


def test_the_api_does_not_import_the_action_side() -> None:
    """Each store has one owner: the API (and its retention job) never loads `actions`."""
    probe = (
        "import sys, api.main, api.services.retention, api.cli; "
        "print(sorted(m for m in sys.modules if m == 'actions' or m.startswith('actions.')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_the_number_of_days_is_configurable(
    client: TestClient, stores: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker = stores["tracker"]
    _add_events(tracker, "eight-days", [NOW - timedelta(days=8)])
    _add_events(tracker, "six-days", [NOW - timedelta(days=6)])
    _add_events(tracker, "two-days", [NOW - timedelta(days=2)])
    monkeypatch.setenv("RETENTION_DAYS", "7")
    get_settings.cache_clear()
    assert run_retention(now=NOW).tracker_conversations == 1
    assert sorted(_events(tracker)) == ["six-days", "two-days"]
    assert cli(["retention", "--days", "3", "--now", NOW.isoformat()]) == 0, "--days wins over RETENTION_DAYS"
    assert _events(tracker) == ["two-days"]


def test_bad_arguments_change_nothing(client: TestClient, stores: dict[str, Any]) -> None:
    _add_events(stores["tracker"], "conv-old", [OLD])
    assert cli(["retention", "--days", "0"]) == 2
    assert cli(["retention", "--now", "last tuesday"]) == 2
    assert _events(stores["tracker"]) == ["conv-old"]


def test_an_unreachable_tracker_store_does_not_stop_the_other_steps(
    client: TestClient, stores: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_chat("conv-old", OLD)
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://nobody@127.0.0.1:1/tracker")
    get_settings.cache_clear()
    result = run_retention(now=NOW)
    assert result.errors == ["tracker: OperationalError"] and result.chat_sessions_unlinked == 1
    assert cli(["retention", "--now", NOW.isoformat()]) == 1, "a failed step is a failed command"


def test_the_action_side_command_prunes_only_delivered_outbox_rows(tmp_path: Path) -> None:
    """`python -m actions.retention`, for an outbox the API cannot reach (its own container)."""
    from actions.retention import main as outbox_retention

    outbox = tmp_path / "outbox.sqlite"
    _put_outbox(outbox, "delivered-old", OLD)
    _put_outbox(outbox, "delivered-new", NEW)
    _put_outbox(outbox, "pending-old", None)
    args = ["--outbox", str(outbox), "--now", NOW.isoformat()]
    assert outbox_retention(["--days", str(DAYS), *args]) == 0
    assert set(_outbox_rows(outbox)) == {"delivered-new", "pending-old"}
    assert outbox_retention(["--days", "1", "--now", (NOW + timedelta(hours=1)).isoformat(), "--outbox", str(outbox)]) == 0
    assert set(_outbox_rows(outbox)) == {"pending-old"}, "a referral not yet delivered is never deleted"
    assert outbox_retention(["--outbox", str(tmp_path / "missing.sqlite")]) == 0
    assert not (tmp_path / "missing.sqlite").exists()


# --- the schedule (api/retention_task.py) ----------------------------------------------------------


def test_the_api_runs_retention_on_a_schedule(stores: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_INTERVAL_MINUTES", str(0.05 / 60))  # every 50 ms
    monkeypatch.setenv("RETENTION_START_DELAY_SECONDS", "0")
    get_settings.cache_clear()
    real_now = datetime.now(timezone.utc)
    _add_events(stores["tracker"], "conv-old", [real_now - timedelta(days=DAYS + 1)])
    _add_events(stores["tracker"], "conv-new", [real_now - timedelta(days=1)])
    app = FastAPI(lifespan=retention_lifespan)
    with TestClient(app):
        task = app.state.retention_task
        deadline = time.monotonic() + 20
        while "conv-old" in _events(stores["tracker"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        # A row that turns old while the app runs goes on a later pass.
        _add_events(stores["tracker"], "conv-old-later", [real_now - timedelta(days=DAYS + 2)])
        while "conv-old-later" in _events(stores["tracker"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _events(stores["tracker"]) == ["conv-new"]
        assert not task.done()
    assert task.cancelled() and app.state.retention_task is None, "stopped with the app"


def test_the_schedule_survives_a_failing_pass_and_can_be_turned_off(
    settings_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")

    asyncio.run(retention_loop(interval_s=0, job=job, passes=3))
    assert len(calls) == 3

    monkeypatch.setenv("RETENTION_INTERVAL_MINUTES", "0")
    get_settings.cache_clear()

    async def started() -> object:
        return start_retention(FastAPI())

    assert asyncio.run(started()) is None


# --- withdrawal (P4): no trace left in either store --------------------------------------------------

MARKERS = {
    "name": "Wilhelmina Withdrawn-Marker",
    "email": "wilhelmina.marker@patient.example",
    "phone": "+1 403 555 0188",
    "conversation": "conv-withdrawal-marker",
    "note": "Note-marker: she asked us to forget her",
    "reason": "Reason-marker: called back twice",
}


def _every_value_in(url: str) -> str:
    """Every row of every table of one database, as text."""
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            dumped = [
                repr(tuple(row)) for table in tables for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        engine.dispose()
    return "\n".join(dumped).lower()


def _deliver_from_outbox(client: TestClient, outbox: Outbox) -> dict[str, int]:
    """One pass of the real delivery worker (actions/delivery.py), its HTTP call made through the test client."""
    from actions import delivery

    def through_client(target: delivery.Target, referral_id: str, payload: dict[str, Any]) -> delivery.Answer:
        response = post_referral(client, payload, **{"Idempotency-Key": referral_id})
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        return delivery.Answer(response.status_code, body if isinstance(body, dict) else {})

    original, delivery.send = delivery.send, through_client  # type: ignore[assignment]
    try:
        return delivery.deliver_due(outbox, delivery.Target("http://test/referrals", ""))
    finally:
        delivery.send = original  # type: ignore[assignment]


def test_withdrawal_leaves_no_trace_in_any_table_and_keeps_a_phi_free_audit(
    client: TestClient, stores: dict[str, Any], database_url: str
) -> None:
    tracker = stores["tracker"]
    actor = logged_in(client.app)
    # The referral goes the whole way: the action server's outbox, the delivery worker, the intake.
    outbox = Outbox(stores["outbox"])
    body = referral_body(
        name=MARKERS["name"], email=MARKERS["email"], phone=MARKERS["phone"], conversation_id=MARKERS["conversation"]
    )
    outbox.put(body["referral_id"], body)
    assert _deliver_from_outbox(client, outbox) == {"delivered": 1, "refused": 0, "postponed": 0}
    gone = body["referral_id"]
    # A changed body under the same key (refused for good) is kept as a dead letter beside it.
    changed = {**body, "contact": {**body["contact"], "best_time": MARKERS["reason"]}}
    refused = post_referral(client, changed)
    assert refused.status_code == 422 and refused.json()["kept"] is True
    kept = add_referral(client, name="Kept Person", conversation_id="conv-kept")["referral_id"]
    _add_events(tracker, MARKERS["conversation"], [NEW], text_=f"my name is {MARKERS['name']}")
    _add_events(tracker, MARKERS["conversation"], [NEW], text_=MARKERS["email"])
    _add_events(tracker, "conv-kept", [NEW], text_="hello")
    _add_chat(MARKERS["conversation"], NEW, outcome="likely_eligible")
    assert actor.post(f"/coordinator/referrals/{gone}/status", json={"status": "contacting", "reason": MARKERS["reason"]}).status_code == 200
    assert actor.post(f"/coordinator/referrals/{gone}/notes", json={"text": MARKERS["note"]}).status_code == 201
    assert actor.get(f"/coordinator/referrals/{gone}").status_code == 200
    stored = _every_value_in(database_url) + _every_value_in(tracker)
    assert all(value.lower() in stored for value in MARKERS.values()), "the markers were stored before"

    response = actor.delete(f"/coordinator/referrals/{gone}", json={"reason": "patient_withdrawal"})
    assert response.status_code == 200 and response.json()["tracker_events_deleted"] == 2

    left = _every_value_in(database_url) + _every_value_in(tracker)
    for label, value in MARKERS.items():
        assert value.lower() not in left, f"{label} is still stored somewhere"
    # The outbox copy: cleared at delivery, overwritten in the file (not just unlinked).
    assert outbox.state(gone) == "delivered" and outbox.pending() == []
    outbox_bytes = outbox.path.read_bytes().lower()
    for label in ("name", "email", "phone", "conversation"):
        assert MARKERS[label].lower().encode() not in outbox_bytes, f"{label} is still in the outbox file"
    with db() as session:
        letter = session.get(ReferralDeadLetter, gone)
        assert letter.body is None and letter.resolved_at is not None and letter.resolved_by == actor.id
    assert sorted(_events(tracker)) == ["conv-kept"], "only the other conversation's events remain"
    with db() as session:
        assert [r.id for r in session.scalars(select(Referral))] == [kept]
        audit = [(e.action, e.detail) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.referral_id == gone).order_by(AuditEvent.id)
        )]
    # The audit trail of the deleted referral outlives it, as codes only.
    assert audit == [
        ("received", "likely_eligible"),
        ("refused", "body: differs_from_the_referral_received_with_this_key"),
        ("status_change", "new->contacting"),
        ("note", None),
        ("view", None),
        ("delete", "patient_withdrawal"),
    ]


def test_a_late_redelivery_does_not_bring_a_withdrawn_referral_back(client: TestClient, stores: dict[str, Any]) -> None:
    actor = logged_in(client.app)
    body = referral_body(name=MARKERS["name"])
    assert post_referral(client, body).status_code == 201
    assert actor.delete(f"/coordinator/referrals/{body['referral_id']}", json={"reason": "patient_withdrawal"}).status_code == 200
    # The delivery worker retries a referral whose acknowledgement it never saw.
    retried = post_referral(client, body)
    assert retried.status_code in (200, 201), "acknowledged, so the worker stops retrying"
    with db() as session:
        assert session.get(Referral, body["referral_id"]) is None
