"""Numbers, pain scores and ages (templates in numbers.yml).

number:     every number in the message; a range counts as its higher end
            ("6 or 7" -> 7), decimals round half up ("6.5" -> 7).
pain_score: explicit 0-10 pain phrasings ("7/10", "pain is a 7"); "no pain
            at all" -> 0 unless an explicit score is also given.
age:        integer years, or "adult" / "minor" for "over 18" / "under 18".
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nlu.extract.entities import Entity, overlaps

CharSpan = Tuple[int, int]
_CONDITIONS = {
    "at_least_18": lambda n: n >= 18,
    "above_18": lambda n: n > 18,
    "at_most_18": lambda n: n <= 18,
    "below_18": lambda n: n < 18,
}
_FLIP = {"adult": "minor", "minor": "adult"}
MAX_AGE = 120


@dataclass(frozen=True)
class AgeTemplate:
    regex: "re.Pattern[str]"
    minimum: int


@dataclass(frozen=True)
class Threshold:
    regex: "re.Pattern[str]"
    value: str
    condition: Optional[str]


def round_half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


class NumberRules:
    def __init__(self, data: Mapping[str, Any]) -> None:
        words = data["words"]
        self.units: Dict[str, int] = {str(k): int(v) for k, v in words["units"].items()}
        self.tens: Dict[str, int] = {str(k): int(v) for k, v in words["tens"].items()}
        self.hundreds = [str(h) for h in words.get("hundred", [])]
        self.after_tens: Dict[str, int] = {str(k): int(v) for k, v in (words.get("units_after_tens") or {}).items()}
        self.one_not_after = {str(w).lower() for w in data.get("one_not_after", [])}
        self.one_not_before = {str(w).lower() for w in data.get("one_not_before", [])}

        unit = _alternation(self.units)
        digit_units = _alternation(k for k, v in self.units.items() if 1 <= v <= 9)
        tens = _alternation(self.tens)
        hundred = _alternation(self.hundreds)
        sounds = _alternation(self.after_tens) if self.after_tens else "(?!)"
        after_tens = rf"(?:{digit_units}|[1-9](?!\d)|{sounds}(?=\s*(?:[.,!?;]|$)))"
        word = rf"(?:{hundred}|{tens}(?:[\s-]+{after_tens})?|{unit})"
        # "5o": a letter o typed for a zero.
        single = rf"(?:\d+(?:\.\d+)?|[1-9][oO]|{word})(?:\s+and\s+a\s+half)?"
        # A number ends at a non-word character, or at an age unit ("72yo").
        # "fiveish", "5ish": about five.
        bounded = rf"(?<![\w.])(?:{single})(?:(?![\w])|(?=(?:yo|y/o|yrs?|years?|ish)\b))"
        range_ = rf"(?:between\s+{bounded}\s+and\s+{bounded}|{bounded}(?:\s*(?:-|–|—|to|or)\s*{bounded})?)"
        self.one_pattern = bounded
        self.single_re = re.compile(bounded, re.IGNORECASE)
        self.word_re = re.compile(rf"^{word}$", re.IGNORECASE)
        self.out_of_ten = str(data["out_of_ten"])
        self.out_of_ten_re = re.compile(self.out_of_ten, re.IGNORECASE)
        self.number_re = re.compile(rf"(?P<num>{range_})(?:{self.out_of_ten})?", re.IGNORECASE)

        def fill(template: str) -> "re.Pattern[str]":
            text = template.replace("{OUT_OF_TEN}", self.out_of_ten).replace("{NUM}", range_)
            return re.compile(text.replace("{ONE}", bounded), re.IGNORECASE)

        pain = data["pain"]
        self.pain_templates = [fill(t) for t in pain["templates"]]
        self.zero_templates = [re.compile(t, re.IGNORECASE) for t in pain["zero"]]
        self.ten_templates = [re.compile(t, re.IGNORECASE) for t in pain.get("ten", [])]
        self.homophones: Dict[str, int] = {str(k).lower(): int(v) for k, v in (pain.get("homophones") or {}).items()}
        self.homophone_re = (
            re.compile(rf"(?<![\w'])(?P<word>{_alternation(self.homophones)}){self.out_of_ten}", re.IGNORECASE)
            if self.homophones else None
        )
        age = data["age"]
        self.age_templates = [AgeTemplate(fill(t["regex"]), int(t.get("min", 0))) for t in age["templates"]]
        self.thresholds = [
            Threshold(fill(t["regex"]), str(t["value"]), t.get("when")) for t in age["thresholds"]
        ]
        for threshold in self.thresholds:
            if threshold.condition is not None and threshold.condition not in _CONDITIONS:
                raise ValueError(f"numbers.yml: unknown threshold condition {threshold.condition!r}")
        self.flip_before = re.compile(str(age["flip_before"]), re.IGNORECASE)

    # --- parsing ------------------------------------------------------------
    def value(self, text: str) -> Optional[float]:
        """Value of a number or range expression; a range gives its higher end."""
        values = [v for v in (self._single(m.group(0)) for m in self.single_re.finditer(text)) if v is not None]
        return max(values) if values else None

    def _single(self, text: str) -> Optional[float]:
        text = text.lower().strip()
        half = 0.0
        if re.search(r"\s+and\s+a\s+half$", text):
            half, text = 0.5, re.sub(r"\s+and\s+a\s+half$", "", text)
        if re.fullmatch(r"[1-9]o", text):
            text = text[0] + "0"
        try:
            return float(text) + half
        except ValueError:
            pass
        if text in self.hundreds:
            return 100.0 + half
        parts = [p for p in re.split(r"[\s-]+", text) if p]
        total = 0
        for part in parts:
            if part in self.tens:
                total += self.tens[part]
            elif part in self.units:
                total += self.units[part]
            elif total and (part.isdigit() or part in self.after_tens):
                total += int(part) if part.isdigit() else self.after_tens[part]
            else:
                return None
        return float(total) + half

    def _one_is_pronoun(self, text: str, start: int, end: int) -> bool:
        """"the left one", "one of my legs": "one" that is not a number."""
        before = re.findall(r"[a-z']+", text[:start].lower())
        after = re.findall(r"[a-z']+", text[end:].lower())
        return bool((before and before[-1] in self.one_not_after) or (after and after[0] in self.one_not_before))

    # --- entities -----------------------------------------------------------
    def numbers(self, text: str, masked: Sequence[CharSpan] = ()) -> List[Entity]:
        found: List[Entity] = []
        for match in self.number_re.finditer(text):
            if any(overlaps(match.start(), match.end(), s, e) for s, e in masked):
                continue
            raw = match.group("num")
            if raw.strip().lower() == "one" and self._one_is_pronoun(text, match.start(), match.end()):
                continue
            value = self.value(raw)
            if value is not None:
                found.append(Entity("number", round_half_up(value), match.start(), match.end()))
        return found

    def pain_scores(self, text: str) -> List[Entity]:
        found: List[Entity] = []
        for template in self.pain_templates:
            for match in template.finditer(text):
                value = self.value(match.group("num"))
                if value is None:
                    continue
                score = round_half_up(value)
                if self.out_of_ten_re.match(text, match.end("num")) and score > 10:
                    score = 10  # "12/10" means the worst pain there is
                if 0 <= score <= 10:
                    found.append(Entity("pain_score", score, match.start(), match.end()))
        if self.homophone_re is not None:
            for match in self.homophone_re.finditer(text):
                found.append(Entity("pain_score", self.homophones[match.group("word").lower()], match.start(), match.end()))
        found += [Entity("pain_score", 10, m.start(), m.end()) for t in self.ten_templates for m in t.finditer(text)]
        found = _without_overlaps(found)
        if found:
            return found
        zeros = [
            Entity("pain_score", 0, m.start(), m.end()) for t in self.zero_templates for m in t.finditer(text)
        ]
        return _without_overlaps(zeros)

    def ages(self, text: str) -> Tuple[List[Entity], List[CharSpan]]:
        """Age entities, and the spans of "over 18"-style phrases (not numbers)."""
        thresholds: List[Entity] = []
        for threshold in self.thresholds:
            for match in threshold.regex.finditer(text):
                value = threshold.value
                if threshold.condition is not None:
                    number = self.value(match.group("num"))
                    if number is None or not _CONDITIONS[threshold.condition](number):
                        continue
                if self.flip_before.search(text[max(0, match.start() - 25) : match.start()]):
                    value = _FLIP[value]  # "not over 18", "not a minor"
                thresholds.append(Entity("age", value, match.start(), match.end()))
        thresholds = _without_overlaps(thresholds)
        years: List[Entity] = []
        for template in self.age_templates:
            for match in template.regex.finditer(text):
                number = self.value(match.group("num"))
                if number is None:
                    continue
                age = round_half_up(number)
                if not template.minimum <= age <= MAX_AGE or age == 0:
                    continue
                if any(overlaps(match.start(), match.end(), t.start, t.end) for t in thresholds):
                    continue  # "over 18 years old" is an adult, not 18
                years.append(Entity("age", age, match.start(), match.end()))
        spans = [(t.start, t.end) for t in thresholds]
        return _without_overlaps(thresholds + years), spans


def _alternation(words: Any) -> str:
    ordered = sorted({str(w) for w in words}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered) + ")"


def _without_overlaps(entities: List[Entity]) -> List[Entity]:
    """Keep the earliest, then longest, of overlapping entities."""
    kept: List[Entity] = []
    for entity in sorted(entities, key=lambda e: (e.start, -(e.end - e.start))):
        if not any(overlaps(entity.start, entity.end, k.start, k.end) for k in kept):
            kept.append(entity)
    return kept
