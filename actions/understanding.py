"""What one patient message means at the question being asked: the answer, how
sure we are of it, other facts it gives, and whether it may report an
emergency.

Pure Python, no Rasa import. The form validation and the sealed-set scorer
(bench/sealed.py) both call `understand`, so what is measured is what the bot
does. The design (issue 10): a misunderstanding costs one confirming tap,
never a wrong outcome, a false alarm or a loop.
- Red flags in two stages. A clear, current symptom found by the rules
  (entity `red_flag`) is urgent at once. Anything symptom-like but uncertain
  (the classifier alone, an old or explained or other person's symptom:
  intent `red_flag_check`, see nlu/components.py) opens one confirming
  question; it never ends a screening on its own.
- Answers carry `sure`. Unsure readings (a hedge, a typed description matched
  to a button, a pain score among other numbers, anything typed that would
  exclude) are read back for one tap before they are recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import yaml

from actions.criteria import evaluate
from actions.answers import (
    READERS,
    UNKNOWN,
    Button,
    ParsedMessage,
    _as_int,
    _button_value,
    closest_button,
    interpret,
    matching_button,
)

RED_FLAG_INTENT = "red_flag"
RED_FLAG_CHECK_INTENT = "red_flag_check"
POSSIBLE_RED_FLAG = "red_flag_possible"
OTHER_PERSON_ROLE = "other_person"
URGENT = "urgent"      # a clear, current symptom: urgent care now
CONFIRM = "confirm"    # symptom-like but uncertain: one confirming question

READERS_FILE = Path(__file__).resolve().parent / "readers.yml"
READER_KEYS = frozenset({"ecog", "not_a_pain_number_after", "not_a_pain_number_before", "male", "labels"})
NEGATIONS = ("can't", "cant", "cannot", "can not", "couldn't", "not", "no longer", "don't", "dont", "unable to",
             "stopped", "quit", "gave up", "no more", "never")


@dataclass(frozen=True)
class Reading:
    """value None = not an answer (ask again); sure False = read it back first."""

    value: Any = None
    sure: bool = True
    red_flag: Optional[str] = None
    also: Mapping[str, Any] = field(default_factory=dict)


@lru_cache(maxsize=1)
def cues() -> dict[str, Any]:
    data = yaml.safe_load(READERS_FILE.read_text(encoding="utf-8"))
    if set(data) != READER_KEYS:
        raise ValueError(f"{READERS_FILE.name}: keys must be {sorted(READER_KEYS)}, got {sorted(data)}")
    return data


def _lower(text: str) -> str:
    return " " + re.sub(r"\s+", " ", text.lower().replace("’", "'")) + " "


def _find(text: str, phrase: str) -> list[int]:
    return [m.start() for m in re.finditer(r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])", text)]


def red_flag_stage(message: ParsedMessage, respondent: Optional[str]) -> Optional[str]:
    """URGENT, CONFIRM or None for one message."""
    if message.intent == RED_FLAG_INTENT or message.values("red_flag"):
        return URGENT
    if message.intent != RED_FLAG_CHECK_INTENT:
        return None
    possible = [e for e in message.entities if e.get("entity") == POSSIBLE_RED_FLAG]
    # A helper's "dad can't feel his feet" is the patient's symptom.
    if respondent == "caregiver" and possible and all(e.get("role") == OTHER_PERSON_ROLE for e in possible):
        return URGENT
    return CONFIRM


def read_ecog_description(text: str) -> Optional[int]:
    """The most limited ECOG level a free description names, or None."""
    lowered = _lower(text)
    found: list[int] = []
    for level, phrases in cues()["ecog"].items():
        for phrase in phrases:
            for at in _find(lowered, phrase):
                level_here = int(level)
                inherent = phrase.split()[0] in ("can't", "cannot", "no", "not", "unable", "nothing")
                before = lowered[max(0, at - 25):at]
                if not inherent and level_here <= 1 and any(_find(before, n) for n in NEGATIONS):
                    level_here += 1  # "can't go hiking any more" is not ECOG 0
                found.append(level_here)
    return max(found) if found else None


def read_pain_number(message: ParsedMessage) -> tuple[Optional[int], bool]:
    """(score, sure): the pain number, not durations, dates or ages."""
    explicit = [_as_int(v) for v in message.values("pain_score")]
    explicit = [v for v in explicit if v is not None and 0 <= v <= 10]
    if explicit:
        return explicit[-1], len(set(explicit)) == 1
    data = cues()
    lowered = message.text.lower()
    kept: list[int] = []
    numbers = [e for e in message.entities if e.get("entity") == "number"]
    for entity in numbers:
        value = _as_int(entity.get("value"))
        if value is None or not 0 <= value <= 10:
            continue
        start, end = int(entity.get("start") or 0), int(entity.get("end") or 0)
        after = re.findall(r"[a-z']+", lowered[end:end + 20])[:1]
        before = re.findall(r"[a-z']+", lowered[max(0, start - 15):start])[-1:]
        if (after and after[0] in data["not_a_pain_number_after"]) or (before and before[0] in data["not_a_pain_number_before"]):
            continue
        kept.append(value)
    if not kept:
        return None, True
    return kept[-1], len(set(kept)) == 1


def says_male(text: str) -> bool:
    lowered = _lower(text)
    return any(_find(lowered, phrase) for phrase in cues()["male"])


def volunteered(message: ParsedMessage, asked: Optional[str]) -> dict[str, Any]:
    """Facts the message states clearly for questions other than `asked`.

    Only entities the rules found, and only values that cannot exclude:
    an exclusion must always be asked and read back."""
    facts: dict[str, Any] = {}
    age = message.first("age")
    years = _as_int(age)
    if age == "adult" or (years is not None and 18 <= years < 120):
        facts["age"] = age if age == "adult" else years
    kinds = [k for k in message.values("cancer_type") if k not in ("plasmacytoma", "primary_bone")]
    if len(set(kinds)) == 1 and not set(message.values("cancer_type")) - set(kinds):
        facts["primary_cancer"] = kinds[0]
    regions = [r for r in ("cervical", "thoracic", "lumbar", "sacral") if r in set(message.values("spine_region"))]
    # Radiation "to my lower back" says where it was treated, not where it hurts.
    if regions and ("thoracic" in regions or "lumbar" in regions) and asked != "prior_spine_radiation":
        facts["spine_region"] = regions
    pains = [_as_int(v) for v in message.values("pain_score")]
    if len(set(pains)) == 1 and pains[0] is not None and 2 <= pains[0] <= 10:
        facts["pain_score"] = pains[0]
    if says_male(message.text) or "prostate" in message.values("cancer_type"):
        facts["pregnancy"] = "not_applicable"
    facts.pop(asked or "", None)
    return facts


def read_back(question: Any, value: Any) -> tuple[str, str]:
    """(words, wording) to read an understood answer back: the button title
    when there is one, else the trial's own number; wording picks the
    sentence of utter_ask_answer_check (age_years, pain_score or other)."""
    labels = cues()["labels"]
    titles = {_key(b.value): b.title for b in question.buttons}
    if _key(value) in titles:
        return titles[_key(value)], "other"
    if isinstance(value, list):
        words = [titles.get(_key([v]), titles.get(_key(v), labels.get(v, v))) for v in value]
        return labels["list_joiner"].join(words), "other"
    if _key(value) in titles:
        return titles[_key(value)], "other"
    if isinstance(value, int) and question.answer_type in ("age", "pain"):
        return str(value), "age_years" if question.answer_type == "age" else "pain_score"
    return str(labels.get(value, value)), "other"


def _key(value: Any) -> str:
    return repr(value)


def excludes(trial: Any, qid: str, value: Any, answers: Mapping[str, Any]) -> bool:
    """Would recording this answer make its own criterion fail?"""
    rows = evaluate(trial, {**answers, qid: value}).criteria
    return any(row.question_id == qid and row.status == "fail" for row in rows)


def understand(question: Any, message: ParsedMessage, respondent: Optional[str] = None,
               answers: Optional[Mapping[str, Any]] = None, trial: Any = None) -> Reading:
    """Read one message at `question` (a trial Question, or None outside the questions).

    With `trial` and the answers so far, a typed answer that would exclude is
    unsure: recall first, it is read back once before it counts."""
    stage = red_flag_stage(message, respondent)
    qid = getattr(question, "id", None)
    if question is None:
        return Reading(red_flag=stage, also=volunteered(message, None) if stage is None else {})
    buttons = [Button(b.title, b.value) for b in question.buttons]
    chosen = matching_button(message, buttons)
    if chosen is not None:
        return Reading(_button_value(question.answer_type, chosen.value))
    if stage == URGENT:
        return Reading(red_flag=URGENT)
    value, sure = _typed_value(question, message, buttons)
    if stage == CONFIRM and qid == "red_flags":
        # The safety question itself: a clear answer is the answer; a denial
        # that names the symptoms ("legs fine, no bladder trouble") is a no.
        if value == "no" and sure:
            return Reading("no")
        if value == "yes":
            return Reading(red_flag=URGENT)
        return Reading(red_flag=CONFIRM)
    also = volunteered(message, qid) if value is not None else {}
    if sure and value is not None and trial is not None and excludes(trial, qid, value, answers or {}):
        sure = False
    return Reading(value, sure, stage, also)


def _typed_value(question: Any, message: ParsedMessage, buttons: Sequence[Button]) -> tuple[Any, bool]:
    answer_type, qid = question.answer_type, question.id
    hedge = message.first("answer")
    value = interpret(qid, answer_type, message, buttons)
    from_reader = READERS[answer_type](qid, message) is not None
    if answer_type == "pain":
        score, sure = read_pain_number(message)
        if score is not None:
            return score, sure
        if isinstance(value, int):
            return None, True  # only durations, dates or ages: ask for the pain number
    if answer_type == "yes_no" and qid != "red_flags" and hedge in ("likely_yes", "likely_no"):
        return ("yes" if hedge == "likely_yes" else "no"), False
    if answer_type == "ecog" and not from_reader:
        described = read_ecog_description(message.text)
        if described is not None:
            return described, False
    if value is not None and value != UNKNOWN and not from_reader:
        return value, False  # a typed description matched to a button's words
    return value, True
