"""Consent and contact details: what counts as an answer."""

from __future__ import annotations

import pytest

from actions.answers import ParsedMessage
from actions.contact_form import email_in, interpret_contact, next_contact_question, phone_in


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
    assert next_contact_question(refused) is None


def test_name_must_look_like_a_name() -> None:
    assert interpret_contact("contact_name", ParsedMessage("Sam Lee")) == {"contact_name": "Sam Lee"}
    assert interpret_contact("contact_name", ParsedMessage("12345")) == {}
    assert interpret_contact("contact_name", ParsedMessage("x" * 101)) == {}


def test_change_clears_every_detail_and_asks_the_name_again() -> None:
    cleared = interpret_contact("contact_confirmed", ParsedMessage("/choose", "choose", ({"entity": "choice", "value": "change"},)))
    slots = {"consent_contact": "yes", **cleared}
    assert next_contact_question(slots) == "contact_name"


def test_questions_come_in_order_and_end_after_confirmation() -> None:
    slots = {"consent_contact": "yes", "contact_name": "Sam"}
    assert next_contact_question(slots) == "contact_reach"
    assert next_contact_question({**slots, "contact_reach": "given", "contact_time": "morning",
                                  "contact_language": "English", "contact_confirmed": "yes"}) is None


def test_an_email_longer_than_any_mail_system_takes_is_refused() -> None:
    assert email_in("a" * 250 + "@example.org") is None
    assert interpret_contact("contact_reach", ParsedMessage("a" * 250 + "@example.org")) == {}
