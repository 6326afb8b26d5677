"""number, pain_score and age."""

from __future__ import annotations

from typing import Any, List

import pytest

from nlu.extract import extract


def values(text: str, entity: str) -> List[Any]:
    return [e["value"] for e in extract(text) if e["entity"] == entity]


def first(text: str, entity: str) -> Any:
    found = values(text, entity)
    return found[0] if found else None


NUMBERS = [
    ("7", 7),
    ("seven", 7),
    ("Seven.", 7),
    ("zero", 0),
    ("ten", 10),
    ("twenty-one", 21),
    ("forty five", 45),
    ("7/10", 7),
    ("7 out of 10", 7),
    ("seven out of ten", 7),
    ("about a 6 or 7", 7),
    ("6-7", 7),
    ("6 to 7", 7),
    ("between 6 and 7", 7),
    ("6.5", 7),
    ("6.4", 6),
    ("six and a half", 7),
    ("maybe a 3", 3),
    ("it's 4 now", 4),
    ("sixty-eight", 68),
]


@pytest.mark.parametrize("text,expected", NUMBERS)
def test_numbers(text: str, expected: int) -> None:
    assert values(text, "number") == [expected]


@pytest.mark.parametrize(
    "text",
    ["the left one", "one of my legs", "someone told me", "often", "T7", "over 18", "no numbers here"],
)
def test_not_numbers(text: str) -> None:
    assert values(text, "number") == []


PAIN = [
    ("7/10", 7),
    ("8 / 10", 8),
    ("7 out of 10", 7),
    ("a solid 8 out of ten", 8),
    ("my pain is a 7", 7),
    ("the pain's about a 6", 6),
    ("pain was about a nine yesterday", 9),
    ("pain level 5", 5),
    ("pain is 6 or 7", 7),
    ("it hurts like an 8", 8),
    ("I'd rate it a 4", 4),
    ("I would rate my pain at 3", 3),
    ("6.5/10", 7),
    ("honestly 12/10", 10),
    ("no pain at all", 0),
    ("it doesn't hurt", 0),
    ("it doesnt hurt at all", 0),
    ("pain free now", 0),
    ("not in any pain", 0),
    ("0/10", 0),
]


@pytest.mark.parametrize("text,expected", PAIN)
def test_pain_scores(text: str, expected: int) -> None:
    assert values(text, "pain_score") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "seven",  # a bare number is a `number`; the form decides
        "pain for 3 weeks",
        "no pain relief from the pills",
        "pain in 2 places",
        "the pain is mild",
        "it's awful",
        "pain is 15",
        "pain at T7",
    ],
)
def test_not_pain_scores(text: str) -> None:
    assert values(text, "pain_score") == []


def test_explicit_score_beats_no_pain_phrase() -> None:
    assert values("no pain sitting, but it's a 7/10 when I stand", "pain_score") == [7]


AGES = [
    ("I'm 45", 45),
    ("im 45", 45),
    ("I am 62", 62),
    ("45 years old", 45),
    ("I'm forty-five", 45),
    ("aged 70", 70),
    ("age: 58", 58),
    ("my age is 81", 81),
    ("I'll be 70 in May", 70),
    ("he turned 66 last month", 66),
    ("she's 83", 83),
    ("my mum is 77", 77),
    ("I'm 16", 16),
    ("72yo", 72),
    ("a 52 year old woman", 52),
    ("over 18", "adult"),
    ("yes I'm over 18", "adult"),
    ("I'm an adult", "adult"),
    ("18 or older", "adult"),
    ("definitely 18+", "adult"),
    ("over the age of 18", "adult"),
    ("I'm not under 18", "adult"),
    ("under 18", "minor"),
    ("I'm a minor", "minor"),
    ("not 18 yet", "minor"),
    ("I'm not yet 18", "minor"),
    ("almost 18", "minor"),
    ("younger than eighteen", "minor"),
]


@pytest.mark.parametrize("text,expected", AGES)
def test_ages(text: str, expected: object) -> None:
    assert first(text, "age") == expected


@pytest.mark.parametrize(
    "text",
    ["I'm 7", "it's a 7", "I had radiation 2 years ago", "pain for 5 years", "I'm 7 out of 10", "I'm 6 or 7"],
)
def test_not_ages(text: str) -> None:
    assert values(text, "age") == []


def test_threshold_number_is_not_a_number() -> None:
    # A form reading `number` as the age must not take 18 from "under 18".
    assert values("I'm under 18", "number") == []
