"""The contract's JSON Schemas, each read once from its file beside this module.

- `referral.schema.json`: the referral record (action server -> API);
- `chat_custom.schema.json`: the `custom` keys of a bot message (bot -> chat gateway).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

REFERRAL_SCHEMA_FILE = Path(__file__).with_name("referral.schema.json")
CHAT_CUSTOM_SCHEMA_FILE = Path(__file__).with_name("chat_custom.schema.json")


def _read(file: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return schema


@lru_cache(maxsize=1)
def referral_schema() -> dict[str, Any]:
    # Read lazily and cached: both processes validate every referral against it.
    return _read(REFERRAL_SCHEMA_FILE)


@lru_cache(maxsize=1)
def chat_custom_schema() -> dict[str, Any]:
    # Read lazily and cached: the gateway reads every bot message's `custom` with it.
    return _read(CHAT_CUSTOM_SCHEMA_FILE)


def _at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = schema
    for part in path.split("/"):
        node = node[part]
    if "$ref" in node:
        return _at(schema, node["$ref"].removeprefix("#/"))
    return dict(node)


def at(path: str) -> dict[str, Any]:
    """The subschema at a slash path of the referral schema ("properties/contact/properties/name")."""
    return _at(referral_schema(), path)


def chat_custom_at(path: str) -> dict[str, Any]:
    """The subschema at a slash path of the chat custom schema ("properties/outcome_reasons")."""
    return _at(chat_custom_schema(), path)
