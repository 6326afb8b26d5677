"""The chat contract on the bot's side (Rasa environment).

Every `custom` block of bot/domain/*.yml, and every json_message the actions
send, keeps contract/chat_custom.schema.json: the keys the gateway
(api/services/bot_turns.py) reads, and only those. A response with a key or an
outcome the contract does not know fails here, not silently in the gateway
(which ignores it).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.outcome import ActionGiveOutcome, ActionUrgentCare
from actions.trial import get_trial
from contract import names
from contract.schema import chat_custom_at, chat_custom_schema
from contract.validate import chat_custom_problems, describe

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILES = sorted((ROOT / "bot" / "domain").glob("*.yml"))
ACTION_FILES = sorted((ROOT / "actions").rglob("*.py"))
KEYS = set(chat_custom_schema()["properties"])

PASSING = {
    "respondent": "self", "red_flags": "no", "age": 60, "spine_mets_confirmed": "yes",
    "spine_region": ["thoracic"], "pain_score": 7, "pain_warning_signs": "no", "cord_compression_told": "no",
    "primary_cancer": "breast", "pregnancy": "not_applicable", "prior_spine_radiation": "no",
    "performance_status": 1, "visceral_metastases": "no", "able_to_attend": "yes",
}


def _domains() -> dict[str, dict[str, Any]]:
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in DOMAIN_FILES}


def custom_blocks() -> list[tuple[str, Any]]:
    """(where, custom) for every response variant of the domain that has a `custom` block."""
    found = []
    for file, domain in _domains().items():
        for name, variants in (domain.get("responses") or {}).items():
            for index, variant in enumerate(variants or []):
                if isinstance(variant, dict) and "custom" in variant:
                    found.append((f"{file}:{name}[{index}]", variant["custom"]))
    return found


def test_the_outcome_names_are_the_contracts() -> None:
    assert chat_custom_at("properties/outcome")["enum"] == list(names.OUTCOMES)


def test_every_custom_block_of_the_domain_keeps_the_contract() -> None:
    blocks = custom_blocks()
    assert len(blocks) > 30  # the questions, the checks, contact, the outcomes
    for where, custom in blocks:
        assert chat_custom_problems(custom) == [], f"{where}: {describe(chat_custom_problems(custom))}"
    outcomes = {custom["outcome"] for _, custom in blocks if "outcome" in custom}
    assert outcomes == set(names.OUTCOMES), "each outcome is said by a response"
    assert any(custom.get("urgent") is True for _, custom in blocks)


def test_every_asked_id_is_a_question_or_a_slot() -> None:
    slots: set[str] = set()
    for domain in _domains().values():
        slots |= set(domain.get("slots") or {})
    questions = {q.id for q in get_trial().questions}
    asked = {custom["asks"] for _, custom in custom_blocks() if "asks" in custom}
    assert asked and asked <= slots | questions, sorted(asked - slots - questions)


def _json_message_keys() -> dict[str, set[str] | None]:
    """Keys of the dict literal of each `json_message=` in the actions (None: not a literal)."""
    found: dict[str, set[str] | None] = {}
    for path in ACTION_FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "json_message":
                where = f"{path.relative_to(ROOT)}:{node.value.lineno}"
                value = node.value
                keys = {k.value for k in value.keys if isinstance(k, ast.Constant)} if isinstance(value, ast.Dict) else None
                found[where] = keys
    return found


def test_every_json_message_of_the_actions_uses_the_contracts_keys() -> None:
    found = _json_message_keys()
    assert found, "actions/outcome.py sends outcome_reasons"
    for where, keys in found.items():
        assert keys is not None, f"{where}: build json_message as a dict literal, so its keys can be checked"
        assert keys and keys <= KEYS, f"{where}: {sorted(keys - KEYS)}"


def _tracker(slots: dict[str, Any]) -> Tracker:
    return Tracker(
        sender_id="chat-contract",
        slots=dict(slots),
        latest_message={"text": "", "intent": {"name": "inform"}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.mark.parametrize(
    ("action", "changes"),
    [
        (ActionGiveOutcome(), {}),
        (ActionGiveOutcome(), {"age": 17, "able_to_attend": "unknown"}),
        (ActionGiveOutcome(), {"able_to_attend": "unknown", "pain_score": "unknown"}),
        (ActionGiveOutcome(), {"red_flags": "yes"}),
        (ActionUrgentCare(), {}),
    ],
)
async def test_what_the_actions_send_keeps_the_contract(action: Any, changes: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, _tracker({**PASSING, **changes}), {"responses": {}})
    sent = [m["custom"] for m in dispatcher.messages if m.get("custom")]
    for custom in sent:
        assert chat_custom_problems(custom) == [], describe(chat_custom_problems(custom))
    if changes.get("age") == 17:
        assert any("age" in custom.get("outcome_reasons", []) for custom in sent)


@pytest.mark.parametrize(
    ("custom", "rule"),
    [
        ({"asks": "age", "question": "age"}, "additionalProperties"),
        ({"outcome": "maybe_eligible"}, "enum"),
        ({"urgent": False}, "const"),
        ({"asks": "Age!"}, "pattern"),
        ({"asks": "a" * 65}, "maxLength"),
        ({"outcome_reasons": ["age"] * 65}, "maxItems"),
        ({"outcome_reasons": ["age", 7]}, "type"),
    ],
)
def test_the_contract_refuses_what_the_gateway_would_ignore(custom: dict[str, Any], rule: str) -> None:
    assert rule in {problem.rule for problem in chat_custom_problems(custom)}
