"""What the gateway forwards and keeps of one bot turn.

Kept: the question id it asks, the payloads of the buttons it offered (only
these may come back as payloads: safety-security pitfall 1), the outcome and
its criterion ids (for the funnel statistics). Never the text of either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contract.names import URGENT_CARE
from contract.schema import chat_custom_at
from contract.validate import chat_custom_validator

MAX_BUTTONS = 50
MAX_PAYLOAD_CHARS = 1000
# The chat contract (contract/chat_custom.schema.json) says what each `custom`
# key may hold: the id rule, the outcome names, the bounds. One definition.
_ASKS = chat_custom_at("properties/asks")
_OUTCOME = chat_custom_at("properties/outcome")
_URGENT = chat_custom_at("properties/urgent")
_REASON = chat_custom_at("properties/outcome_reasons/items")
MAX_REASONS: int = chat_custom_at("properties/outcome_reasons")["maxItems"]
URGENT_OUTCOME = URGENT_CARE


def _keeps(value: Any, rule: dict[str, Any]) -> bool:
    return not chat_custom_validator().problems(value, rule)


@dataclass
class BotTurn:
    """What the gateway forwards and keeps of one bot turn."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    asks: str | None = None
    outcome: str | None = None
    # None when the turn had no outcome_reasons message.
    outcome_reasons: list[str] | None = None
    urgent: bool = False
    offered_payloads: list[str] = field(default_factory=list)


def _buttons(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    buttons = []
    for button in raw[:MAX_BUTTONS]:
        if not isinstance(button, dict):
            continue
        title, payload = button.get("title"), button.get("payload")
        if (
            isinstance(title, str)
            and isinstance(payload, str)
            and payload
            and len(payload) <= MAX_PAYLOAD_CHARS
        ):
            buttons.append({"title": title, "payload": payload})
    return buttons


def summarise_turn(raw_messages: list[dict[str, Any]]) -> BotTurn:
    """Forward messages that have text (with their buttons); read the chat
    contract from `custom`: `asks`, `outcome`, `urgent`, `outcome_reasons`
    (contract/chat_custom.schema.json)."""
    turn = BotTurn()
    for message in raw_messages:
        text = message.get("text")
        buttons = _buttons(message.get("buttons"))
        for button in buttons:
            if (
                button["payload"] not in turn.offered_payloads
                and len(turn.offered_payloads) < MAX_BUTTONS
            ):
                turn.offered_payloads.append(button["payload"])
        if isinstance(text, str) and text.strip():
            turn.messages.append({"text": text, "buttons": buttons})
        elif buttons and turn.messages:
            # Buttons sent on their own belong to the message before them.
            turn.messages[-1]["buttons"].extend(buttons)
        custom = message.get("custom")
        if isinstance(custom, dict):
            _read_custom(custom, turn)
    if turn.outcome == URGENT_OUTCOME:
        turn.urgent = True
    return turn


def _read_custom(custom: dict[str, Any], turn: BotTurn) -> None:
    """Each key checked on its own against the contract: a key that breaks it,
    or one the contract does not know, is ignored (never an error, never shown)."""
    asks = custom.get("asks")
    if asks is not None and _keeps(asks, _ASKS):
        turn.asks = asks
    outcome = custom.get("outcome")
    if outcome is not None and _keeps(outcome, _OUTCOME):
        turn.outcome = outcome
    if "urgent" in custom and _keeps(custom["urgent"], _URGENT):
        turn.urgent = True
    reasons = custom.get("outcome_reasons")
    if isinstance(reasons, list):
        # Item by item: one bad id does not lose the others.
        turn.outcome_reasons = [r for r in reasons if _keeps(r, _REASON)][:MAX_REASONS]
