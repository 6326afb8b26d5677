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
SPEAKER_ROLE = "speaker"  # nlu/extract/red_flags.py: the one typing says it is theirs
# At the safety question a plain "yes" (or "yes I have") is urgent at once;
# a longer message read as yes without a symptom the rules found is asked about.
SHORT_YES_WORDS = 6
URGENT = "urgent"      # a clear, current symptom: urgent care now
CONFIRM = "confirm"    # symptom-like but uncertain: one confirming question

READERS_FILE = Path(__file__).resolve().parent / "readers.yml"
RED_FLAG_PATTERNS = Path(__file__).resolve().parents[1] / "nlu" / "patterns" / "red_flags.yml"
READER_KEYS = frozenset({
    "ecog", "ecog_number_words", "ecog_kps", "kps_to_ecog", "ecog_range",
    "not_a_pain_number_after", "not_a_pain_number_before", "pain_corrected", "pain_earlier", "pain_now",
    "results_pending", "age_figure_of_speech", "question_opening", "cord_yes", "cord_no", "pain_scale", "ordinal_choice", "ordinal_places",
    "age_of_someone_else", "visceral_organ_yes", "male", "male_said", "question_echo", "decade_ages", "male_patient_relations",
    "pregnancy_not_possible", "pregnancy_organs_removed", "pregnancy_not_possible_from_age", "pregnancy_yes", "pregnancy_untested", "pregnancy_could_be", "pregnancy_discuss",
    "pregnancy_no_hedged", "pregnancy_signs", "breastfeeding_yes", "breastfeeding_no", "breastfeeding_mixed", "visceral_organs", "visceral_bones_only",
    "visceral_organ_origin", "visceral_organ_origin_after", "visceral_organ_clear", "visceral_organ_denied",
    "radiation_elsewhere", "radiation_other_part", "radiation_words", "radiation_named", "place_not_painful", "place_correction", "place_bare_after_correction", "place_bare_regions", "spine_everywhere", "spine_words_only", "pain_words", "radiation_none", "radiation_where_unknown", "radiation_where_unknown_said", "spine_mets_words", "spine_mets_found",
    "attend_yes", "attend_no", "attend_unsure", "attend_conclusion_yes", "attend_undecided", "respondent_caregiver", "respondent_self", "respondent_self_weak",
    "age_adult_words", "age_minor_words", "asks_meaning", "asks_meaning_said", "asks_if_counts", "recent_words", "function_flags", "labels",
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


@lru_cache(maxsize=4096)
def _phrase_pattern(phrase: str) -> "re.Pattern[str]":
    """A phrase of the reading rules as a whole-word pattern, compiled once.

    The rules hold more phrases than Python's own pattern cache (512), so
    `re` compiled most of them again on every message: two thirds of the
    action server's CPU (issue 14's profile). The phrases come from the rules
    (readers.yml), never from what a patient typed, so this cache stays small.
    """
    return re.compile(r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])")


def _find(text: str, phrase: str) -> list[int]:
    return [m.start() for m in _phrase_pattern(phrase).finditer(text)]


def red_flag_stage(message: ParsedMessage, respondent: Optional[str]) -> Optional[str]:
    """URGENT, CONFIRM or None for one message."""
    if message.intent == RED_FLAG_INTENT or message.values("red_flag"):
        return URGENT
    if message.intent != RED_FLAG_CHECK_INTENT:
        return None
    possible = [e for e in message.entities if e.get("entity") == POSSIBLE_RED_FLAG]
    if not possible and not _symptom_words_outside_places(message):
        return None  # the classifier alone, and nothing in the message speaks of a symptom
    # A helper's "dad can't feel his feet" is the patient's symptom.
    if respondent == "caregiver" and possible and all(e.get("role") == OTHER_PERSON_ROLE for e in possible):
        return URGENT
    # "It's me who has the numb hands": the helper's own (asked about), but
    # a patient saying so speaks of the patient.
    if respondent != "caregiver" and possible and all(e.get("role") == SPEAKER_ROLE for e in possible):
        return URGENT
    return CONFIRM


@lru_cache(maxsize=1)
def symptom_words() -> str:
    """One definition, beside the red-flag rules: nlu/patterns/red_flags.yml."""
    return str(yaml.safe_load(RED_FLAG_PATTERNS.read_text(encoding="utf-8"))["symptom_words"])


def _symptom_words_outside_places(message: ParsedMessage) -> bool:
    """A symptom word that is not part of a spine place: "just above my bum" is
    where the pain is (sealed round 10), not a word about the bottom."""
    places = [(int(e["start"]), int(e["end"])) for e in _spine_places(message)
              if e.get("start") is not None and e.get("end") is not None]
    return any(not any(a <= m.start() < b for a, b in places)
               for m in re.finditer(symptom_words(), message.text.lower()))


def _has(text: str, phrases: Sequence[str]) -> bool:
    lowered = _lower(text)
    return any(_find(lowered, phrase) for phrase in phrases)


def _first_at(text: str, phrases: Sequence[str]) -> Optional[int]:
    lowered = _lower(text)
    found = [at for phrase in phrases for at in _find(lowered, phrase)]
    return min(found) if found else None


SENTENCE = re.compile(r"[^.!?;]+[.!?;]*")
CLAUSE_BREAK = re.compile(r"[.!?;,]|\b(?:but|though|although|except|otherwise|and\s+then|then|so|because|bc|cuz|since)\b")
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "sixteen": 16,
                "a few": 3, "a couple of": 2}


def _phrases_in(text: str, phrases: Sequence[str]) -> list[tuple[int, int]]:
    return [(at, at + len(phrase)) for phrase in phrases for at in _find(text, phrase)]


def _hours(match: "re.Match[str]") -> Optional[int]:
    raw = match.group("n") or match.group("m")
    if raw is None:
        return None
    return int(raw) if raw.isdigit() else WORD_NUMBERS.get(raw)


def ecog_signals(text: str) -> list[str]:
    """The signals (rows of `ecog.weights`) a description of a usual day gives."""
    data = cues()["ecog"]
    lowered = _lower(text)
    signals: list[str] = []
    # States first, longest phrase wins where two overlap ("not more than
    # half" is not "more than half").
    found = sorted(((start, end, name) for name, phrases in data["states"].items()
                    for start, end in _phrases_in(lowered, phrases)), key=lambda f: (f[0] - f[1], f[0]))
    cuts = [0] + [m.start() for m in CLAUSE_BREAK.finditer(lowered)] + [len(lowered)]
    clauses = list(zip(cuts, cuts[1:]))
    # A clause about the days before the illness ("I used to be very active
    # but now...") says nothing about a usual day now (sealed round 6).
    past = [(a, b) for a, b in clauses if len(clauses) > 1 and re.search(data["clause_past"], lowered[a:b])]
    taken: list[tuple[int, int]] = []
    for start, end, name in found:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        if not any(a <= start < b for a, b in past):
            signals.append(name)
    if re.search(data["bed_most_pattern"], lowered) and "bed_all" not in signals:
        signals.append("bed_most")
    for match in re.finditer(data["hours_down"], lowered):
        hours = _hours(match)
        if hours is not None:
            signals.append("bed_most" if hours >= data["most_hours_from"] else "rest_some")
    for match in re.finditer(data["hours_up"], lowered):
        hours = _hours(match)
        if hours is not None and hours <= data["few_hours_up_to"]:
            signals.append("bed_most")
    # Activities, clause by clause: done, or negated / given away.
    for a, b in clauses:
        if (a, b) in past:
            continue
        clause = " " + lowered[a:b].strip(" .!?;,") + " "
        spans = [span for span in taken if a <= span[0] < b]
        free = "".join(" " if any(s - a <= i < e - a for s, e in spans) else ch for i, ch in enumerate(clause[1:-1]))
        free = " " + free + " "
        named = [kind for kind, words in data["activities"].items() if _phrases_in(free, words)]
        if "heavy" in named:
            # "stopped working on the rigs", "can't carry heavy groceries": the heavy part is meant.
            named = ["heavy"] + [kind for kind in named if kind == "selfcare"]
        negative = bool(re.search(data["clause_negative"], clause))
        signals += [f"{kind}_{'not' if negative else 'done'}" for kind in named]
    # Each signal counts once, however many words say it.
    return list(dict.fromkeys(signals))


def read_ecog_description(text: str) -> Any:
    """The ECOG level (0-4) a free description of a usual day fits best,
    UNKNOWN when it says the days vary or the helper cannot say, or None."""
    data = cues()["ecog"]
    signals = ecog_signals(text)
    typical = "typical" in signals
    signals = [s for s in signals if s != "typical"]
    if "cannot_say" in signals and len(signals) == 1:
        return UNKNOWN
    if "varies" in signals and not typical:
        return UNKNOWN
    rows = [data["weights"][s] for s in signals if s in data["weights"]]
    if not rows:
        return None
    totals = [sum(column) for column in zip(*rows)]
    return max(range(len(totals)), key=lambda level: (totals[level], level))


def read_ecog_figure(text: str) -> Optional[int]:
    """A Karnofsky score as its ECOG grade, or the higher of two grades given
    as a range; always read back (sealed rounds 11-12)."""
    data = cues()
    lowered = text.lower()
    kps = re.search(data["ecog_kps"], lowered)
    if kps:
        return int(data["kps_to_ecog"][int(kps.group("n"))])
    grades = re.search(data["ecog_range"], lowered)
    if grades:
        return max(int(g) for g in grades.groups() if g is not None)
    return None


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
    data = cues()
    lowered = message.text.lower()
    kept: list[tuple[int, int]] = []  # (value, where)
    for entity in message.entities:
        value = _as_int(entity.get("value")) if entity.get("entity") == "pain_score" else None
        if value is not None and 0 <= value <= 10:
            kept.append((value, int(entity.get("start") or 0)))
    numbers = [] if kept else [e for e in message.entities if e.get("entity") == "number"]
    # "rated it a 3 this morning, then said actually more like a 5": a number
    # after a correction counts beside the scores (sealed round 14).
    kept += [(v, int(e.get("start") or 0)) for e in message.entities if kept and e.get("entity") == "number"
             and (v := _as_int(e.get("value"))) is not None and 0 <= v <= 10
             and re.search(data["pain_corrected"], lowered[max(0, int(e.get("start") or 0) - 25):int(e.get("start") or 0)])
             and all(at != int(e.get("start") or 0) for _, at in kept)]
    scale = [(m.start(), m.end()) for m in re.finditer(data["pain_scale"], lowered)]  # "why 0 to 10?"
    numbers = [e for e in numbers if not any(a <= int(e.get("start") or 0) < b for a, b in scale)]
    for entity in numbers:
        value = _as_int(entity.get("value"))
        if value is None or not 0 <= value <= 10:
            continue
        start, end = int(entity.get("start") or 0), int(entity.get("end") or 0)
        after = re.findall(r"[a-z']+", lowered[end:end + 20])[:1]
        before = re.findall(r"[a-z']+", lowered[max(0, start - 15):start])[-1:]
        if (after and after[0] in data["not_a_pain_number_after"]) or (before and before[0] in data["not_a_pain_number_before"]):
            continue
        kept.append((value, start))
    if not kept:
        # A bare number above the scale ("11", "a 12!") is its top, read back
        # once (sealed round 9); "11 days" or a longer sentence is not.
        above = [e for e in numbers if 10 < (_as_int(e.get("value")) or 0) <= 20]
        if above and len(re.findall(r"[a-z]+", lowered)) <= 2:
            return 10, False
        return None, True
    values = {value for value, _ in kept}
    if len(values) > 1:
        corrected = [v for v, at in kept if re.search(data["pain_corrected"], lowered[max(0, at - 25):at])]
        if corrected:
            return corrected[-1], False
        clause = {v: _clause_at(lowered, at) for v, at in kept}
        now = [v for v, c in clause.items() if re.search(data["pain_now"], c) and not re.search(data["pain_earlier"], c)]
        earlier = [v for v, c in clause.items() if re.search(data["pain_earlier"], c)]
        if now and earlier:
            return max(now), False
        # "4, it used to be 8 before the morphine": the number not told of the past (sealed round 13).
        rest = [v for v in clause if v not in earlier]
        if earlier and rest:
            return max(rest), False
    # The question asks for the worst: "from a 9 down to a 4" is 9 (read back).
    return max(values), len(values) == 1


def _clause_at(text: str, at: int) -> str:
    cuts = [0] + [m.start() for m in CLAUSE_BREAK.finditer(text)] + [len(text)]
    start = max(c for c in cuts if c <= at)
    end = min((c for c in cuts if c > at), default=len(text))
    return text[start:end]


def says_male(text: str) -> bool:
    lowered = _lower(text)
    return any(_find(lowered, phrase) for phrase in cues()["male"]) or bool(re.search(cues()["male_said"], lowered))


DECADE = re.compile(r"\bin\s+(?:my|his|her|their)\s+(?:(?:early|mid|late)[\s-]+)?([a-z]+ies|\d0\s*'?s)\b")


def _years_said(message: ParsedMessage, text: str) -> list[int]:
    """Ages and numbers in the message, and a decade ("in my seventies") as its first year."""
    years = [v for v in (_as_int(n) for n in [*message.values("age"), *message.values("number")]) if v is not None]
    decades = cues()["decade_ages"]
    for match in DECADE.finditer(_lower(text)):
        word = match.group(1).replace("'", "").replace(" ", "")
        year = decades.get(word) or (_as_int(word[:2]) if word[:2].isdigit() else None)
        if year:
            years.append(year)
    return years


def _without_echo(text: str) -> str:
    """ "breastfeeding? I'm 72": the echoed question word is not the answer."""
    return re.sub(cues()["question_echo"], " ", text, count=1, flags=re.IGNORECASE)


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


def _an_active_day(message: ParsedMessage) -> bool:
    """The classifier alone (the rules found nothing) at the daily-function
    question, for a day read as up and about with nothing recent in it:
    "walk the dog round the block" is how people tell a usual day."""
    if any(e.get("entity") in (POSSIBLE_RED_FLAG, "red_flag") for e in message.entities):
        return False
    level = read_ecog_description(message.text)
    return isinstance(level, int) and level <= 2 and not re.search(cues()["recent_words"], message.text.lower())


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
    if stage == CONFIRM and qid == "performance_status" and _an_active_day(message):
        stage = None
    if stage == URGENT:
        return Reading(red_flag=URGENT)
    asked_back = stage is None and asks_back(message.text)
    if asked_back and not _answered_before_asking(message):
        return Reading()
    value, sure = _typed_value(question, message, buttons, respondent)
    if sure and value is not None and (asks_if_counts(message.text) or asked_back):
        sure = False  # "adrenal gland, does that count?": read back, not taken as said
    if value is not None and not question.accepts(value):
        value, sure = None, True  # e.g. "not sure" to "for yourself or someone else?": asked again
    if (qid == "red_flags" and stage is None and value == "yes" and not message.first("choice")
            and len(re.findall(r"[a-z']+", message.text.lower())) > SHORT_YES_WORDS):
        # A long message read as yes with no symptom the rules found ("I've
        # had a bad knee for years, my walking is the same"): asked about once.
        return Reading(red_flag=CONFIRM)
    if stage == CONFIRM and qid == "red_flags":
        # The safety question itself: a clear answer is the answer; a denial
        # that names the symptoms ("legs fine, no bladder trouble": the rules
        # found no symptom, only the classifier guessed) is a no. A symptom
        # the rules found is always asked about, whatever else was said.
        found = any(e.get("entity") == POSSIBLE_RED_FLAG for e in message.entities)
        if value == "no" and sure and not found:
            return Reading("no")
        # A yes about a symptom the rules call old or explained ("I've had a
        # bit of leakage since my kids, same as always") is asked about once.
        if value == "yes" and not found:
            return Reading(red_flag=URGENT)
        return Reading(red_flag=CONFIRM)
    also = volunteered(message, qid, value) if value is not None else {}
    if sure and value is not None and trial is not None and excludes(trial, qid, value, answers or {}):
        sure = False
    return Reading(value, sure, stage, also)


def _all_questions(text: str) -> bool:
    sentences = [m.group().strip() for m in SENTENCE.finditer(text) if m.group().strip()]
    return bool(sentences) and all(s.endswith("?") for s in sentences)


def ordinal_choice(text: str, buttons: Sequence[Button]) -> Optional[Button]:
    """The button picked by its place: "the fourth one", "option 2", "the last one"."""
    data = cues()
    found = re.search(data["ordinal_choice"], text.lower())
    choices = [b for b in buttons if b.value != UNKNOWN]
    if not found or not choices:
        return None
    word = found.group("word") or found.group("alone")
    place = int(found.group("number")) if found.group("number") else data["ordinal_places"][word]
    if place == -1:
        return choices[-1]
    if place == 0:
        return choices[len(choices) // 2] if len(choices) % 2 else None
    unsure = [b for b in buttons if b.value == UNKNOWN]
    if place == len(choices) + 1 and unsure:
        return unsure[0]  # "third option" of Yes / No / Not sure
    return choices[place - 1] if 1 <= place <= len(choices) else None


def asks_back(text: str) -> bool:
    """Every sentence is a question, and one asks what the question means."""
    if re.search(cues()["asks_meaning_said"], text.lower()):
        return True  # "not sure what you mean": the question again, in other words
    return (_all_questions(text) or _one_unmarked_question(text)) and bool(re.search(cues()["asks_meaning"], text.lower()))


def _one_unmarked_question(text: str) -> bool:
    """One sentence that opens like a question, typed without "?" ("what's
    breastfeeding got to do with my back")."""
    sentences = [m.group().strip() for m in SENTENCE.finditer(text) if m.group().strip()]
    return len(sentences) == 1 and bool(re.match(cues()["question_opening"], sentences[0].lower()))


def _answered_before_asking(message: ParsedMessage) -> bool:
    """An answer, then a question back in the same sentence ("yes on T6, why
    does that matter?", sealed round 12): the answer counts, read back."""
    comma = message.text.find(",")
    # "What's the spinal cord exactly, is that the bone?": a question from its
    # first word has no answer before the comma (sealed round 15).
    if comma < 0 or re.match(cues()["question_opening"], message.text.strip().lower()):
        return False
    return any(e.get("end") is not None and int(e["end"]) <= comma
               and (e.get("entity") in ("spine_level", "spine_region") or (e.get("entity") == "answer" and e.get("value") in ("yes", "no")))
               for e in message.entities)


def asks_if_counts(text: str) -> bool:
    """An answer offered as a question: "adrenal gland, does that count?"."""
    return _all_questions(text) and bool(re.search(cues()["asks_if_counts"], text.lower()))


YEAR = re.compile(r"\b(?:born\s+(?:in\s+)?|b\.\s*|dob:?\s*|birth\s+year:?\s*)((?:19|20)\d\d)\b")
MONTHS = r"(?:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|spring|summer|fall|autumn|winter|christmas)"
WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend)"
COMING_BIRTHDAY = re.compile(r"\s+(?:(?:come|this\s+coming|next)\s+(?:the\s+)?" + MONTHS + r"|(?:this\s+coming|next|on|this)\s+" + WEEKDAYS
                             + r"|next\s+(?:month|week)|in\s+(?:a\s+)?(?:few|couple\s+of|two|three)\s+(?:weeks|days|months)|tomorrow)\b")
DURATION_AFTER = re.compile(r"\s*(?:weeks?|days?|months?|wks?)\b")
UNTIL_BIRTHDAY = re.compile(r"\s*(?:weeks?|days?|months?|wks?)\s+(?:off|short\s+of|shy\s+of|away\s+from|until|till|til|to)\b")
FUTURE_AGE = re.compile(r"\s+(?:in|come|this|next|on|by)\s+(?:the\s+)?(?:" + MONTHS + "|" + WEEKDAYS + r"|month|week|year)\b")
# "73 and a half": an age counts whole years, but the number reader rounds
# a half up (right for a pain score), so one is taken off.
HALF_YEAR = re.compile(r"\band\s+a\s+half\b")
AGE_NOW = re.compile(r"\b(?:so|still|now|currently)\s+(\d{1,3})\b(?!\s*(?:yrs?|years?|months?|weeks?|days?))|\b(\d{1,3})\s+(?:still|now|right\s+now|at\s+the\s+moment)\b")
TURNING = re.compile(r"\b(?:i[''’]?ll\s+be|he[''’]?ll\s+be|she[''’]?ll\s+be|will\s+be|turning|turns|(?:i|he|she|they)\s+(?:\w+\s+)?turn)\s+(\d{1,3})\b")
# "80 - eighty one in November": the number reader reads a range as its
# higher end; the lower end is the age now when a birthday to come follows.
AGE_RANGE = re.compile(r"^(\d{1,3})\s*(?:-|–|—|to|or)\s*\S")


CONTRAST = re.compile(r"\b(?:but|though|however|although)\b")


def read_respondent(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    text = message.text.replace("’", "'")
    helper = _first_at(text, data["respondent_caregiver"])
    # "I'm the patient's spouse": a possessive is not the patient speaking (sealed round 9).
    own = _first_at(re.sub(r"\bpatient's\b", "patients", text), data["respondent_self"])
    if re.match(r"\s*me\b", text.lower()):
        own = 0  # "me, my mom set this up": "me" first is the answer
    if helper is None and own is None:
        return ("self", True) if _first_at(text, data["respondent_self_weak"]) is not None else (None, True)
    if own is None or helper is None:
        return ("caregiver" if own is None else "self"), True
    # "I tapped myself by mistake, it's for my sister": what follows the last
    # correction decides (sealed round 13), read back.
    corrected = [m.end() for m in re.finditer(data["place_correction"], text.lower())]
    if corrected:
        after = text[corrected[-1]:]
        later_helper, later_own = _first_at(after, data["respondent_caregiver"]), _first_at(after, data["respondent_self"])
        if (later_helper is None) != (later_own is None):
            return ("caregiver" if later_own is None else "self"), False
    contrast = CONTRAST.search(text.lower())
    if contrast and _first_at(text[contrast.end():], data["respondent_self"]) is not None:
        return "self", True
    return ("caregiver" if helper < own else "self"), True


def read_age_words(message: ParsedMessage, respondent: Optional[str] = None) -> tuple[Any, bool]:
    value, sure = _read_age(message, respondent)
    # "17-18" or "60 or 65": a range is read back, whichever end was taken.
    ranged = bool(_age_ranges(message))
    if ranged and value is None:  # a bare "17-18": its higher end, as the number reader takes it
        said = [v for v in (_as_int(e.get("value")) for e in message.entities if e.get("entity") in ("age", "number"))
                if v is not None and 0 < v < 120]
        value = max(said) if said else None
    return value, sure and not ranged


def _age_ranges(message: ParsedMessage) -> list[tuple[int, str]]:
    """Each number read from a range ("80 - eighty one"): its lower end, and the text after it."""
    lowered = message.text.lower()
    found = []
    for entity in message.entities:
        start, end = int(entity.get("start") or 0), int(entity.get("end") or 0)
        low = AGE_RANGE.match(lowered[start:end]) if entity.get("entity") == "number" else None
        if low:
            found.append((int(low.group(1)), lowered[end:]))
    return found


def _read_age(message: ParsedMessage, respondent: Optional[str] = None) -> tuple[Any, bool]:
    lowered = message.text.lower()
    born = YEAR.search(lowered)
    if born:
        # Read back ("born 1962"): the patient confirms the age it gives.
        return date.today().year - int(born.group(1)), False
    turning = TURNING.search(lowered)
    if turning and 0 < int(turning.group(1)) < 120:
        return int(turning.group(1)) - 1, False
    for low, after in _age_ranges(message):
        if FUTURE_AGE.match(after) or COMING_BIRTHDAY.match(after):
            return low, False  # read back (sealed round 15)
    def own(entity: dict[str, Any]) -> bool:  # a patient's "52, my husband is 55": 55 is his
        if respondent == "caregiver":
            return True  # a helper's "my mom is 74" is the patient's age
        end = int(entity.get("end") or 0)
        before = lowered[max(0, end - 45):end].rsplit(str(entity.get("value")), 1)[0]
        # "61 but I feel 90 some days": a figure of speech, not an age.
        if re.search(cues()["age_figure_of_speech"], before):
            return False
        return not re.search(cues()["age_of_someone_else"], before)

    ages = {v for v in (_as_int(e.get("value")) for e in message.entities if e.get("entity") == "age" and own(e)) if v is not None}
    # "70 in two weeks": a duration is no age.
    numbers = {v for v in (_as_int(e.get("value")) for e in message.entities if e.get("entity") == "number" and own(e)
                           and not DURATION_AFTER.match(lowered[int(e.get("end") or 0):]))
               if v is not None and 0 < v < 120}
    said = [e for e in message.entities if e.get("entity") in ("age", "number") and own(e) and _as_int(e.get("value"))]
    others = [e for e in message.entities if e.get("entity") in ("age", "number") and not own(e)]
    durations = [e for e in said if e.get("entity") == "number" and DURATION_AFTER.match(lowered[int(e.get("end") or 0):])]
    if durations and not ages and len(numbers) == 1:
        # "3 months off 70": the birthday to come, less one; "70, diagnosed 2 months ago": 70. Read back.
        age = next(iter(numbers))
        until = any(UNTIL_BIRTHDAY.match(lowered[int(e.get("end") or 0):]) for e in durations) or any(
            COMING_BIRTHDAY.match(lowered[int(e.get("end") or 0):]) for e in said if _as_int(e.get("value")) == age)
        return (age - 1 if until else age), False
    if HALF_YEAR.search(lowered) and len(ages | numbers) == 1 and not others:
        return next(iter(ages | numbers)) - 1, True
    if others and len(ages | numbers) == 1:
        return next(iter(ages | numbers)), False  # "52, my husband is 55": 52, read back
    if len(ages | numbers) == 1 and any(COMING_BIRTHDAY.match(lowered[int(e.get("end") or 0):]) for e in said):
        return next(iter(ages | numbers)) - 1, False  # "eighty-two come June": 81 now, read back
    if len(ages | numbers) > 1:
        now = AGE_NOW.search(lowered)
        if now and int(now.group(1) or now.group(2)) in ages | numbers:
            return int(now.group(1) or now.group(2)), False  # "83 in May, so 82 still": read back
        # "73, 74 in March": the age said of a birthday to come is not the age now (sealed round 12).
        coming = {_as_int(e.get("value")) for e in said if FUTURE_AGE.match(lowered[int(e.get("end") or 0):])}
        left = (ages | numbers) - coming
        if coming and len(left) == 1:
            return next(iter(left)), False
        return max(ages or numbers), False
    if not ages and not numbers and message.first("age") is None:
        if _has(message.text, cues()["age_minor_words"]):
            return "minor", False
        if _has(message.text, cues()["age_adult_words"]):
            return "adult", False
    return None, True


def read_pregnancy_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    text = _without_echo(message.text)
    if says_male(text) or _has(text, data["pregnancy_not_possible"]) or re.search(data["pregnancy_organs_removed"], text.lower()):
        return "not_applicable", True
    if _has(text, data["pregnancy_discuss"]):
        return "prefer_discuss", True
    if _has(text, data["pregnancy_yes"]):
        return "yes", True
    if _has(text, data["pregnancy_untested"]):
        return UNKNOWN, False  # "I don't think so but I haven't done a test": read back
    if _has(text, data["pregnancy_signs"]):
        return "could_be", True  # "I don't think so but my period is late" (sealed round 12)
    if _has(text, data["pregnancy_no_hedged"]):
        return "no", False
    if _has(text, data["pregnancy_could_be"]):
        return "could_be", True
    years = _years_said(message, text)
    if years and max(years) >= data["pregnancy_not_possible_from_age"] and message.first("answer") != "yes":
        return "not_applicable", False
    return None, True


def read_breastfeeding_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    text = _without_echo(message.text)
    if says_male(text):
        return "no", True
    # Both: "combo feeding, formula and breast" still breastfeeds (sealed round 11).
    if _has(text, data["breastfeeding_mixed"]):
        return "yes", True
    if _has(text, data["breastfeeding_no"]):
        return "no", True
    if _has(text, data["breastfeeding_yes"]):
        return "yes", True
    years = _years_said(message, text)
    if years and max(years) >= data["pregnancy_not_possible_from_age"] and message.first("answer") != "yes":
        return "no", False  # "I'm 80 honey": read back
    return None, True


def read_visceral_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    lowered = _lower(message.text)
    for organ in data["visceral_organs"]:
        if any(re.match(data["visceral_organ_yes"], lowered[at + len(organ):]) for at in _find(lowered, organ)):
            return "yes", True  # "lungs yes, brain no, liver not sure"
    # Words that say bones only outrank the classifier's "don't know" (sealed
    # round 6: "it started in my lung but hasn't gone to any other organs").
    if _has(message.text, data["visceral_bones_only"]) and message.first("answer") != "unsure":
        return "no", True
    if message.first("answer") == "unsure" or re.search(data["results_pending"], message.text.lower()):
        return UNKNOWN, True
    # The classifier's "don't know" yields to an organ named as a spread
    # ("brain, they did gamma knife", sealed round 12), read back.
    guessed_unsure = message.intent == "dont_know"
    lowered = _lower(message.text)
    spread, clear = [], []
    for organ in data["visceral_organs"]:
        for at in _find(lowered, organ):
            before, after = lowered[max(0, at - 40):at], lowered[at + len(organ):at + len(organ) + 40]
            if (re.match(r"\s*(?:cancer|ca)\b", after) or re.search(data["visceral_organ_origin"], before)
                    or re.match(data["visceral_organ_origin_after"], after)):
                continue  # "lung cancer", "it started in my lung": where it began
            if re.search(data["visceral_organ_clear"], after) or re.search(data["visceral_organ_denied"], before):
                clear.append(organ)
            else:
                spread.append(organ)
    if spread:
        return "yes", message.first("answer") not in ("likely_yes", "likely_no") and not guessed_unsure
    if guessed_unsure and message.first("answer") not in ("yes", "no", "likely_yes", "likely_no"):
        return UNKNOWN, True  # a hedged stance ("i dont think so") is left to the shared readers
    if clear:
        return "no", True
    return None, True


def places_of_radiation(message: ParsedMessage) -> ParsedMessage:
    """The message without spine places named in sentences about the pain
    now rather than the radiation ("they did my neck. The pain now is lower
    down, around my waist" was radiation to the neck only)."""
    data = cues()
    sentences = [m for m in SENTENCE.finditer(message.text) if m.group().strip()]
    if len(sentences) < 2:
        return message  # "yes, the same spot that hurts now": one sentence, one place

    def about_pain_only(sentence: str) -> bool:
        return bool(re.search(data["pain_words"], sentence)) and not re.search(data["radiation_words"], sentence)

    if not any(re.search(data["radiation_words"], m.group().lower()) for m in sentences):
        return message
    kept = []
    for entity in message.entities:
        if entity.get("entity") in ("spine_region", "spine_level") and entity.get("start") is not None:
            sentence = next((m.group() for m in sentences if m.start() <= int(entity["start"]) < m.end()), "")
            if about_pain_only(sentence.lower()):
                continue
        kept.append(entity)
    return ParsedMessage(message.text, message.intent, tuple(kept))


def _spine_places(message: ParsedMessage) -> list[Mapping[str, Any]]:
    return [e for e in message.entities if e.get("entity") in ("spine_region", "spine_level")]


def places_after_correction(message: ParsedMessage) -> ParsedMessage:
    """"low back. no wait, it's higher, mid back": the places after the last
    correction replace those before it."""
    data = cues()
    places = _spine_places(message)
    corrected = [m.end() for m in re.finditer(data["place_correction"], message.text.lower())]
    if not corrected:
        return message
    kept = [e for e in message.entities if e not in places or int(e.get("start") or 0) >= corrected[-1]]
    if not any(int(e.get("start") or 0) >= corrected[-1] for e in places):
        bare = re.search(data["place_bare_after_correction"], message.text.lower()[corrected[-1]:])
        if not places or bare is None:
            return message
        start = corrected[-1] + bare.start(1)
        kept.append({"entity": "spine_region", "value": data["place_bare_regions"][bare.group(1)],
                     "start": start, "end": start + len(bare.group(1))})
    return ParsedMessage(message.text, message.intent, tuple(kept))


def places_that_hurt(message: ParsedMessage) -> ParsedMessage:
    """The message without spine places its own clause says do not hurt ("the
    painful one is L3, they also found one at C4 but that one doesn't hurt"),
    when another place is named: the question asks where the pain is."""
    lowered = message.text.lower()
    places = _spine_places(message)
    cuts = [0] + [m.start() for m in CLAUSE_BREAK.finditer(lowered)] + [len(lowered)]
    clauses = list(zip(cuts, cuts[1:]))

    def names_a_place(a: int, b: int) -> bool:
        return any(e.get("start") is not None and a <= int(e["start"]) < b for e in places)

    # "my whole spine is full of it but the sore bit is mid back": a place
    # told in contrast as the one that hurts is the answer (sealed round 12).
    said_to_hurt = [(a, b) for a, b in clauses[1:] if re.match(r"(?:but|though|although)\b", lowered[a:b])
                    and re.search(cues()["pain_words"], lowered[a:b]) and names_a_place(a, b)]
    if said_to_hurt and any(e.get("start") is not None and int(e["start"]) < said_to_hurt[-1][0] for e in places):
        a, b = said_to_hurt[-1]
        return ParsedMessage(message.text, message.intent, tuple(
            e for e in message.entities if e not in places or (e.get("start") is not None and a <= int(e["start"]) < b)))
    painless = []
    for index, (a, b) in enumerate(clauses):
        if re.search(cues()["place_not_painful"], lowered[a:b]):
            # "... one at C4 but that one doesn't hurt": the place is in the clause before.
            painless.append((a, b) if names_a_place(a, b) or index == 0 else (clauses[index - 1][0], b))
    if not painless:
        return message

    def in_painless(entity: Mapping[str, Any]) -> bool:
        start = entity.get("start")
        return start is not None and any(a <= int(start) < b for a, b in painless)

    if not places or all(in_painless(e) for e in places):
        return message
    return ParsedMessage(message.text, message.intent, tuple(e for e in message.entities if not (e in places and in_painless(e))))


def read_prior_radiation_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if _has(message.text, data["radiation_where_unknown"]) and message.first("answer") != "no":
        return [], True
    if _has(message.text, data["radiation_none"]):
        return "no", True
    # "had radiation to his back, we never got told which part": the denial
    # is of knowing where, not of the radiation (sealed round 15).
    lowered = message.text.lower()
    if re.search(data["radiation_where_unknown_said"], lowered) and re.search(data["radiation_named"], lowered):
        return [], True
    # A spine level named beside another part ("SBRT to L1 and gamma knife to
    # the brain") is spine radiation; a hedge about the spine is left to the
    # shared readers ("radiotherapy for her lung, not sure if it hit the spine").
    if message.values("spine_level"):
        return None, True
    if _has(message.text, data["radiation_elsewhere"]):
        return "no", False
    unsure = message.first("answer") == "unsure" or message.intent == "dont_know"
    # "got radiation on my spine 4 weeks ago": the spine, no place named (sealed round 7).
    if (not unsure and message.first("answer") not in ("no", "likely_no") and not message.values("spine_region")
            and re.search(data["radiation_named"], message.text.lower()) and _has(message.text, data["spine_words_only"])):
        return [], True
    if not unsure and not message.values("spine_region") and re.search(data["radiation_other_part"], message.text.lower()):
        return "no", False
    return None, True


def read_spine_mets_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    if re.search(data["results_pending"], message.text.lower()):
        return UNKNOWN, True
    if message.first("answer") in ("no", "unsure", "likely_no"):
        return None, True
    found = _has(message.text, data["spine_mets_found"])
    # A finding named on the spine ("there's spots on her vertebrae") outranks
    # the classifier's "don't know" (sealed round 8); read back.
    if found and (_has(message.text, data["spine_mets_words"]) or message.values("spine_level")):
        return "yes", False
    if message.intent in ("deny", "dont_know"):
        return None, True
    if found and message.values("spine_region"):
        return "yes", False
    return None, True


def read_attend_words(message: ParsedMessage) -> tuple[Any, bool]:
    data = cues()
    # The last clause after "so" or "but" decides when it says yes: "eight
    # hours to Edmonton, but I could stay with my sister, so yes I think I
    # could manage" (sealed round 12). Read back like every attend answer.
    if _has(message.text, data["attend_undecided"]):
        return UNKNOWN, True
    ending = re.split(r"\b(?:so|but)\b", message.text.lower())[-1]
    if ending != message.text.lower() and (_has(ending, data["attend_conclusion_yes"]) or _has(ending, data["attend_yes"])) \
            and not _has(ending, data["attend_no"]):
        return "yes", False
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
        # "lung. well actually no, sorry, mine was breast": the cancer after the
        # last correction (sealed round 13), read back.
        corrected = [m.end() for m in re.finditer(cues()["place_correction"], lowered)]
        after_correction = [k for k in kinds if corrected and int(k.get("start") or 0) >= corrected[-1]]
        if len({k.get("value") for k in after_correction}) == 1:
            return after_correction[0].get("value"), False
        started = re.search(r"\b(?:started|began|begun|start|originally|primary|came\s+from|comes\s+from|(?:actually|really|is|it[''’]s)\s+from)\b", lowered)
        if started:
            after = [k for k in kinds if int(k.get("start") or 0) >= started.start()]
            if after:
                return after[0].get("value"), True
        specific = [k.get("value") for k in kinds if k.get("value") != "other"]
        if len(set(specific)) == 1:
            return specific[0], True
    return None, True


def read_cord_words(message: ParsedMessage) -> tuple[Any, bool]:
    """What a doctor said about the cord or nerves, in the doctor's words."""
    data = cues()
    lowered = message.text.lower()
    if re.search(data["results_pending"], lowered):
        return UNKNOWN, True
    if re.search(data["cord_no"], lowered):
        return "no", False
    if re.search(data["cord_yes"], lowered) and message.first("answer") not in ("no", "unsure", "likely_no"):
        return "yes", False
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
    "cord_compression_told": read_cord_words,
}


def _typed_value(question: Any, message: ParsedMessage, buttons: Sequence[Button],
                 respondent: Optional[str] = None) -> tuple[Any, bool]:
    """(value, sure) of a typed answer: the question's own word reader first,
    then the shared readers of actions/answers.py."""
    answer_type, qid = question.answer_type, question.id
    hedge = message.first("answer")
    if answer_type == "prior_radiation":
        message = places_of_radiation(places_after_correction(message))
    if qid == "spine_region":
        message = places_that_hurt(places_after_correction(message))
        if not _spine_places(message) and _has(message.text, cues()["spine_everywhere"]):
            return UNKNOWN, True  # "all over honestly": the study team asks where (sealed rounds 11-12)
    placed = ordinal_choice(message.text, buttons)
    if placed is not None:
        return _button_value(answer_type, placed.value), False
    words = WORD_READERS.get(qid)
    if words is not None and qid in STANCE_FIRST:
        said = interpret(qid, answer_type, message, buttons)
        # "They're checking a spot on the liver next week": not known yet, whatever the yes (sealed round 9).
        pending = re.search(cues()["results_pending"], message.text.lower())
        if said in ("yes", "no") and READERS[answer_type](qid, message) is not None and hedge not in ("likely_yes", "likely_no") \
                and not pending:
            return said, True
    if words is not None:
        value, sure = read_age_words(message, respondent) if words is read_age_words else words(message)
        if value is not None:
            return value, sure
    if answer_type == "pain":
        score, sure = read_pain_number(message)
        if score is not None:
            return score, sure
    if answer_type == "ecog":
        figure = read_ecog_figure(message.text)
        if figure is not None:
            return figure, False
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
    if hedge in ("likely_yes", "likely_no") and re.search(cues()["results_pending"], message.text.lower()):
        return UNKNOWN, True  # "I don't think so but I'd have to ask her": not sure
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
