"""Telling the patient the outcome, and the urgent-care stop at any turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.criteria import evaluate
from actions.safe_action import SafeAction
from actions.trial import answers_from, get_trial
from contract.names import NEEDS_REVIEW, NOT_ELIGIBLE, URGENT_CARE

INTRO = {NOT_ELIGIBLE: "utter_reasons_intro", NEEDS_REVIEW: "utter_review_intro"}


def patient_reasons(evaluation: Any) -> list[str]:
    """Distinct patient-facing reasons behind the outcome, in question order."""
    reasons: list[str] = []
    for result in evaluation.deciding:
        if result.reason_patient and result.reason_patient not in reasons:
            reasons.append(result.reason_patient)
    return reasons


def urgent_care_events(tracker: Tracker) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [SlotSet("outcome", URGENT_CARE), SlotSet("requested_slot", None)]
    if tracker.active_loop.get("name"):
        events.append(ActiveLoop(None))
    return events


class ActionGiveOutcome(SafeAction):
    def name(self) -> str:
        return "action_give_outcome"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        evaluation = evaluate(get_trial(), answers_from(tracker))
        outcome = evaluation.outcome
        if outcome == URGENT_CARE:
            dispatcher.utter_message(response="utter_urgent_care")
            dispatcher.utter_message(response="utter_urgent_care_advice")
            return urgent_care_events(tracker)
        dispatcher.utter_message(response=f"utter_outcome_{outcome}")
        reasons = patient_reasons(evaluation)
        if reasons and outcome in INTRO:
            dispatcher.utter_message(response=INTRO[outcome])
            for reason in reasons:
                dispatcher.utter_message(text=reason)
        if outcome == NOT_ELIGIBLE:
            dispatcher.utter_message(response="utter_not_eligible_next")
            dispatcher.utter_message(response="utter_not_eligible_go_back")
        # Criterion ids only (no answers): the gateway counts them for the funnel statistics.
        dispatcher.utter_message(json_message={"outcome_reasons": [row.question_id for row in evaluation.deciding]})
        return [SlotSet("outcome", outcome)]


class ActionUrgentCare(SafeAction):
    """A red-flag symptom was mentioned: safety first, screening stops."""

    def name(self) -> str:
        return "action_urgent_care"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_urgent_care")
        dispatcher.utter_message(response="utter_urgent_care_advice")
        return [SlotSet("red_flags", "yes"), *urgent_care_events(tracker)]

    def events_on_failure(self, tracker: Tracker) -> list[dict[str, Any]]:
        return urgent_care_events(tracker)
