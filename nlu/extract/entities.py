"""The entity record every extractor module returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Union

Value = Union[str, int]


@dataclass(frozen=True)
class Entity:
    """One normalised entity; `start`/`end` are character offsets."""

    entity: str
    value: Value
    start: int
    end: int

    def as_dict(self, text: str) -> Dict[str, Any]:
        """Rasa's entity dict; `text` is the original message."""
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": text[self.start : self.end],
            # Rules either match or not: a probability would be made up.
            "confidence_entity": 1.0,
        }


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end
