"""summarise_turn reads `custom` by the chat contract and ignores what breaks it."""

from __future__ import annotations

from typing import Any

import pytest

from api.services.bot_turns import MAX_REASONS, summarise_turn
from contract.schema import chat_custom_at


@pytest.mark.parametrize(
    "custom",
    [
        {"outcome": "maybe_eligible"},
        {"outcome": 3},
        {"asks": "Age!"},
        {"asks": "a" * 65},
        {"asks": ["age"]},
        {"urgent": "yes"},
        {"urgent": False},
        {"stage": "end", "text": "leaked?"},
        {"outcome_reasons": "age"},
    ],
)
def test_a_bad_or_unknown_key_is_ignored(custom: dict[str, Any]) -> None:
    turn = summarise_turn([{"text": "Hello.", "custom": custom}])
    assert turn.messages == [{"text": "Hello.", "buttons": []}]
    assert (turn.asks, turn.outcome, turn.urgent, turn.outcome_reasons) == (None, None, False, None)


def test_the_contracts_keys_are_kept() -> None:
    turn = summarise_turn(
        [
            {"text": "Go now.", "custom": {"outcome": "urgent_care", "urgent": True}},
            {"custom": {"outcome_reasons": ["red_flags", "Bad id", 7, "age"]}},
            {"text": "Next?", "custom": {"asks": "contact_name"}},
        ]
    )
    assert (turn.outcome, turn.urgent, turn.asks) == ("urgent_care", True, "contact_name")
    assert turn.outcome_reasons == ["red_flags", "age"]


def test_reasons_are_capped_at_the_contracts_bound() -> None:
    assert MAX_REASONS == chat_custom_at("properties/outcome_reasons")["maxItems"]
    turn = summarise_turn([{"custom": {"outcome_reasons": ["age"] * (MAX_REASONS + 5)}}])
    assert turn.outcome_reasons == ["age"] * MAX_REASONS
