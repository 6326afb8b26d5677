"""The trial file's questions as the exports need them (contract/trial_form.json).

Generated from the trial file by scripts/render_trial_form.py (the API image
has no trial file). The FHIR Questionnaire and the REDCap data dictionary are
built from it; a stored answer becomes the codes defined here, never anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FORM_FILE = Path(__file__).resolve().parents[2] / "contract" / "trial_form.json"


@dataclass(frozen=True)
class Option:
    code: str
    label: str


@dataclass(frozen=True)
class FormQuestion:
    id: str
    protocol: tuple[str, ...]
    stage: str
    text: str
    multiple: bool  # the answer is a list (regions): several codes at once
    options: tuple[Option, ...]
    number: tuple[int, int] | None  # an answer may be a whole number in this range

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.options)


@dataclass(frozen=True)
class Answer:
    """A stored answer in the form's terms: option codes, or a number (never both)."""

    codes: tuple[str, ...] = ()
    number: int | None = None


@dataclass(frozen=True)
class TrialForm:
    trial_id: str
    version: str
    checksum: str
    title: str
    empty_list_code: str
    questions: tuple[FormQuestion, ...]

    def question(self, question_id: str) -> FormQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def answer(self, question_id: str, value: Any) -> Answer | None:
        """The stored (normalised) answer as codes or a number; None when it is none of them.

        A record judged by another trial file version may hold a value this form
        does not define: it is left out rather than written as an unknown code.
        """
        question = self.question(question_id)
        if question is None or value is None or isinstance(value, bool):
            return None
        if isinstance(value, int):
            if str(value) in question.codes:
                return Answer(codes=(str(value),))
            if question.number and question.number[0] <= value <= question.number[1]:
                return Answer(number=value)
            return None
        if isinstance(value, list):
            if not question.multiple:
                return None
            codes = tuple(str(v) for v in value) or (self.empty_list_code,)
            return Answer(codes=codes) if set(codes) <= set(question.codes) else None
        if isinstance(value, str) and value in question.codes:
            return Answer(codes=(value,))
        return None


def parse(data: dict[str, Any]) -> TrialForm:
    return TrialForm(
        trial_id=data["trial_id"],
        version=data["version"],
        checksum=data["checksum"],
        title=data["title"],
        empty_list_code=data["empty_list_code"],
        questions=tuple(
            FormQuestion(
                id=q["id"],
                protocol=tuple(q["protocol"]),
                stage=q["stage"],
                text=q["text"],
                multiple=bool(q["multiple"]),
                options=tuple(Option(o["code"], o["label"]) for o in q["options"]),
                number=(q["number"]["min"], q["number"]["max"]) if q["number"] else None,
            )
            for q in data["questions"]
        ),
    )


@lru_cache(maxsize=1)
def load() -> TrialForm:
    return parse(json.loads(FORM_FILE.read_text(encoding="utf-8")))
