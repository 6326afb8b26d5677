"""Pitfall 6: "start over" clears every answer and contact detail, with the real services.

A patient answers the screening and gives contact details up to the read-back,
types "start over", and the tracker store (Rasa's own `events` table) must
show that after the last `reset_slots` no slot holds anything from before; the
bot asks `respondent` again; after a second consent the read-back and the
referral the team receives show only the second details.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import pytest

pytest.importorskip("pydantic_settings", reason="API environment only (.venv/api)")

from api.core.security import token_hash  # noqa: E402
from tests.gateway_client import Patient, coordinator, wait_for_referrals  # noqa: E402
from tests.personas import LIKELY_FIT, contact  # noqa: E402
from tests.servers import Servers, running_system  # noqa: E402

pytestmark = pytest.mark.e2e

FIRST = {
    **LIKELY_FIT,
    **contact("Ottoline Firstrun", "403-555-0142 or ottoline.firstrun@example.org", "weekday mornings", "Portuguese"),
}
SECOND = {**LIKELY_FIT, **contact("Bartholomew Secondrun", "bart.secondrun@example.net", ("Evening",), ("English",))}
FIRST_TRACES = ("Ottoline", "Firstrun", "403-555-0142", "4035550142", "ottoline.firstrun@example.org", "Portuguese")
# Not answers: which question is open (a question id) and the rephrase counter.
BOOKKEEPING_SLOTS = {"requested_slot", "unclear_count"}


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    # Two screenings in a row, typed by a script: faster than the 30-a-minute limit for people.
    with running_system(tmp_path_factory.mktemp("start-over"), env={"SESSION_MESSAGES_PER_MINUTE": "1000"}) as running:
        yield running


def _answer_until(patient: Patient, answers: dict[str, Any], stop_at: str) -> None:
    patient.converse(answers, until=stop_at)
    assert patient.reply.get("asks") == stop_at, f"the conversation ended before {stop_at}: {patient.reply}"


def _tracker_events(system: Servers, patient: Patient) -> list[dict[str, Any]]:
    """This patient's events, from Rasa's tracker store (the gateway maps the cookie to the sender id)."""
    token = patient.http.cookies["chat_session"]
    with closing(sqlite3.connect(system.data_dir / "api.sqlite")) as api:
        (sender,) = api.execute(
            "SELECT conversation_id FROM chat_sessions WHERE token_hash = ?", (token_hash(token),)
        ).fetchone()
    with closing(sqlite3.connect(system.data_dir / "tracker.sqlite")) as tracker:
        rows = tracker.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,))
        return [{"type": type_name, **json.loads(data)} for type_name, data in rows]


def _split_at_last_reset(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    resets = [i for i, event in enumerate(events) if event["type"] == "reset_slots"]
    assert resets, "no reset_slots event: start over did not clear the slots"
    return events[: resets[-1]], events[resets[-1] + 1 :]


def _said(patient: Patient) -> str:
    return " ".join(m["text"] for m in patient.reply["messages"])


def test_start_over_at_the_read_back_forgets_every_answer_and_contact_detail(system: Servers) -> None:
    patient = Patient(system.api_url)
    patient.start()
    _answer_until(patient, FIRST, stop_at="contact_confirmed")
    assert "Ottoline Firstrun" in _said(patient), "the read-back shows the first details"

    patient.answer("start over")
    assert patient.reply["asks"] == "respondent", patient.reply
    assert patient.reply["outcome"] is None

    before, after = _split_at_last_reset(_tracker_events(system, patient))
    earlier: dict[str, set[str]] = {}
    for event in before:
        if event["type"] == "slot" and event.get("value") is not None:
            earlier.setdefault(event["name"], set()).add(json.dumps(event["value"], sort_keys=True))
    assert {"respondent", "age", "pain_score", "consent_contact", "consent_time", "contact_name",
            "contact_phone", "contact_email", "contact_time", "contact_language"} <= set(earlier)
    slot_events = [e for e in after if e["type"] == "slot"]
    for event in slot_events:
        if event["name"] in BOOKKEEPING_SLOTS or event.get("value") is None:
            continue
        assert json.dumps(event["value"], sort_keys=True) not in earlier.get(event["name"], set()), event
    # Replaying the events after the reset leaves every earlier answer empty.
    state: dict[str, Any] = {}
    for event in slot_events:
        state[event["name"]] = event.get("value")
    assert {name: state.get(name) for name in earlier if name not in BOOKKEEPING_SLOTS} == {
        name: None for name in earlier if name not in BOOKKEEPING_SLOTS
    }
    assert state.get("requested_slot") == "respondent"
    assert not any(trace in json.dumps(slot_events) for trace in FIRST_TRACES)

    # A second run through, with other details: the read-back shows only those.
    _answer_until(patient, SECOND, stop_at="contact_confirmed")
    read_back = _said(patient)
    assert "Bartholomew Secondrun" in read_back and "bart.secondrun@example.net" in read_back
    for trace in FIRST_TRACES:
        assert trace not in read_back, trace
    assert "Phone: not given" in read_back, "the first phone number did not carry over"
    _, after_second = _split_at_last_reset(_tracker_events(system, patient))
    assert not any(trace in json.dumps([e for e in after_second if e["type"] == "slot"]) for trace in FIRST_TRACES)

    # What the study team receives holds only the second details.
    patient.answer(SECOND["contact_confirmed"])
    assert patient.reply["asks"] is None
    staff = coordinator(system.api_url)
    items = wait_for_referrals(staff, 1)
    assert [item["contact_name"] for item in items] == ["Bartholomew Secondrun"]
    detail = staff.get(f"/coordinator/referrals/{items[0]['id']}").json()
    assert detail["contact"]["phone"] is None and detail["contact"]["email"] == "bart.secondrun@example.net"
    assert detail["contact"]["language"] == "English"
    dumped = json.dumps(detail)
    for trace in FIRST_TRACES:
        assert trace not in dumped, trace
