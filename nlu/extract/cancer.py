"""Primary cancer type words -> `cancer_type` entities (values of cancer.yml)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlu.extract.context import DocContext
from nlu.extract.entities import Entity
from nlu.extract.pipeline import add_phrases, longest_matches

BLOCKER = "CANCER_BLOCKER"


class CancerRules:
    def __init__(self, nlp: Language, data: Mapping[str, Any]) -> None:
        determiners = [str(d) for d in data.get("determiners", [])]
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.values: Dict[int, str] = {}
        for value, phrases in data["types"].items():
            label = f"CANCER_{value}"
            add_phrases(nlp, self.matcher, label, phrases, determiners)
            self.values[nlp.vocab.strings[label]] = str(value)
        add_phrases(nlp, self.matcher, BLOCKER, data.get("blockers", []), determiners)

    def find(self, doc: Doc, context: DocContext) -> List[Entity]:
        found: List[Entity] = []
        for span in longest_matches(doc, self.matcher):
            value = self.values.get(span.label)
            if value is None:
                continue  # a blocker such as "breast feeding"
            # "not breast, it was lung": only the affirmed type counts.
            if context.flags(span.start, span.end).negated:
                continue
            if any(e.value == value for e in found):
                continue  # "non-small cell lung cancer" names one type
            found.append(Entity("cancer_type", value, span.start_char, span.end_char))
        return found
