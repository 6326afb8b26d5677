"""R2: the Rasa server and the action server die mid-conversation (kill -9) and
come back; conversations go on with their earlier answers (SQLite tracker
store in the Servers data folder, docs/safety-security.md R2).

Two patients are cut off at different points:
- A, for themselves, said "not sure" about the spine scan (that alone makes
  the outcome needs_review) and is cut off after 5 answers, at the pain score;
- B, a caregiver (the wording of every later question depends on it), is cut
  off after 8 answers, at the pregnancy question, whose buttons must still be
  accepted after the restart (the guarded channel reads them from the tracker).
"""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from typing import Any, Callable, Iterator

import pytest

pytest.importorskip("httpx")

from tests.chat_client import Chat  # noqa: E402
from tests.personas import CONTACT_ORDER, LIKELY_FIT, SENT, Answer, contact  # noqa: E402
from tests.reliability.conftest import outbox_rows, unreachable  # noqa: E402
from tests.servers import Servers, running_system  # noqa: E402

pytestmark = pytest.mark.e2e

CAREGIVER_WORDING = re.compile(r"person you are helping|\btheir\b|\bthey\b|these answers", re.IGNORECASE)

PATIENT_A: dict[str, Answer] = {**LIKELY_FIT, "spine_mets_confirmed": "not sure"}
PATIENT_B: dict[str, Answer] = {
    **LIKELY_FIT,
    "respondent": ("For someone else",),
    "age": "71",
    "spine_region": "lower back, around L3",
    "pain_score": "8",
    **contact("Robin Carter", "robin.carter@example.com"),
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, model: str) -> Iterator[Servers]:
    # No API: the SQLite tracker store in its data folder is what survives the restarts.
    with running_system(tmp_path_factory.mktemp("restarts"), with_api=False, model=model) as running:
        yield running


def question_texts(chat: Chat) -> list[str]:
    return [m["text"] for m in chat.last if (m.get("custom") or {}).get("asks") and m.get("text")]


def stored_slots(servers: Servers, sender: str) -> dict[str, Any]:
    """The slots as the tracker store has them (last value of every slot event)."""
    import json

    with closing(sqlite3.connect(servers.data_dir / "tracker.sqlite")) as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'slot' ORDER BY id", (sender,)
        ).fetchall()
    slots: dict[str, Any] = {}
    for (data,) in rows:
        event = json.loads(data)
        slots[event["name"]] = event["value"]
    return slots


def test_a_conversation_survives_a_restart_of_rasa_and_the_action_server(
    servers: Servers, report: Callable[[str, str], None]
) -> None:
    test = "R2 restarts"
    a, b = Chat(servers.url), Chat(servers.url)
    a.say("hi")
    asked_a = a.converse(PATIENT_A, until="pain_score")
    b.say("hello")
    asked_b = b.converse(PATIENT_B, until="pregnancy")
    assert asked_a == ["respondent", "red_flags", "age", "spine_mets_confirmed", "spine_region"]
    assert len(asked_b) == 9 and a.asks == "pain_score" and b.asks == "pregnancy"
    before = {chat.sender: stored_slots(servers, chat.sender) for chat in (a, b)}

    stopped_at = time.monotonic()
    servers.stop("rasa", "actions", hard=True)
    assert unreachable(servers.url) and unreachable(servers.ready_urls["actions"])
    servers.restart("actions", wait=False)
    servers.restart("rasa")
    servers.wait_ready("actions")
    restart_s = time.monotonic() - stopped_at
    after = {chat.sender: stored_slots(servers, chat.sender) for chat in (a, b)}
    assert after == before, "the tracker store changed across the restart"

    # A: the next question is the one after the pain score, not a repeat.
    a.say(PATIENT_A["pain_score"])  # type: ignore[arg-type]
    first_after_a = a.asks
    asked_a_after = a.converse(PATIENT_A, until="consent_contact")  # needs_review is offered the referral too
    outcome_a = a.outcome
    # B: taps a button offered before the restart; the caregiver wording goes on.
    b.click("Not possible")
    first_after_b = b.asks
    caregiver_texts = question_texts(b)
    asked_b_after = [first_after_b]
    while b.asks and b.asks not in CONTACT_ORDER:
        reply = PATIENT_B[b.asks]
        b.click(reply[0]) if isinstance(reply, tuple) else b.say(reply)
        asked_b_after.append(b.asks)
        caregiver_texts += question_texts(b) if b.asks not in CONTACT_ORDER else []
    outcome_b = b.outcome
    b.converse(PATIENT_B)
    referral = [row for row in outbox_rows(servers) if row["payload"]["conversation_id"] == b.sender]

    report(test, (
        f"kill -9 of Rasa and the action server, both back in {restart_s:.1f}s; A (5 answers before) next asked "
        f"{first_after_a}, outcome {outcome_a}; B (9 answers before, caregiver) next asked {first_after_b} after "
        f"tapping a pre-restart button, outcome {outcome_b}, referral rows {len(referral)}"
    ))
    assert first_after_a == "pain_warning_signs", a.texts()
    assert not set(asked_a_after) & set(asked_a), f"asked again after the restart: {asked_a_after}"
    assert outcome_a == "needs_review", "the pre-restart 'not sure' about the scan was lost"

    assert first_after_b == "prior_spine_radiation", b.texts()  # pregnancy accepted, breastfeeding skipped
    assert not set(asked_b_after) & set(asked_b), f"asked again after the restart: {asked_b_after}"
    assert caregiver_texts and all(CAREGIVER_WORDING.search(text) for text in caregiver_texts), caregiver_texts
    assert outcome_b == "likely_eligible"
    assert any(SENT in text for text in b.texts()), b.texts()
    assert len(referral) == 1
    record = referral[0]["payload"]
    answers = {row["question_id"]: row["answer"] for row in record["criteria"]}
    assert record["respondent"] == "caregiver"
    assert record["helper"] == {"patient_name": "Pat Helped", "relationship": "friend", "standing": "patient_agrees"}
    # The coordinator's summary holds the answers given before the restart.
    assert (answers["age"], answers["spine_region"], answers["pain_score"]) == (71, ["lumbar"], 8), answers
