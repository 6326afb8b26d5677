"""Evaluate a person's answers against the trial file, and pick the next question.

Pure functions of (trial, answers): the action server can call them on every
turn with the current slots, and tests can call them without Rasa.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contract.names import (
    CRITERION_STATUSES,
    FAIL,
    FINAL_OUTCOMES,
    LIKELY_ELIGIBLE,
    LINDEN_ID,
    NEEDS_REVIEW,
    NOT_ELIGIBLE,
    REVIEW,
    URGENT,
    URGENT_CARE,
)
from contract.names import (
    # Unused here: re-exported by actions.criteria (the explicit alias says so to ruff and mypy).
    OUTCOMES as OUTCOMES,
)

from .errors import AnswerError
from .linden import LindenHint, linden_hint
from .rules import holds
from .trial_file import Question, Trial
from .values import Answer, normalise_levels, to_json

# The names are the referral contract's (the API reads them too); LINDEN_ID is
# the question_id of the derived Linden row in summaries (not a slot).
STATUSES = CRITERION_STATUSES

Answers = Mapping[str, Answer | None]


@dataclass(frozen=True)
class CriterionResult:
    question_id: str
    protocol: tuple[str, ...]
    status: str  # pass | fail | unknown | needs_review | urgent
    reason_patient: str
    reason_coordinator: str
    answer: Answer | None  # normalised; None = not asked


@dataclass(frozen=True)
class Evaluation:
    outcome: str  # likely_eligible | needs_review | not_eligible | urgent_care
    criteria: tuple[CriterionResult, ...]  # one per screening question, in asking order
    linden: LindenHint
    trial_id: str
    trial_version: str
    linden_protocol: tuple[str, ...] = ()  # protocol items the Linden hint implements

    @property
    def final(self) -> bool:
        """True when screening stops: the outcome cannot change by asking more."""
        return self.outcome in FINAL_OUTCOMES

    @property
    def linden_result(self) -> CriterionResult:
        """The Linden hint as a criterion row (question_id "linden", not a slot)."""
        return CriterionResult(
            LINDEN_ID,
            self.linden_protocol,
            self.linden.status,
            self.linden.reason_patient,
            self.linden.reason_coordinator,
            None,
        )

    @property
    def deciding(self) -> tuple[CriterionResult, ...]:
        """The rows that produced the outcome (e.g. every fail for not_eligible), Linden included."""
        wanted = {URGENT_CARE: URGENT, NOT_ELIGIBLE: FAIL, NEEDS_REVIEW: REVIEW}.get(self.outcome)
        rows = (*self.criteria, self.linden_result)
        return tuple(row for row in rows if row.status == wanted)

    def summary_for_coordinator(self) -> list[dict[str, Any]]:
        """One JSON-serialisable row per criterion, then the Linden hint."""
        rows = [
            {
                "question_id": c.question_id,
                "protocol": list(c.protocol),
                "answer": to_json(c.answer),
                "status": c.status,
                "reason": c.reason_coordinator,
            }
            for c in self.criteria
        ]
        rows.append(
            {
                "question_id": LINDEN_ID,
                "protocol": list(self.linden_protocol),
                "answer": self.linden.as_dict(),
                "status": self.linden.status,
                "reason": self.linden.reason_coordinator,
            }
        )
        return rows


def normalise_answers(trial: Trial, answers: Mapping[str, Any]) -> dict[str, Answer | None]:
    """Canonical answers for the trial's questions; None (or absent) means not asked.

    Keys that are not questions are ignored, except the levels keys questions
    declare (`levels:`, e.g. spine_levels), kept as tuples of level codes. An
    invalid answer raises AnswerError: the action server validates first, so
    one reaching the engine is a bug to surface, not an answer to guess at. A
    code that is not a level is only left out: levels only make a
    needs_review's reason more precise (I8, E2), never loosen a region rule.
    """
    normalised: dict[str, Answer | None] = {}
    for question in trial.questions:
        if question.levels is not None:
            normalised[question.levels] = normalise_levels(answers.get(question.levels))
        value = answers.get(question.id)
        if value is None:
            normalised[question.id] = None
            continue
        answer = question.values.normalise(value)
        if answer is None:
            raise AnswerError(f"question {question.id!r}: {value!r} is not a valid answer")
        normalised[question.id] = answer
    return normalised


def is_applicable(question: Question, answers: Answers) -> bool:
    """Whether the question applies, given the answers so far (its ask_if)."""
    return question.ask_if is None or holds(question.ask_if, None, answers)


def _level_fields(trial: Trial, answers: Answers) -> dict[str, str]:
    """What a coordinator reason's {levels key} placeholders stand for."""
    fields = {}
    for question in trial.questions:
        if question.levels is not None:
            codes = answers.get(question.levels)
            fields[question.levels] = (
                ", ".join(codes) if isinstance(codes, tuple) and codes else "no level"
            )
    return fields


def _judge(trial: Trial, question: Question, answers: Answers) -> CriterionResult:
    answer = answers.get(question.id)

    def row(status: str, patient: str, coordinator: str) -> CriterionResult:
        return CriterionResult(question.id, question.protocol, status, patient, coordinator, answer)

    if not is_applicable(question, answers):
        return row("pass", "", trial.notes.not_applicable)
    if answer is None:
        # "unknown" never moves the outcome: only answers given can decide it.
        return row("unknown", "", trial.notes.not_asked)
    for rule in question.rules:  # first matching rule wins
        if holds(rule.when, answer, answers):
            # Placeholders were checked on load: only levels keys ("{spine_levels}").
            coordinator = rule.reason.coordinator.format_map(_level_fields(trial, answers))
            return row(rule.result, rule.reason.patient, coordinator)
    return row("pass", "", trial.notes.no_rule)


def _outcome(statuses: list[str]) -> str:
    if URGENT in statuses:
        return URGENT_CARE
    if FAIL in statuses:
        return NOT_ELIGIBLE
    if REVIEW in statuses:
        return NEEDS_REVIEW
    return LIKELY_ELIGIBLE


def evaluate(trial: Trial, answers: Mapping[str, Any]) -> Evaluation:
    """Judge every screening question and combine them into one outcome."""
    normalised = normalise_answers(trial, answers)
    criteria = tuple(_judge(trial, q, normalised) for q in trial.screening_questions)
    hint = linden_hint(trial.linden, normalised)
    return Evaluation(
        outcome=_outcome([c.status for c in criteria] + [hint.status]),
        criteria=criteria,
        linden=hint,
        trial_id=trial.trial_id,
        trial_version=trial.version,
        linden_protocol=trial.linden.protocol,
    )


def next_question(trial: Trial, answers: Mapping[str, Any]) -> str | None:
    """The next screening question to ask, or None when done or the outcome is final."""
    normalised = normalise_answers(trial, answers)
    if evaluate(trial, normalised).final:
        return None
    for question in trial.screening_questions:
        if normalised[question.id] is None and is_applicable(question, normalised):
            return question.id
    return None
