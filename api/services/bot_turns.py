"""What the gateway forwards and keeps of one bot turn.

Kept: the question id it asks, the payloads of the buttons it offered (only
these may come back as payloads: safety-security pitfall 1), the outcome and
its criterion ids (for the funnel statistics). Never the text of either side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from contract.names import URGENT_CARE

# Question ids and criterion ids of the trial file; outcome values.
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_OUTCOME = re.compile(r"[a-z_]{1,32}")
MAX_BUTTONS = 50
MAX_PAYLOAD_CHARS = 1000
MAX_REASONS = 64
URGENT_OUTCOME = URGENT_CARE


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
    contract from `custom`: `asks`, `outcome`, `urgent`, `outcome_reasons`."""
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
        if not isinstance(custom, dict):
            continue
        asks = custom.get("asks")
        if isinstance(asks, str) and _ID.fullmatch(asks):
            turn.asks = asks
        outcome = custom.get("outcome")
        if isinstance(outcome, str) and _OUTCOME.fullmatch(outcome):
            turn.outcome = outcome
        if custom.get("urgent") is True:
            turn.urgent = True
        reasons = custom.get("outcome_reasons")
        if isinstance(reasons, list):
            turn.outcome_reasons = [r for r in reasons if isinstance(r, str) and _ID.fullmatch(r)][
                :MAX_REASONS
            ]
    if turn.outcome == URGENT_OUTCOME:
        turn.urgent = True
    return turn
