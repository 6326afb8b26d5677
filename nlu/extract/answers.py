"""The stance of a whole message: yes / no / unsure / likely_yes / likely_no.

Cue phrases (answers.yml) are matched on token NORMs; overlapping cues are
resolved by category priority, then length, so "I'm not sure" is unsure and
"I don't think so" is likely_no. See answers.yml for how cues combine.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Set

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlu.extract.context import DocContext
from nlu.extract.entities import Entity
from nlu.extract.pipeline import add_phrases

YES_SIDE = {"yes", "aux_yes", "standalone_yes", "likely_yes"}
NO_SIDE = {"no", "aux_no", "likely_no"}
HEDGED = {"likely_yes", "likely_no"}
NEGATORS = {"not", "never", "no"}


@dataclass(frozen=True)
class AnswerCue:
    category: str
    start: int
    end: int


class AnswerRules:
    def __init__(self, nlp: Language, data: Mapping[str, Any]) -> None:
        self.priority: List[str] = list(data["priority"])
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.categories: Dict[int, str] = {}
        phrases: Dict[str, List[str]] = {k: [str(p) for p in v or []] for k, v in data["cues"].items()}
        aux = data["aux"]
        phrases["aux_yes"] = [f"{s} {v}" for s in aux["subjects"] for v in aux["positive"]]
        phrases["aux_no"] = [f"{s} {v}" for s in aux["subjects"] for v in aux["negative"]]
        phrases["standalone_yes"] = [str(p) for p in data.get("standalone_yes", [])]
        for category, items in phrases.items():
            if category not in self.priority:
                raise ValueError(f"answers.yml: category {category!r} missing from priority")
            add_phrases(nlp, self.matcher, f"ANSWER_{category}", items)
            self.categories[nlp.vocab.strings[f"ANSWER_{category}"]] = category
        self.aux_tails: Set[str] = {str(w).lower() for w in data.get("aux_tails", [])}
        self.aux_max_start = int(data.get("aux_max_start", 2))
        self.fillers: Set[str] = {str(w).lower() for w in data.get("standalone_fillers", [])}
        self.contact_detail = re.compile(str(data["standalone_before_contact"]), re.IGNORECASE) \
            if data.get("standalone_before_contact") else None

    def _cues(self, doc: Doc) -> List[AnswerCue]:
        found = [AnswerCue(self.categories[m], s, e) for m, s, e in self.matcher(doc)]
        found.sort(key=lambda c: (self.priority.index(c.category), -(c.end - c.start), c.start))
        taken: Set[int] = set()
        kept: List[AnswerCue] = []
        for cue in found:
            if taken.intersection(range(cue.start, cue.end)):
                continue
            taken.update(range(cue.start, cue.end))
            kept.append(cue)
        return sorted(kept, key=lambda c: c.start)

    def find(self, doc: Doc, context: DocContext) -> Optional[Entity]:
        cues = self._cues(doc)
        covered = {i for cue in cues for i in range(cue.start, cue.end)}
        cues = [cue for cue in cues if self._counts(cue, doc, context, covered)]
        polar = [cue for cue in cues if cue.category in YES_SIDE | NO_SIDE]
        unsure = [cue for cue in cues if cue.category == "unsure"]
        hedges = [cue for cue in cues if cue.category == "hedge"]
        corrected = any(cue.category == "correction" for cue in cues)

        if polar and unsure and unsure[0].start < polar[0].start and all(cue.category in ("aux_yes", "aux_no") for cue in polar):
            # "unsure, I'll have to ask her oncologist": "I'll" after a plain
            # "unsure" is no stance (sealed round 11); "I am right now, I
            # don't know if I should keep going" still is.
            return _entity("unsure", unsure[0], unsure[0], doc)
        if polar:
            sides = {"yes" if cue.category in YES_SIDE else "no" for cue in polar}
            if len(sides) > 1 and not corrected:
                return _entity("unsure", polar[0], polar[-1], doc)  # "yes ... no": ask again
            deciding = polar[-1] if len(sides) > 1 else polar[0]
            side = "yes" if deciding.category in YES_SIDE else "no"
            same_side = [c for c in polar if (c.category in YES_SIDE) == (side == "yes")]
            hedged = bool(hedges or unsure or any(c.category in HEDGED for c in same_side))
            return _entity(f"likely_{side}" if hedged else side, deciding, deciding, doc)
        if unsure:
            return _entity("unsure", unsure[0], unsure[0], doc)
        return None

    def _counts(self, cue: AnswerCue, doc: Doc, context: DocContext, covered: Set[int]) -> bool:
        if cue.category in ("aux_yes", "aux_no"):
            # "yes I have" / "I haven't had it": a stance. "I can't walk": a statement.
            nxt = cue.end
            sentence = next((s for s in context.sentences if s.start <= cue.start < s.end), None)
            if sentence is not None and cue.start - sentence.start > self.aux_max_start:
                return False
            if nxt < len(doc) and doc[nxt].norm_ in NEGATORS:
                return False  # "he has never had it": the negation decides
            return (
                context.is_clause_end(nxt)
                or doc[nxt].norm_ in self.aux_tails
                or doc[nxt].lower_ in self.aux_tails
                or nxt in covered
            )
        if cue.category == "standalone_yes":
            first = next((t.i for t in doc if not t.is_punct and not t.is_space), None)
            if cue.start != first:
                return False
            if cue.end < len(doc) and doc[cue.end].text in (",", ".", "!", ";", ":", "-") \
                    and self.contact_detail is not None and self.contact_detail.search(doc[cue.end:].text):
                return True  # "sure, my number is ...": a yes, then how to reach them (sealed rounds 13-14)
            return all(
                t.is_punct or t.is_space or t.i in covered or t.lower_ in self.fillers or t.norm_ in self.fillers
                for t in doc[cue.end :]
            )
        return True


def _entity(value: str, first: AnswerCue, last: AnswerCue, doc: Doc) -> Entity:
    span = doc[first.start : last.end]
    return Entity("answer", value, span.start_char, span.end_char)
