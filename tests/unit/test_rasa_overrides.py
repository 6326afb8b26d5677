"""Issue 14: the overrides of Rasa internals give Rasa's own results, and only on the pinned Rasa.

The action call carries this turn's events only; the rest of the call is
Rasa's, and the action server reads the same answers from it.

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
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

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
        assert RemoteAction._action_call_format is rasa_overrides.RASAS_CALL_FORMAT
        assert EndpointConfig.session is rasa_overrides.RASAS_SESSION
    finally:
        assert rasa_overrides.install() is True
    assert RemoteAction._validate_action_result is rasa_overrides.validate_action_result
    assert Event.resolve_by_type is rasa_overrides.resolve_by_type
    assert RemoteAction._action_call_format is rasa_overrides.action_call_format
    assert EndpointConfig.session is rasa_overrides.kept_session


# --- the action call carries this turn's events ---------------------------------


def _conversation(domain: Domain) -> DialogueStateTracker:
    """Two answered questions, then a third answer with the form's slot candidates, as Rasa builds them."""
    tracker = DialogueStateTracker("c1", domain.slots)
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for text, slot, value in (("myself", "respondent", "self"), ("no", "red_flags", "no"), ("64", "age", 64)):
        events += [
            UserUttered(text, {"name": "inform", "confidence": 0.9}, parse_data={"intent_ranking": [{"name": "inform"}]}),
            ActionExecuted("prescreen_form"),
            BotUttered("a question", {"custom": {"asks": slot}}),
            ActionExecuted("action_listen"),
        ]
    events = events[:-3] + [SlotSet("requested_slot", "age"), SlotSet("age", "64")]
    for event in events:
        tracker.update(event)
    return tracker


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


def _formats(domain: Domain) -> tuple[dict[str, Any], dict[str, Any]]:
    tracker = _conversation(domain)
    action = RemoteAction("validate_prescreen_form", EndpointConfig(url="http://actions.invalid/webhook"))
    return rasa_overrides.RASAS_CALL_FORMAT(action, tracker, domain), action._action_call_format(tracker, domain)


def test_an_action_call_carries_the_events_from_the_latest_user_message_on(domain: Domain) -> None:
    rasas, ours = _formats(domain)
    latest = max(i for i, event in enumerate(rasas["tracker"]["events"]) if event["event"] == "user")
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][latest:]
    assert [event["event"] for event in ours["tracker"]["events"]] == ["user", "slot", "slot"]
    assert len(rasas["tracker"]["events"]) > 3 * len(ours["tracker"]["events"])


def test_everything_else_in_the_call_is_rasas_own(domain: Domain) -> None:
    rasas, ours = _formats(domain)
    assert {**ours, "tracker": None} == {**rasas, "tracker": None}  # domain, names, version
    assert {**ours["tracker"], "events": None} == {**rasas["tracker"], "events": None}


def test_the_action_server_reads_the_same_answers_from_the_shorter_call(domain: Domain) -> None:
    """What our actions read (actions/safe_action.py): slots, latest message, loop, slot candidates."""
    rasas, ours = (Tracker.from_dict(call["tracker"]) for call in _formats(domain))
    assert ours.slots_to_validate() == rasas.slots_to_validate() == {"requested_slot": "age", "age": "64"}
    assert ours.slots == rasas.slots
    assert ours.latest_message == rasas.latest_message
    assert ours.active_loop == rasas.active_loop
    assert ours.latest_action_name == rasas.latest_action_name


def test_before_any_user_message_every_event_is_sent(domain: Domain) -> None:
    tracker = DialogueStateTracker("c2", domain.slots)
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    assert rasa_overrides.this_turn(tracker) == list(tracker.events)


# --- the connections to the action server are kept ------------------------------


class _CountingServer:
    """A real HTTP server answering JSON; counts the TCP connections it accepted."""

    def __init__(self) -> None:
        self.connections: set[int] = set()
        self.runner: Any = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        from aiohttp import web

        async def answer(request: web.Request) -> web.Response:
            self.connections.add(id(request.transport))
            return web.json_response({"events": [], "responses": [], "auth": request.headers.get("Authorization")})

        app = web.Application()
        app.router.add_post("/webhook", answer)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = port or self.runner.addresses[0][1]

    async def stop(self) -> None:
        await self.runner.cleanup()


def test_the_kept_session_is_rasas_session_but_kept() -> None:
    import asyncio

    async def compare() -> None:
        endpoint = EndpointConfig("http://127.0.0.1:1/webhook", headers={"X-Test": "1"},
                                  basic_auth={"username": "u", "password": "p"})
        rasas = rasa_overrides.RASAS_SESSION(endpoint)
        async with endpoint.session() as first, endpoint.session() as second:
            assert first is second
            assert (first.headers, first.auth, first.timeout) == (rasas.headers, rasas.auth, rasas.timeout)
        assert not first.closed, "left open for the next call"
        await rasas.close()
        await rasa_overrides.close_kept_sessions()
        assert first.closed and rasa_overrides.KEPT_SESSIONS == {}

    asyncio.run(compare())


def test_calls_reuse_one_connection_and_survive_a_restarted_server() -> None:
    import asyncio

    async def calls() -> tuple[int, int, int]:
        server = _CountingServer()
        await server.start()
        endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook", basic_auth={"username": "u", "password": "p"})
        for _ in range(5):
            reply = await endpoint.request(json={"next_action": "x"}, method="post")
            assert reply["auth"].startswith("Basic ")
        kept = len(server.connections)
        # The action server restarts: the next call finds its connection closed and opens another.
        await server.stop()
        restarted = _CountingServer()
        await restarted.start(server.port)
        assert (await endpoint.request(json={"next_action": "x"}, method="post"))["events"] == []
        after_restart = len(restarted.connections)
        # The control: Rasa's own session opens a connection per call.
        rasa_overrides.install("3.6.22")
        try:
            for _ in range(3):
                await endpoint.request(json={"next_action": "x"}, method="post")
        finally:
            rasa_overrides.install()
        control = len(restarted.connections) - after_restart
        await rasa_overrides.close_kept_sessions()
        await restarted.stop()
        return kept, after_restart, control

    assert asyncio.run(calls()) == (1, 1, 3)
