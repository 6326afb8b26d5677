"""Turn one patient message into the normalised answer to the question asked.

Pure Python, no Rasa import: the input is what Rasa parsed (intent, entities
from nlu/, the text), the output is a value of the table in
docs/architecture.md, or None when the message does not answer the question
(the bot then rephrases). "I don't know" is a real answer: `unknown`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

UNKNOWN = "unknown"

# Stances from nlu's `answer` entity. A hedged stance is not a fact the
# patient knows, so it becomes unknown, except for red flags: there a
# "probably yes" is treated as yes (safety first).
STANCE = {"yes": "yes", "no": "no", "unsure": UNKNOWN, "likely_yes": UNKNOWN, "likely_no": UNKNOWN}
STANCE_RED_FLAGS = {**STANCE, "likely_yes": "yes"}
INTENT_STANCE = {"affirm": "yes", "deny": "no", "dont_know": UNKNOWN}

REGION_ORDER = ("cervical", "thoracic", "lumbar", "sacral")

# Free-text cues for the two questions whose answers are not yes/no, numbers
# or entities. Matching is on whole words, lower case.
CAREGIVER_CUES = (
    "someone else", "somebody else", "helping", "caregiver", "carer", "for my", "on behalf",
    "my wife", "my husband", "my mom", "my mum", "my dad", "my mother", "my father",
    "my partner", "my son", "my daughter", "my friend", "my sister", "my brother",
    "for him", "for her", "for them",
)
SELF_CUES = ("myself", "for me", "just me", "me", "i am", "i'm the patient", "self")
NOT_APPLICABLE_PREGNANCY_CUES = (
    "not possible", "can't get pregnant", "cannot get pregnant", "can't be pregnant",
    "cannot be pregnant", "menopause", "postmenopausal", "hysterectomy", "i'm a man",
    "i am a man", "he is a man", "male", "does not apply", "doesn't apply", "not applicable",
    "n/a", "too old",
)
PREFER_DISCUSS_CUES = ("rather not say", "rather talk", "prefer not", "discuss", "talk to the team")
COULD_BE_CUES = ("could be", "might be", "maybe", "possibly", "not sure")
# "I am pregnant" says yes without a yes; the classifier may even call it a
# denial (found by make bench). Only when nothing negates or hedges it.
PREGNANT_CUES = ("pregnant", "expecting a baby", "having a baby", "baby on the way")
NEGATION_CUES = ("not", "no", "never", "isn't", "isnt", "aren't", "wasn't", "can't", "cant", "cannot", "couldn't")


@dataclass(frozen=True)
class ParsedMessage:
    """What Rasa understood of one user message."""

    text: str
    intent: Optional[str] = None
    entities: Sequence[dict[str, Any]] = field(default_factory=tuple)

    def values(self, entity: str) -> list[Any]:
        return [e.get("value") for e in self.entities if e.get("entity") == entity]

    def first(self, entity: str) -> Any:
        found = self.values(entity)
        return found[0] if found else None

    def has_cue(self, cues: Iterable[str]) -> bool:
        lowered = " " + re.sub(r"\s+", " ", self.text.lower()) + " "
        return any(re.search(r"(?<![a-z])" + re.escape(cue) + r"(?![a-z])", lowered) for cue in cues)


@dataclass(frozen=True)
class Button:
    title: str
    value: Any


def stance(message: ParsedMessage, red_flags: bool = False) -> Optional[str]:
    """yes / no / unknown from the answer entity, else from the intent."""
    table = STANCE_RED_FLAGS if red_flags else STANCE
    answer = message.first("answer")
    if answer in table:
        return table[answer]
    return INTENT_STANCE.get(message.intent or "")


def says_unknown(message: ParsedMessage) -> bool:
    return message.first("answer") == "unsure" or message.intent == "dont_know"


def matching_button(message: ParsedMessage, buttons: Sequence[Button]) -> Optional[Button]:
    """The button chosen by payload, or whose title the patient typed."""
    choice = message.first("choice")
    for button in buttons:
        if choice is not None and str(button.value) == str(choice):
            return button
    typed = _words(message.text)
    for button in buttons:
        title = _words(button.title)
        if typed and typed == title:
            return button
    return None


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower()))


# Words that say nothing about which button was meant.
STOPWORDS = frozenset(
    "i im me my we our you your he she they them his her their a an the and or but of to in on at for with "
    "can do does did is are am be been it its this that than so most some just".split()
)


def _content(text: str) -> set[str]:
    """Content words, with a plural or third-person "s" dropped ("needs" = "need")."""
    words = re.findall(r"[a-z]+", text.lower().replace("n't", " not"))
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in STOPWORDS}


def closest_button(message: ParsedMessage, buttons: Sequence[Button]) -> Optional[Button]:
    """The button whose title shares clearly the most words with what was typed.

    "I can do all my usual activities" picks "Does all usual activities, with
    no limits". At least two shared words, and no tie: otherwise None.
    """
    typed = _content(message.text)
    scored = sorted(((len(typed & _content(b.title)), i) for i, b in enumerate(buttons)), reverse=True)
    if not scored or scored[0][0] < 2 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return buttons[scored[0][1]]


def _as_int(value: Any) -> Optional[int]:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number == int(number) else None


def regions(message: ParsedMessage) -> list[str]:
    found = set(message.values("spine_region"))
    return [region for region in REGION_ORDER if region in found]


def interpret(question_id: str, answer_type: str, message: ParsedMessage, buttons: Sequence[Button] = ()) -> Any:
    """The normalised answer, or None when the message does not answer the question."""
    button = matching_button(message, buttons)
    if button is not None:
        return _button_value(answer_type, button.value)
    reader = READERS[answer_type]
    value = reader(question_id, message)
    if value is None:
        # Only when nothing more precise was understood: a typed version of a button.
        close = closest_button(message, buttons)
        if close is not None and close.value != UNKNOWN:
            return _button_value(answer_type, close.value)
    if value is None and says_unknown(message):
        return UNKNOWN
    return value


def _button_value(answer_type: str, value: Any) -> Any:
    if value == UNKNOWN:
        return UNKNOWN
    if answer_type == "ecog":
        return _as_int(value)
    if answer_type in ("regions", "prior_radiation") and value in REGION_ORDER:
        return [value]
    return value


def read_choice(question_id: str, message: ParsedMessage) -> Optional[str]:
    # Only `respondent` is a free choice today; caregiver cues are checked
    # first because "my husband and me" is a caregiver talking.
    if message.has_cue(CAREGIVER_CUES):
        return "caregiver"
    if message.has_cue(SELF_CUES):
        return "self"
    return None


def read_yes_no(question_id: str, message: ParsedMessage) -> Optional[str]:
    return stance(message, red_flags=question_id == "red_flags")


def read_age(question_id: str, message: ParsedMessage) -> Any:
    age = message.first("age")
    if age in ("adult", "minor"):
        return age
    for candidate in [age, *message.values("number")]:
        years = _as_int(candidate)
        if years is not None and 0 < years < 120:
            return years
    return None


def read_regions(question_id: str, message: ParsedMessage) -> Optional[list[str]]:
    return regions(message) or None


def read_pain(question_id: str, message: ParsedMessage) -> Optional[int]:
    for candidate in [message.first("pain_score"), *message.values("number")]:
        score = _as_int(candidate)
        if score is not None and 0 <= score <= 10:
            return score
    return None


def read_cancer(question_id: str, message: ParsedMessage) -> Optional[str]:
    kinds = message.values("cancer_type")
    if not kinds:
        return None
    # Myeloma, plasmacytoma or a bone cancer named anywhere matters most.
    for important in ("plasmacytoma", "primary_bone", "myeloma"):
        if important in kinds:
            return important
    return kinds[0]


def read_ecog(question_id: str, message: ParsedMessage) -> Optional[int]:
    for candidate in message.values("number"):
        grade = _as_int(candidate)
        if grade is not None and 0 <= grade <= 4:
            return grade
    return None


def read_pregnancy(question_id: str, message: ParsedMessage) -> Optional[str]:
    if message.has_cue(NOT_APPLICABLE_PREGNANCY_CUES):
        return "not_applicable"
    if message.has_cue(PREFER_DISCUSS_CUES):
        return "prefer_discuss"
    if message.has_cue(PREGNANT_CUES) and not message.has_cue(NEGATION_CUES) and not message.has_cue(COULD_BE_CUES):
        return "yes"
    said = stance(message)
    if said in ("yes", "no"):
        return said
    if message.has_cue(COULD_BE_CUES) or message.first("answer") in ("likely_yes", "likely_no"):
        return "could_be"
    return None


def read_prior_radiation(question_id: str, message: ParsedMessage) -> Any:
    treated = regions(message)
    if treated:
        return treated
    said = stance(message)
    if said == "yes":
        return []  # yes, but where is not known: the team checks the records
    return said


READERS = {
    "choice": read_choice,
    "yes_no": read_yes_no,
    "age": read_age,
    "regions": read_regions,
    "pain": read_pain,
    "cancer": read_cancer,
    "ecog": read_ecog,
    "pregnancy": read_pregnancy,
    "prior_radiation": read_prior_radiation,
}
