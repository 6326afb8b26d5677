"""spine_region (lay words, codes, ranges) and spine_level."""

from __future__ import annotations

from typing import Any, List

import pytest

from nlu.extract import extract


def values(text: str, entity: str) -> List[Any]:
    return [e["value"] for e in extract(text) if e["entity"] == entity]


def first(text: str, entity: str) -> Any:
    found = values(text, entity)
    return found[0] if found else None

REGION_PHRASES = [
    ("it's in my neck", ["cervical"]),
    ("the back of my neck hurts", ["cervical"]),
    ("right between my shoulder blades", ["thoracic"]),
    ("between the shoulder blades", ["thoracic"]),
    ("upper back", ["thoracic"]),
    ("my middle back", ["thoracic"]),
    ("mid back mostly", ["thoracic"]),
    ("in the mid-back", ["thoracic"]),
    ("at the level of my ribs", ["thoracic"]),
    ("about where my bra line is", ["thoracic"]),
    ("lower back", ["lumbar"]),
    ("low back pain", ["lumbar"]),
    ("the small of my back", ["lumbar"]),
    ("at waist level in the back", ["lumbar"]),
    ("the lumbar spine", ["lumbar"]),
    ("lumber area", ["lumbar"]),
    ("my tailbone", ["sacral"]),
    ("at the bottom of my spine", ["sacral"]),
    ("the sacrum", ["sacral"]),
    ("coccyx", ["sacral"]),
    ("the very bottom of my back", ["sacral"]),
    ("Neck and lower back", ["cervical", "lumbar"]),
    ("thoracolumbar junction", ["thoracic", "lumbar"]),
    ("not my neck, my lower back", ["lumbar"]),
    ("neck is fine, it's the upper back", ["thoracic"]),
]


@pytest.mark.parametrize("text,expected", REGION_PHRASES)
def test_lay_words_give_regions(text: str, expected: list) -> None:
    assert values(text, "spine_region") == expected


LEVEL_PHRASES = [
    ("T7", "T7", ["thoracic"]),
    ("t7", "T7", ["thoracic"]),
    ("it's at T 11", "T11", ["thoracic"]),
    ("Th7", "T7", ["thoracic"]),
    ("the report says D7", "T7", ["thoracic"]),
    ("C5", "C5", ["cervical"]),
    ("L3 vertebra", "L3", ["lumbar"]),
    ("S1", "S1", ["sacral"]),
    ("T11-L2", "T11-L2", ["thoracic", "lumbar"]),
    ("T11 to L2", "T11-L2", ["thoracic", "lumbar"]),
    ("from t11 - l2", "T11-L2", ["thoracic", "lumbar"]),
    ("L4-5", "L4-L5", ["lumbar"]),
    ("L4/5", "L4-L5", ["lumbar"]),
    ("L5-S1", "L5-S1", ["lumbar", "sacral"]),
    ("C7-T1", "C7-T1", ["cervical", "thoracic"]),
    ("T4 to 6", "T4-T6", ["thoracic"]),
    ("L2-T11 written backwards", "T11-L2", ["thoracic", "lumbar"]),
    ("T12/L1", "T12-L1", ["thoracic", "lumbar"]),
]


@pytest.mark.parametrize("text,level,regions", LEVEL_PHRASES)
def test_codes_give_one_level_and_every_region_covered(text: str, level: str, regions: list) -> None:
    assert values(text, "spine_level") == [level]
    assert values(text, "spine_region") == regions


@pytest.mark.parametrize(
    "text",
    [
        "T13",  # there are 12 thoracic vertebrae
        "L7",
        "C9",
        "C0",
        "T11-L7",  # a range with a bad end is not trusted
        "it's 5 out of 10",  # the s of "it's" is no sacral code
        "level 5",
        "I take vitamin D3",
        "tumour was T2 N0",
        "lots of pain",
        "HL7 message",
    ],
)
def test_not_levels(text: str) -> None:
    assert values(text, "spine_level") == []


@pytest.mark.parametrize(
    "text",
    ["head and neck cancer", "cervical cancer", "I had a cervical smear", "broke the neck of my femur", "my back hurts"],
)
def test_not_regions(text: str) -> None:
    assert values(text, "spine_region") == []


def test_level_digits_are_not_numbers() -> None:
    assert values("T11-L2", "number") == []


def test_entity_dicts_have_offsets_and_text() -> None:
    text = "pain in my lower back"
    [region] = [e for e in extract(text) if e["entity"] == "spine_region"]
    assert region["value"] == "lumbar"
    assert text[region["start"] : region["end"]] == region["text"] == "lower back"


# Issue 13 item 7: where the neck ends is the C7/T1 junction, so a spot there is
# read as neck and upper back, never a neck-only exclusion (I4).
NECK_BASE_PHRASES = [
    "it aches right at the base of my neck",
    "base of neck, I think",
    "the sore bit is at the bottom of his neck",
    "pretty much where my neck meets my shoulders",
    "where the neck meets the shoulders on her",
    "my lower neck is the worst",
    "down in the lower part of the neck",
    "low in my neck, that is where it nags",
]


@pytest.mark.parametrize("text", NECK_BASE_PHRASES)
def test_the_base_of_the_neck_is_neck_and_upper_back(text: str) -> None:
    assert sorted(set(values(text, "spine_region"))) == ["cervical", "thoracic"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("the top of my neck, under the skull", ["cervical"]),  # the neck alone stays cervical
        ("not the base of my neck, it's the small of my back", ["lumbar"]),  # negated like any place
    ],
)
def test_the_rest_of_the_neck_is_unchanged(text: str, expected: list) -> None:
    assert values(text, "spine_region") == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        # A level told with it is more precise: C6 is the neck.
        ("low in my neck, the scan said C6", ["cervical"]),
        ("lower part of the neck, T1 on the MRI", ["thoracic"]),
        # Named beside another place, it is a place of its own.
        ("the lower neck and the small of my back", ["cervical", "lumbar", "thoracic"]),
    ],
)
def test_the_base_of_the_neck_gives_way_to_a_level_told_with_it(text: str, expected: list) -> None:
    assert sorted(set(values(text, "spine_region"))) == expected
