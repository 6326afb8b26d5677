"""Consent and contact details: what counts as an answer."""

from __future__ import annotations

import pytest

from actions.answers import ParsedMessage
from actions.contact_form import HELPER_QUESTIONS, email_in, interpret_contact, may_refer, next_contact_question, phone_in
from contract.names import CAREGIVER, DECISION_MAKER, PATIENT_AGREES, SELF


@pytest.mark.parametrize(
    ("text", "phone"),
    [("403-555-0199", "403-555-0199"), ("(780) 555 0123", "780-555-0123"), ("+1 403 555 0199", "403-555-0199"),
     ("call 4035550199 please", "403-555-0199"), ("12345", None), ("555-0199", None)],
)
def test_phone_numbers(text: str, phone: str | None) -> None:
    assert phone_in(text) == phone


def test_email_is_found_and_lower_cased() -> None:
    assert email_in("it's Sam.Lee@Example.ca thanks") == "sam.lee@example.ca"
    assert email_in("sam at example") is None


def test_reach_needs_a_phone_or_an_email() -> None:
    both = interpret_contact("contact_reach", ParsedMessage("403 555 0199 or sam@example.com"))
    assert both == {"contact_reach": "given", "contact_phone": "403-555-0199", "contact_email": "sam@example.com"}
    assert interpret_contact("contact_reach", ParsedMessage("my cell")) == {}


def test_consent_yes_records_the_time_and_no_stops_the_form() -> None:
    given = interpret_contact("consent_contact", ParsedMessage("/choose", "choose", ({"entity": "choice", "value": "yes"},)))
    assert given["consent_contact"] == "yes" and given["consent_time"]
    refused = interpret_contact("consent_contact", ParsedMessage("no thanks", "deny"))
    assert refused == {"consent_contact": "no"}
    assert next_contact_question(refused, SELF) is None
    assert next_contact_question(refused, CAREGIVER) is None


def test_name_must_look_like_a_name() -> None:
    assert interpret_contact("contact_name", ParsedMessage("Sam Lee")) == {"contact_name": "Sam Lee"}
    assert interpret_contact("contact_name", ParsedMessage("12345")) == {}
    assert interpret_contact("contact_name", ParsedMessage("x" * 101)) == {}


def test_change_clears_every_detail_and_asks_the_name_again() -> None:
    cleared = interpret_contact("contact_confirmed", ParsedMessage("/choose", "choose", ({"entity": "choice", "value": "change"},)))
    slots = {"consent_contact": "yes", **cleared}
    assert next_contact_question(slots, SELF) == "contact_name"
    # A helper's "change" asks their standing and the patient's name again too.
    assert next_contact_question(slots, CAREGIVER) == "helper_agreement"


def test_questions_come_in_order_and_end_after_confirmation() -> None:
    slots = {"consent_contact": "yes", "contact_name": "Sam"}
    assert next_contact_question(slots, SELF) == "contact_reach"
    assert next_contact_question({**slots, "contact_reach": "given", "contact_time": "morning",
                                  "contact_language": "English", "contact_confirmed": "yes"}, SELF) is None


def _asked(respondent: str, answers: dict[str, str]) -> list[str]:
    """The questions the form asks in turn, answering each from ``answers``."""
    slots: dict[str, str] = {}
    asked = []
    while (slot := next_contact_question(slots, respondent)) is not None:
        asked.append(slot)
        slots[slot] = answers[slot]
    return asked


ANSWERS = {"consent_contact": "yes", "helper_agreement": PATIENT_AGREES, "patient_name": "Pat Lee",
           "helper_relationship": "friend", "contact_name": "Sam", "contact_reach": "given",
           "contact_time": "morning", "contact_language": "English", "contact_confirmed": "yes"}


def test_a_helper_is_asked_their_standing_and_the_patients_name_a_patient_is_not() -> None:
    assert _asked(CAREGIVER, ANSWERS) == ["consent_contact", "helper_agreement", "patient_name", "helper_relationship",
                                          "contact_name", "contact_reach", "contact_time", "contact_language",
                                          "contact_confirmed"]
    assert not HELPER_QUESTIONS & set(_asked(SELF, ANSWERS))
    assert _asked(SELF, ANSWERS)[:2] == ["consent_contact", "contact_name"]


def test_a_helper_who_has_not_asked_the_person_yet_is_asked_nothing_more_and_nothing_is_sent() -> None:
    assert _asked(CAREGIVER, {**ANSWERS, "helper_agreement": "not_yet"}) == ["consent_contact", "helper_agreement"]
    done = {**ANSWERS}
    assert may_refer(done, CAREGIVER) and may_refer({**done, "helper_agreement": DECISION_MAKER}, CAREGIVER)
    assert not may_refer({**done, "helper_agreement": "not_yet"}, CAREGIVER)
    assert not may_refer({**done, "helper_agreement": None}, CAREGIVER)
    assert may_refer({**done, "helper_agreement": None}, SELF)
    assert not may_refer({**done, "contact_confirmed": "no"}, SELF)


def _choice(value: str) -> ParsedMessage:
    return ParsedMessage("/choose", "choose", ({"entity": "choice", "value": value},))


def test_the_helpers_standing_from_a_tap_or_typed_words() -> None:
    assert interpret_contact("helper_agreement", _choice(DECISION_MAKER)) == {"helper_agreement": DECISION_MAKER}
    assert interpret_contact("helper_agreement", _choice("not_yet")) == {"helper_agreement": "not_yet"}
    assert interpret_contact("helper_agreement", ParsedMessage("yes", "affirm")) == {"helper_agreement": PATIENT_AGREES}
    # Unsure is not agreement: nothing is sent, and the helper is told how to come back.
    assert interpret_contact("helper_agreement", ParsedMessage("I don't know", "dont_know")) == {"helper_agreement": "not_yet"}
    assert interpret_contact("helper_agreement", ParsedMessage("no", "deny")) == {"helper_agreement": "not_yet"}
    assert interpret_contact("helper_agreement", _choice("something else")) == {}
    assert interpret_contact("helper_agreement", ParsedMessage("what do you mean", "ask_what")) == {}


def test_the_patients_name_and_the_relationship_are_short_free_answers() -> None:
    assert interpret_contact("patient_name", ParsedMessage("Pat Lee")) == {"patient_name": "Pat Lee"}
    assert interpret_contact("patient_name", ParsedMessage("12345")) == {}
    assert interpret_contact("helper_relationship", _choice("spouse or partner")) == {"helper_relationship": "spouse or partner"}
    assert interpret_contact("helper_relationship", ParsedMessage("her niece")) == {"helper_relationship": "her niece"}


def test_an_email_longer_than_any_mail_system_takes_is_refused() -> None:
    assert email_in("a" * 250 + "@example.org") is None
    assert interpret_contact("contact_reach", ParsedMessage("a" * 250 + "@example.org")) == {}
