"""The shared test helpers stay true to what they stand for: the personas
answer the trial's real questions in its order, and the tests start the API
with the flags scripts/start.sh uses (the log canary relies on it)."""

from __future__ import annotations

import yaml

from actions import contact_form
from tests.personas import CONTACT_ORDER, HELPER_CONTACT_ORDER, LIKELY_FIT, LIKELY_FIT_ORDER, contact, likely_fit
from tests.servers import API_COMMAND, ROOT


def _trial_question_ids() -> list[str]:
    trial = yaml.safe_load((ROOT / "trial" / "nct04242589.yml").read_text(encoding="utf-8"))
    return [question["id"] for question in trial["questions"]]


def _contact_form_slots() -> list[str]:
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "contact.yml").read_text(encoding="utf-8"))
    return [slot for form in domain["forms"].values() for slot in form["required_slots"]]


def test_the_likely_fit_answers_the_trial_questions_in_the_trial_order() -> None:
    asked = [question for question in _trial_question_ids() if question in LIKELY_FIT_ORDER]
    assert asked == LIKELY_FIT_ORDER, "the persona's order is not the trial file's"
    # Only breastfeeding (skipped when pregnancy is not possible) and consent are not in it.
    assert set(_trial_question_ids()) - set(LIKELY_FIT) == {"breastfeeding", "consent_contact"}


def test_the_contact_answers_are_the_contact_steps() -> None:
    assert CONTACT_ORDER[0] == "consent_contact" and set(contact("A", "a@example.org")) == set(HELPER_CONTACT_ORDER)
    assert set(CONTACT_ORDER) < set(HELPER_CONTACT_ORDER)
    assert HELPER_CONTACT_ORDER == list(contact_form.CONTACT_QUESTIONS)
    assert set(HELPER_CONTACT_ORDER[1:]) <= set(_contact_form_slots())
    answers = likely_fit("A Person", "a@example.org", age="70")
    assert answers["age"] == "70" and answers["contact_name"] == "A Person" and answers["red_flags"] == LIKELY_FIT["red_flags"]


def test_the_tests_start_the_api_with_the_start_scripts_flags() -> None:
    started = next(line for line in (ROOT / "scripts" / "start.sh").read_text().splitlines() if "uvicorn" in line)
    for flag in API_COMMAND[1:]:
        assert flag in started.split(), f"{flag} is in tests/servers.py API_COMMAND but not in scripts/start.sh"
