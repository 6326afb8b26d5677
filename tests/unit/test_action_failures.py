"""R4: whatever fails inside a custom action, the patient still gets a safe reply.

The actions are found the way the action server finds them
(`ActionExecutor.register_package("actions")`, as `python -m rasa_sdk
--actions actions` does), so a new action is covered without touching this
file. Each is run through the executor with the real domain (what Rasa sends)
in several conversation states, with a failure injected:

- its own work raises (`act`), and
- a dependency fails: the trial file cannot be loaded, the outbox database is
  locked, the tracker cannot be read, a reply cannot be built.

Then the reply must be `utter_technical_problem` (and nothing half-said before
it), the events must be ones Rasa accepts (parsed by Rasa's own Event class,
slots known to the domain), and the log must not hold any answer or contact detail.
"""

from __future__ import annotations

import copy
import logging
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.safe_action import SafeAction

ROOT = Path(__file__).resolve().parents[2]
SAFE_REPLY = "utter_technical_problem"
NAME, EMAIL, PHONE = "Quillon Failmarker", "quillon.failmarker@example.org", "403-555-0166"


def _executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


EXECUTOR = _executor()
# Only the project's actions (the executor also sees any Action subclass another test defines).
ACTIONS = sorted(
    name for name, run in EXECUTOR.actions.items() if type(run.__self__).__module__.startswith("actions.")
)
DOMAIN = Domain.load(str(ROOT / "bot" / "domain"))
DOMAIN_DICT = DOMAIN.as_dict()
SLOT_NAMES = {slot.name for slot in DOMAIN.slots}

SCREENING = {
    "respondent": "self", "red_flags": "no", "age": 61, "spine_mets_confirmed": "yes",
    "spine_region": ["thoracic"], "pain_score": 7, "pain_warning_signs": "no", "cord_compression_told": "no",
    "primary_cancer": "prostate", "pregnancy": "not_applicable", "prior_spine_radiation": "no",
    "performance_status": 0, "visceral_metastases": "no", "able_to_attend": "yes",
}
CONTACT = {
    "consent_contact": "yes", "consent_time": "2025-03-01T12:00:00+00:00", "contact_name": NAME,
    "contact_reach": "given", "contact_phone": PHONE, "contact_email": EMAIL,
    "contact_time": "evening", "contact_language": "English", "contact_confirmed": "yes",
}


def _tracker(slots: dict[str, Any], text: str, *, entities: list[dict[str, Any]] = (), intent: str = "inform",
             pending: tuple[str, ...] = (), loop: str | None = None) -> dict[str, Any]:
    """A tracker as Rasa sends it to the action server (JSON)."""
    events: list[dict[str, Any]] = [{"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}]
    events += [{"event": "slot", "name": name, "value": slots[name]} for name in pending]
    return {
        "sender_id": "failure-test",
        "slots": {**{name: None for name in SLOT_NAMES}, **slots},
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": list(entities)},
        "events": events,
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": loop} if loop else {},
        "latest_action_name": "action_listen",
    }


# Conversation states in which every action has real work to do.
STATES = {
    "screening": _tracker(
        {"respondent": "self", "red_flags": "no", "age": "I'm 61", "requested_slot": "age",
         "answer_order": ["respondent", "red_flags"]},
        "I'm 61", entities=[{"entity": "age", "value": 61}], pending=("age",), loop="prescreen_form",
    ),
    "contact": _tracker(
        {**SCREENING, "outcome": "likely_eligible", **CONTACT, "contact_confirmed": None,
         "contact_name": NAME, "requested_slot": "contact_name"},
        NAME, pending=("contact_name",), loop="contact_form",
    ),
    "finished": _tracker({**SCREENING, "outcome": "likely_eligible", **CONTACT}, "Yes, send it", intent="affirm"),
}


def _call(name: str, state: str) -> dict[str, Any]:
    tracker = copy.deepcopy(STATES[state])
    return {"next_action": name, "sender_id": tracker["sender_id"], "tracker": tracker, "domain": DOMAIN_DICT}


async def _run(name: str, state: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Through the executor, as the action server does: (events, messages)."""
    response = await EXECUTOR.run(_call(name, state))
    assert isinstance(response, dict)
    return response["events"], response["responses"]


def _assert_valid_events(events: Any) -> None:
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, dict) and "event" in event, event
        parsed = Event.from_parameters(event)
        assert parsed is not None, f"Rasa would drop {event}"
        if event["event"] == "slot":
            assert event["name"] in SLOT_NAMES, f"unknown slot {event['name']}"


def _assert_safe_reply(messages: list[dict[str, Any]]) -> None:
    said = [m.get("response") or m.get("text") for m in messages]
    assert said == [SAFE_REPLY], said
    assert SAFE_REPLY in DOMAIN_DICT["responses"]


def _assert_no_phi(caplog: pytest.LogCaptureFixture) -> None:
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in (NAME, EMAIL, PHONE, "I'm 61", "prostate"):
        assert value not in logged, value


def test_every_action_of_the_domain_is_served_and_covered() -> None:
    custom = {a for a in DOMAIN.user_actions if not a.startswith("utter_")}
    assert not custom - set(ACTIONS), "the domain names actions the action server does not serve"
    assert {f"validate_{form}" for form in DOMAIN.form_names} <= set(ACTIONS)


@pytest.mark.parametrize("name", ACTIONS)
def test_every_action_is_a_safe_action(name: str) -> None:
    action = EXECUTOR.actions[name].__self__
    assert isinstance(action, SafeAction), f"{name} must derive from SafeAction, or its failures go unanswered"


@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("name", ACTIONS)
async def test_a_failure_in_the_actions_own_work_still_answers(
    name: str, state: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    action = EXECUTOR.actions[name].__self__

    async def broken(dispatcher: Any, tracker: Tracker, domain: Any) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=f"half-said {tracker.get_slot('contact_name')}")
        raise RuntimeError(f"boom with {NAME} {EMAIL}")

    monkeypatch.setattr(action, "act", broken)
    with caplog.at_level(logging.DEBUG):
        events, messages = await _run(name, state)
    _assert_safe_reply(messages)
    _assert_valid_events(events)
    _assert_no_phi(caplog)
    assert any(name in r.getMessage() and "RuntimeError" in r.getMessage() for r in caplog.records)


def _trial_missing(monkeypatch: pytest.MonkeyPatch, fail: Callable[..., Any]) -> None:
    import actions

    monkeypatch.setattr("actions.trial.get_trial", fail)
    # Modules that imported the function by name.
    for module in list(vars(actions).values()):
        if getattr(module, "get_trial", None) is not None and module.__name__.startswith("actions."):
            monkeypatch.setattr(module, "get_trial", fail)


def _outbox_locked(monkeypatch: pytest.MonkeyPatch, fail: Callable[..., Any]) -> None:
    monkeypatch.setattr("actions.outbox.Outbox.put", fail)


def _tracker_unreadable(monkeypatch: pytest.MonkeyPatch, fail: Callable[..., Any]) -> None:
    """Reading a slot fails while an action does its work (its recovery: see the test below)."""
    working = {"depth": 0}
    read = Tracker.get_slot

    def get_slot(self: Tracker, key: str) -> Any:
        return fail(key) if working["depth"] else read(self, key)

    monkeypatch.setattr(Tracker, "get_slot", get_slot)
    for name in ACTIONS:
        action = EXECUTOR.actions[name].__self__
        act = action.act

        async def at_work(*args: Any, _act: Callable[..., Any] = act) -> Any:
            working["depth"] += 1
            try:
                return await _act(*args)
            finally:
                working["depth"] -= 1

        monkeypatch.setattr(action, "act", at_work)


def _reply_fails(monkeypatch: pytest.MonkeyPatch, fail: Callable[..., Any]) -> None:
    """Building a reply fails (any message but the safe one)."""
    utter = CollectingDispatcher.utter_message

    def utter_message(self: CollectingDispatcher, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("response") == SAFE_REPLY:
            return utter(self, *args, **kwargs)
        fail()

    monkeypatch.setattr(CollectingDispatcher, "utter_message", utter_message)


INJECTIONS = {
    "trial file unreadable": (_trial_missing, FileNotFoundError),
    "outbox locked": (_outbox_locked, sqlite3.OperationalError),
    "tracker unreadable": (_tracker_unreadable, KeyError),
    "reply fails": (_reply_fails, ValueError),
}


@pytest.mark.parametrize("injection", sorted(INJECTIONS))
@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("name", ACTIONS)
async def test_a_failing_dependency_still_answers(
    name: str, state: str, injection: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
    patch, error = INJECTIONS[injection]
    raised: list[int] = []

    def fail(*args: Any, **kwargs: Any) -> Any:
        raised.append(1)
        raise error(f"injected, with {NAME}")

    patch(monkeypatch, fail)
    with caplog.at_level(logging.DEBUG):
        events, messages = await _run(name, state)
    _assert_valid_events(events)
    _assert_no_phi(caplog)
    if raised:
        _assert_safe_reply(messages)
    # Otherwise this action does not use that dependency in this state and answers as it would anyway.


@pytest.mark.parametrize("name", [n for n in ACTIONS if n == "validate_prescreen_form"] or ACTIONS[:1])
async def test_a_failure_while_recovering_still_answers(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    action = EXECUTOR.actions[name].__self__

    async def broken(*args: Any) -> list[dict[str, Any]]:
        raise RuntimeError("work failed")

    def recovery_fails(tracker: Tracker) -> list[dict[str, Any]]:
        raise KeyError("recovery failed too")

    monkeypatch.setattr(action, "act", broken)
    monkeypatch.setattr(action, "events_on_failure", recovery_fails)
    events, messages = await _run(name, "screening")
    _assert_safe_reply(messages)
    _assert_valid_events(events)


def test_the_injections_reach_every_action(tmp_path: Path) -> None:
    """Each action is hit by at least one dependency failure in some state (else the test above proves little)."""
    import asyncio

    reached: dict[str, set[str]] = {name: set() for name in ACTIONS}
    for name in ACTIONS:
        for state in STATES:
            for injection, (patch, error) in INJECTIONS.items():
                with pytest.MonkeyPatch.context() as monkeypatch:
                    raised: list[int] = []

                    def fail(*args: Any, _raised: list[int] = raised, _error: type = error, **kwargs: Any) -> Any:
                        _raised.append(1)
                        raise _error("injected")

                    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.sqlite"))
                    patch(monkeypatch, fail)
                    asyncio.run(_run(name, state))
                    if raised:
                        reached[name].add(injection)
    assert all(reached.values()), {name: sorted(hit) for name, hit in reached.items()}
    print({name: sorted(hit) for name, hit in reached.items()})
