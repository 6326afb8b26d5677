"""What one patient message means at the question being asked: the answer, how
sure we are of it, and whether it may report an emergency.

Pure Python, no Rasa import. The form validation, the red-flag check and the
sealed-set scorer (bench/sealed.py) all call `understand`, so what is
measured is what the bot does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from actions.answers import Button, ParsedMessage, interpret

RED_FLAG_INTENT = "red_flag"
URGENT = "urgent"      # a clear, current symptom: urgent care now
CONFIRM = "confirm"    # symptom-like but uncertain: one confirming question


@dataclass(frozen=True)
class Reading:
    """value None = not an answer (ask again); sure False = confirm before recording."""

    value: Any = None
    sure: bool = True
    red_flag: Optional[str] = None


def understand(question_id: Optional[str], answer_type: Optional[str], message: ParsedMessage,
               buttons: Sequence[Button] = (), respondent: Optional[str] = None) -> Reading:
    if message.intent == RED_FLAG_INTENT:
        return Reading(red_flag=URGENT)
    if question_id is None or answer_type is None:
        return Reading()
    return Reading(interpret(question_id, answer_type, message, buttons))
