"""Errors raised by the criteria engine."""

from __future__ import annotations


class TrialFileError(ValueError):
    """The trial file is malformed; the message names the question and the problem."""


class AnswerError(ValueError):
    """An answer handed to the engine is not a valid normalised value for its question."""
