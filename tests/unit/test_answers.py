"""How one parsed message becomes the answer to the question asked."""

from __future__ import annotations

import pytest

from actions.answers import UNKNOWN, Button, ParsedMessage, interpret


def msg(text: str, intent: str | None = "inform", **entities: object) -> ParsedMessage:
    found = []
    for name, value in entities.items():
        for one in value if isinstance(value, list) else [value]:
            found.append({"entity": name, "value": one})
    return ParsedMessage(text=text, intent=intent, entities=tuple(found))


YES_NO_BUTTONS = [Button("Yes", "yes"), Button("No", "no"), Button("Not sure", UNKNOWN)]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("yes", "affirm"), "yes"),
        (msg("nope", "deny"), "no"),
        (msg("no idea", "dont_know"), UNKNOWN),
        (msg("never had it", "deny", answer="no"), "no"),
        (msg("I think so", "affirm", answer="likely_yes"), UNKNOWN),
        (msg("not that I know of", "deny", answer="likely_no"), UNKNOWN),
        (msg("/choose", "choose", choice="yes"), "yes"),
        (msg("Not sure", None), UNKNOWN),
        (msg("banana", "inform"), None),
    ],
)
def test_yes_no(message: ParsedMessage, expected: object) -> None:
    assert interpret("cord_compression_told", "yes_no", message, YES_NO_BUTTONS) == expected


def test_a_hedged_yes_to_red_flags_counts_as_yes() -> None:
    assert interpret("red_flags", "yes_no", msg("I think so", "affirm", answer="likely_yes")) == "yes"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("I'm 54", age=54), 54),
        (msg("17", number=17), 17),
        (msg("over 18", age="adult"), "adult"),
        (msg("I am a minor", age="minor"), "minor"),
        (msg("not sure", "dont_know"), UNKNOWN),
        (msg("old enough"), None),
        (msg("250", number=250), None),
    ],
)
def test_age(message: ParsedMessage, expected: object) -> None:
    assert interpret("age", "age", message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("7", number=7), 7),
        (msg("7/10", pain_score=7, number=7), 7),
        (msg("about a 6 or 7", number=7), 7),
        (msg("no pain at all", pain_score=0), 0),
        (msg("11", number=11), None),
        (msg("awful"), None),
        (msg("I can't say", "dont_know"), UNKNOWN),
    ],
)
def test_pain(message: ParsedMessage, expected: object) -> None:
    assert interpret("pain_score", "pain", message) == expected


def test_regions_are_ordered_and_unique() -> None:
    message = msg("lower back and neck and L2", spine_region=["lumbar", "cervical", "lumbar"])
    assert interpret("spine_region", "regions", message) == ["cervical", "lumbar"]


def test_region_button_gives_a_list() -> None:
    buttons = [Button("Lower back", "lumbar"), Button("Not sure", UNKNOWN)]
    assert interpret("spine_region", "regions", msg("/choose", "choose", choice="lumbar"), buttons) == ["lumbar"]
    assert interpret("spine_region", "regions", msg("not sure", "dont_know"), buttons) == UNKNOWN


def test_typed_button_title_counts_as_the_button() -> None:
    buttons = [Button("I do all my usual activities", 0), Button("I rest most of the day", 3)]
    assert interpret("performance_status", "ecog", msg("i rest most of the day"), buttons) == 3


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("breast", cancer_type="breast"), "breast"),
        (msg("lung, then myeloma", cancer_type=["lung", "myeloma"]), "myeloma"),
        (msg("I don't know what kind", "dont_know"), UNKNOWN),
        (msg("a bad one"), None),
    ],
)
def test_cancer(message: ParsedMessage, expected: object) -> None:
    assert interpret("primary_cancer", "cancer", message) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("for myself", "self"), ("me", "self"), ("I'm helping my mom", "caregiver"), ("for my husband", "caregiver"), ("hmm", None)],
)
def test_respondent(text: str, expected: object) -> None:
    assert interpret("respondent", "choice", msg(text)) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("no", "deny"), "no"),
        (msg("yes I am", "affirm"), "yes"),
        (msg("I'm a man"), "not_applicable"),
        (msg("I went through menopause"), "not_applicable"),
        (msg("could be"), "could_be"),
        (msg("I'd rather not say"), "prefer_discuss"),
        # A statement of pregnancy is a yes even when the classifier hears a denial.
        (msg("I am pregnant", "deny"), "yes"),
        (msg("she's expecting a baby"), "yes"),
        (msg("I'm not pregnant", "deny", answer="no"), "no"),
        (msg("she isn't pregnant", "inform"), None),
        (msg("I might be pregnant"), "could_be"),
    ],
)
def test_pregnancy(message: ParsedMessage, expected: object) -> None:
    assert interpret("pregnancy", "pregnancy", message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (msg("no, never", "deny", answer="no"), "no"),
        (msg("yes, to my lower back", "affirm", answer="yes", spine_region="lumbar"), ["lumbar"]),
        (msg("yes", "affirm"), []),
        (msg("can't remember", "dont_know", answer="unsure"), UNKNOWN),
    ],
)
def test_prior_radiation(message: ParsedMessage, expected: object) -> None:
    assert interpret("prior_spine_radiation", "prior_radiation", message) == expected


ECOG_BUTTONS = [
    Button("Does all usual activities, with no limits", 0),
    Button("Can't do hard physical work, but can do light work like housework", 1),
    Button("Up and about most of the day and can do self-care, but can't work", 2),
    Button("In bed or a chair more than half the day, and can do only some self-care", 3),
    Button("In bed or a chair all day, and needs help with self-care", 4),
    Button("Not sure", UNKNOWN),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I can do all my usual activities", 0),
        ("he needs help with self care, he's in bed all day", 4),
        ("I can only do light work like housework", 1),
        ("I'm in bed most of the day", None),  # half the day or all day: ask again
        ("banana", None),
    ],
)
def test_a_typed_description_picks_the_closest_button(text: str, expected: object) -> None:
    assert interpret("performance_status", "ecog", msg(text), ECOG_BUTTONS) == expected


def test_closest_button_never_beats_an_understood_answer() -> None:
    buttons = [Button("Neck", "cervical"), Button("Upper or middle back", "thoracic"), Button("Lower back", "lumbar")]
    message = msg("upper back and neck", spine_region=["thoracic", "cervical"])
    assert interpret("spine_region", "regions", message, buttons) == ["cervical", "thoracic"]
