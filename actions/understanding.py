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
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import yaml

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
from actions.criteria import evaluate

RED_FLAG_INTENT = "red_flag"
RED_FLAG_CHECK_INTENT = "red_flag_check"
POSSIBLE_RED_FLAG = "red_flag_possible"
OTHER_PERSON_ROLE = "other_person"
URGENT = "urgent"      # a clear, current symptom: urgent care now
CONFIRM = "confirm"    # symptom-like but uncertain: one confirming question

READERS_FILE = Path(__file__).resolve().parent / "readers.yml"
READER_KEYS = frozenset({
    "ecog_active", "ecog_limits", "ecog_negated_activity", "ecog_work_words", "ecog_number_words",
    "not_a_pain_number_after", "not_a_pain_number_before", "male", "male_patient_relations",
    "pregnancy_not_possible", "pregnancy_not_possible_from_age", "pregnancy_could_be", "pregnancy_discuss",
    "pregnancy_no_hedged", "breastfeeding_yes", "breastfeeding_no", "visceral_organs", "visceral_bones_only",
    "radiation_elsewhere", "radiation_none", "radiation_where_unknown", "spine_mets_words", "spine_mets_found",
    "attend_yes", "attend_no", "attend_unsure", "respondent_caregiver", "respondent_self",
    "age_adult_words", "age_minor_words", "symptom_words", "recent_words", "function_flags", "labels",
})
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
    if not possible and not re.search(cues()["symptom_words"], message.text.lower()):
        return None  # the classifier alone, and nothing in the message speaks of a symptom
    # A helper's "dad can't feel his feet" is the patient's symptom.
    if respondent == "caregiver" and possible and all(e.get("role") == OTHER_PERSON_ROLE for e in possible):
        return URGENT
    return CONFIRM


def _has(text: str, phrases: Sequence[str]) -> bool:
    lowered = _lower(text)
    return any(_find(lowered, phrase) for phrase in phrases)


def _first_at(text: str, phrases: Sequence[str]) -> Optional[int]:
    lowered = _lower(text)
    found = [at for phrase in phrases for at in _find(lowered, phrase)]
    return min(found) if found else None


def read_ecog_description(text: str) -> Optional[int]:
    """The ECOG level a free description of a usual day names, or None."""
    data = cues()
    lowered = _lower(text)
    limits = [int(level) for level, phrases in data["ecog_limits"].items() if _has(text, phrases)]
    still_works = False
    for match in re.finditer(data["ecog_negated_activity"], lowered):
        what = match.group("what").split()
        if any(word in data["ecog_work_words"] for word in what[:3]):
            limits.append(2)
        else:
            limits.append(1)
    # Work that goes on ("office job 4 days a week") caps a lost side job at 1.
    for phrase in ("still work", "still working", "office job", "my job", "days a week", "full days", "full time", "part time"):
        if _find(lowered, phrase):
            still_works = True
    if limits:
        level = max(limits)
        return 1 if still_works and level == 2 and not _has(text, data["ecog_limits"][2]) else level
    return 0 if _has(text, data["ecog_active"]) else None


def read_ecog_number(message: ParsedMessage) -> Optional[int]:
    """A grade given as a number: the whole message, or after "ECOG", "a"...
    ("I run 5k three times a week" says nothing about the grade)."""
    words = re.findall(r"[a-z0-9#]+", message.text.lower())
    numbers = [e for e in message.entities if e.get("entity") == "number" and _as_int(e.get("value")) is not None]
    if len(numbers) != 1:
        return None
    grade = _as_int(numbers[0].get("value"))
    if grade is None or not 0 <= grade <= 4:
        return None
    lowered = message.text.lower()
    before = re.findall(r"[a-z#]+", lowered[: int(numbers[0].get("start") or 0)])
    after = re.findall(r"[a-z']+", lowered[int(numbers[0].get("end") or 0):])[:1]
    if after and after[0] in cues()["not_a_pain_number_after"]:
        return None  # "lying down maybe 3 hours", "about two months": not a grade
    if len(words) <= 2 or (before and before[-1] in cues()["ecog_number_words"]):
        return grade
    return None


def read_pain_number(message: ParsedMessage) -> tuple[Optional[int], bool]:
    """(score, sure): the pain number, not durations, dates or ages."""
    explicit = [_as_int(v) for v in message.values("pain_score")]
    explicit = [v for v in explicit if v is not None and 0 <= v <= 10]
    if explicit:
        return max(explicit), len(set(explicit)) == 1
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
    # The question asks for the worst: "from a 9 down to a 4" is 9 (read back).
    return max(kept), len(set(kept)) == 1


def says_male(text: str) -> bool:
    lowered = _lower(text)
    return any(_find(lowered, phrase) for phrase in cues()["male"])


# Where people name a cancer, organ words mean something else: "spots on her
# liver" answers the spread question, "radiation to my breast" the radiation one.
CANCER_NOT_VOLUNTEERED_AT = frozenset({"spine_mets_confirmed", "spine_region", "cord_compression_told",
                                       "prior_spine_radiation", "visceral_metastases"})
SPINE_WORDS = re.compile(r"\b(?:back|spine|spinal|vertebra\w*|neck|tailbone|[ctls]\d{1,2})\b", re.IGNORECASE)


def volunteered(message: ParsedMessage, asked: Optional[str], reading: Any = None) -> dict[str, Any]:
    """Facts the message states clearly for questions other than `asked`.

    Only entities the rules found, and only values that cannot exclude:
    an exclusion must always be asked and read back."""
    facts: dict[str, Any] = {}
    age = message.first("age")
    years = _as_int(age)
    if age == "adult" or (years is not None and 18 <= years < 120):
        facts["age"] = age if age == "adult" else years
    kinds = [k for k in message.values("cancer_type") if k not in ("plasmacytoma", "primary_bone")]
    named = re.search(r"\b(?:cancer|myeloma|melanoma|sarcoma|lymphoma|started|began)\b", message.text.lower())
    if named and asked not in CANCER_NOT_VOLUNTEERED_AT and len(set(kinds)) == 1 \
            and not set(message.values("cancer_type")) - set(kinds):
        facts["primary_cancer"] = kinds[0]
    regions = [r for r in ("cervical", "thoracic", "lumbar", "sacral") if r in set(message.values("spine_region"))]
    # Radiation "to my lower back" says where it was treated, not where it
    # hurts; "my hip and ribs" are bones, not the spine.
    if regions and ("thoracic" in regions or "lumbar" in regions) and asked != "prior_spine_radiation" \
            and SPINE_WORDS.search(message.text):
        facts["spine_region"] = regions
    pains = [_as_int(v) for v in message.values("pain_score")]
    if len(set(pains)) == 1 and pains[0] is not None and 2 <= pains[0] <= 10:
        facts["pain_score"] = pains[0]
    helper_names_a_man = asked == "respondent" and reading == "caregiver" and _has(message.text, cues()["male_patient_relations"])
    if says_male(message.text) or helper_names_a_man:
        facts["pregnancy"] = "not_applicable"
    facts.pop(asked or "", None)
    return facts


def _function_not_news(message: ParsedMessage) -> bool:
    """Walking or weakness told as part of a usual day, with nothing saying it is recent."""
    data = cues()
    flags = set(message.values("red_flag"))
    return bool(flags) and flags <= set(data["function_flags"]) and not re.search(data["recent_words"], message.text.lower())


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
    if stage == URGENT and qid == "performance_status" and _function_not_news(message):
        stage = CONFIRM
    if stage == URGENT:
        return Reading(red_flag=URGENT)
    value, sure = _typed_value(question, message, buttons)
    if value is not None and not question.accepts(value):
        value, sure = None, True  # e.g. "not sure" to "for yourself or someone else?": asked again
    if stage == CONFIRM and qid == "red_flags":
        # The safety question itself: a clear answer is the answer; a denial
        # that names the symptoms ("legs fine, no bladder trouble": the rules
        # found no symptom, only the classifier guessed) is a no. A symptom
        # the rules found is always asked about, whatever else was said.
        found = any(e.get("entity") == POSSIBLE_RED_FLAG for e in message.entities)
        if value == "no" and sure and not found:
            return Reading("no")
        if value == "yes":
            return Reading(red_flag=URGENT)
        return Reading(red_flag=CONFIRM)
    also = volunteered(message, qid, value) if value is not None else {}
    if sure and value is not None and trial is not None and excludes(trial, qid, value, answers or {}):
        sure = False
    return Reading(value, sure, stage, also)


YEAR = re.compile(r"\bborn\s+(?:in\s+)?((?:19|20)\d\d)\b")
TURNING = re.compile(r"\b(?:i[''’]?ll\s+be|he[''’]?ll\s+be|she[''’]?ll\s+be|will\s+be|turning|turns)\s+(\d{1,3})\b")


def read_respondent(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    helper = _first_at(message.text, data["respondent_caregiver"])
    own = _first_at(message.text.replace("’", "'"), data["respondent_self"])
    if helper is None and own is None:
        return None, True
    if own is None or (helper is not None and helper < own):
        return "caregiver", True
    return "self", True


def read_age_words(message: ParsedMessage) -> tuple[Any, bool]:
    lowered = message.text.lower()
    born = YEAR.search(lowered)
    if born:
        # Read back ("born 1962"): the patient confirms the age it gives.
        return date.today().year - int(born.group(1)), False
    turning = TURNING.search(lowered)
    if turning and 0 < int(turning.group(1)) < 120:
        return int(turning.group(1)) - 1, False
    ages = {v for v in (_as_int(a) for a in message.values("age")) if v is not None}
    numbers = {v for v in (_as_int(n) for n in message.values("number")) if v is not None and 0 < v < 120}
    if len(ages | numbers) > 1:
        return max(ages or numbers), False  # "83 in august so 82 now": read back
    if not ages and not numbers and message.first("age") is None:
        if _has(message.text, cues()["age_minor_words"]):
            return "minor", False
        if _has(message.text, cues()["age_adult_words"]):
            return "adult", False
    return None, True


def read_pregnancy_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    text = message.text
    if says_male(text) or _has(text, data["pregnancy_not_possible"]):
        return "not_applicable", True
    if _has(text, data["pregnancy_discuss"]):
        return "prefer_discuss", True
    if _has(text, data["pregnancy_no_hedged"]):
        return "no", False
    if _has(text, data["pregnancy_could_be"]):
        return "could_be", True
    years = [v for v in (_as_int(n) for n in [*message.values("age"), *message.values("number")]) if v is not None]
    if years and max(years) >= data["pregnancy_not_possible_from_age"] and message.first("answer") != "yes":
        return "not_applicable", False
    return None, True


def read_breastfeeding_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if says_male(message.text) or _has(message.text, data["breastfeeding_no"]):
        return "no", True
    if _has(message.text, data["breastfeeding_yes"]):
        return "yes", True
    return None, True


def read_visceral_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if message.first("answer") == "unsure" or message.intent == "dont_know":
        return UNKNOWN, True
    if _has(message.text, data["visceral_bones_only"]):
        return "no", True
    lowered = _lower(message.text)
    organs = [o for o in data["visceral_organs"] for at in _find(lowered, o)
              if not re.match(r"\s*(?:cancer|ca)\b", lowered[at + len(o):])]
    if organs:
        return "yes", message.first("answer") not in ("likely_yes", "likely_no")
    return None, True


def read_prior_radiation_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if _has(message.text, data["radiation_where_unknown"]) and message.first("answer") != "no":
        return [], True
    if _has(message.text, data["radiation_none"]):
        return "no", True
    if _has(message.text, data["radiation_elsewhere"]):
        return "no", False
    return None, True


def read_spine_mets_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if message.first("answer") in ("no", "unsure", "likely_no") or message.intent in ("deny", "dont_know"):
        return None, True
    spine = _has(message.text, data["spine_mets_words"]) or bool(message.values("spine_level") or message.values("spine_region"))
    if spine and _has(message.text, data["spine_mets_found"]):
        return "yes", False
    return None, True


def read_attend_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if _has(message.text, data["attend_no"]):
        return "no", False
    if _has(message.text, data["attend_yes"]):
        return "yes", False
    if _has(message.text, data["attend_unsure"]):
        return UNKNOWN, True
    return None, True


def read_cancer_words(message: ParsedMessage) -> tuple[Any, bool]:
    """The cancer it started as, when several are named or none by name."""
    lowered = message.text.lower()
    if re.search(r"\b(?:never|didn[''’]?t|did\s+not|couldn[''’]?t|could\s+not)\s+(?:\w+\s+){0,2}(?:found|find|know|tell)\s+where\b|unknown\s+primary", lowered):
        return UNKNOWN, True
    kinds = [e for e in message.entities if e.get("entity") == "cancer_type"]
    if re.search(r"\bmarrow\b", lowered):
        # Myeloma starts in the bone marrow: "started in the bone marrow" is not a bone cancer.
        kinds = [k for k in kinds if k.get("value") != "primary_bone"]
        if not kinds:
            return "myeloma", False
        if len({k.get("value") for k in kinds}) == 1:
            return kinds[0].get("value"), True
    if len({k.get("value") for k in kinds}) > 1:
        started = re.search(r"\b(?:started|began|begun|start|originally|primary|came\s+from)\b", lowered)
        if started:
            after = [k for k in kinds if int(k.get("start") or 0) >= started.start()]
            if after:
                return after[0].get("value"), True
        specific = [k.get("value") for k in kinds if k.get("value") != "other"]
        if len(set(specific)) == 1:
            return specific[0], True
    return None, True


# Questions where a plain yes or no beats the word reader ("yes I can come").
STANCE_FIRST = frozenset({"spine_mets_confirmed", "able_to_attend", "visceral_metastases", "breastfeeding"})
WORD_READERS = {
    "respondent": read_respondent,
    "age": read_age_words,
    "pregnancy": read_pregnancy_words,
    "breastfeeding": read_breastfeeding_words,
    "visceral_metastases": read_visceral_words,
    "prior_spine_radiation": read_prior_radiation_words,
    "spine_mets_confirmed": read_spine_mets_words,
    "able_to_attend": read_attend_words,
    "primary_cancer": read_cancer_words,
}


def _typed_value(question: Any, message: ParsedMessage, buttons: Sequence[Button]) -> tuple[Any, bool]:
    """(value, sure) of a typed answer: the question's own word reader first,
    then the shared readers of actions/answers.py."""
    answer_type, qid = question.answer_type, question.id
    hedge = message.first("answer")
    words = WORD_READERS.get(qid)
    if words is not None and qid in STANCE_FIRST:
        said = interpret(qid, answer_type, message, buttons)
        if said in ("yes", "no") and READERS[answer_type](qid, message) is not None and hedge not in ("likely_yes", "likely_no"):
            return said, True
    if words is not None:
        value, sure = words(message)
        if value is not None:
            return value, sure
    if answer_type == "pain":
        score, sure = read_pain_number(message)
        if score is not None:
            return score, sure
    if answer_type == "ecog":
        grade = read_ecog_number(message)
        if grade is not None:
            return grade, True
        described = read_ecog_description(message.text)
        if described is not None:
            return described, False
        close = closest_button(message, buttons)
        if close is not None and close.value != UNKNOWN:
            return _button_value(answer_type, close.value), False
        return (UNKNOWN, True) if message.first("answer") == "unsure" or message.intent == "dont_know" else (None, True)
    value = interpret(qid, answer_type, message, buttons)
    from_reader = READERS[answer_type](qid, message) is not None
    if answer_type == "pain" and isinstance(value, int):
        return None, True  # only durations, dates or ages: ask for the pain number
    if hedge in ("likely_yes", "likely_no") and answer_type in ("yes_no", "prior_radiation", "pregnancy"):
        # A hedge is read back, and never becomes a hard answer that excludes.
        leaning_yes = hedge == "likely_yes"
        if qid == "red_flags" and leaning_yes:
            return "yes", True  # safety first: "I think so" to the safety question is a yes
        if answer_type == "prior_radiation":
            return (value if isinstance(value, list) else []) if leaning_yes else "no", False
        if answer_type == "pregnancy":
            return ("could_be", True) if leaning_yes else ("no", False)
        return ("yes" if leaning_yes else "no"), False
    if value is not None and value != UNKNOWN and not from_reader:
        return value, False  # a typed description matched to a button's words
    return value, True
