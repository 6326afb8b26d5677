"""Validation of the pre-screen form: interpret each answer, choose the next question.

The question order, skips and early stop all come from the criteria engine
(`next_question`), so the form asks exactly what the trial file says.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import interpret
from actions.criteria import next_question
from actions.safe_action import SafeAction
from actions.trial import answers_from, buttons_of, get_trial, parsed_message, screening_ids

REQUESTED_SLOT = "requested_slot"


def unclear_events(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, rephrase: str) -> list[dict[str, Any]]:
    """Rephrase once, then offer a way out; the form then asks again."""
    count = int(tracker.get_slot("unclear_count") or 0) + 1
    dispatcher.utter_message(response="utter_unclear")
    dispatcher.utter_message(response=rephrase if count == 1 else "utter_way_out")
    return [SlotSet(slot, None), SlotSet("unclear_count", count)]


def warning_sign_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Same-day warning signs (worse and worse pain, pain on coughing, pain at
    night): advise calling the care team today, once, and go on screening."""
    signs = sorted(set(parsed_message(tracker).values("warning_sign")))
    if not signs:
        return []
    known = list(tracker.get_slot("warning_signs") or [])
    if not known:
        dispatcher.utter_message(response="utter_warning_sign_advice")
    return [SlotSet("warning_signs", sorted(set(known) | set(signs)))]


class ValidatePrescreenForm(SafeAction):
    def name(self) -> str:
        return "validate_prescreen_form"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        trial = get_trial()
        requested = tracker.get_slot(REQUESTED_SLOT)
        # The form has put the raw text of this turn into the requested slot.
        pending = tuple(tracker.slots_to_validate())
        answers = answers_from(tracker, leave_out=pending)
        events: list[dict[str, Any]] = []
        if pending:
            events += warning_sign_events(dispatcher, tracker)
        if requested in pending and requested in screening_ids():
            events += self._answer(dispatcher, tracker, requested, answers)
        events.append(SlotSet(REQUESTED_SLOT, next_question(trial, answers)))
        return events

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, qid: str, answers: dict[str, Any]) -> list[dict[str, Any]]:
        question = get_trial().question(qid)
        message = parsed_message(tracker)
        value = interpret(qid, question.answer_type, message, buttons_of(qid))
        if value is None:
            return unclear_events(dispatcher, tracker, qid, f"utter_rephrase_{qid}")
        answers[qid] = value
        order = [q for q in (tracker.get_slot("answer_order") or []) if q != qid]
        events = [SlotSet(qid, value), SlotSet("unclear_count", 0), SlotSet("answer_order", order + [qid])]
        if qid == "spine_region":
            events.append(SlotSet("spine_levels", message.values("spine_level")))
        return events

    def events_on_failure(self, tracker: Tracker) -> list[dict[str, Any]]:
        # Ask the same question again rather than lose the conversation.
        requested = tracker.get_slot(REQUESTED_SLOT)
        return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)] if requested else []
