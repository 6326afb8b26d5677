"""The confirming question for a possible red flag outside the screening
questions: before them, after the outcome, or while leaving contact details
(bot/data/rules/checks.yml). Inside the screening, the form asks the same
question itself (actions/prescreen_form.py).
"""

from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import ParsedMessage, stance
from actions.outcome import urgent_care_events
from actions.safe_action import SafeAction
from actions.trial import parsed_message
from actions.understanding import URGENT, red_flag_stage

CONTACT_FORM = "contact_form"


def check_answer(message: ParsedMessage, respondent: Optional[str]) -> Optional[str]:
    """yes / no / unknown to "is it new or getting worse?", or None if unclear."""
    if red_flag_stage(message, respondent) == URGENT:
        return "yes"
    choice = message.first("choice")
    if choice in ("yes", "no", "unknown"):
        return str(choice)
    return stance(message, red_flags=True)


class ActionCheckRedFlag(SafeAction):
    # Not "action_ask_red_flag_check": the form would take an action of that
    # name as its own way of asking the question, and run it in the form.
    def name(self) -> str:
        return "action_check_red_flag"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_ask_red_flag_check")
        if tracker.active_loop.get("name") == CONTACT_FORM:
            # Paused, not lost: the contact form asks its next question again afterwards.
            return [SlotSet("red_flag_check_from", "contact"), SlotSet("requested_slot", None), ActiveLoop(None)]
        # ActiveLoop(None) also here: the rules need one shape for this action.
        return [SlotSet("red_flag_check_from", "none"), ActiveLoop(None)]


class ActionAnswerRedFlagCheck(SafeAction):
    def name(self) -> str:
        return "action_answer_red_flag_check"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        said = check_answer(parsed_message(tracker), tracker.get_slot("respondent"))
        if said == "yes":
            dispatcher.utter_message(response="utter_urgent_care")
            dispatcher.utter_message(response="utter_urgent_care_advice")
            return [SlotSet("red_flags", "yes"), *urgent_care_events(tracker), SlotSet("red_flag_check_from", "done")]
        # "Not sure", or anything that does not answer: the advice, never silence.
        dispatcher.utter_message(response="utter_red_flag_check_no" if said == "no" else "utter_red_flag_check_unsure")
        if tracker.get_slot("red_flag_check_from") == "contact":
            back = "resume_contact"
        elif tracker.get_slot("outcome") is None and tracker.get_slot("respondent") is None:
            back = "start"  # said before the first question: the screening begins now
        else:
            back = "done"
        return [SlotSet("red_flag_check_from", back)]

    def events_on_failure(self, tracker: Tracker) -> list[dict[str, Any]]:
        return [SlotSet("red_flag_check_from", "done")]
