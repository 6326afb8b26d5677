"""One simulated conversation as the benchmark records it (pure: no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Screen:
    """One simulated pre-screen, as the benchmark records it (ids and numbers, never texts)."""

    persona: str
    outcome: Optional[str] = None
    asks: list[str] = field(default_factory=list)  # question ids in the order asked, repeats included
    turn_s: list[float] = field(default_factory=list)
    retries: int = 0
    error: Optional[str] = None  # exception type only: messages could hold bot texts
    stalled: bool = False
    session_token: Optional[str] = None  # to find the conversation in the stores afterwards

    @property
    def completed(self) -> bool:
        return self.outcome is not None and self.error is None
