"""One object holding the spaCy pipeline and all rule sets."""

from __future__ import annotations

from typing import Any, Dict, List

from nlu.extract.answers import AnswerRules
from nlu.extract.cancer import CancerRules
from nlu.extract.context import ContextRules
from nlu.extract.entities import Entity
from nlu.extract.numbers import NumberRules
from nlu.extract.pipeline import build_nlp, clean_text
from nlu.extract.red_flags import WARNING_SIGNS, RedFlagRules
from nlu.extract.resources import PatternSet
from nlu.extract.spine import SpineRules, level_spans


class Extractor:
    """Build once (patterns compiled, matchers filled); call `extract` per message."""

    def __init__(self, patterns: PatternSet) -> None:
        self.nlp = build_nlp(patterns["context"])
        self.context = ContextRules(self.nlp, patterns["context"])
        self.spine = SpineRules(self.nlp, patterns["spine"])
        self.cancer = CancerRules(self.nlp, patterns["cancer"])
        self.answers = AnswerRules(self.nlp, patterns["answers"])
        self.numbers = NumberRules(patterns["numbers"])
        self.red_flags = RedFlagRules(patterns["red_flags"], possible_entity="red_flag_possible")
        self.warning_signs = RedFlagRules(patterns["warning_signs"], entity="warning_sign", flags=WARNING_SIGNS)

    def entities(self, text: str) -> List[Entity]:
        if not text or not text.strip():
            return []
        clean = clean_text(text)
        doc = self.nlp(clean)
        context = self.context.analyse(doc)

        levels = self.spine.levels(clean)
        ages, age_phrases = self.numbers.ages(clean)
        found: List[Entity] = [*levels, *self.spine.regions(doc, context), *ages]
        # Digits of "T11-L2" or "over 18" are not numbers the bot should use.
        found += self.numbers.numbers(clean, masked=level_spans(levels) + age_phrases)
        found += self.numbers.pain_scores(clean)
        found += self.cancer.find(doc, context)
        flagged = self.red_flags.find(clean, doc, context)
        red_flags = [e for e in flagged if e.entity == self.red_flags.entity]
        possible = [e for e in flagged if e.entity != self.red_flags.entity]
        answer = self.answers.find(doc, context)
        # "I can't feel my feet" reads as a "no" to a yes/no question. With a
        # red flag only a "yes" may ride along: a "no" there must never
        # reach the red-flags slot (the red_flag intent stops screening anyway).
        if answer is not None and (not red_flags or answer.value == "yes"):
            found.append(answer)
        found += red_flags + possible
        # A red flag outranks a warning sign: the emergency advice covers it.
        if not red_flags:
            found += self.warning_signs.find(clean, doc, context)
        return sorted(found, key=lambda e: (e.start, e.end, e.entity))

    def extract(self, text: str) -> List[Dict[str, Any]]:
        return [entity.as_dict(text) for entity in self.entities(text)]
