"""Whole pre-screens over HTTP against the real Rasa server and action server.

Each persona answers whatever the bot asks (read from the `asks` contract),
typing like a person where it can, and the test checks the outcome.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.chat_client import Chat
from tests.personas import HELPER_CONTACT_ORDER, LIKELY_FIT, Answer, contact
from tests.servers import Servers

pytestmark = pytest.mark.e2e

CONTACT = contact("Sam Tester", "403-555-0199 or sam@example.com")


def screen(chat: Chat, answers: dict[str, Answer], max_turns: int = 30) -> list[str]:
    """Answer until the bot gives an outcome; return the question ids asked."""
    chat.say("hi")
    asked = []
    for _ in range(max_turns):
        if chat.outcome:
            return asked
        question = chat.asks
        assert question, f"the bot neither asked nor concluded: {chat.texts()}"
        assert question in answers, f"unexpected question {question}: {chat.texts()}"
        asked.append(question)
        chat.answer(answers[question])
    raise AssertionError(f"no outcome after {max_turns} turns; asked {asked}")


def outbox_rows(servers: Servers) -> list[tuple[str, str]]:
    path = servers.data_dir / "outbox.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        return db.execute("SELECT referral_id, payload FROM referral_outbox").fetchall()


def test_likely_fit_consents_and_is_referred(servers: Servers) -> None:
    chat = Chat(servers.url)
    before = len(outbox_rows(servers))
    asked = screen(chat, {**LIKELY_FIT, **CONTACT})
    assert chat.outcome == "likely_eligible"
    assert "breastfeeding" not in asked and asked[0] == "respondent"
    assert chat.asks == "consent_contact"
    for _ in range(8):
        question = chat.asks
        if question is None:
            break
        chat.answer(CONTACT[question])
    assert any("sent your answers" in text for text in chat.texts())
    rows = outbox_rows(servers)
    assert len(rows) == before + 1
    assert '"outcome": "likely_eligible"' in rows[-1][1] and "Sam Tester" in rows[-1][1]
    # What the patient typed never reaches a log (safety-security P2).
    logs = servers.logs()
    for marker in ("Sam Tester", "555-0199", "sam@example.com", "shoulder blades"):
        assert marker not in logs


def _leave_details(chat: Chat, answers: dict[str, Answer]) -> list[str]:
    """Answer the contact questions until the bot asks nothing more; the ids asked."""
    asked = []
    for _ in range(12):
        if chat.asks is None:
            return asked
        asked.append(chat.asks)
        chat.answer(answers[chat.asks])
    raise AssertionError(f"the contact questions did not end: {asked}")


@pytest.mark.parametrize("standing", ["Yes, they agree", "I make health decisions for them", "Not yet"])
def test_a_helper_refers_only_with_the_persons_agreement_or_as_their_decision_maker(servers: Servers, standing: str) -> None:
    chat = Chat(servers.url)
    before = len(outbox_rows(servers))
    helper = {**contact("Dana Helper", "dana.helper@example.org", patient="Lou Helped"), "helper_agreement": (standing,)}
    screen(chat, {**LIKELY_FIT, "respondent": ("For someone else",), "breastfeeding": "no", **helper})
    assert chat.outcome == "likely_eligible" and chat.asks == "consent_contact"
    asked = _leave_details(chat, helper)
    rows = outbox_rows(servers)
    if standing == "Not yet":
        assert asked == HELPER_CONTACT_ORDER[:2] and len(rows) == before, asked
        assert any("talk with the person you are helping first" in text for text in chat.texts())
        return
    assert asked == HELPER_CONTACT_ORDER, asked
    assert len(rows) == before + 1
    record = json.loads(rows[-1][1])
    assert record["contact"]["name"] == "Dana Helper" and record["respondent"] == "caregiver"
    expected = "patient_agrees" if standing.startswith("Yes") else "decision_maker"
    assert record["helper"] == {"patient_name": "Lou Helped", "relationship": "friend", "standing": expected}
    # The patient's name, like every detail typed, never reaches a log (safety-security P2).
    assert "Lou Helped" not in servers.logs()


def test_caregiver_is_asked_in_the_third_person(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hello")
    chat.click("For someone else")
    assert chat.asks == "red_flags" and any("person you are helping" in t for t in chat.texts())
    chat.say("no")
    assert chat.asks == "age" and any("person you are helping" in t for t in chat.texts())


@pytest.mark.parametrize(
    ("changes", "expected", "read_back"),
    [
        ({"age": "I'm 16"}, "not_eligible", True),
        ({"spine_region": "my neck"}, "not_eligible", True),
        ({"pain_score": "1"}, "not_eligible", True),
        ({"cord_compression_told": "yes, the doctor said so"}, "not_eligible", True),
        # Typing a button's own title is pressing it: nothing to read back.
        ({"cord_compression_told": "yes"}, "not_eligible", False),
        ({"primary_cancer": "osteosarcoma"}, "not_eligible", True),
        ({"spine_mets_confirmed": "not sure"}, "needs_review", False),
        ({"performance_status": ("In bed or a chair all day, and needs help with self-care",)}, "needs_review", False),
        ({"red_flags": ("Yes",)}, "urgent_care", False),
    ],
)
def test_outcomes(servers: Servers, changes: dict[str, Answer], expected: str, read_back: bool) -> None:
    chat = Chat(servers.url)
    # A typed answer that would exclude is read back once (recall first): "Yes".
    asked = screen(chat, {**LIKELY_FIT, **changes, **CONTACT, "answer_check": ("Yes",)})
    assert chat.outcome == expected
    assert ("answer_check" in asked) == read_back, asked
    if expected == "not_eligible":
        assert any("cancer care team" in t for t in chat.texts())
    if expected == "urgent_care":
        assert any("911" in t for t in chat.texts()) and chat.asks is None


# --- issue 13: words a helper and a patient can trust ---------------------------------


def test_a_helper_hears_the_emergency_message_about_the_person_they_help(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hello")
    chat.click("For someone else")
    chat.click("Yes")
    said = " ".join(chat.texts())
    assert chat.outcome == "urgent_care" and "911" in said
    assert "the person you are helping has cancer in the spine" in said and "you have cancer" not in said


def test_not_sure_at_the_safety_question_gets_the_advice_at_once(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    chat.click("For myself")
    assert chat.asks == "red_flags"
    chat.click("Not sure")
    said = " ".join(chat.texts())
    assert "cancer care team today" in said and "911" in said, said
    assert chat.asks == "age" and chat.outcome is None, "the screening goes on"


def test_after_urgent_care_anything_typed_hears_the_emergency_message_again(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    chat.click("For myself")
    chat.click("Yes")
    assert chat.outcome == "urgent_care"
    for typed in ("ok", "what is vertebroplasty?", "asdf qwerty", "thanks"):
        chat.say(typed)
        said = " ".join(chat.texts())
        assert "911" in said and "did not understand" not in said, (typed, said)
        assert chat.outcome == "urgent_care" and chat.asks is None, typed
    chat.say("start over")
    assert chat.asks == "respondent", "start over still works"


def test_not_eligible_ends_with_the_way_to_fix_a_wrong_answer(servers: Servers) -> None:
    chat = Chat(servers.url)
    screen(chat, {**LIKELY_FIT, "pain_score": "1", "answer_check": ("Yes",)})
    assert chat.outcome == "not_eligible"
    assert 'type "go back"' in chat.texts()[-1], chat.texts()
    chat.say("go back")
    assert chat.asks == "pain_score", "go back reopens the last answer"


def test_red_flag_in_the_middle_of_the_form_stops_screening(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    chat.say("for me")
    chat.say("no")
    assert chat.asks == "age"
    chat.say("my legs gave way on the stairs this morning")
    assert chat.outcome == "urgent_care" and chat.asks is None


def test_typed_slash_commands_do_not_answer(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    chat.say('/affirm')
    assert chat.asks == "respondent"
    chat._post({"payload": '/choose{"choice": "adult"}'})  # a button the bot did not offer
    assert chat.asks == "respondent"
    chat.click("For myself")
    assert chat.asks == "red_flags"


def test_go_back_and_start_over(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    chat.say("for myself")
    chat.say("no")
    chat.say("70")
    assert chat.asks == "spine_mets_confirmed"
    chat.say("go back")
    assert chat.asks == "age"
    chat.say("72")
    assert chat.asks == "spine_mets_confirmed"
    chat.say("start over")
    assert chat.asks == "respondent"


def study_question_mid_form(servers: Servers) -> Chat:
    """A patient asks a study question at the first screening question; the bot answers it."""
    chat = Chat(servers.url)
    chat.say("hi")
    chat.say("for myself")
    chat.say("what is vertebroplasty?")
    assert any("cement" in t for t in chat.texts())
    return chat


def test_study_question_mid_form_is_answered_then_the_form_resumes(servers: Servers) -> None:
    assert study_question_mid_form(servers).asks == "red_flags"


def test_unclear_answers_are_rephrased_then_a_way_out_is_offered_then_put_down_as_not_sure(servers: Servers) -> None:
    chat = Chat(servers.url)
    screen_until = {"respondent": "me", "red_flags": "no", "age": "60", "spine_mets_confirmed": "yes", "spine_region": "lower back"}
    chat.say("hi")
    while chat.asks in screen_until:
        chat.answer(screen_until[chat.asks])
    assert chat.asks == "pain_score"
    chat.say("it is awful")
    first = chat.texts()
    assert chat.asks == "pain_score" and any("0 to 10" in t or "number" in t for t in first)
    chat.say("really really bad")
    assert chat.asks == "pain_score" and any("Not sure" in t for t in chat.texts())
    # Never a fourth time: "not sure" is put down and the screening goes on.
    chat.say("like nothing i ever felt")
    assert any('put down "Not sure"' in t for t in chat.texts())
    assert chat.asks == "pain_warning_signs" and chat.outcome is None


def test_same_day_warning_sign_gets_advice_and_screening_goes_on(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    steps = {"respondent": "me", "red_flags": "no", "age": "58", "spine_mets_confirmed": "yes", "spine_region": "L3"}
    while chat.asks in steps:
        chat.answer(steps[chat.asks])
    assert chat.asks == "pain_score"
    chat.say("8, and it keeps getting worse every day")
    assert any("call your cancer care team today" in t for t in chat.texts())
    # Told in their own words already: the same-day signs question is not asked (issue 13).
    assert chat.asks == "cord_compression_told" and chat.outcome is None


def test_the_same_day_signs_are_asked_once_after_the_pain_score_and_yes_gets_the_advice(servers: Servers) -> None:
    chat = Chat(servers.url)
    chat.say("hi")
    steps = {"respondent": "me", "red_flags": "no", "age": "58", "spine_mets_confirmed": "yes", "spine_region": "L3",
             "pain_score": "7"}
    while chat.asks in steps:
        chat.answer(steps[chat.asks])
    assert chat.asks == "pain_warning_signs"
    assert any("cough, sneeze or strain" in t for t in chat.texts())
    chat.click("Yes")
    assert any("call your cancer care team today" in t for t in chat.texts())
    assert chat.asks == "cord_compression_told" and chat.outcome is None, "the screening goes on"


def test_rasa_keeps_the_conversation_in_our_sql_tracker_store(servers: Servers) -> None:
    # Issue 14: endpoints.yml names nlu.tracker_store.IncrementalSQLTrackerStore. Were it not
    # found, Rasa would warn and keep conversations in memory only: a restart would lose them.
    chat = Chat(servers.url)
    chat.say("hi")
    chat.click("For myself")
    with sqlite3.connect(servers.data_dir / "tracker.sqlite") as db:
        stored = db.execute("SELECT count(*) FROM events WHERE sender_id = ?", (chat.sender,)).fetchone()[0]
    assert stored > 3
    assert "InMemoryTrackerStore" not in servers.logs()


def test_the_faq_answer_is_picked_only_for_a_study_question(servers: Servers) -> None:
    # Issue 14: nlu.components.FaqAnswerSelector runs Rasa's ResponseSelector
    # only when the final intent is the study question; the answers' parses
    # carry no selection (it was computed, and stored, for every message).
    chat = study_question_mid_form(servers)
    chat.say("no")
    with sqlite3.connect(servers.data_dir / "tracker.sqlite") as db:
        rows = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (chat.sender,)
        ).fetchall()
    parses = [json.loads(data)["parse_data"] for (data,) in rows]
    questions = [p for p in parses if p["intent"]["name"] == "faq"]
    others = [p for p in parses if p["intent"]["name"] != "faq"]
    assert len(questions) == 1 and len(others) >= 3
    assert questions[0]["response_selector"]["faq"]["response"]["intent_response_key"].startswith("faq/")
    assert questions[0]["intent"]["full_retrieval_intent_name"].startswith("faq/")
    assert all("response_selector" not in p for p in others)
