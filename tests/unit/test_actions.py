"""The custom actions, run the way the action server runs them (rasa-sdk trackers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.contact_form import ActionAskContactConfirmed, ValidateContactForm
from actions.corrections import ActionGoBack, ActionStartOver
from actions.outbox import Outbox
from actions.outcome import ActionGiveOutcome, ActionUrgentCare
from actions.prescreen_form import ValidatePrescreenForm
from actions.referral import ActionSubmitReferral

DOMAIN: dict[str, Any] = {"responses": {"utter_not_given": [{"text": "not given"}]}}

PASSING = {
    "respondent": "self", "red_flags": "no", "age": 60, "spine_mets_confirmed": "yes",
    "spine_region": ["thoracic"], "pain_score": 7, "pain_warning_signs": "no", "cord_compression_told": "no",
    "primary_cancer": "breast", "pregnancy": "not_applicable", "prior_spine_radiation": "no",
    "performance_status": 1, "visceral_metastases": "no", "able_to_attend": "yes",
}


def tracker(slots: dict[str, Any], text: str = "", intent: str = "inform", entities: list[dict[str, Any]] | None = None,
            pending: tuple[str, ...] = (), active_loop: str | None = "prescreen_form") -> Tracker:
    """A tracker whose last events are the slot candidates the form extracted this turn."""
    events: list[dict[str, Any]] = [{"event": "user", "text": text}]
    events += [{"event": "slot", "name": name, "value": slots[name]} for name in pending]
    return Tracker(
        sender_id="test-conversation",
        slots=dict(slots),
        latest_message={"text": text, "intent": {"name": intent}, "entities": entities or []},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(e["event"], e.get("name")) for e in events]


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    """What the patient hears (the machine-only custom messages are left out)."""
    return [m.get("response") or m.get("text") for m in dispatcher.messages if m.get("response") or m.get("text")]


async def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, DOMAIN)
    return events, dispatcher


async def test_an_answer_is_normalised_and_the_next_question_requested() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": "I'm 64", "requested_slot": "age", "answer_order": ["respondent", "red_flags"]}
    events, _ = await run(ValidatePrescreenForm(), tracker(slots, "I'm 64", entities=[{"entity": "age", "value": 64}], pending=("age",)))
    assert slot_events(events) == {
        "age": 64, "unclear_count": 0, "answer_order": ["respondent", "red_flags", "age"],
        "requested_slot": "spine_mets_confirmed",
    }


async def test_an_unclear_answer_is_rephrased_once_then_a_way_out_is_offered() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": 60, "spine_mets_confirmed": "yes",
             "spine_region": ["lumbar"], "pain_score": "terrible", "requested_slot": "pain_score"}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, "terrible", pending=("pain_score",)))
    assert slot_events(events) == {"pain_score": None, "unclear_count": 1, "requested_slot": "pain_score"}
    assert responses(dispatcher) == ["utter_unclear", "utter_rephrase_pain_score"]
    events, dispatcher = await run(ValidatePrescreenForm(), tracker({**slots, "unclear_count": 1}, "terrible", pending=("pain_score",)))
    assert responses(dispatcher) == ["utter_unclear", "utter_way_out"]


async def test_an_answer_not_understood_three_times_is_put_down_as_not_sure_and_the_form_goes_on() -> None:
    # Never a fourth time: a patient who cannot tap is never stuck (issue 10).
    slots = {"respondent": "self", "red_flags": "no", "age": 60, "spine_mets_confirmed": "yes",
             "spine_region": ["lumbar"], "pain_score": "terrible", "requested_slot": "pain_score", "unclear_count": 2}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, "terrible", pending=("pain_score",)))
    set_ = slot_events(events)
    assert responses(dispatcher) == ["utter_noted_unsure"]
    assert set_["pain_score"] == "unknown" and set_["unclear_count"] == 0
    assert set_["requested_slot"] not in ("pain_score", None)


async def test_the_safety_question_not_understood_three_times_gives_the_same_day_advice() -> None:
    slots = {"respondent": "self", "red_flags": "purple", "requested_slot": "red_flags", "unclear_count": 2}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, "purple", pending=("red_flags",)))
    assert responses(dispatcher) == ["utter_noted_unsure", "utter_red_flag_check_unsure"]
    assert slot_events(events)["red_flags"] == "unknown"


async def test_the_respondent_question_has_no_not_sure_so_it_keeps_its_way_out() -> None:
    slots = {"respondent": "purple", "requested_slot": "respondent", "unclear_count": 2}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, "purple", pending=("respondent",)))
    assert responses(dispatcher) == ["utter_unclear", "utter_way_out"]
    assert slot_events(events)["requested_slot"] == "respondent"


async def test_an_excluding_answer_tapped_on_a_button_ends_the_form() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": "/choose", "requested_slot": "age"}
    events, _ = await run(ValidatePrescreenForm(), tracker(slots, '/choose{"choice": "minor"}', intent="choose",
                                                           entities=[{"entity": "choice", "value": "minor"}], pending=("age",)))
    assert slot_events(events)["age"] == "minor" and slot_events(events)["requested_slot"] is None


async def test_a_typed_excluding_answer_is_read_back_before_it_counts() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": "16", "requested_slot": "age"}
    events, _ = await run(ValidatePrescreenForm(), tracker(slots, "16", entities=[{"entity": "number", "value": 16}], pending=("age",)))
    set_ = slot_events(events)
    assert set_["requested_slot"] == "answer_check" and set_["age"] is None
    assert set_["check_label"] == "16" and set_["check_wording"] == "age_years"
    assert set_["check_topic"] == "your age"  # the read-back says what the answer was about
    assert set_["check_pending"] == {"kind": "answer_check", "question": "age", "value": 16, "also": {}}

    confirm = {**slots, "age": None, "check_pending": set_["check_pending"], "answer_check": "yes", "requested_slot": "answer_check"}
    events, _ = await run(ValidatePrescreenForm(), tracker(confirm, '/choose{"choice": "yes"}', intent="choose",
                                                           entities=[{"entity": "choice", "value": "yes"}], pending=("answer_check",)))
    assert slot_events(events)["age"] == 16 and slot_events(events)["requested_slot"] is None  # not eligible

    events, dispatcher = await run(ValidatePrescreenForm(), tracker({**confirm, "answer_check": "no"}, '/choose{"choice": "no"}', intent="choose",
                                                                    entities=[{"entity": "choice", "value": "no"}], pending=("answer_check",)))
    assert "age" not in slot_events(events) and slot_events(events)["requested_slot"] == "age"
    assert responses(dispatcher) == ["utter_answer_check_no"]


async def test_a_possible_red_flag_is_checked_and_a_no_goes_on_where_it_was() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": "61, the tingling from chemo is the same as ever", "requested_slot": "age"}
    entities = [{"entity": "age", "value": 61}, {"entity": "red_flag_possible", "value": "numbness"}]
    events, _ = await run(ValidatePrescreenForm(), tracker(slots, slots["age"], intent="red_flag_check", entities=entities, pending=("age",)))
    set_ = slot_events(events)
    assert set_["requested_slot"] == "red_flag_check" and set_["age"] is None
    check = {**slots, "age": None, "check_pending": set_["check_pending"], "red_flag_check": "no", "requested_slot": "red_flag_check"}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(check, "no", intent="deny", entities=[{"entity": "answer", "value": "no"}],
                                                                    pending=("red_flag_check",)))
    # The age given with it is kept; the screening goes on with the next question.
    assert slot_events(events)["age"] == 61 and slot_events(events)["requested_slot"] == "spine_mets_confirmed"
    assert responses(dispatcher) == ["utter_red_flag_check_no"]
    events, _ = await run(ValidatePrescreenForm(), tracker({**check, "red_flag_check": "yes"}, "yes it's worse", intent="affirm",
                                                           entities=[{"entity": "answer", "value": "yes"}], pending=("red_flag_check",)))
    assert slot_events(events)["red_flags"] == "yes" and slot_events(events)["requested_slot"] is None  # urgent care


async def test_a_clear_red_flag_inside_an_answer_ends_the_screening() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": "58 and my left leg went weak this week", "requested_slot": "age"}
    entities = [{"entity": "age", "value": 58}, {"entity": "red_flag", "value": "weakness"}]
    events, _ = await run(ValidatePrescreenForm(), tracker(slots, slots["age"], intent="red_flag", entities=entities, pending=("age",)))
    assert slot_events(events)["red_flags"] == "yes" and slot_events(events)["requested_slot"] is None


async def test_resuming_after_a_digression_validates_nothing() -> None:
    slots = {"respondent": "caregiver", "requested_slot": "red_flags"}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, "what is vertebroplasty", intent="faq"))
    assert slot_events(events) == {"requested_slot": "red_flags"} and not dispatcher.messages


async def test_a_failing_validation_still_answers_and_asks_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("actions.prescreen_form.understand", broken)
    slots = {"respondent": "self", "red_flags": "I'm fine", "requested_slot": "red_flags"}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, "I'm fine", pending=("red_flags",)))
    assert responses(dispatcher) == ["utter_technical_problem"]
    assert slot_events(events) == {"red_flags": None, "requested_slot": "red_flags"}


@pytest.mark.parametrize(
    ("changes", "outcome", "first_response"),
    [
        ({}, "likely_eligible", "utter_outcome_likely_eligible"),
        ({"age": 17}, "not_eligible", "utter_outcome_not_eligible"),
        ({"able_to_attend": "unknown"}, "needs_review", "utter_outcome_needs_review"),
        ({"red_flags": "yes"}, "urgent_care", "utter_urgent_care"),
    ],
)
async def test_the_outcome_is_told_with_its_reasons(changes: dict[str, Any], outcome: str, first_response: str) -> None:
    events, dispatcher = await run(ActionGiveOutcome(), tracker({**PASSING, **changes}, active_loop=None))
    said = responses(dispatcher)
    assert said[0] == first_response
    assert slot_events(events)["outcome"] == outcome
    if outcome == "not_eligible":
        assert "utter_reasons_intro" in said and "utter_not_eligible_next" in said
        assert any("18" in text for text in said if not text.startswith("utter_"))
    if outcome == "likely_eligible":
        assert said == ["utter_outcome_likely_eligible"]
    reasons = [m["custom"]["outcome_reasons"] for m in dispatcher.messages if m.get("custom", {}).get("outcome_reasons") is not None]
    if outcome in ("not_eligible", "needs_review"):
        assert reasons and set(changes) <= set(reasons[0])


async def test_urgent_care_stops_the_form() -> None:
    events, dispatcher = await run(ActionUrgentCare(), tracker({"respondent": "self", "requested_slot": "age"}))
    assert responses(dispatcher) == ["utter_urgent_care", "utter_urgent_care_advice"]
    assert ("active_loop", None) in kinds(events)
    assert slot_events(events)["outcome"] == "urgent_care"


async def test_go_back_forgets_the_last_answer() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": 60, "answer_order": ["respondent", "red_flags", "age"], "requested_slot": "spine_mets_confirmed"}
    events, dispatcher = await run(ActionGoBack(), tracker(slots, "go back", intent="go_back"))
    assert slot_events(events) == {"requested_slot": None, "unclear_count": 0, "age": None,
                                   "answer_order": ["respondent", "red_flags"], "outcome": None}
    assert responses(dispatcher) == ["utter_went_back"]


async def test_go_back_with_nothing_answered_says_so() -> None:
    events, dispatcher = await run(ActionGoBack(), tracker({"requested_slot": "respondent"}, "go back", intent="go_back"))
    assert responses(dispatcher) == ["utter_nothing_to_go_back_to"]


async def test_start_over_clears_everything() -> None:
    events, dispatcher = await run(ActionStartOver(), tracker({**PASSING, "contact_name": "Sam"}, intent="start_over"))
    assert kinds(events) == [("reset_slots", None), ("active_loop", None)]
    assert responses(dispatcher) == ["utter_started_over"]


async def test_contact_form_reads_phone_and_email_from_one_answer() -> None:
    slots = {"consent_contact": "yes", "contact_name": "Sam", "contact_reach": "403 555 0199 sam@example.com", "requested_slot": "contact_reach"}
    events, _ = await run(ValidateContactForm(), tracker(slots, slots["contact_reach"], pending=("contact_reach",), active_loop="contact_form"))
    assert slot_events(events) == {"contact_reach": "given", "contact_phone": "403-555-0199", "contact_email": "sam@example.com",
                                   "unclear_count": 0, "requested_slot": "contact_time"}


async def test_summary_reads_back_every_detail() -> None:
    slots = {"contact_name": "Sam", "contact_phone": "403-555-0199", "contact_time": "morning", "contact_language": "English"}
    _, dispatcher = await run(ActionAskContactConfirmed(), tracker(slots, active_loop="contact_form"))
    summary = dispatcher.messages[0]
    assert summary["response"] == "utter_contact_summary"
    assert summary["contact_email"] == "not given" and summary["contact_name"] == "Sam"


async def test_a_consented_referral_goes_to_the_outbox_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
    slots = {**PASSING, "consent_contact": "yes", "contact_confirmed": "yes", "consent_time": "2026-11-27T10:00:00+00:00",
             "contact_name": "Sam", "contact_phone": "403-555-0199", "contact_time": "morning", "contact_language": "English"}
    events, dispatcher = await run(ActionSubmitReferral(), tracker(slots, active_loop=None))
    referral_id = slot_events(events)["referral_id"]
    await run(ActionSubmitReferral(), tracker({**slots, "referral_id": referral_id}, active_loop=None))
    pending = Outbox().pending()
    assert [rid for rid, _ in pending] == [referral_id]
    record = pending[0][1]
    assert record["outcome"] == "likely_eligible" and record["contact"]["name"] == "Sam"
    assert record["consent"]["given_at"] and record["trial_version"]
    assert {row["question_id"] for row in record["criteria"]} >= set(PASSING) - {"pregnancy"}
    assert responses(dispatcher) == ["utter_referral_sent", "utter_next_steps"]


async def test_no_consent_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
    slots = {**PASSING, "consent_contact": "no", "contact_name": "Sam"}
    events, dispatcher = await run(ActionSubmitReferral(), tracker(slots, active_loop=None))
    assert Outbox().pending() == []
    assert slot_events(events)["contact_name"] is None and slot_events(events)["referral_sent"] is False
    assert responses(dispatcher) == ["utter_no_consent"]


async def test_a_same_day_warning_sign_is_advised_once_and_screening_goes_on() -> None:
    slots = {"respondent": "self", "red_flags": "no", "age": 60, "spine_mets_confirmed": "yes",
             "spine_region": ["lumbar"], "pain_score": "8, and it keeps getting worse", "requested_slot": "pain_score"}
    entities = [{"entity": "number", "value": 8}, {"entity": "warning_sign", "value": "worsening_pain"}]
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, slots["pain_score"], entities=entities, pending=("pain_score",)))
    assert responses(dispatcher) == ["utter_warning_sign_advice"]
    assert slot_events(events)["pain_score"] == 8 and slot_events(events)["warning_signs"] == ["worsening_pain"]
    assert slot_events(events)["requested_slot"] == "cord_compression_told"
    again = {**slots, "warning_signs": ["worsening_pain"]}
    _, dispatcher = await run(ValidatePrescreenForm(), tracker(again, slots["pain_score"], entities=entities, pending=("pain_score",)))
    assert responses(dispatcher) == []


async def test_a_retried_hand_off_without_the_saved_id_reuses_the_same_referral(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
    slots = {**PASSING, "consent_contact": "yes", "contact_confirmed": "yes", "consent_time": "2026-11-27T10:00:00+00:00",
             "contact_name": "Sam", "contact_phone": "403-555-0199"}
    first, _ = await run(ActionSubmitReferral(), tracker(slots, active_loop=None))
    # The action server died before Rasa stored referral_id: the slot is still empty.
    second, _ = await run(ActionSubmitReferral(), tracker(slots, active_loop=None))
    assert slot_events(first)["referral_id"] == slot_events(second)["referral_id"]
    assert len(Outbox().pending()) == 1
    later, _ = await run(ActionSubmitReferral(), tracker({**slots, "consent_time": "2026-11-27T11:00:00+00:00"}, active_loop=None))
    assert slot_events(later)["referral_id"] != slot_events(first)["referral_id"]


async def test_the_safety_question_answered_with_an_old_symptom_confirmed_not_new_is_a_no() -> None:
    # Asking the safety question again after "No, it is not [new]" would be a loop.
    slots = {"respondent": "self", "red_flags": None, "requested_slot": "red_flag_check", "red_flag_check": "/choose",
             "check_pending": {"kind": "red_flag_check", "question": "red_flags", "value": None, "also": {}}}
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, '/choose{"choice": "no"}', intent="choose",
                                                                    entities=[{"entity": "choice", "value": "no"}],
                                                                    pending=("red_flag_check",)))
    set_ = slot_events(events)
    assert responses(dispatcher) == ["utter_red_flag_check_no"]
    assert set_["red_flags"] == "no" and set_["requested_slot"] == "age"
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(slots, '/choose{"choice": "unknown"}', intent="choose",
                                                                    entities=[{"entity": "choice", "value": "unknown"}],
                                                                    pending=("red_flag_check",)))
    assert responses(dispatcher) == ["utter_red_flag_check_unsure"]
    assert slot_events(events)["red_flags"] == "unknown"


# --- issue 13: the levels told reach the I8/E2 rule; a reopened form keeps its answers ---


async def test_the_radiation_levels_told_reach_the_engine_and_the_referral_reason() -> None:
    from actions.trial import answers_from

    slots = {**PASSING, "spine_region": ["thoracic"], "spine_levels": ["T12"],
             "prior_spine_radiation": ["lumbar"], "prior_radiation_levels": ["L1"]}
    answers = answers_from(tracker(slots))
    assert answers["spine_levels"] == ("T12",) and answers["prior_radiation_levels"] == ("L1",)
    events, dispatcher = await run(ValidatePrescreenForm(), tracker(
        {**slots, "prior_spine_radiation": "yes, at L3", "requested_slot": "prior_spine_radiation"},
        text="yes, at L3", entities=[{"entity": "spine_level", "value": "L3"}, {"entity": "spine_region", "value": "lumbar"}],
        pending=("prior_spine_radiation",)))
    assert slot_events(events).get("prior_radiation_levels") == ["L3"]


async def test_a_reopened_form_keeps_the_answers_already_given() -> None:
    # "go back" after an outcome: Rasa hands every answer to the validator as prefilled.
    slots = {**PASSING, "pain_score": None, "requested_slot": None,
             "answer_order": ["respondent", "red_flags", "age", "spine_mets_confirmed", "spine_region"]}
    events, _ = await run(ValidatePrescreenForm(), tracker(slots, text="go back", intent="go_back",
                                                         pending=("respondent", "red_flags", "age", "spine_region")))
    assert slot_events(events)["requested_slot"] == "pain_score"
