"""Issue 14: the overrides of Rasa internals give Rasa's own results, and only on the pinned Rasa.

The action-reply check must refuse exactly what Rasa's own code refuses, with
the same error; the event lookup must find the class Rasa's walk finds, also
for an Event class defined after the first lookup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet, UserUttered, deserialise_events
from rasa.shared.utils.common import all_subclasses

import nlu.channel  # noqa: F401  (loading the channel installs the override, as in the Rasa server)
from nlu import rasa_overrides

ROOT = Path(__file__).resolve().parents[2]
VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "requested_slot", "value": "age", "timestamp": None}],
     "responses": [{"response": "utter_ask_age", "buttons": [], "custom": {"asks": "age"}}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "action_listen"}]},
]
MALFORMED: list[Any] = [
    [],
    {"events": {"event": "slot"}},
    {"events": [{"name": "requested_slot"}]},
    {"events": [{"event": "slot", "name": 7}]},
    {"responses": "utter_ask_age"},
    {"responses": ["utter_ask_age"]},
]


def _rasas_error(reply: Any) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        rasa_overrides.RASAS_VALIDATE(RemoteAction("x", None), reply)
    return raised.value


def test_the_pin_is_the_locked_rasa_and_the_override_is_installed() -> None:
    locked = re.search(r"^rasa==(\S+)$", (ROOT / "requirements" / "rasa.lock.txt").read_text(), re.M)
    assert locked and locked.group(1) == rasa_overrides.RASA_PIN
    assert RemoteAction._validate_action_result is rasa_overrides.validate_action_result
    assert Event.resolve_by_type is rasa_overrides.resolve_by_type


@pytest.mark.parametrize("reply", VALID)
def test_a_valid_reply_is_accepted_as_by_rasa(reply: dict[str, Any]) -> None:
    assert rasa_overrides.RASAS_VALIDATE(RemoteAction("x", None), reply) is True
    assert RemoteAction("x", None)._validate_action_result(reply) is True


@pytest.mark.parametrize("reply", MALFORMED)
def test_a_malformed_reply_is_refused_with_rasas_own_error(reply: Any) -> None:
    expected = _rasas_error(reply)
    with pytest.raises(ValidationError) as raised:
        RemoteAction("x", None)._validate_action_result(reply)
    assert raised.value.message == expected.message and "Failed to validate Action server response" in expected.message
    assert list(raised.value.absolute_path) == list(expected.absolute_path)


def test_every_event_type_resolves_to_rasas_own_class() -> None:
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "slot", "action", "bot", "active_loop", "session_started"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is rasa_overrides.RASAS_RESOLVE(name), name
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")
    events = deserialise_events([{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}, "entities": []}},
                                 {"event": "slot", "name": "age", "value": 64}])
    assert [type(e) for e in events] == [UserUttered, SlotSet]


def test_an_event_class_defined_after_the_first_lookup_is_still_found() -> None:
    Event.resolve_by_type("slot")  # the map is built

    class LateEvent(SlotSet):
        type_name = "late_event_for_this_test"

    assert Event.resolve_by_type("late_event_for_this_test") is LateEvent
    assert rasa_overrides.RASAS_RESOLVE("late_event_for_this_test") is LateEvent


def test_on_another_rasa_version_rasas_own_code_runs() -> None:
    try:
        assert rasa_overrides.install("3.6.22") is False
        assert RemoteAction._validate_action_result is rasa_overrides.RASAS_VALIDATE
        assert Event.resolve_by_type is rasa_overrides.RASAS_RESOLVE
    finally:
        assert rasa_overrides.install() is True
    assert RemoteAction._validate_action_result is rasa_overrides.validate_action_result
    assert Event.resolve_by_type is rasa_overrides.resolve_by_type
