"""Spine regions (lay words) and vertebral levels (codes) -> entities.

spine_region: cervical / thoracic / lumbar / sacral, one entity per region a
mention names or a level range covers. spine_level: "T7", "T11-L2".
Lay words follow the negation step ("not my neck, my lower back" gives
lumbar only); codes are taken as written (they come from reports).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlu.extract.context import DocContext
from nlu.extract.entities import Entity
from nlu.extract.pipeline import add_phrases, longest_matches

BLOCKER = "SPINE_BLOCKER"


@dataclass(frozen=True)
class Level:
    segment: str  # normalised letter: C, T, L, S
    number: int

    def code(self) -> str:
        return f"{self.segment}{self.number}"


class SpineRules:
    """Lay-term matcher and level regex built once from spine.yml."""

    def __init__(self, nlp: Language, data: Mapping[str, Any]) -> None:
        determiners = [str(d) for d in data.get("determiners", [])]
        # NORM, not LOWER: chat typos fixed by the norm step ("lowr bak") match too.
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self.region_sets: Dict[int, Tuple[str, ...]] = {}
        # Landmarks off the spine ("just above my bum") name a place only when
        # nothing on the spine is named (spine.yml `landmark: true`).
        self.landmarks: set[int] = set()
        # Vague places a level code told in the same message makes precise ("the base
        # of my neck, C7" is C7): dropped when a level is there (`yields_to_levels: true`).
        self.level_yielders: set[int] = set()
        for index, term in enumerate(data.get("lay_terms", [])):
            label = f"SPINE_{index}"
            add_phrases(nlp, self.matcher, label, term["phrases"], determiners)
            self.region_sets[nlp.vocab.strings[label]] = tuple(term["regions"])
            if term.get("landmark"):
                self.landmarks.add(nlp.vocab.strings[label])
            if term.get("yields_to_levels"):
                self.level_yielders.add(nlp.vocab.strings[label])
        add_phrases(nlp, self.matcher, BLOCKER, data.get("blockers", []), determiners)
        self.blocker_id = nlp.vocab.strings[BLOCKER]

        levels = data["levels"]
        self.order: List[str] = list(levels["order"])
        self.segments: Dict[str, Dict[str, Any]] = dict(levels["segments"])
        self.letters: Dict[str, str] = {str(k).lower(): str(v) for k, v in levels["letters"].items()}
        # Position of the first vertebra of each segment along the spine.
        self.offsets: Dict[str, int] = {}
        total = 0
        for segment in self.order:
            self.offsets[segment] = total
            total += int(self.segments[segment]["count"])
        self.not_after: List[str] = [str(w).lower() for w in levels.get("not_after", [])]
        self.spoken_letters: Dict[str, str] = {str(k).lower(): str(v) for k, v in (levels.get("spoken_letters") or {}).items()}
        self.spoken_numbers: Dict[str, int] = {str(k).lower(): int(v) for k, v in (levels.get("spoken_numbers") or {}).items()}
        self.not_before_digits = {str(w).lower() for w in levels.get("spoken_letters_not_before_digits", [])}
        self.spoken_re = None
        if self.spoken_letters and self.spoken_numbers:
            said = "|".join(sorted(map(re.escape, self.spoken_letters), key=len, reverse=True))
            numbers = "|".join(sorted(map(re.escape, self.spoken_numbers), key=len, reverse=True))
            # A spoken letter before a digit too ("el 4", "tee 8"; sealed round 12).
            said_with_digits = "|".join(sorted((re.escape(k) for k in self.spoken_letters if k not in self.not_before_digits),
                                               key=len, reverse=True))
            self.spoken_re = re.compile(rf"(?<![\w'])(?:(?P<l>{said})[\s-]+(?P<n>{numbers})|(?P<dl>{said_with_digits})[\s-]+"
                                        rf"(?P<d>[1-9]|1[0-2]))(?![\w'-])", re.IGNORECASE)
        letter = "(?:" + "|".join(sorted((re.escape(k) for k in self.letters), key=len, reverse=True)) + ")"
        joiner = "(?:" + "|".join(re.escape(j) for j in levels["range_joiners"]) + ")"
        code = r"\s?-?\s?"
        self.level_re = re.compile(
            rf"(?<![\w'])(?P<l1>{letter}){code}(?P<n1>\d{{1,2}})(?!\d)"
            rf"(?:\s*{joiner}\s*(?:(?P<l2>{letter}){code})?(?P<n2>\d{{1,2}})(?!\d))?"
            r"(?![\w])(?!\s*n\d)",  # "T2 N0" is a TNM stage, not a level
            re.IGNORECASE,
        )

    # --- codes --------------------------------------------------------------
    def levels(self, text: str) -> List[Entity]:
        found: List[Entity] = []
        for match in self.level_re.finditer(text):
            before = text[: match.start()].lower().rstrip()
            if any(before.endswith(word) for word in self.not_after):
                continue
            parsed = self._parse(match)
            if parsed is None:
                continue
            value, regions = parsed
            found.append(Entity("spine_level", value, match.start(), match.end()))
            found.extend(Entity("spine_region", region, match.start(), match.end()) for region in regions)
        if self.spoken_re is not None:
            for match in self.spoken_re.finditer(text):
                letter = match.group("l") or match.group("dl")
                segment = self.spoken_letters[letter.lower()]
                number = int(match.group("d")) if match.group("d") else self.spoken_numbers[match.group("n").lower()]
                level = Level(segment, number)
                if level.number > int(self.segments[segment]["count"]):
                    continue
                if any(e.start < match.end() and match.start() < e.end for e in found):
                    continue  # "T 11": a code already read
                found.append(Entity("spine_level", level.code(), match.start(), match.end()))
                found.append(Entity("spine_region", self.segments[segment]["region"], match.start(), match.end()))
        return found

    def _level(self, letter: Optional[str], number: Optional[str]) -> Optional[Level]:
        if letter is None or number is None:
            return None
        segment = self.letters.get(letter.lower())
        if segment is None:
            return None
        value = int(number)
        if not 1 <= value <= int(self.segments[segment]["count"]):
            return None  # T13, L7, C9: not vertebrae
        return Level(segment, value)

    def _index(self, level: Level) -> int:
        return self.offsets[level.segment] + level.number

    def _parse(self, match: "re.Match[str]") -> Optional[Tuple[str, List[str]]]:
        first = self._level(match.group("l1"), match.group("n1"))
        if first is None:
            return None
        if match.group("n2") is None:
            return first.code(), [self.segments[first.segment]["region"]]
        second = self._level(match.group("l2") or match.group("l1"), match.group("n2"))
        if second is None:
            return None  # one bad end makes the whole range doubtful
        low, high = sorted((first, second), key=self._index)
        covered = self.order[self.order.index(low.segment) : self.order.index(high.segment) + 1]
        regions = [self.segments[segment]["region"] for segment in covered]
        value = low.code() if low == high else f"{low.code()}-{high.code()}"
        return value, regions

    # --- lay words ----------------------------------------------------------
    def regions(self, doc: Doc, context: DocContext) -> List[Entity]:
        spans = [span for span in longest_matches(doc, self.matcher)
                 if span.label != self.blocker_id and not context.flags(span.start, span.end).negated]
        told_level = bool(self.level_re.search(doc.text))
        if any(span.label not in self.landmarks for span in spans) or told_level:
            spans = [span for span in spans if span.label not in self.landmarks]
        if told_level:
            spans = [span for span in spans if span.label not in self.level_yielders]
        return [Entity("spine_region", region, span.start_char, span.end_char)
                for span in spans for region in self.region_sets[span.label]]


def level_spans(entities: Sequence[Entity]) -> List[Tuple[int, int]]:
    """Character spans of level codes, so their digits are not numbers."""
    return [(e.start, e.end) for e in entities if e.entity == "spine_level"]
