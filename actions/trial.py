"""The trial file as the action server sees it: loaded once, on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker

from actions.answers import Button, ParsedMessage
from actions.criteria import load_trial


@lru_cache(maxsize=1)
def get_trial() -> Any:
    # Loaded lazily, not at import: a broken trial file must not stop the
    # action server from answering the patient (SafeAction catches it).
    return load_trial()


def screening_ids() -> list[str]:
    return [q.id for q in get_trial().questions if q.stage == "screen"]


def buttons_of(question_id: str) -> list[Button]:
    return [Button(b.title, b.value) for b in get_trial().question(question_id).buttons]


def answers_from(tracker: Tracker, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """Screening answers held in slots (only the normalised ones)."""
    answers = {}
    for qid in screening_ids():
        value = tracker.get_slot(qid)
        if value is not None and qid not in leave_out:
            answers[qid] = value
    # The levels told with a regions answer (spine_levels, prior_radiation_levels):
    # the engine's I8/E2 rule names them in the coordinator's reason.
    for question in get_trial().questions:
        if question.levels and question.id in answers and tracker.get_slot(question.levels):
            answers[question.levels] = tuple(tracker.get_slot(question.levels))
    return answers


def parsed_message(tracker: Tracker) -> ParsedMessage:
    latest = tracker.latest_message or {}
    return ParsedMessage(
        text=latest.get("text") or "",
        intent=(latest.get("intent") or {}).get("name"),
        entities=tuple(latest.get("entities") or ()),
    )
