"""The referral record's JSON Schema, read once from the file beside this module."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

REFERRAL_SCHEMA_FILE = Path(__file__).with_name("referral.schema.json")


@lru_cache(maxsize=1)
def referral_schema() -> dict[str, Any]:
    # Read lazily and cached: both processes validate every referral against it.
    schema: dict[str, Any] = json.loads(REFERRAL_SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


def at(path: str) -> dict[str, Any]:
    """The subschema at a slash path of the schema ("properties/contact/properties/name")."""
    node: Any = referral_schema()
    for part in path.split("/"):
        node = node[part]
    if "$ref" in node:
        return at(node["$ref"].removeprefix("#/"))
    return dict(node)
