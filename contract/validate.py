"""A small validator for the part of JSON Schema (draft 2020-12) that our schemas use.

Standard library only, so that the action server (Rasa's environment) and the
API check a referral (and a chat message's `custom` keys) with the same code. Supported keywords: type, enum,
const, required, properties, additionalProperties (false or a schema), items,
minItems, maxItems, uniqueItems, minLength, maxLength, pattern, minimum,
maximum, format "date-time", and local $ref into $defs. Any other keyword in a
schema is refused (UnsupportedSchema), so a schema can never hold a rule that
is silently not checked.

Errors name the JSON path and the rule, never the value: the values are
patient data and the errors reach logs and HTTP answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from contract.schema import chat_custom_schema, referral_schema

# Keywords that only describe (they never make an instance invalid).
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment", "examples", "$defs"})
CHECKED = frozenset(
    {
        "type",
        "enum",
        "const",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "format",
        "$ref",
    }
)
# RFC 3339 date-time (what JSON Schema's "date-time" format means): a date, a
# time and an offset; Python's isoformat() with a timezone writes it.
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


class UnsupportedSchema(Exception):
    """The schema uses a keyword this validator does not check."""


@dataclass(frozen=True)
class Problem:
    path: str  # JSON path of the value at fault, e.g. "$.criteria[3].answer_label"
    rule: str  # the keyword that failed, e.g. "maxLength"

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


def _type_of(value: Any) -> str:
    # bool before int: in Python True is an int, in JSON it is not a number.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__  # not JSON at all: matches no type


def _is_type(value: Any, wanted: str) -> bool:
    actual = _type_of(value)
    return actual == wanted or (wanted == "number" and actual == "integer")


def _same_json(a: Any, b: Any) -> bool:
    # enum/const compare JSON values: 1 is not true, and a list equals a tuple.
    if _type_of(a) != _type_of(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    return bool(a == b)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _is_date_time(text: str) -> bool:
    if not _DATE_TIME.match(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00").replace("t", "T"))
    except ValueError:  # matches the shape but is not a date (month 13, hour 25)
        return False
    return True


class Validator:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self._check_keywords(root, "#")

    def _check_keywords(self, schema: Any, where: str) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"{where}: a schema must be an object")
        unknown = set(schema) - CHECKED - ANNOTATIONS
        if unknown:
            raise UnsupportedSchema(f"{where}: keywords not supported: {sorted(unknown)}")
        if schema.get("format") not in (None, "date-time"):
            raise UnsupportedSchema(f"{where}: format {schema['format']!r} not supported")
        if "$ref" in schema and not str(schema["$ref"]).startswith("#/"):
            raise UnsupportedSchema(f"{where}: only local $ref (#/...) is supported")
        for name, sub in (schema.get("properties") or {}).items():
            self._check_keywords(sub, f"{where}/properties/{name}")
        for name, sub in (schema.get("$defs") or {}).items():
            self._check_keywords(sub, f"{where}/$defs/{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                self._check_keywords(schema[key], f"{where}/{key}")

    def _resolve(self, ref: str) -> Any:
        node: Any = self.root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def problems(self, value: Any, schema: Any = None, path: str = "$") -> list[Problem]:
        schema = self.root if schema is None else schema
        if schema is True:
            return []
        if schema is False:
            return [Problem(path, "false")]
        if "$ref" in schema:
            return self.problems(value, self._resolve(schema["$ref"]), path)
        found: list[Problem] = []
        if "type" in schema:
            wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, t) for t in wanted):
                return [Problem(path, "type")]  # the other rules would only repeat it
        if "enum" in schema and not any(_same_json(value, option) for option in schema["enum"]):
            found.append(Problem(path, "enum"))
        if "const" in schema and not _same_json(value, schema["const"]):
            found.append(Problem(path, "const"))
        kind = _type_of(value)
        if kind == "string":
            found += self._string(value, schema, path)
        elif kind in ("integer", "number"):
            if "minimum" in schema and value < schema["minimum"]:
                found.append(Problem(path, "minimum"))
            if "maximum" in schema and value > schema["maximum"]:
                found.append(Problem(path, "maximum"))
        elif kind == "array":
            found += self._array(value, schema, path)
        elif kind == "object":
            found += self._object(value, schema, path)
        return found

    def _string(self, value: str, schema: dict[str, Any], path: str) -> list[Problem]:
        found = []
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(Problem(path, "minLength"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(Problem(path, "maxLength"))
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            found.append(Problem(path, "pattern"))
        if schema.get("format") == "date-time" and not _is_date_time(value):
            found.append(Problem(path, "format"))
        return found

    def _array(self, value: Any, schema: dict[str, Any], path: str) -> list[Problem]:
        found = []
        if "minItems" in schema and len(value) < schema["minItems"]:
            found.append(Problem(path, "minItems"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(Problem(path, "maxItems"))
        if schema.get("uniqueItems") and any(
            _same_json(value[i], value[j]) for i in range(len(value)) for j in range(i)
        ):
            found.append(Problem(path, "uniqueItems"))
        if "items" in schema:
            for index, item in enumerate(value):
                found += self.problems(item, schema["items"], f"{path}[{index}]")
        return found

    def _object(self, value: dict[Any, Any], schema: dict[str, Any], path: str) -> list[Problem]:
        found = []
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                found.append(Problem(f"{path}.{name}", "required"))
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            # Names of unknown keys are ours or an attacker's, never patient data.
            where = (
                f"{path}.{name}"
                if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_$-]{1,64}", name)
                else f"{path}.<key>"
            )
            if name in properties:
                found += self.problems(item, properties[name], where)
            elif extra is False:
                found.append(Problem(where, "additionalProperties"))
            elif isinstance(extra, dict):
                found += self.problems(item, extra, where)
        return found


def problems(value: Any, schema: dict[str, Any]) -> list[Problem]:
    """Every way ``value`` breaks ``schema`` (empty: valid)."""
    return Validator(schema).problems(value)


@lru_cache(maxsize=1)
def _referral_validator() -> Validator:
    return Validator(referral_schema())


def referral_problems(record: Any) -> list[Problem]:
    """Every way a referral record breaks contract/referral.schema.json (empty: valid)."""
    return _referral_validator().problems(record)


@lru_cache(maxsize=1)
def chat_custom_validator() -> Validator:
    """The validator of contract/chat_custom.schema.json (its subschemas too:
    ``chat_custom_validator().problems(value, chat_custom_at(path))``)."""
    return Validator(chat_custom_schema())


def chat_custom_problems(custom: Any) -> list[Problem]:
    """Every way a bot message's `custom` dict breaks contract/chat_custom.schema.json (empty: valid)."""
    return chat_custom_validator().problems(custom)


def describe(found: list[Problem], limit: int | None = 10) -> str:
    """Paths and rules for a log line or an error message (no values)."""
    shown = found if limit is None else found[:limit]
    more = len(found) - len(shown)
    return "; ".join(str(p) for p in shown) + (f" (+{more} more)" if more > 0 else "")
