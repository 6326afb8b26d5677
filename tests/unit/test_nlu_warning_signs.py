"""Same-day warning signs: worse and worse pain, pain on coughing or straining, pain at night."""

from __future__ import annotations

import pytest

from nlu.extract import extract


def signs(text: str) -> set[str]:
    return {e["value"] for e in extract(text) if e["entity"] == "warning_sign"}


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("the pain keeps getting worse every day", "worsening_pain"),
        ("it's getting worse and worse", "worsening_pain"),
        ("my back pain has been getting worse this week", "worsening_pain"),
        ("worse every day honestly", "worsening_pain"),
        ("the ache is growing stronger", "worsening_pain"),
        ("it hurts when I cough", "cough_pain"),
        ("coughing is agony", "cough_pain"),
        ("sneezing makes the pain shoot", "cough_pain"),
        ("pain is worse when I strain on the toilet", "cough_pain"),
        ("when he coughs it hurts a lot", "cough_pain"),
        ("the pain wakes me up at night", "night_pain"),
        ("I can't sleep because of the pain", "night_pain"),
        ("my back keeps me awake", "night_pain"),
        ("she can barely sleep, her back hurts so much", "night_pain"),
        ("the pain stops me from sleeping", "night_pain"),
    ],
)
def test_warning_signs_are_found(text: str, sign: str) -> None:
    assert sign in signs(text)


@pytest.mark.parametrize(
    "text",
    [
        "no pain when I cough",
        "it's a 7",
        "I sleep fine",
        "the pain is about the same",
        "it doesn't get worse at night",
        "lower back",
        "I had a cough last month",
    ],
)
def test_look_alikes_are_not_warning_signs(text: str) -> None:
    assert signs(text) == set()


def test_a_red_flag_outranks_a_warning_sign() -> None:
    found = {e["entity"] for e in extract("my legs are weak and the pain is getting worse")}
    assert "red_flag" in found and "warning_sign" not in found
