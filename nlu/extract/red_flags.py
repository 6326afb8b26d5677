"""Symptoms that are current and affirmed: red flags (red_flags.yml, emergency)
and warning signs (warning_signs.yml, call the care team today). One engine,
two pattern files, two entity names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping

from spacy.tokens import Doc

from nlu.extract.context import DocContext
from nlu.extract.entities import Entity, overlaps
from nlu.extract.pipeline import token_range

FLAGS = ("weakness", "walking", "numbness", "bladder_bowel", "band_pain")
WARNING_SIGNS = ("worsening_pain", "cough_pain", "night_pain")
_MACRO = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Pattern:
    flag: str
    regex: "re.Pattern[str]"
    listable: bool
    loss: bool


@dataclass(frozen=True)
class Candidate:
    flag: str
    start: int
    end: int
    listable: bool
    loss: bool


class RedFlagRules:
    def __init__(self, data: Mapping[str, Any], entity: str = "red_flag", flags: tuple[str, ...] = FLAGS) -> None:
        self.entity = entity
        source_name = f"{entity}s.yml"
        macros: Dict[str, str] = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
        self.patterns: List[Pattern] = []
        for index, item in enumerate(data["patterns"]):
            flag = str(item["flag"])
            if flag not in flags:
                raise ValueError(f"{source_name} pattern {index}: unknown flag {flag!r}")
            source = _expand(str(item["regex"]), macros)
            try:
                regex = re.compile(source, re.IGNORECASE)
            except re.error as error:
                raise ValueError(f"{source_name} pattern {index} ({flag}): {error}") from error
            self.patterns.append(Pattern(flag, regex, bool(item.get("list")), bool(item.get("loss"))))

    def candidates(self, text: str) -> List[Candidate]:
        found = [
            Candidate(p.flag, m.start(), m.end(), p.listable, p.loss)
            for p in self.patterns
            for m in p.regex.finditer(text)
            if m.end() > m.start()
        ]
        # Several patterns often match one phrase: keep the longest per flag.
        found.sort(key=lambda c: (-(c.end - c.start), c.start))
        kept: List[Candidate] = []
        for cand in found:
            if not any(k.flag == cand.flag and overlaps(cand.start, cand.end, k.start, k.end) for k in kept):
                kept.append(cand)
        return sorted(kept, key=lambda c: (c.start, c.flag))

    def find(self, text: str, doc: Doc, context: DocContext) -> List[Entity]:
        candidates = self.candidates(text)
        spans = [token_range(doc, c.start, c.end) for c in candidates]
        found: List[Entity] = []
        for cand, (start, end) in zip(candidates, spans):
            flags = context.flags(start, end, listable=cand.listable, loss=cand.loss, findings=spans)
            if flags.current_and_affirmed:
                found.append(Entity(self.entity, cand.flag, cand.start, cand.end))
        return found


def _expand(source: str, macros: Mapping[str, str]) -> str:
    # Only known names are replaced, so regex counts like {0,3} stay intact.
    return _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), source)
