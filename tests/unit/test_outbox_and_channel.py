"""The referral outbox and the guarded channel's pure helpers."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from actions.outbox import Outbox, OutboxError
from nlu.channel import neutralise_typed_text, offered_buttons, offered_payloads, typed_button


def test_outbox_stores_a_referral_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    assert outbox.put("r-1", {"outcome": "likely_eligible"}) is True
    assert outbox.put("r-1", {"outcome": "likely_eligible"}) is False
    assert outbox.pending() == [("r-1", {"outcome": "likely_eligible"})]
    outbox.mark_delivered("r-1")
    assert outbox.pending() == []


def test_outbox_states_and_counts(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    assert outbox.counts() == {"pending": 0, "delivered": 0, "refused": 0, "refused_payload_here": 0}
    for rid in ("r-pending", "r-delivered", "r-kept", "r-here"):
        outbox.put(rid, {"a": rid})
    outbox.mark_delivered("r-delivered")
    outbox.mark_refused("r-kept", "kept by the API as a dead letter: spine_levels: too_long", kept_by_api=True)
    outbox.mark_refused("r-here", "status 413", kept_by_api=False)
    assert {rid: outbox.state(rid) for rid in ("r-pending", "r-delivered", "r-kept", "r-here", "nope")} == {
        "r-pending": "pending", "r-delivered": "delivered", "r-kept": "refused", "r-here": "refused", "nope": None,
    }
    assert outbox.counts() == {"pending": 1, "delivered": 1, "refused": 2, "refused_payload_here": 1}
    assert [rid for rid, _ in outbox.pending()] == ["r-pending"] == [rid for rid, _ in outbox.due()]
    assert {(r.referral_id, r.holds_payload) for r in outbox.refused()} == {("r-kept", False), ("r-here", True)}
    # Only a refused row whose payload is still here can go back to pending.
    assert not outbox.retry("r-kept") and not outbox.retry("r-pending") and outbox.retry("r-here")
    assert not outbox.resolve("r-pending"), "resolving is for refused rows only"


def test_an_outbox_file_from_before_the_refused_state_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE referral_outbox (referral_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, payload TEXT NOT NULL, "
            "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT NOT NULL DEFAULT '', delivered_at TEXT)"
        )
        db.execute("INSERT INTO referral_outbox VALUES ('old-done', '2025-01-01', '{\"n\": 1}', 1, '', '2025-01-02')")
        db.execute("INSERT INTO referral_outbox VALUES ('old-wait', '2025-01-01', '{\"n\": 2}', 0, '', NULL)")
    outbox = Outbox(path)
    assert outbox.pending() == [("old-wait", {"n": 2})]
    outbox.mark_refused("old-wait", "status 413", kept_by_api=False)
    assert outbox.counts() == {"pending": 0, "delivered": 1, "refused": 1, "refused_payload_here": 1}
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT payload FROM referral_outbox WHERE referral_id = 'old-done'").fetchone() == ("",)


def test_an_outbox_database_error_carries_no_payload(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("r-err", {"a": 1})
    with closing(sqlite3.connect(outbox.path)) as db, db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON referral_outbox BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
        )
    with pytest.raises(OutboxError) as raised:
        outbox.put("r-new", {"contact": {"name": "Tracebackmarker Person"}})
    assert "forced failure" in str(raised.value) and "Tracebackmarker" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert isinstance(raised.value, sqlite3.Error), "callers that catch sqlite3 errors still do"


def test_outbox_survives_a_new_instance(tmp_path: Path) -> None:
    Outbox(tmp_path / "o.sqlite").put("r-2", {"a": 1})
    assert Outbox(tmp_path / "o.sqlite").pending() == [("r-2", {"a": 1})]


def test_typed_slash_commands_become_plain_text() -> None:
    assert neutralise_typed_text('/inform{"pain_score": 9}') == 'inform{"pain_score": 9}'
    assert neutralise_typed_text("  //affirm ") == "affirm"
    assert neutralise_typed_text("x" * 5000) == "x" * 1000


@pytest.mark.parametrize(
    "typed",
    ["/ /affirm", " / / /affirm", "\u200b/affirm", "/\u200b/affirm", "\t/\n/affirm", "\u2066/affirm"],
)
def test_finding_7_the_channel_cleans_slashes_as_the_gateway_does(typed: str) -> None:
    """Security review, finding 7: Rasa reached directly (its private port) must be no easier to fool."""
    from contract.typed_text import neutralise_text

    cleaned = neutralise_typed_text(typed)
    assert cleaned == "affirm" == neutralise_text(typed), repr(cleaned)


def test_finding_7_the_outbox_file_is_private(tmp_path: Path) -> None:
    """Security review, finding 7: consented contact details readable by their owner only."""
    import os
    import stat

    before = os.umask(0o022)  # what a shell usually has: files 0644 in folders 0755
    try:
        path = tmp_path / "data" / "outbox.sqlite"
        Outbox(path).put("r-1", {"outcome": "likely_eligible"})
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for file in path.parent.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_finding_7_the_scripts_create_files_for_their_owner_only() -> None:
    import subprocess

    root = Path(__file__).resolve().parents[2]
    shown = subprocess.run(
        ["bash", "-c", f"umask 022; source {root}/scripts/lib.sh; umask"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert shown == "0077"


def test_only_buttons_since_the_last_user_message_are_offered() -> None:
    events = [
        {"event": "bot", "data": {"buttons": [{"title": "Old", "payload": "/old"}]}},
        {"event": "user", "text": "hi"},
        {"event": "bot", "data": {"buttons": [{"title": "Yes", "payload": '/choose{"choice": "yes"}'}]}},
        {"event": "bot", "data": {}},
    ]
    assert offered_payloads(events) == ['/choose{"choice": "yes"}']


@pytest.mark.parametrize("ours", [False, True], ids=["rasas_store", "incremental_store"])
async def test_the_short_read_of_the_sql_store_offers_what_the_whole_tracker_offers(tmp_path: Path, ours: bool) -> None:
    # Issue 14: the channel reads only the bot events after the last user message, not the
    # whole conversation; on a real SQL tracker store it must offer exactly the same buttons.
    from rasa.core.tracker_store import AwaitableTrackerStore, FailSafeTrackerStore, SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from nlu.channel import bot_events_since_user, sql_store

    from nlu.tracker_store import IncrementalSQLTrackerStore

    kind = IncrementalSQLTrackerStore if ours else SQLTrackerStore
    store = kind(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.sqlite"))
    wrapped = AwaitableTrackerStore(FailSafeTrackerStore(store))
    assert sql_store(wrapped) is store and sql_store(object()) is None

    def bot(*titles: str) -> BotUttered:
        return BotUttered("q", {"buttons": [{"title": t, "payload": f'/choose{{"choice": "{t}"}}'} for t in titles]})

    tracker = DialogueStateTracker("patient-1", [])
    steps = [
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        [bot("Old")], [UserUttered("hi", {"intent": {"name": "greet"}})], [bot("Yes", "No"), bot(), bot("Not sure")],
        [UserUttered("yes", {"intent": {"name": "affirm"}}), bot("Morning"), ActionExecuted("action_listen")],
        [SessionStarted(), bot("For myself")],
    ]
    for events in steps:
        for event in events:
            tracker.update(event)
        await store.save(tracker)
        whole = await store.retrieve("patient-1")
        assert whole is not None
        expected = offered_buttons([e.as_dict() for e in whole.events])
        assert offered_buttons(bot_events_since_user(store, "patient-1")) == expected
    assert [b["title"] for b in expected] == ["For myself"], "a new session offers only its own buttons"
    assert bot_events_since_user(store, "nobody") == []
    if ours:  # from the kept rows: the freshness check of a read, one query
        import sqlalchemy as sa

        statements: list[str] = []
        listener = lambda _c, _k, statement, *_a: statements.append(statement)  # noqa: E731
        sa.event.listen(store.engine, "before_cursor_execute", listener)
        assert offered_buttons(bot_events_since_user(store, "patient-1")) == expected
        sa.event.remove(store.engine, "before_cursor_execute", listener)
        assert len(statements) == 1


def test_a_typed_button_title_is_that_button_and_nothing_else_is() -> None:
    events = [{"event": "bot", "data": {"buttons": [
        {"title": "Does all usual activities, with no limits", "payload": '/choose{"choice": "0"}'},
        {"title": "Not sure", "payload": '/choose{"choice": "unknown"}'}]}}]
    buttons = offered_buttons(events)
    assert typed_button("does all usual activities with no limits", buttons) == '/choose{"choice": "0"}'
    assert typed_button("Not sure.", buttons) == '/choose{"choice": "unknown"}'
    assert typed_button("I do all usual activities", buttons) is None
    assert typed_button("", buttons) is None


def test_failed_deliveries_back_off_and_wait(tmp_path: Path) -> None:
    from datetime import datetime, timedelta, timezone

    outbox = Outbox(tmp_path / "o.sqlite")
    outbox.put("r-3", {"a": 1})
    now = datetime.now(timezone.utc)
    assert [rid for rid, _ in outbox.due(now)] == ["r-3"]
    assert outbox.postpone("r-3", now) == 2
    assert outbox.due(now + timedelta(seconds=1)) == []
    assert [rid for rid, _ in outbox.due(now + timedelta(seconds=3))] == ["r-3"]
    assert outbox.postpone("r-3", now) == 4
