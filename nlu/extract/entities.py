"""The entity record every extractor module returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Union

Value = Union[str, int]


@dataclass(frozen=True)
class Entity:
    """One normalised entity; `start`/`end` are character offsets."""

    entity: str
    value: Value
    start: int
    end: int
    role: Optional[str] = None

    def as_dict(self, text: str) -> Dict[str, Any]:
        """Rasa's entity dict; `text` is the original message."""
        found = {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": text[self.start : self.end],
            # Rules either match or not: a probability would be made up.
            "confidence_entity": 1.0,
        }
        if self.role is not None:
            found["role"] = self.role
        return found


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end
