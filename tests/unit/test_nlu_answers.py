"""answer: the stance of the whole message, with negation and hedging."""

from __future__ import annotations

from typing import Any, List

import pytest

from nlu.extract import extract


def values(text: str, entity: str) -> List[Any]:
    return [e["value"] for e in extract(text) if e["entity"] == entity]


STANCES = [
    # yes
    ("yes", "yes"),
    ("Yes.", "yes"),
    ("yep", "yes"),
    ("yeah that's right", "yes"),
    ("I have", "yes"),
    ("yes I have", "yes"),
    ("I have had radiation there", "yes"),
    ("that's correct", "yes"),
    ("ok", "yes"),
    ("sure, go ahead", "yes"),
    ("absolutely", "yes"),
    ("he has", "yes"),
    ("she can get there no problem", "yes"),
    # no
    ("no", "no"),
    ("nope", "no"),
    ("no, never", "no"),
    ("never had radiation", "no"),
    ("I haven't", "no"),
    ("I have not", "no"),
    ("I havent had any", "no"),
    ("none", "no"),
    ("not at all", "no"),
    ("I'm not pregnant", "no"),
    ("I don't have any of those", "no"),
    ("no, he has never had radiation", "no"),
    ("nah", "no"),
    # unsure
    ("I don't know", "unsure"),
    ("i dont know", "unsure"),
    ("not sure", "unsure"),
    ("I'm not sure", "unsure"),
    ("no idea", "unsure"),
    ("I have no idea", "unsure"),
    ("can't remember", "unsure"),
    ("maybe", "unsure"),
    ("idk", "unsure"),
    ("I'd have to check with my doctor", "unsure"),
    ("yes... no... I'm not sure", "unsure"),
    ("yes no", "unsure"),
    # likely yes
    ("I think so", "likely_yes"),
    ("probably", "likely_yes"),
    ("I believe so", "likely_yes"),
    ("yes I think", "likely_yes"),
    ("pretty sure", "likely_yes"),
    ("yes, but I'm not sure", "likely_yes"),
    # likely no
    ("I don't think so", "likely_no"),
    ("i dont think so", "likely_no"),
    ("not that I know of", "likely_no"),
    ("probably not", "likely_no"),
    ("not really", "likely_no"),
    ("I doubt it", "likely_no"),
    ("no, I don't think so", "likely_no"),
    # corrections: the later answer wins
    ("yes, actually no", "no"),
    ("no sorry I mean yes", "yes"),
]


@pytest.mark.parametrize("text,expected", STANCES)
def test_stance(text: str, expected: str) -> None:
    assert values(text, "answer") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "lower back",
        "I'm 45",  # "I am" + a number is a statement, not "yes"
        "I can't walk far",  # a statement; its stance depends on the question
        "I have breast cancer",
        "right between the shoulder blades",  # "right" is only a yes on its own
        "7/10",
        "it was the oncologist",
        "I'm unsure what type it is and I think it was",
        "getting there is no problem",
        "I think it started in the lung",
    ],
)
def test_no_stance_without_cue(text: str) -> None:
    found = values(text, "answer")
    assert found in ([], ["unsure"]) if "unsure" in text else found == []


def test_answer_entity_points_at_the_cue() -> None:
    text = "Hmm, no, never"
    [answer] = [e for e in extract(text) if e["entity"] == "answer"]
    assert answer["value"] == "no"
    assert answer["text"] == text[answer["start"] : answer["end"]] == "no"


def test_no_stance_rides_with_a_red_flag() -> None:
    # "I can't ..." reads as "no"; with a red flag that must not reach the slot.
    found = extract("no, but I can't feel my legs")
    assert [e["value"] for e in found if e["entity"] == "red_flag"] == ["numbness"]
    assert [e for e in found if e["entity"] == "answer"] == []
