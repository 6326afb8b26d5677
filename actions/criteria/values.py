"""Answer types: which normalised values each kind of question accepts.

These mirror the "Answer values" table of docs/architecture.md. Slots hold
these values, the engine evaluates them, and the action server checks button
payloads against them, so all three agree on one definition.
"""

from __future__ import annotations

import re
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

# Vertebral levels told beside a regions answer ("T7", "T11-L2", as nlu/
# normalises them), top to bottom: letter, region, number of vertebrae.
# Positions run on across region borders, so C7/T1, T12/L1 and L5/S1 are one
# level apart, as they are for the protocol's "target +/-1 level" (I8, E2).
SEGMENTS: tuple[tuple[str, str, int], ...] = (
    ("C", "cervical", 7),
    ("T", "thoracic", 12),
    ("L", "lumbar", 5),
    ("S", "sacral", 5),
)
LEVEL_CODE = re.compile(r"([CTLS])(\d{1,2})(?:-([CTLS])(\d{1,2}))?")
_FIRST: dict[str, int] = {}
_REGION_AT: list[str] = []
for _letter, _region, _count in SEGMENTS:
    _FIRST[_letter] = len(_REGION_AT)
    _REGION_AT.extend([_region] * _count)


def _position(letter: str, number: str) -> int | None:
    count = next(c for segment, _, c in SEGMENTS if segment == letter)
    return _FIRST[letter] + int(number) - 1 if 1 <= int(number) <= count else None


def vertebrae(code: str) -> frozenset[int] | None:
    """Positions along the spine (C1 = 0, T1 = 7, L1 = 19, S1 = 24) a level or range covers.

    None when ``code`` is not a level ("T13", "X4", "T11-L7").
    """
    match = LEVEL_CODE.fullmatch(code) if isinstance(code, str) else None
    if match is None:
        return None
    first = _position(match[1], match[2])
    last = first if match[4] is None else _position(match[3] or match[1], match[4])
    if first is None or last is None:
        return None
    return frozenset(range(min(first, last), max(first, last) + 1))


def normalise_levels(value: Any) -> tuple[str, ...]:
    """The level codes of a levels slot that are levels; anything else is left out."""
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(code for code in value if vertebrae(code) is not None)


def _levels_covering(regions: Any, codes: Any) -> frozenset[int] | None:
    """The positions of ``codes`` when they place every region of the answer, else None."""
    if not isinstance(regions, tuple) or not regions or not isinstance(codes, tuple):
        return None
    positions = frozenset().union(*(vertebrae(code) or frozenset() for code in codes))
    if not positions or not set(regions) <= {_REGION_AT[p] for p in positions}:
        return None  # "L1 and my neck": the neck has no level, so the levels do not decide
    return positions


def level_gap(regions: Any, codes: Any, other_regions: Any, other_codes: Any) -> int | None:
    """Fewest vertebral levels between two answers' levels (0 = a level in common).

    None unless both answers are region lists whose every region is placed by
    a level told with it: only then can levels, not regions, decide (I8, E2).
    """
    mine = _levels_covering(regions, codes)
    theirs = _levels_covering(other_regions, other_codes)
    if mine is None or theirs is None:
        return None
    return min(abs(a - b) for a in mine for b in theirs)


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
