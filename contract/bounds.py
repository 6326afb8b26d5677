"""Limits of the referral record, read from its schema, and the bounding of what a patient gave.

A valid conversation must always make a valid record: a patient who typed 21
spine levels, or a very long name, must not be told "sent" for a record the
API then refuses. So the values that come from the patient's own words are
bounded here, at the source, with the schema's own numbers (one definition):
lists lose repeats (order kept) and are capped, free text is trimmed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contract.schema import at

MAX_SPINE_LEVELS: int = at("properties/spine_levels")["maxItems"]
MAX_SPINE_LEVEL_CHARS: int = at("properties/spine_levels/items")["maxLength"]
MAX_WARNING_SIGNS: int = at("properties/warning_signs")["maxItems"]
# Free-text contact fields and their lengths: {"name": 200, "phone": 32, ...}.
CONTACT_MAX_CHARS: dict[str, int] = {
    name: spec["maxLength"] for name, spec in at("properties/contact")["properties"].items()
}
# The helper's free-text fields (the patient's name, the relationship) and their lengths.
HELPER_MAX_CHARS: dict[str, int] = {
    name: spec["maxLength"]
    for name, spec in at("properties/helper")["properties"].items()
    if "enum" not in spec
}


def unique_capped(
    items: Iterable[Any] | None, limit: int, max_chars: int | None = None
) -> list[str]:
    """Text items, first occurrence kept in order, blanks and repeats dropped, at most ``limit``."""
    kept: list[str] = []
    for item in items or ():
        text = trimmed(str(item), max_chars)
        if text and text not in kept:
            kept.append(text)
        if len(kept) == limit:
            break
    return kept


def trimmed(text: str | None, max_chars: int | None) -> str | None:
    """Stripped of surrounding space, cut to ``max_chars``; None stays None."""
    if text is None:
        return None
    text = str(text).strip()
    return text[:max_chars].rstrip() if max_chars is not None else text


def bound_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """Each contact field trimmed to the schema's length (an empty one becomes None)."""
    return {
        field: trimmed(contact.get(field), limit) or None
        for field, limit in CONTACT_MAX_CHARS.items()
    }


def bound_helper(helper: dict[str, Any] | None) -> dict[str, Any] | None:
    """The helper's free text trimmed to the schema's lengths; None when nobody helped."""
    if helper is None:
        return None
    return {
        **helper,
        **{field: trimmed(helper.get(field), limit) for field, limit in HELPER_MAX_CHARS.items()},
    }


def bound_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its patient-given values bounded (a new dict; the input is not changed)."""
    bounded = dict(record)
    bounded["spine_levels"] = unique_capped(
        record.get("spine_levels"), MAX_SPINE_LEVELS, MAX_SPINE_LEVEL_CHARS
    )
    bounded["warning_signs"] = unique_capped(record.get("warning_signs"), MAX_WARNING_SIGNS)
    bounded["contact"] = bound_contact(record.get("contact") or {})
    if "helper" in record:
        bounded["helper"] = bound_helper(record["helper"])
    return bounded
