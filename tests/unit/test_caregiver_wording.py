"""Issue 13, item 1: a helper is never told "you" about the person they are helping.

Every response of the domain is rendered the way Rasa picks a variation (a
variation whose `respondent` condition matches wins; otherwise the
unconditioned ones), for both respondents, together with the trial file's
patient-facing reasons (said in both modes). In caregiver mode, no sentence
may give the reader the patient's body, illness, care or choices ("you have
cancer", "your spine", "could fit you"); "you" for what the helper does
("You mentioned", "type go back", "the person you are helping") is right.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from tests.patient_texts import trial_texts

ROOT = Path(__file__).resolve().parents[2]
RESPONDENTS = ("self", "caregiver")

# Second person about the patient. Each pattern is a kind of sentence, not a string of one response.
ABOUT_THE_PATIENT = [
    re.compile(r"\byou(?: have| had| feel| may be| might be| could be| can get| join| take part)\b", re.I),
    # "you are helping", "if you are not sure" and "you're welcome" are about the reader.
    re.compile(r"\byou(?:'re| are| were) (?!helping|not sure|sure|welcome)", re.I),
    re.compile(r"\byour (?:cancer|spine|back|neck|pain|body|arms|legs|bladder|bowels|bottom|care team|cancer care team|"
               r"doctor|records|health|scan|case|age|choice|treatment|day)\b", re.I),
    # "for you or for someone you are helping" (said before the bot knows who is chatting) names both.
    re.compile(r"\b(?:fit|new for|about) you\b|\bfor you\b(?! or| to)", re.I),
    re.compile(r"\bso you can\b", re.I),
]
HELPER_WORDS = re.compile(r"person you are helping|\btheir (?:arms|legs|records|cancer care team)\b", re.I)


def _respondent(variation: dict[str, Any]) -> str | None:
    for condition in variation.get("condition") or []:
        if condition.get("name") == "respondent":
            return str(condition.get("value"))
    return None


def rendered(respondent: str) -> Iterator[tuple[str, str]]:
    """(where, text) of every response as Rasa would say it to this respondent."""
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text()) or {}).get("responses") or {}
        for name, variations in responses.items():
            matching = [v for v in variations if _respondent(v) == respondent]
            chosen = matching or [v for v in variations if _respondent(v) is None]
            for variation in chosen:
                if variation.get("text"):
                    yield f"{path.name}:{name}", variation["text"]
    yield from trial_texts()


CAREGIVER = sorted(set(rendered("caregiver")))
SELF = sorted(set(rendered("self")))


def test_every_response_is_rendered_in_both_modes() -> None:
    assert len(CAREGIVER) > 80 and len(SELF) > 80
    said = {where for where, _ in CAREGIVER}
    for name in ("utter_urgent_care", "utter_outcome_likely_eligible", "utter_referral_sent", "utter_ask_red_flags"):
        assert any(where.endswith(":" + name) for where in said), name


@pytest.mark.parametrize(("where", "text"), CAREGIVER, ids=[where for where, _ in CAREGIVER])
def test_caregiver_mode_never_gives_the_reader_the_patients_illness(where: str, text: str) -> None:
    found = [pattern.search(text).group(0) for pattern in ABOUT_THE_PATIENT if pattern.search(text)]
    assert not found, f"{where} (caregiver mode) says {found}: {text}"


@pytest.mark.parametrize(("where", "text"), SELF, ids=[where for where, _ in SELF])
def test_self_mode_never_speaks_of_a_person_being_helped(where: str, text: str) -> None:
    assert not HELPER_WORDS.search(text), f"{where} (self mode): {text}"


def test_the_check_finds_second_person_wording() -> None:
    # The patterns must catch the sentences the issue quotes, or they prove nothing.
    for sentence in ("Tell them you have cancer in your spine.", "you may be a good fit",
                     "could fit you", "Please call your cancer care team today.", "so you can get care first"):
        assert any(p.search(sentence) for p in ABOUT_THE_PATIENT), sentence
    for sentence in ("You mentioned something.", "Tell them the person you are helping has cancer in the spine.",
                     "If one of the answers was wrong, type \"go back\"."):
        assert not any(p.search(sentence) for p in ABOUT_THE_PATIENT), sentence
