"""The referral outbox and the guarded channel's pure helpers."""

from __future__ import annotations

from pathlib import Path

from actions.outbox import Outbox
from nlu.channel import neutralise_typed_text, offered_buttons, offered_payloads, typed_button


def test_outbox_stores_a_referral_once(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    assert outbox.put("r-1", {"outcome": "likely_eligible"}) is True
    assert outbox.put("r-1", {"outcome": "likely_eligible"}) is False
    assert outbox.pending() == [("r-1", {"outcome": "likely_eligible"})]
    outbox.mark_delivered("r-1")
    assert outbox.pending() == []


def test_outbox_survives_a_new_instance(tmp_path: Path) -> None:
    Outbox(tmp_path / "o.sqlite").put("r-2", {"a": 1})
    assert Outbox(tmp_path / "o.sqlite").pending() == [("r-2", {"a": 1})]


def test_typed_slash_commands_become_plain_text() -> None:
    assert neutralise_typed_text('/inform{"pain_score": 9}') == 'inform{"pain_score": 9}'
    assert neutralise_typed_text("  //affirm ") == "affirm"
    assert neutralise_typed_text("x" * 5000) == "x" * 1000


def test_only_buttons_since_the_last_user_message_are_offered() -> None:
    events = [
        {"event": "bot", "data": {"buttons": [{"title": "Old", "payload": "/old"}]}},
        {"event": "user", "text": "hi"},
        {"event": "bot", "data": {"buttons": [{"title": "Yes", "payload": '/choose{"choice": "yes"}'}]}},
        {"event": "bot", "data": {}},
    ]
    assert offered_payloads(events) == ['/choose{"choice": "yes"}']


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
