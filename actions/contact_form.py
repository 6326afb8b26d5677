"""Consent and contact details, asked after a likely fit or a needs-review outcome."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import UNKNOWN, ParsedMessage, stance
from actions.prescreen_form import REQUESTED_SLOT, unclear_events
from actions.safe_action import SafeAction
from actions.trial import parsed_message
from contract.names import CAREGIVER, HELPER_STANDINGS, PATIENT_AGREES

# In asking order ("go back" forgets the last one answered).
CONTACT_QUESTIONS = [
    "consent_contact", "helper_agreement", "patient_name", "helper_relationship",
    "contact_name", "contact_reach", "contact_time", "contact_language", "contact_confirmed",
]
# Asked of a helper only (I1): their standing, and who the patient is apart from the helper's own details.
HELPER_QUESTIONS = frozenset({"helper_agreement", "patient_name", "helper_relationship"})
DETAIL_SLOTS = [
    "helper_agreement", "patient_name", "helper_relationship",
    "contact_name", "contact_reach", "contact_phone", "contact_email", "contact_time", "contact_language", "contact_confirmed",
]
# A helper who has not asked the person yet: nothing is sent (the question's third button).
NOT_YET = "not_yet"
UNCLEAR_RESPONSE = {
    "consent_contact": "utter_rephrase_consent_contact",
    "helper_agreement": "utter_rephrase_helper_agreement",
    "patient_name": "utter_patient_name_unclear",
    "helper_relationship": "utter_relationship_unclear",
    "contact_name": "utter_name_unclear",
    "contact_reach": "utter_reach_unclear",
    "contact_time": "utter_short_answer_unclear",
    "contact_language": "utter_short_answer_unclear",
    "contact_confirmed": "utter_confirm_unclear",
}
MAX_FIELD_CHARS = 100

# North American numbers (Alberta): 10 digits, optional +1, any separators.
PHONE = re.compile(r"(?<!\d)(?:\+?1[\s.-]?)?\(?([2-9]\d{2})\)?[\s.-]?(\d{3})[\s.-]?(\d{4})(?!\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def slots_cleared_with(slot: str) -> list[str]:
    """Going back over 'how to reach you' also forgets the phone and email."""
    return [slot, "contact_phone", "contact_email"] if slot == "contact_reach" else [slot]


def phone_in(text: str) -> Optional[str]:
    match = PHONE.search(text)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


# RFC 5321's limit, and the referral API's: a longer address could never be delivered.
MAX_EMAIL_CHARS = 254


def email_in(text: str) -> Optional[str]:
    match = EMAIL.search(text)
    if not match or len(match.group(0)) > MAX_EMAIL_CHARS:
        return None
    return match.group(0).lower()


def free_text(message: ParsedMessage) -> Optional[str]:
    """A short free answer (a name, a time): the chosen button or the typed text."""
    chosen = message.first("choice")
    text = str(chosen) if chosen is not None else message.text.strip()
    if not text or len(text) > MAX_FIELD_CHARS or not re.search(r"[^\W\d_]", text):
        return None
    return text


def helper_standing(message: ParsedMessage) -> Optional[str]:
    """A tapped button; a typed yes is agreement, a typed no or "not sure" is "not yet".

    Unsure counts as not yet: the team contacts nobody who has not agreed, and
    the helper is told how to come back. Anything else is asked again (one tap).
    """
    chosen = message.first("choice")
    if chosen in (*HELPER_STANDINGS, NOT_YET):
        return str(chosen)
    said = stance(message)
    if said == "yes":
        return PATIENT_AGREES
    return NOT_YET if said in ("no", UNKNOWN) else None


def interpret_contact(slot: str, message: ParsedMessage) -> dict[str, Any]:
    """The slots this answer fills, or {} when it does not answer the question."""
    if slot == "helper_agreement":
        standing = helper_standing(message)
        return {slot: standing} if standing else {}
    if slot == "consent_contact":
        said = message.first("choice") or stance(message)
        if said in ("yes", "no"):
            extra = {"consent_time": datetime.now(timezone.utc).isoformat()} if said == "yes" else {}
            return {"consent_contact": said, **extra}
        return {}
    if slot == "contact_reach":
        phone, email = phone_in(message.text), email_in(message.text)
        if not (phone or email):
            return {}
        return {"contact_reach": "given", "contact_phone": phone, "contact_email": email}
    if slot == "contact_confirmed":
        said = message.first("choice") or stance(message)
        if said == "change":
            return {slot_name: None for slot_name in DETAIL_SLOTS}
        return {"contact_confirmed": said} if said in ("yes", "no") else {}
    value = free_text(message)
    return {slot: value} if value else {}


def next_contact_question(slots: dict[str, Any], respondent: Optional[str]) -> Optional[str]:
    if slots.get("consent_contact") == "no" or slots.get("contact_confirmed") in ("yes", "no"):
        return None
    if slots.get("helper_agreement") == NOT_YET:
        return None
    asked = [s for s in CONTACT_QUESTIONS if respondent == CAREGIVER or s not in HELPER_QUESTIONS]
    return next((slot for slot in asked if slots.get(slot) is None), None)


def may_refer(slots: dict[str, Any], respondent: Optional[str]) -> bool:
    """Consent given and the details confirmed; a helper must also have the standing to refer (I1)."""
    confirmed = slots.get("consent_contact") == "yes" and slots.get("contact_confirmed") == "yes"
    return confirmed and (respondent != CAREGIVER or slots.get("helper_agreement") in HELPER_STANDINGS)


class ValidateContactForm(SafeAction):
    def name(self) -> str:
        return "validate_contact_form"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        pending = tracker.slots_to_validate()
        slots = {slot: tracker.get_slot(slot) for slot in CONTACT_QUESTIONS}
        events: list[dict[str, Any]] = []
        if requested in pending and requested in CONTACT_QUESTIONS:
            filled = interpret_contact(requested, parsed_message(tracker))
            if filled:
                slots.update(filled)
                events += [SlotSet(name, value) for name, value in filled.items()]
                events.append(SlotSet("unclear_count", 0))
            else:
                slots[requested] = None
                events += unclear_events(dispatcher, tracker, requested, UNCLEAR_RESPONSE[requested])
        events.append(SlotSet(REQUESTED_SLOT, next_contact_question(slots, tracker.get_slot("respondent"))))
        return events


class ActionAskContactConfirmed(SafeAction):
    """Read the details back before anything is sent."""

    needs_domain = True  # the "not given" words are a response of the domain

    def name(self) -> str:
        return "action_ask_contact_confirmed"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        not_given = domain["responses"]["utter_not_given"][0]["text"]
        details = {slot: tracker.get_slot(slot) or not_given for slot in DETAIL_SLOTS}
        dispatcher.utter_message(response="utter_contact_summary", **details)
        dispatcher.utter_message(response="utter_ask_contact_confirmed")
        return []
