"""Answer types: which normalised values each kind of question accepts.

These mirror the "Answer values" table of docs/architecture.md. Slots hold
these values, the engine evaluates them, and the action server checks button
payloads against them, so all three agree on one definition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

UNKNOWN = "unknown"
REGIONS: tuple[str, ...] = ("cervical", "thoracic", "lumbar", "sacral")
CANCERS: tuple[str, ...] = (
    "breast",
    "prostate",
    "lung",
    "kidney",
    "colorectal",
    "thyroid",
    "melanoma",
    "myeloma",
    "plasmacytoma",
    "primary_bone",
    "other",
)

# A normalised answer: a token ("yes", "unknown", ...), an integer, or a
# tuple of list items (regions) in canonical order. ``None`` means "not asked".
Answer = str | int | tuple[str, ...]


@dataclass(frozen=True)
class ValueSpec:
    """The set of valid normalised answers for one answer type."""

    tokens: frozenset[str] = frozenset()
    int_range: tuple[int, int] | None = None
    list_items: tuple[str, ...] | None = None  # ordered: gives the canonical list order
    allow_empty_list: bool = False

    def normalise(self, value: Any) -> Answer | None:
        """Return the canonical form of ``value``, or None when it is not valid."""
        # bool is a subclass of int, and YAML turns bare yes/no into booleans:
        # refuse them so that a slip never becomes a silent 1 or 0.
        if isinstance(value, bool):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # Rasa float slots hand integers back as 7.0
        if isinstance(value, int):
            if self.int_range and self.int_range[0] <= value <= self.int_range[1]:
                return value
            return None
        if isinstance(value, str):
            return value if value in self.tokens else None
        if isinstance(value, (list, tuple)) and self.list_items is not None:
            if not all(isinstance(item, str) and item in self.list_items for item in value):
                return None
            if not value and not self.allow_empty_list:
                return None
            return tuple(item for item in self.list_items if item in value)
        return None

    def accepts(self, value: Any) -> bool:
        return self.normalise(value) is not None

    def from_button(self, value: Any) -> Answer | None:
        """Normalise a button value; a single list item stands for a one-item list."""
        if self.list_items is not None and isinstance(value, str) and value in self.list_items:
            return (value,)
        return self.normalise(value)

    def all_values(self) -> list[Answer]:
        """Every valid answer (finite for all types); used by validation and tests."""
        values: list[Answer] = sorted(self.tokens)
        if self.int_range:
            values.extend(range(self.int_range[0], self.int_range[1] + 1))
        if self.list_items is not None:
            start = 0 if self.allow_empty_list else 1
            for size in range(start, len(self.list_items) + 1):
                values.extend(combinations(self.list_items, size))
        return values


YES_NO = frozenset({"yes", "no", UNKNOWN})

# "choice" has no fixed values: a choice question accepts its own button values.
ANSWER_TYPES: dict[str, ValueSpec | None] = {
    "choice": None,
    "yes_no": ValueSpec(tokens=YES_NO),
    "age": ValueSpec(tokens=frozenset({"adult", "minor", UNKNOWN}), int_range=(0, 120)),
    "regions": ValueSpec(tokens=frozenset({UNKNOWN}), list_items=REGIONS),
    "pain": ValueSpec(tokens=frozenset({UNKNOWN}), int_range=(0, 10)),
    "cancer": ValueSpec(tokens=frozenset(CANCERS) | {UNKNOWN}),
    "ecog": ValueSpec(tokens=frozenset({UNKNOWN}), int_range=(0, 4)),
    "prior_radiation": ValueSpec(
        tokens=frozenset({"no", UNKNOWN}), list_items=REGIONS, allow_empty_list=True
    ),
    "pregnancy": ValueSpec(
        tokens=frozenset({"no", "yes", "could_be", "not_applicable", "prefer_discuss", UNKNOWN})
    ),
}


def value_spec(answer_type: str, button_values: Iterable[Any] = ()) -> ValueSpec:
    """The ValueSpec of an answer type; a choice question's values are its buttons."""
    spec = ANSWER_TYPES[answer_type]
    if spec is not None:
        return spec
    return ValueSpec(tokens=frozenset(v for v in button_values if isinstance(v, str)))


def to_json(answer: Answer | None) -> Any:
    """Answer in a JSON-friendly form (tuples become lists)."""
    return list(answer) if isinstance(answer, tuple) else answer
