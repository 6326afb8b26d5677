"""Symptoms that are current and affirmed: red flags (red_flags.yml, emergency)
and warning signs (warning_signs.yml, call the care team today). One engine,
two pattern files, two entity names.

A pattern may require something else in the same sentence (`sentence`:
"it's gone weak" needs a limb nearby). `exclusions` drop candidates that are
another sense of the words (emotional numbness, a tight belt): either a
regex whose match overlaps the candidate, or a sentence that names something
(`sentence`) without naming something else (`unless_sentence`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

from spacy.tokens import Doc

from nlu.extract.context import DocContext
from nlu.extract.entities import Entity, overlaps
from nlu.extract.pipeline import token_range

FLAGS = ("weakness", "walking", "numbness", "bladder_bowel", "band_pain")
WARNING_SIGNS = ("worsening_pain", "cough_pain", "night_pain")
_MACRO = re.compile(r"\{([a-z_]+)\}")
# Roles of a possible red flag told about someone else: for a helper,
# "my dad" is the patient (urgent at once); "her sister" is not (asked about).
OTHER_PERSON_ROLE = "other_person"
THIRD_PERSON_ROLE = "third_person"
# The helper's own symptom ("it's me who has the numb hands, she's fine"):
# asked about for a helper, urgent for a patient (actions/understanding.py).
SPEAKER_ROLE = "speaker"
_THIRD_PERSON = re.compile(r"\b(?:she|he|her|his|him|they|their|them)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i[''’]?m|im|i[''’]?ve|ive|my|me)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Pattern:
    flag: str
    regex: "re.Pattern[str]"
    listable: bool
    loss: bool
    sentence: "Optional[re.Pattern[str]]" = None
    possible: bool = False  # ambiguous wording: always asked about, never urgent at once


@dataclass(frozen=True)
class Exclusion:
    flags: FrozenSet[str]
    regex: "Optional[re.Pattern[str]]"
    sentence: "Optional[re.Pattern[str]]"
    unless_sentence: "Optional[re.Pattern[str]]"


# Character offset -> (start, end) of its sentence.
SentenceOf = Callable[[int], Tuple[int, int]]


@dataclass(frozen=True)
class Candidate:
    flag: str
    start: int
    end: int
    listable: bool
    loss: bool
    possible: bool = False


class RedFlagRules:
    def __init__(self, data: Mapping[str, Any], entity: str = "red_flag", flags: tuple[str, ...] = FLAGS,
                 possible_entity: Optional[str] = None) -> None:
        self.entity = entity
        # The second stage of the two-stage red flag (issue 10): a symptom told
        # as old, explained or another person's is reported as possible, so
        # the bot asks once whether it is new or getting worse. Negated,
        # hypothetical and general-question mentions are not reported.
        self.possible_entity = possible_entity
        source_name = f"{entity}s.yml"
        macros: Dict[str, str] = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
        def compile_(item: Mapping[str, Any], key: str, where: str) -> "Optional[re.Pattern[str]]":
            if item.get(key) is None:
                return None
            try:
                return re.compile(_expand(str(item[key]), macros), re.IGNORECASE)
            except re.error as error:
                raise ValueError(f"{source_name} {where}: {key}: {error}") from error

        self.patterns: List[Pattern] = []
        for index, item in enumerate(data["patterns"]):
            flag = str(item["flag"])
            if flag not in flags:
                raise ValueError(f"{source_name} pattern {index}: unknown flag {flag!r}")
            where = f"pattern {index} ({flag})"
            regex = compile_(item, "regex", where)
            if regex is None:
                raise ValueError(f"{source_name} {where}: no regex")
            self.patterns.append(
                Pattern(flag, regex, bool(item.get("list")), bool(item.get("loss")), compile_(item, "sentence", where),
                        bool(item.get("possible")))
            )
        self.uncertain_when = [compile_({"r": r}, "r", f"uncertain_when {i}") for i, r in enumerate(data.get("uncertain_when") or [])]
        self.still_urgent_when = [compile_({"r": r}, "r", f"still_urgent_when {i}") for i, r in enumerate(data.get("still_urgent_when") or [])]
        self.still_urgent_denied_before = (compile_(data, "still_urgent_denied_before", "still_urgent_denied_before")
                                           if data.get("still_urgent_denied_before") else None)
        self.resolved_when = [compile_({"r": r}, "r", f"resolved_when {i}") for i, r in enumerate(data.get("resolved_when") or [])]
        self.other_person_when = [compile_({"r": r}, "r", f"other_person_when {i}") for i, r in enumerate(data.get("other_person_when") or [])]
        self.relation_words = compile_(data, "relation_words", "relation_words") if data.get("relation_words") else None
        self.asked_when = [compile_({"r": r}, "r", f"asked_when {i}") for i, r in enumerate(data.get("asked_when") or [])]
        self.asked_reports = compile_(data, "asked_reports", "asked_reports") if data.get("asked_reports") else None
        self.third_person_when = [compile_({"r": r}, "r", f"third_person_when {i}") for i, r in enumerate(data.get("third_person_when") or [])]
        self.speaker_when = [compile_({"r": r}, "r", f"speaker_when {i}") for i, r in enumerate(data.get("speaker_when") or [])]
        self.exclusions: List[Exclusion] = []
        for index, item in enumerate(data.get("exclusions") or []):
            where = f"exclusion {index}"
            excluded = frozenset(str(f) for f in item.get("flags") or flags)
            if not excluded <= set(flags):
                raise ValueError(f"{source_name} {where}: unknown flag in {sorted(excluded)}")
            exclusion = Exclusion(
                excluded,
                compile_(item, "regex", where),
                compile_(item, "sentence", where),
                compile_(item, "unless_sentence", where),
            )
            if (exclusion.regex is None) == (exclusion.sentence is None):
                raise ValueError(f"{source_name} {where}: needs exactly one of regex / sentence")
            self.exclusions.append(exclusion)

    def candidates(self, text: str, sentence_of: Optional[SentenceOf] = None) -> List[Candidate]:
        def sentence(offset: int) -> str:
            if sentence_of is None:
                return text
            start, end = sentence_of(offset)
            return text[start:end]

        excluded = [
            (e.flags, m.start(), m.end()) for e in self.exclusions if e.regex is not None for m in e.regex.finditer(text)
        ]

        def keep(flag: str, start: int, end: int) -> bool:
            if any(flag in fl and overlaps(start, end, s, e) for fl, s, e in excluded):
                return False
            own = sentence(start)
            return not any(
                flag in e.flags
                and e.sentence is not None
                and e.sentence.search(own)
                and not (e.unless_sentence is not None and e.unless_sentence.search(own))
                for e in self.exclusions
            )

        found = [
            # Spaces at the edges of a match are not part of the finding: a
            # finding that starts on the space after "no" would swallow the
            # negation ("no bladder issues" was a red flag; sealed round 1).
            Candidate(p.flag, m.start() + len(m.group()) - len(m.group().lstrip()),
                      m.end() - len(m.group()) + len(m.group().rstrip()), p.listable, p.loss, p.possible)
            for p in self.patterns
            for m in p.regex.finditer(text)
            if m.group().strip()
            and (p.sentence is None or p.sentence.search(sentence(m.start())))
            and keep(p.flag, m.start(), m.end())
        ]
        # Several patterns often match one phrase: keep the longest per flag.
        # A shorter one that says more widens it: one that tells a loss
        # ("cannot make the pee" + "pee, only small drops", sealed round 11),
        # so its own "cannot" is part of the finding and does not deny it; a
        # definite one inside a possible one ("pain like a tight band around
        # my chest") keeps the finding definite.
        found.sort(key=lambda c: (-(c.end - c.start), c.start))
        kept: List[Candidate] = []
        for cand in found:
            same = [i for i, k in enumerate(kept) if k.flag == cand.flag and overlaps(cand.start, cand.end, k.start, k.end)]
            if not same:
                kept.append(cand)
                continue
            k = kept[same[0]]
            if (cand.loss and not k.loss) or (k.possible and not cand.possible):
                kept[same[0]] = Candidate(k.flag, min(k.start, cand.start), max(k.end, cand.end), k.listable,
                                          k.loss or cand.loss, k.possible and cand.possible)
        return sorted(kept, key=lambda c: (c.start, c.flag))

    def find(self, text: str, doc: Doc, context: DocContext) -> List[Entity]:
        sentence_of = _sentence_finder(doc, context)
        candidates = self.candidates(text, sentence_of)
        doubted = any(r.search(text) for r in self.uncertain_when if r is not None)
        resolved = any(r.search(text) for r in self.resolved_when if r is not None)
        spans = [token_range(doc, c.start, c.end) for c in candidates]
        found: List[Entity] = []
        for cand, (start, end) in zip(candidates, spans):
            flags = context.flags(start, end, listable=cand.listable, loss=cand.loss, findings=spans)
            if not flags.current_and_affirmed:
                # A worry that dates an onset ("I'm more worried that my hands
                # have gone weak since Monday") tells the symptom: asked about
                # once, never dropped (sealed round 6).
                # So is a report with a tag question ("tingly legs the past couple
                # days, is that what you mean?", sealed round 8).
                worry_told = (flags.hypothetical or flags.general_question) and not flags.negated and self._dated(
                    text, cand, sentence_of)
                if self.possible_entity and (worry_told or not (flags.negated or flags.hypothetical or flags.general_question)):
                    # "her sister" is not the patient, even for a helper (sealed round 10).
                    role = self._whose(text, cand, sentence_of) if flags.other_person and not flags.historical else None
                    found.append(Entity(self.possible_entity, cand.flag, cand.start, cand.end, role))
                continue
            # Old or explained first: even a helper's report of it is asked about.
            asked = self._asked(text, cand, sentence_of)
            if self.possible_entity and (cand.possible or resolved or asked or (doubted and self._doubted(text, cand, sentence_of))):
                found.append(Entity(self.possible_entity, cand.flag, cand.start, cand.end))
            elif self.possible_entity and self._speakers_own(text, cand, sentence_of):
                found.append(Entity(self.possible_entity, cand.flag, cand.start, cand.end, SPEAKER_ROLE))
            elif self.possible_entity and self._someone_else(text, cand, sentence_of):
                found.append(Entity(self.possible_entity, cand.flag, cand.start, cand.end, self._whose(text, cand, sentence_of)))
            else:
                found.append(Entity(self.entity, cand.flag, cand.start, cand.end))
        return found


    def _someone_else(self, text: str, cand: Candidate, sentence_of: Optional[SentenceOf]) -> bool:
        """Another person is named in the message and is the subject here
        ("my cousin had that and he got numb legs"), not "I" or "my legs"."""
        relations = [r for r in self.other_person_when if r is not None]
        if not any(r.search(text) for r in relations):
            return False
        start, end = sentence_of(cand.start) if sentence_of else (0, len(text))
        # A relation inside the finding itself is not its subject: "he needs
        # his son's arm to walk" is his own symptom.
        sentence = text[start:cand.start] + " " + text[cand.end:end]
        if not (any(r.search(sentence) for r in relations) or _THIRD_PERSON.search(sentence)):
            return False
        # The nearest person before the finding is its subject: "my sister
        # told me about this, she had trouble walking" is the sister's
        # (sealed round 9); "my husband says my legs are weak" is mine.
        before = text[max(start, cand.start - 30):cand.start]
        for relation in relations:
            before = relation.sub(" she ", before)
        own = [m.start() for m in _FIRST_PERSON.finditer(before)]
        other = [m.start() for m in _THIRD_PERSON.finditer(before)]
        return not own or bool(other and other[-1] > own[-1])

    def _speakers_own(self, text: str, cand: Candidate, sentence_of: Optional[SentenceOf]) -> bool:
        """The one typing says the symptom is theirs, in contrast with someone else's."""
        start, end = sentence_of(cand.start) if sentence_of else (0, len(text))
        return any(r.search(text[start:end]) for r in self.speaker_when if r is not None)

    def _whose(self, text: str, cand: Candidate, sentence_of: Optional[SentenceOf]) -> str:
        """other_person ("my dad": for a helper, the patient) or third_person
        ("her sister": a relative of the person the chat is about)."""
        start, end = sentence_of(cand.start) if sentence_of else (0, len(text))
        sentence = text[start:cand.start] + " " + text[cand.end:end]
        third = any(r.search(sentence) for r in self.third_person_when if r is not None)
        # Two people of the helper's named ("that was my uncle ..., my dad is
        # fine", sealed round 12): which one is the patient is not known, so
        # it is asked about once.
        named = {re.sub(r"[''’]?s$", "", m.group().lower().split()[-1])
                 for r in self.other_person_when if r is not None for m in r.finditer(text)}
        if self.relation_words is not None:  # bare ones too: "No, not Dad. My brother said ..."
            named |= {m.group().lower() for m in self.relation_words.finditer(text)}
        if len(named) > 1:
            return THIRD_PERSON_ROLE
        own = any(r.search(sentence) and not any(t.search(m.group()) for t in self.third_person_when if t is not None)
                  for r in self.other_person_when if r is not None for m in r.finditer(sentence))
        return THIRD_PERSON_ROLE if third and not own else OTHER_PERSON_ROLE

    def _asked(self, text: str, cand: Candidate, sentence_of: Optional[SentenceOf]) -> bool:
        """Named in a question that does not say it is new or worse."""
        start, end = sentence_of(cand.start) if sentence_of else (0, len(text))
        sentence = text[start:end]
        if self.asked_reports is not None and self.asked_reports.search(sentence):
            return False
        def asks_first(match: "Optional[re.Match[str]]") -> bool:
            where = match.start("q") if match and "q" in match.re.groupindex else 0
            return bool(match) and where <= cand.start - start

        return any(asks_first(r.search(sentence)) for r in self.asked_when if r is not None) and not self._says_new(sentence)

    def _dated(self, text: str, cand: Candidate, sentence_of: Optional[SentenceOf]) -> bool:
        """Its own sentence says when it started or that it is new or worse, or
        the next one does of "it" ("Is numbness ... something to worry about?
        It started two days ago", sealed round 11)."""
        start, end = sentence_of(cand.start) if sentence_of else (0, len(text))
        told = text[start:end]
        if sentence_of is not None and end < len(text):
            following = text[end:].lstrip(" .!?")
            if re.match(r"(?:it|this|that|they|mine)\b", following, re.IGNORECASE):
                told += " " + text[slice(*sentence_of(len(text) - len(following)))]
        return self._says_new(told)

    def _says_new(self, told: str) -> bool:
        """Says new, worse or recent, and not in a denial of it ("it isn't new")."""
        def denied(match: "re.Match[str]") -> bool:
            return bool(self.still_urgent_denied_before and
                        self.still_urgent_denied_before.search(told[max(0, match.start() - 40):match.start()]))

        return any(not denied(m) for r in self.still_urgent_when if r is not None for m in r.finditer(told))

    def _doubted(self, text: str, cand: Candidate, sentence_of: Optional[SentenceOf]) -> bool:
        """Old, stable or explained, unless its own sentence says new or worse."""
        if not self.possible_entity:
            return False
        start, end = sentence_of(cand.start) if sentence_of else (0, len(text))
        return not self._says_new(text[start:end])


def _sentence_finder(doc: Doc, context: DocContext) -> Optional[SentenceOf]:
    spans: List[Tuple[int, int]] = []
    for sentence in context.sentences:
        if sentence.end > sentence.start:
            last = doc[min(sentence.end, len(doc)) - 1]
            spans.append((doc[sentence.start].idx, last.idx + len(last.text)))
    if not spans:
        return None
    starts = [start for start, _ in spans]

    def sentence_of(offset: int) -> Tuple[int, int]:
        return spans[max(bisect.bisect_right(starts, offset) - 1, 0)]

    return sentence_of


def _expand(source: str, macros: Mapping[str, str]) -> str:
    # Only known names are replaced, so regex counts like {0,3} stay intact.
    # Macros may use other macros ("limb" uses "leg"); a cycle is an error.
    for _ in range(10):
        expanded = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), source)
        if expanded == source:
            return expanded
        source = expanded
    raise ValueError("macros nest too deeply (a cycle?)")
