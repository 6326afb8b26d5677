"""Synthetic personas for the outcome benchmark: who they are, what the
criteria engine says their outcome should be, and what they type.

Pure Python (the criteria engine and YAML only), so it runs in either
environment and tests/unit/test_personas.py checks it in milliseconds.

A persona is a set of *facts*: the normalised answer to every screening
question (the values of docs/architecture.md), plus whether a patient or a
helper is typing. The expected outcome and the questions the bot should ask
come from the engine itself (`evaluate`, `next_question`), never from a
hand-written table, so the benchmark measures the conversation (understanding
and dialogue), not the rules.

The facts are drawn at random from a fixed seed. Plain random draws give few
likely fits (eleven questions must all pass), so personas are drawn until each
outcome has its share (QUOTAS): a "clean" draw keeps every answer passing, a
"mixed" draw uses the DISTRIBUTIONS below.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from actions.criteria import UNKNOWN, Trial, evaluate, next_question

PHRASINGS = Path(__file__).with_name("phrasings.yml")

# Share of each expected outcome among the personas (fractions of the total).
QUOTAS = {"likely_eligible": 0.35, "needs_review": 0.30, "not_eligible": 0.22, "urgent_care": 0.13}

# (value, weight) per question for "mixed" draws. Region lists are tuples.
DISTRIBUTIONS: dict[str, list[tuple[Any, float]]] = {
    "red_flags": [("no", 80), ("yes", 12), (UNKNOWN, 8)],
    "spine_mets_confirmed": [("yes", 80), ("no", 8), (UNKNOWN, 12)],
    "spine_region": [
        (("thoracic",), 28), (("lumbar",), 28), (("thoracic", "lumbar"), 12), (("cervical",), 8),
        (("sacral",), 5), (("cervical", "thoracic"), 5), (("lumbar", "sacral"), 5), (UNKNOWN, 9),
    ],
    "pain_warning_signs": [("no", 70), ("yes", 20), (UNKNOWN, 10)],
    "cord_compression_told": [("no", 80), ("yes", 10), (UNKNOWN, 10)],
    "primary_cancer": [
        ("breast", 20), ("prostate", 18), ("lung", 15), ("kidney", 8), ("colorectal", 6), ("thyroid", 4),
        ("melanoma", 3), ("myeloma", 6), ("plasmacytoma", 3), ("primary_bone", 4), ("other", 6), (UNKNOWN, 7),
    ],
    "pregnancy": [
        ("not_applicable", 55), ("no", 25), ("could_be", 5), ("yes", 3), ("prefer_discuss", 5), (UNKNOWN, 7),
    ],
    "breastfeeding": [("no", 85), ("yes", 6), (UNKNOWN, 9)],
    "performance_status": [(0, 18), (1, 28), (2, 24), (3, 14), (4, 6), (UNKNOWN, 10)],
    "visceral_metastases": [("no", 55), ("yes", 30), (UNKNOWN, 15)],
    "able_to_attend": [("yes", 82), ("no", 8), (UNKNOWN, 10)],
}
# Clean draws: only answers that pass (regions thoracic and/or lumbar, no prior
# radiation, ECOG 0-2, Linden inputs known).
CLEAN = {
    "red_flags": [("no", 1)],
    "spine_mets_confirmed": [("yes", 1)],
    "spine_region": [(("thoracic",), 4), (("lumbar",), 4), (("thoracic", "lumbar"), 2)],
    "pain_warning_signs": [("no", 3), ("yes", 1)],  # never decides: both pass
    "cord_compression_told": [("no", 1)],
    "primary_cancer": [(c, 1) for c in ("breast", "prostate", "lung", "kidney", "colorectal", "thyroid", "other")],
    "pregnancy": [("not_applicable", 3), ("no", 2)],
    "breastfeeding": [("no", 1)],
    "performance_status": [(0, 1), (1, 2), (2, 1)],
    "visceral_metastases": [("no", 2), ("yes", 1)],
    "able_to_attend": [("yes", 1)],
}


@dataclass(frozen=True)
class Persona:
    name: str  # "p07": stable across runs with the same seed
    respondent: str  # self | caregiver
    facts: Mapping[str, Any]  # question id -> normalised answer (every screening question)
    click_rate: float  # how often this person taps a matching button instead of typing
    seed: int  # for their own choice of wordings and pauses

    @property
    def answers(self) -> dict[str, Any]:
        return {"respondent": self.respondent, **self.facts}


@dataclass(frozen=True)
class Expectation:
    outcome: str
    asked: tuple[str, ...]  # screening questions the bot should ask, in order
    statuses: Mapping[str, str]  # question id -> pass | fail | needs_review | urgent | unknown (on that path)


def expect(trial: Trial, persona: Persona) -> Expectation:
    """What the engine says should happen: the questions asked in order until the
    outcome is final or nothing is left, and the outcome of those answers."""
    given: dict[str, Any] = {}
    asked: list[str] = []
    while (question := next_question(trial, given)) is not None:
        asked.append(question)
        given[question] = persona.answers[question]
    evaluation = evaluate(trial, given)
    return Expectation(evaluation.outcome, tuple(asked), {c.question_id: c.status for c in evaluation.criteria})


def _draw(rng: random.Random, table: Sequence[tuple[Any, float]]) -> Any:
    values, weights = zip(*table)
    return rng.choices(values, weights=weights)[0]


def _facts(rng: random.Random, clean: bool) -> dict[str, Any]:
    tables = {**DISTRIBUTIONS, **CLEAN} if clean else DISTRIBUTIONS
    facts = {question: _draw(rng, table) for question, table in tables.items()}
    roll = rng.random()
    if clean or roll > 0.11:
        facts["age"] = rng.randint(32, 89)
    else:
        facts["age"] = rng.choice([16, 17, UNKNOWN, UNKNOWN])
    roll = rng.random()
    if clean or roll > 0.12:
        facts["pain_score"] = rng.randint(2, 10) if clean else rng.choice([0, 1, *range(2, 11), *range(4, 11)])
    else:
        facts["pain_score"] = UNKNOWN
    if clean:
        facts["prior_spine_radiation"] = "no"
    else:
        facts["prior_spine_radiation"] = _draw(rng, [
            ("no", 65), (UNKNOWN, 10), ((), 6),
            ((rng.choice(["cervical", "thoracic", "lumbar", "sacral"]),), 19),
        ])
    if facts["primary_cancer"] == "prostate":
        # Someone with prostate cancer cannot be pregnant; the bot knows it too
        # and does not ask (issue 10: the conversation remembers).
        facts["pregnancy"], facts["breastfeeding"] = "not_applicable", "no"
    return facts


def generate(trial: Trial, count: int = 72, seed: int = 2026) -> list[Persona]:
    """`count` personas whose expected outcomes follow QUOTAS, deterministic for a seed."""
    rng = random.Random(seed)
    wanted = {outcome: round(share * count) for outcome, share in QUOTAS.items()}
    wanted["likely_eligible"] += count - sum(wanted.values())
    personas: list[Persona] = []
    for _ in range(count * 200):
        if len(personas) == count:
            break
        persona = Persona(
            name=f"p{len(personas) + 1:02d}",
            respondent="caregiver" if rng.random() < 0.3 else "self",
            facts=_facts(rng, clean=rng.random() < 0.4),
            click_rate=rng.choice([0.0, 0.1, 0.3, 0.6]),
            seed=rng.randrange(2**31),
        )
        outcome = expect(trial, persona).outcome
        if wanted[outcome] > 0:
            wanted[outcome] -= 1
            personas.append(persona)
    if len(personas) < count:
        raise RuntimeError(f"could not fill the outcome quotas: {wanted} still wanted")
    return personas


# --- What a persona types ----------------------------------------------------

# The confirming questions of issue 10 and what a persona says to them
# (the first wording is also the start of the button's title).
CONFIRMING = ("answer_check", "red_flag_check")
CONFIRM_WORDS = {
    "answer_check": {"yes": ["yes", "yes that's right", "yep, correct"], "no": ["no", "no that's not right", "nope"]},
    "red_flag_check": {"yes": ["yes", "yes it's new", "yes, it's getting worse"],
                       "no": ["no", "no, it's not new", "nope, it's been like that a long time"]},
}

YES_NO_QUESTIONS = ("spine_mets_confirmed", "cord_compression_told", "visceral_metastases",
                    "able_to_attend", "breastfeeding", "pain_warning_signs")


@dataclass
class Bank:
    """The wording bank (bench/phrasings.yml): lay wordings per question and value."""

    questions: Mapping[str, Any]

    @classmethod
    def load(cls, path: Path = PHRASINGS) -> "Bank":
        return cls(yaml.safe_load(path.read_text())["questions"])

    def _pick(self, entry: Mapping[str, Sequence[str]], respondent: str) -> list[str]:
        return [*(entry.get(respondent) or []), *(entry.get("any") or [])]

    def wordings(self, question: str, value: Any, respondent: str) -> list[str]:
        """Every wording that says `value` for `question`, as this respondent would."""
        q = self.questions
        if question == "respondent":
            return self._pick(q["respondent"][value], "any")
        if value == UNKNOWN:
            return self._pick(q[question if question in q and UNKNOWN in q[question] else "yes_no"][UNKNOWN], respondent)
        if question == "age":
            return [t.format(age=value) for t in self._pick(q["age"]["number"], respondent)]
        if question == "pain_score":
            return [t.format(pain=value) for t in self._pick(q["pain_score"]["number"], respondent)]
        if question in ("spine_region", "prior_spine_radiation") and isinstance(value, (tuple, list)):
            if not value:
                return self._pick(q["prior_spine_radiation"]["yes_unknown_where"], respondent)
            words = q["region_words_caregiver" if respondent == "caregiver" else "region_words"]
            # One fragment per region; every combination would explode, so the
            # i-th wording uses the i-th fragment of each region (cycling).
            templates = self._pick(q[question]["regions"], respondent)
            return [
                t.format(regions=" and ".join(words[r][i % len(words[r])] for r in value))
                for i, t in enumerate(templates)
            ]
        if question in YES_NO_QUESTIONS:
            return [*self._pick(q.get(question, {}).get(value) or {}, respondent), *self._pick(q["yes_no"][value], respondent)]
        return self._pick(q[question][value], respondent)


def button_choice(payload: str) -> Any:
    """The value a button stands for: payloads look like /choose{"choice": "thoracic"}."""
    _, _, body = payload.partition("{")
    try:
        return json.loads("{" + body)["choice"]
    except (ValueError, KeyError):
        return None


def same_answer(trial: Trial, question: str, choice: Any, fact: Any) -> bool:
    """Whether tapping a button with `choice` says the persona's fact.

    Payloads carry every value as text ("4" for ECOG 4), as the domain renders
    them; the action server maps them back the same way (by text)."""
    wanted = trial.question(question).values.normalise(fact)
    return any(str(b.value) == str(choice) and b.answer == wanted for b in trial.question(question).buttons)


@dataclass
class Speaker:
    """Chooses what one persona sends for each question: a tap on a matching
    button now and then (click_rate), otherwise a typed wording. Asked again,
    it rewords; asked a third time, it taps a matching button if there is one,
    as the bot's rephrase tells people to. A typed-only persona never taps:
    the third time it types the matching button's title instead.

    The two confirming questions (issue 10) are answered from the facts: a
    read-back is confirmed when it says the persona's answer to the question
    just asked, and "is it new or getting worse?" is a yes only for a persona
    with a red flag."""

    trial: Trial
    bank: Bank
    persona: Persona
    typed_only: bool = False
    tries: dict[str, int] = field(default_factory=dict)
    last_question: str = ""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.persona.seed)

    def reply(self, question: str, buttons: Sequence[Mapping[str, str]], texts: Sequence[str] = ()) -> dict[str, str]:
        """{"payload": ...} for a tap or {"text": ...} for a typed message."""
        if question in CONFIRMING:
            return self._confirm(question, buttons, texts)
        self.last_question = question
        attempt = self.tries.get(question, 0)
        self.tries[question] = attempt + 1
        fact = self.persona.answers[question]
        tap = next((b for b in buttons if same_answer(self.trial, question, button_choice(b["payload"]), fact)), None)
        if tap is not None and (attempt >= 2 or self.rng.random() < self.persona.click_rate):
            return {"text": tap["title"]} if self.typed_only else {"payload": tap["payload"]}
        options = self.bank.wordings(question, fact, self.persona.respondent)
        if not options:
            raise LookupError(f"no wording for {question}={fact!r}")
        return {"text": self.rng.choice(options)}

    def _confirm(self, question: str, buttons: Sequence[Mapping[str, str]], texts: Sequence[str]) -> dict[str, str]:
        if question == "red_flag_check":
            yes = self.persona.answers.get("red_flags") == "yes"
        else:
            from actions.understanding import read_back  # the bot's own words for an answer

            asked = self.trial.question(self.last_question) if self.last_question else None
            label = read_back(asked, self.persona.answers[asked.id])[0] if asked else ""
            yes = bool(label) and any(label.lower() in text.lower() for text in texts)
        words = CONFIRM_WORDS[question]["yes" if yes else "no"]
        if self.typed_only or self.rng.random() >= self.persona.click_rate:
            return {"text": self.rng.choice(words)}
        wanted = words[0].lower()
        tap = next((b for b in buttons if b["title"].lower().startswith(wanted)), None)
        return {"payload": tap["payload"]} if tap else {"text": self.rng.choice(words)}

    def pause_s(self, low: float, high: float) -> float:
        """Reading and typing time before the next message."""
        return self.rng.uniform(low, high)
