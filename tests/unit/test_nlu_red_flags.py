"""red_flag: current, affirmed symptoms only; look-alikes must stay silent."""

from __future__ import annotations

from typing import Any, List

import pytest

from nlu.extract import Extractor, default_extractor, extract


def values(text: str, entity: str) -> List[Any]:
    return [e["value"] for e in extract(text) if e["entity"] == entity]


POSITIVE = [
    # weakness
    ("my legs gave way on the stairs", "weakness"),
    ("legs feel weak", "weakness"),
    ("my legs have been getting really weak", "weakness"),
    ("legs r realy weak", "weakness"),
    ("his right leg is weaker than before", "weakness"),
    ("I have weakness in my arms", "weakness"),
    ("my knees keep buckling", "weakness"),
    ("her legs won't hold her up", "weakness"),
    ("I can't lift my left leg", "weakness"),
    ("no strength in my legs", "weakness"),
    ("my legs feel like jelly", "weakness"),
    # walking
    ("I can't walk properly", "walking"),
    ("I keep falling", "walking"),
    ("trouble walking since Monday", "walking"),
    ("he can barely walk", "walking"),
    ("struggling to stand up", "walking"),
    ("my walking is all wobbly", "walking"),
    ("I've been stumbling a lot", "walking"),
    ("can no longer walk", "walking"),
    ("I can't walk properly anymore", "walking"),
    # numbness / tingling
    ("I can't feel my legs", "numbness"),
    ("numb down there", "numbness"),
    ("numbness around my bottom", "numbness"),
    ("tingling in my feet", "numbness"),
    ("tinglng in my toes", "numbness"),
    ("pins and needles in both hands", "numbness"),
    ("my feet are numb", "numbness"),
    ("no feeling in my feet", "numbness"),
    ("I think my toes are a bit numb", "numbness"),  # hedged still counts
    ("numbnes in my legs", "numbness"),
    # bladder / bowel
    ("I wet myself and didn't notice", "bladder_bowel"),
    ("can't pee", "bladder_bowel"),
    ("i cant pee since last night", "bladder_bowel"),
    ("I haven't been able to pee today", "bladder_bowel"),
    ("lost control of my bowels", "bladder_bowel"),
    ("I pooed myself without feeling it", "bladder_bowel"),
    ("my bladder isn't working", "bladder_bowel"),
    ("I keep leaking urine", "bladder_bowel"),
    ("I can't tell when I need to pee", "bladder_bowel"),
    # band of pain / shooting down a limb
    ("pain like a tight band around my chest", "band_pain"),
    ("it wraps around my ribs", None),  # no pain word: not enough on its own
    ("the pain wraps around my ribs", "band_pain"),
    ("shooting pain down my leg", "band_pain"),
    ("electric shocks down my arm", "band_pain"),
    ("pain going down the back of my leg", "band_pain"),
    ("sciatica since yesterday", "band_pain"),
    # caregiver, questions that report a symptom, lists, historical-then-back
    ("is it bad that I can't feel my feet?", "numbness"),
    ("my legs are weak, is that normal?", "weakness"),
    ("I had numbness years ago and now it's back", "numbness"),
    ("no pain but my legs are numb", "numbness"),
    ("No I can't feel my legs", "numbness"),
    ("if I walk far my legs go numb", "numbness"),
    ("I have numbness and no weakness", "numbness"),
    ("no weakness, tingling in my feet", "numbness"),  # a contrast, not a list
    ("no weakness - legs feel numb though", "numbness"),
    ("feet have gone all tingly", "numbness"),
    ("pee just dribbles out", "bladder_bowel"),
    ("I've fallen a few times this week", "walking"),
    ("my legs have gone to jelly", "weakness"),
    ("a band of pain round my tummy", "band_pain"),
    ("no weakness\nmy legs are numb", "numbness"),  # a new line ends the negation
]


@pytest.mark.parametrize("text,flag", POSITIVE)
def test_current_affirmed_red_flags(text: str, flag: Any) -> None:
    found = values(text, "red_flag")
    if flag is None:
        assert found == []
    else:
        assert flag in found


# Another person's symptom is asked about (red_flag_possible, role
# other_person); for a helper chatting about that person it is urgent at once
# (actions/understanding.py, tests/unit/test_understanding.py).
@pytest.mark.parametrize("text,flag", [
    ("my husband can't walk properly", "walking"),
    ("no, my cousin had that and he got numb legs", "numbness"),
])
def test_another_persons_symptom_is_possible_with_its_role(text: str, flag: str) -> None:
    found = [e for e in extract(text) if e["entity"] == "red_flag_possible"]
    assert [(e["value"], e.get("role")) for e in found] == [(flag, "other_person")]
    assert values(text, "red_flag") == []


NEGATIVE = [
    # negated
    "no weakness at all",
    "my legs are fine",
    "I can walk fine",
    "no numbness",
    "no weakness, numbness or tingling",
    "no numbness, tingling or weakness in my legs",
    "I don't have any trouble walking",
    "never had any numbness",
    "I'm not numb anywhere",
    "nothing wrong with my bladder",
    "bladder control is fine",
    "no problems with my bladder or bowels",
    "no shooting pain down my legs",
    "I haven't noticed any weakness",
    "walking is normal",
    "no weakness, numbness, tingling",
    "no  numbness",  # double space
    "Incontinence - no",
    "weakness: none",
    "bladder and bowels working normally",
    "my legs aren't weak",
    "my legs are not weak",
    # historical
    "I had numbness years ago before surgery, gone now",
    "used to have tingling",
    "the tingling in my feet went away after chemo",
    "I had trouble walking in the past",
    "the weakness has resolved",
    "numbness is gone",
    # hypothetical / questions
    "what if my legs go numb?",
    "is numbness a sign of something?",
    "what does weakness mean",
    "Will I lose control of my bladder after the procedure?",
    "can the cement cause numbness?",
    "what should I do if my legs get weak?",
    "what are the warning signs of weakness",
    "I'm worried my legs might go numb",
    # look-alikes with no symptom
    "I can't stand the pain",
    "my hair is falling out",
    "I fell asleep",
    "my phone keeps buzzing",
    "numbers on the form",
    "the pain is around my waist",
    "my lower back hurts",
    "I had a shot in my arm",
    "I'm weak from the chemo",  # general fatigue, no limb: not the red flag
    "constipated from the painkillers",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_look_alikes_are_not_red_flags(text: str) -> None:
    assert values(text, "red_flag") == []


def test_every_flag_value_is_in_the_contract() -> None:
    produced = {v for text, v in POSITIVE if v}
    assert produced == {"weakness", "walking", "numbness", "bladder_bowel", "band_pain"}


@pytest.mark.parametrize(
    "text,clauses",
    [
        ("no pain but my legs are numb", ["no pain", "my legs are numb"]),
        ("I have no pain and my legs are numb", ["I have no pain", "my legs are numb"]),
        ("No I can't feel my legs", ["No", "I can't feel my legs"]),
        ("weak legs, numb feet. Help?", ["weak legs", "numb feet", "Help"]),
        ("mid-back, T11-L2", ["mid-back", "T11-L2"]),
    ],
)
def test_clauses(text: str, clauses: List[str]) -> None:
    extractor: Extractor = default_extractor()
    context = extractor.context.analyse(extractor.nlp(text))
    assert [context.doc[c.start : c.end].text for c in context.clauses] == clauses
