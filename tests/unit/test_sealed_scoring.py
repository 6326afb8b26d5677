"""bench.sealed scores what the bot would do, not what it is labelled with:
urgent care after a "yes" to the safety question is right; anywhere else,
or after a "no", it is a false alarm."""

from __future__ import annotations

from actions.criteria import load_trial
from actions.understanding import URGENT, Reading
from bench.sealed import score_answers


def test_urgent_care_is_right_only_for_a_yes_to_the_safety_question() -> None:
    items = [
        {"question": "red_flags", "text": "yes", "value": "yes"},
        {"question": "red_flags", "text": "no", "value": "no"},
        {"question": "age", "text": "64", "value": 64},
    ]
    urgent = Reading(red_flag=URGENT)
    summary, failures = score_answers(load_trial(), items, [urgent, urgent, urgent])
    assert summary["right"] == 1 and summary["false_urgent"] == 2
    assert [f["question"] for f in failures] == ["red_flags", "age"]
