"""Is a finding current and affirmed? A small ConText-style step.

medspaCy cannot be installed beside Rasa, so this does the part we need:
cue phrases (context.yml) for negation, historical, hypothetical,
uncertainty and "current" (which undoes historical), a question test, and
clause scope. A cue only reaches findings in its own clause, in its
direction (forward / backward / both). Clauses end at sentence ends, at
words like "but", at commas, colons and spaced dashes ("soft" breaks), and
at "and"/"or" followed by a subject. A clause that is only a list of
symptoms after a soft break keeps the cues of the clause before ("no
weakness, numbness or tingling"); a soft clause that is only "no" answers
the clause before ("incontinence - no"); a clause that only says the
symptom is over ("... but it went away", "... It's gone now.") makes the
findings before it historical. Other-person cues ("my neighbour can't
walk") mark a symptom that is not the patient's, unless the message says
the writer is chatting for someone ("for my neighbour", "helping").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Set, Tuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlu.extract.pipeline import add_phrases

CATEGORIES = ("negation", "historical", "hypothetical", "question_only", "uncertainty", "other_person")
DIRECTIONS = ("forward", "backward", "both")
# Overlapping cues: longest wins; on equal length pseudo cues win, because
# they exist only to cancel another cue.
_TIE_ORDER = {"pseudo": 0, "current": 1, "historical_loss": 2}

TokenSpan = Tuple[int, int]


# Negation words a finding may start with ("not passed water", "n't been able to walk").
_OWN_NEGATION = frozenset({"not", "n't", "nt", "never"})


@dataclass(frozen=True)
class Flags:
    """Context of one finding."""

    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    general_question: bool = False
    uncertain: bool = False
    other_person: bool = False

    @property
    def current_and_affirmed(self) -> bool:
        """Hedged findings count: safety first, "maybe numb" is reported."""
        return not (
            self.negated or self.historical or self.hypothetical or self.general_question or self.other_person
        )


@dataclass(frozen=True)
class Cue:
    category: str
    direction: str
    start: int
    end: int

    def reaches(self, start: int, end: int) -> bool:
        if self.direction == "forward":
            return self.end <= start
        if self.direction == "backward":
            return self.start >= end
        return True


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    sentence: int
    after_soft_break: bool


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    is_question: bool


@dataclass
class DocContext:
    """Clauses, sentences and cues of one message; answers `flags()`."""

    doc: Doc
    rules: "ContextRules"
    clauses: List[Clause]
    sentences: List[Sentence]
    cues: List[Cue]
    _clause_of: List[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Separator tokens count with the clause before, so every token has one.
        self._clause_of = [0] * len(self.doc)
        index = len(self.clauses) - 1
        for position in range(len(self.doc) - 1, -1, -1):
            while index > 0 and self.clauses[index].start > position:
                index -= 1
            self._clause_of[position] = max(index, 0)

    def clause_index(self, token: int) -> int:
        return self._clause_of[token] if self.clauses else 0

    def is_clause_end(self, token: int) -> bool:
        """True if `token` is past the end of its clause (or of the message)."""
        if token >= len(self.doc):
            return True
        return any(clause.end == token for clause in self.clauses) or self.doc[token].is_punct

    def _negation_shared_with(self, cue: Any, start: int, end: int) -> bool:
        """A cue that straddles the finding's start only by the finding's own
        negation word: "I've not passed water" is "'ve not" + "not passed
        water", a symptom told in the negative, not denied (sealed round 10).
        "No problems with my bladder" straddles by "problems": still denied."""
        inside = range(max(cue.start, start), min(cue.end, end))
        return cue.start < start and len(inside) > 0 and all(
            self.doc[i].lower_ in _OWN_NEGATION or self.doc[i].norm_ in _OWN_NEGATION for i in inside)

    def flags(
        self,
        start: int,
        end: int,
        *,
        listable: bool = False,
        loss: bool = False,
        findings: Sequence[TokenSpan] = (),
    ) -> Flags:
        """Context of the finding at tokens [start, end).

        listable: a bare symptom noun that may continue a list after a comma.
        loss: the finding is itself a loss ("can't walk"), so "anymore" means now.
        findings: all candidate findings, to recognise list clauses.
        """
        if not self.clauses:
            return Flags()
        index = self.clause_index(start)
        clause = self.clauses[index]
        low, high = clause.start, max(clause.end, end)
        # A cue inside the finding is part of it ("no feeling", "can't walk");
        # one that straddles its edge ("no problems" + "problems with my
        # bladder") reaches it whatever its direction.
        cues = [cue for cue in self.cues if low <= cue.start < high and not (cue.start >= start and cue.end <= end)
                and not self._negation_shared_with(cue, start, end)]
        reaching = [cue for cue in cues if cue.reaches(start, end) or (cue.start < end and cue.end > start)]

        negated = _has(reaching, "negation")
        historical = _has(reaching, "historical") or (not loss and _has(reaching, "historical_loss"))
        hypothetical = _has(reaching, "hypothetical")
        uncertain = _has(cues, "uncertainty")

        sentence = self.sentences[clause.sentence]
        general_question = False
        if sentence.is_question:
            hypothetical = hypothetical or _has(reaching, "question_only")
            personal = self.rules.personal
            if not any(self.doc[i].norm_ in personal or self.doc[i].lower_ in personal for i in range(low, high)):
                general_question = True

        if listable and clause.after_soft_break and self._is_list_clause(index, findings):
            inherited = self._carried(index - 1, findings)
            negated = negated or inherited.negated
            historical = historical or inherited.historical
            hypothetical = hypothetical or inherited.hypothetical

        if not negated and self._answered_no(index):
            negated = True

        if not historical and self._resolved_later(index, loss, findings):
            historical = True

        other_person = self._other_person(index, start, reaching)

        if historical and any(
            cue.category == "current" and sentence.start <= cue.start < sentence.end for cue in self.cues
        ):
            historical = False
        return Flags(negated, historical, hypothetical, general_question, uncertain, other_person)

    def _is_resolution(self, clause: Clause, loss: bool) -> bool:
        """A clause that only says "it is over": a historical cue plus filler
        words ("but it went away", "that cleared up", "I'm back to normal now",
        "not anymore"). Words like "anymore"/"stopped" do not end a loss
        ("I can't walk, it stopped me going out")."""
        names = {"historical"} if loss else {"historical", "historical_loss"}
        inside = [cue for cue in self.cues if clause.start <= cue.start < clause.end]
        improvement = self.rules.improvement_only
        if not any(
            cue.category in names and " ".join(t.lower_ for t in self.doc[cue.start : cue.end]) not in improvement
            for cue in inside
        ):
            return False
        covered: Set[int] = set()
        for cue in inside:
            covered.update(range(cue.start, cue.end))
        fillers = self.rules.resolution_fillers
        return all(
            i in covered or token.is_punct or token.is_space or token.like_num
            or token.lower_ in fillers or token.norm_ in fillers
            for i, token in ((i, self.doc[i]) for i in range(clause.start, clause.end))
        )

    def _resolved_later(self, index: int, loss: bool, findings: Sequence[TokenSpan]) -> bool:
        """Is the finding's clause followed by a resolution clause, before any
        other finding, in the same sentence or at the start of the next one?"""
        sentence = self.clauses[index].sentence
        for j in range(index + 1, len(self.clauses)):
            clause = self.clauses[j]
            if clause.sentence > sentence + 1:
                return False
            if any(clause.start <= start < clause.end for start, _ in findings):
                return False
            if self._is_resolution(clause, loss):
                return True
            if clause.sentence == sentence + 1:
                return False  # only the first clause of the next sentence
        return False

    def _other_person(self, index: int, start: int, reaching: Sequence[Cue]) -> bool:
        """The symptom belongs to someone who is not the patient: an other-person
        cue before it in its clause with no first-person word in between ("my
        neighbour can't walk", not "my friend says my legs look weak"), or one
        in the clause before when this clause starts with he/she/they ("the
        lady next to me was in a wheelchair, she couldn't walk"). Never when
        the writer says they are chatting for someone ("for my neighbour")."""
        if any(cue.category == "caregiver" for cue in self.cues):
            return False
        rules = self.rules
        for cue in reaching:
            if cue.category != "other_person" or cue.end > start:
                continue
            if not any(self._first_person(i) for i in range(cue.end, start)):
                return True
        clause = self.clauses[index]
        if index == 0 or self.clauses[index - 1].sentence != clause.sentence:
            return False
        first = self.doc[clause.start]
        if first.lower_ not in rules.other_person_pronouns and first.norm_ not in rules.other_person_pronouns:
            return False
        if any(self._first_person(i) for i in range(clause.start, start)):
            return False
        before = self.clauses[index - 1]
        return any(cue.category == "other_person" and before.start <= cue.start < before.end for cue in self.cues)

    def _first_person(self, i: int) -> bool:
        """"I", "me", "my" ... as the patient, not inside "next to me", "in my group"."""
        token = self.doc[i]
        rules = self.rules
        if token.lower_ not in rules.first_person and token.norm_ not in rules.first_person:
            return False
        return i == 0 or self.doc[i - 1].lower_ not in rules.other_person_prepositions

    def _answered_no(self, index: int) -> bool:
        """"incontinence - no": the next soft clause is only a "no"."""
        if index + 1 >= len(self.clauses):
            return False
        nxt = self.clauses[index + 1]
        if not nxt.after_soft_break or nxt.sentence != self.clauses[index].sentence:
            return False
        words = tuple(t.lower_ for t in self.doc[nxt.start : nxt.end] if not t.is_punct)
        return words in self.rules.trailing_answers

    def _is_list_clause(self, index: int, findings: Sequence[TokenSpan]) -> bool:
        clause = self.clauses[index]
        covered: Set[int] = set()
        for start, end in findings:
            covered.update(range(start, end))
        rules = self.rules
        words = [self.doc[i] for i in range(clause.start, clause.end) if i not in covered and not self.doc[i].is_punct]
        if not all(w.lower_ in rules.list_fillers or w.lower_ in rules.list_places for w in words):
            return False
        # "no weakness, tingling or numbness in my legs" is a list; without
        # "or"/"and", "no weakness, tingling in my feet" is a contrast.
        has_place = any(w.lower_ in rules.list_places for w in words)
        return not has_place or any(w.lower_ in rules.list_conjunctions for w in words)

    def _carried(self, index: int, findings: Sequence[TokenSpan]) -> Flags:
        """Cues of clause `index` that reach its end, i.e. a list that goes on."""
        if index < 0:
            return Flags()
        clause = self.clauses[index]
        # Only a clause with a finding heads a list: "no, numbness" is an
        # answer followed by a symptom, and must not be read as negated.
        if not any(clause.start <= start < clause.end for start, _ in findings):
            return Flags()
        cues = [
            cue
            for cue in self.cues
            if clause.start <= cue.start < clause.end and cue.direction in ("forward", "both")
        ]
        own = Flags(
            negated=_has(cues, "negation"),
            historical=_has(cues, "historical") or _has(cues, "historical_loss"),
            hypothetical=_has(cues, "hypothetical"),
        )
        if clause.after_soft_break and self._is_list_clause(index, findings):
            earlier = self._carried(index - 1, findings)
            return Flags(
                negated=own.negated or earlier.negated,
                historical=own.historical or earlier.historical,
                hypothetical=own.hypothetical or earlier.hypothetical,
            )
        return own


def _inside_word(doc: Doc, i: int) -> bool:
    """A hyphen in "mid-back" or "T11-L2" joins; a spaced dash splits."""
    return doc[i].text in ("-", "–", "—") and i > 0 and not doc[i - 1].whitespace_


def _has(cues: Iterable[Cue], category: str) -> bool:
    return any(cue.category == category for cue in cues)


class ContextRules:
    """Cue matcher and clause splitter built once from context.yml."""

    def __init__(self, nlp: Language, data: Mapping[str, Any]) -> None:
        self.sentence_ends: Set[str] = {str(x) for x in data.get("sentence_ends", [])}
        self.soft_breaks: Set[str] = {str(x) for x in data.get("soft_breaks", [])}
        self.breaks: List[Tuple[str, ...]] = sorted(
            {tuple(str(x).lower().split()) for x in data.get("breaks", [])}, key=len, reverse=True
        )
        self.conjunctions: Set[str] = {str(x).lower() for x in data.get("conjunctions", [])}
        self.subjects: Set[str] = {str(x).lower() for x in data.get("subjects", [])}
        self.interjections: Set[str] = {str(x).lower() for x in data.get("interjections", [])}
        self.list_fillers: Set[str] = {str(x).lower() for x in data.get("list_fillers", [])}
        self.list_places: Set[str] = {str(x).lower() for x in data.get("list_places", [])}
        self.list_conjunctions: Set[str] = {str(x).lower() for x in data.get("list_conjunctions", [])}
        self.trailing_answers: Set[Tuple[str, ...]] = {
            tuple(str(x).lower().split()) for x in data.get("trailing_answers", [])
        }
        self.personal: Set[str] = {str(x).lower() for x in data.get("personal", [])}
        self.question_starts: Set[str] = {str(x).lower() for x in data.get("question_starts", [])}
        self.improvement_only: Set[str] = {" ".join(str(x).lower().split()) for x in data.get("improvement_only", [])}
        self.resolution_fillers: Set[str] = {str(x).lower() for x in data.get("resolution_fillers", [])}
        self.first_person: Set[str] = {str(x).lower() for x in data.get("first_person", [])}
        self.other_person_pronouns: Set[str] = {str(x).lower() for x in data.get("other_person_pronouns", [])}
        self.other_person_prepositions: Set[str] = {
            str(x).lower() for x in data.get("other_person_prepositions", [])
        }
        self.matcher = PhraseMatcher(nlp.vocab, attr="NORM")
        self._labels: Dict[int, Tuple[str, str]] = {}
        self._add_cues(nlp, data.get("cues") or {})

    def _add_cues(self, nlp: Language, cues: Mapping[str, Any]) -> None:
        loss_words = {str(x).lower() for x in cues.get("historical_unless_loss", [])}
        table: Dict[Tuple[str, str], List[str]] = {}
        for category in CATEGORIES:
            for direction, phrases in (cues.get(category) or {}).items():
                if direction not in DIRECTIONS:
                    raise ValueError(f"context.yml: {category}: unknown direction {direction!r}")
                for phrase in phrases or []:
                    text = str(phrase).lower()
                    name = "historical_loss" if category == "historical" and text in loss_words else category
                    table.setdefault((name, direction), []).append(text)
        table[("current", "both")] = [str(x).lower() for x in cues.get("current", [])]
        table[("pseudo", "both")] = [str(x).lower() for x in cues.get("pseudo", [])]
        table[("caregiver", "both")] = [str(x).lower() for x in cues.get("caregiver", [])]
        for (category, direction), phrases in table.items():
            label = f"{category}:{direction}"
            add_phrases(nlp, self.matcher, label, phrases)
            self._labels[nlp.vocab.strings[label]] = (category, direction)

    def analyse(self, doc: Doc) -> DocContext:
        clauses, sentences = self._segment(doc)
        return DocContext(doc, self, clauses, sentences, self._cues(doc))

    def _cues(self, doc: Doc) -> List[Cue]:
        found = [(self._labels[match_id], start, end) for match_id, start, end in self.matcher(doc)]
        # Longest first, pseudo before others of the same length; greedy.
        found.sort(key=lambda item: (-(item[2] - item[1]), _TIE_ORDER.get(item[0][0], 9), item[1]))
        taken: Set[int] = set()
        cues: List[Cue] = []
        for (category, direction), start, end in found:
            if taken.intersection(range(start, end)):
                continue
            taken.update(range(start, end))
            if category != "pseudo":
                cues.append(Cue(category, direction, start, end))
        return sorted(cues, key=lambda cue: cue.start)

    def _break_length(self, doc: Doc, i: int) -> int:
        for words in self.breaks:
            if i + len(words) <= len(doc) and all(doc[i + k].lower_ == w for k, w in enumerate(words)):
                return len(words)
        return 0

    def _segment(self, doc: Doc) -> Tuple[List[Clause], List[Sentence]]:
        clauses: List[Clause] = []
        sentences: List[Sentence] = []
        clause_start = sentence_start = 0
        after_soft_break = False

        def close(end: int, next_start: int, soft: bool) -> None:
            nonlocal clause_start, after_soft_break
            if end > clause_start:
                clauses.append(Clause(clause_start, end, len(sentences), after_soft_break))
            clause_start, after_soft_break = next_start, soft

        i = 0
        while i < len(doc):
            token = doc[i]
            if token.is_space and "\n" not in token.text:
                i += 1  # a double space is no boundary
                continue
            text = token.text.strip() or "\n"
            if text in self.sentence_ends or (text and set(text) <= set(".!?")):
                close(i, i + 1, False)
                first = doc[sentence_start].lower_ if sentence_start < i else ""
                sentences.append(Sentence(sentence_start, i + 1, "?" in text or first in self.question_starts))
                sentence_start = i + 1
                i += 1
                continue
            length = self._break_length(doc, i)
            if length:
                close(i, i + length, False)
                i += length
                continue
            if token.text in self.soft_breaks and not _inside_word(doc, i):
                close(i, i + 1, True)
            elif (
                token.lower_ in self.conjunctions
                and i > clause_start
                and i + 1 < len(doc)
                and (doc[i + 1].lower_ in self.subjects or doc[i + 1].norm_ in self.subjects)
            ):
                close(i, i + 1, False)
            elif (
                i == sentence_start
                and token.lower_ in self.interjections
                and i + 1 < len(doc)
                and (doc[i + 1].lower_ in self.subjects or doc[i + 1].norm_ in self.subjects)
            ):
                # "no I can't feel my legs": the answer is its own clause.
                close(i + 1, i + 1, False)
            i += 1
        close(len(doc), len(doc), False)
        if sentence_start < len(doc) or not sentences:
            first = doc[sentence_start].lower_ if sentence_start < len(doc) else ""
            sentences.append(Sentence(sentence_start, len(doc), first in self.question_starts))
        return clauses, sentences


def clause_texts(context: DocContext) -> List[str]:
    """Debug helper for tests: the text of each clause."""
    return [context.doc[c.start : c.end].text for c in context.clauses]

