"""'Go back' and 'start over', available at every turn."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.contact_form import CONTACT_QUESTIONS, slots_cleared_with
from actions.safe_action import SafeAction


class ActionGoBack(SafeAction):
    """Forget the last answer so that the form asks that question again."""

    def name(self) -> str:
        return "action_go_back"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        # requested_slot is cleared so the form re-computes what to ask next.
        events: list[dict[str, Any]] = [SlotSet("requested_slot", None), SlotSet("unclear_count", 0)]
        if tracker.active_loop.get("name") == "contact_form":
            filled = [slot for slot in CONTACT_QUESTIONS if tracker.get_slot(slot) is not None]
            if not filled:
                dispatcher.utter_message(response="utter_nothing_to_go_back_to")
                return events
            dispatcher.utter_message(response="utter_went_back")
            return events + [SlotSet(slot, None) for slot in slots_cleared_with(filled[-1])]
        order = list(tracker.get_slot("answer_order") or [])
        if not order:
            dispatcher.utter_message(response="utter_nothing_to_go_back_to")
            return events
        dispatcher.utter_message(response="utter_went_back")
        last = order.pop()
        return events + [SlotSet(last, None), SlotSet("answer_order", order), SlotSet("outcome", None)]


class ActionStartOver(SafeAction):
    """Clear every answer and contact detail (safety-security.md 6)."""

    def name(self) -> str:
        return "action_start_over"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_started_over")
        events: list[dict[str, Any]] = [AllSlotsReset()]
        if tracker.active_loop.get("name"):
            events.append(ActiveLoop(None))
        return events
