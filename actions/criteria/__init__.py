"""The criteria engine: the trial file, its rules, the Linden hint. No Rasa imports."""

from .engine import (
    FINAL_OUTCOMES,
    LINDEN_ID,
    OUTCOMES,
    STATUSES,
    CriterionResult,
    Evaluation,
    evaluate,
    is_applicable,
    next_question,
    normalise_answers,
)
from .errors import AnswerError, TrialFileError
from .linden import LindenHint
from .trial_file import DEFAULT_TRIAL_FILE, Button, Question, Reason, Trial, Wording, load_trial
from .values import ANSWER_TYPES, CANCERS, REGIONS, UNKNOWN, ValueSpec, value_spec

__all__ = [
    "ANSWER_TYPES",
    "CANCERS",
    "DEFAULT_TRIAL_FILE",
    "FINAL_OUTCOMES",
    "LINDEN_ID",
    "OUTCOMES",
    "REGIONS",
    "STATUSES",
    "UNKNOWN",
    "AnswerError",
    "Button",
    "CriterionResult",
    "Evaluation",
    "LindenHint",
    "Question",
    "Reason",
    "Trial",
    "TrialFileError",
    "ValueSpec",
    "Wording",
    "evaluate",
    "is_applicable",
    "load_trial",
    "next_question",
    "normalise_answers",
    "value_spec",
]
