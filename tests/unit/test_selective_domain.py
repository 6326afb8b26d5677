"""Rasa sends the domain only to the actions that read it (issue 14).

With `enable_selective_domain` on the action endpoint, Rasa leaves the domain
(about 50 KB of JSON to encode, send and parse on every call) out of the call
of every action whose domain entry does not say `send_domain: true`; a plain
`validate_*` entry always gets it. These tests ask Rasa's own code what it
would send, for each of our actions, against each action's `needs_domain`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor

from actions.safe_action import SafeAction

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ("bot/endpoints.yml", "bot/endpoints.replicas.yml")


def our_actions() -> dict[str, SafeAction]:
    executor = ActionExecutor()
    executor.register_package("actions")
    found = {name: action for name, action in executor.actions.items() if isinstance(getattr(action, "__self__", None), SafeAction)}
    return {name: action.__self__ for name, action in found.items()}


def endpoint(path: str) -> EndpointConfig:
    config = yaml.safe_load((ROOT / path).read_text())["action_endpoint"]
    return EndpointConfig(**{**config, "url": "http://actions.invalid/webhook"})


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "bot" / "domain"))


def test_every_action_of_ours_is_found() -> None:
    names = set(our_actions())
    assert {"validate_prescreen_form", "validate_contact_form", "action_ask_contact_confirmed"} <= names
    assert len(names) >= 10


@pytest.mark.parametrize("path", ENDPOINTS)
def test_each_action_is_sent_the_domain_exactly_when_it_reads_it(domain: Domain, path: str) -> None:
    tracker = DialogueStateTracker("probe", domain.slots)
    sent = {
        name: "domain" in RemoteAction(name, endpoint(path))._action_call_format(tracker, domain)
        for name in our_actions()
    }
    expected = {name: action.needs_domain for name, action in our_actions().items()}
    assert sent == expected
    assert not sent["validate_prescreen_form"]  # the form's validator: nearly every message


def test_without_selective_domain_rasa_would_send_it_to_all(domain: Domain) -> None:
    """The control: the test above can tell a call with the domain from one without."""
    tracker = DialogueStateTracker("probe", domain.slots)
    plain = EndpointConfig(url="http://actions.invalid/webhook")
    assert all("domain" in RemoteAction(name, plain)._action_call_format(tracker, domain) for name in our_actions())
