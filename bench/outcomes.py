"""Scoring simulated pre-screens against what the criteria engine expects.

Pure (no servers): tests/unit/test_personas.py checks it on hand-made screens.

- outcome accuracy: the outcome the bot gave equals the engine's outcome for
  the persona's facts;
- per-criterion agreement: for every question the engine says should be
  asked, the bot's recorded answer gives the same criterion result as the
  true fact (and, stricter, the same value);
- questions to outcome: questions the bot asked, repeats included;
- stalls: no outcome (a question asked over and over, or no question at all).
"""

from __future__ import annotations

from collections import Counter
from statistics import median
from typing import Any, Mapping, Optional, Sequence

from actions.criteria import AnswerError, Trial, evaluate
from bench.screen import Screen
from bench.personas import Expectation, Persona


def _bot_statuses(trial: Trial, understood: Mapping[str, Any]) -> dict[str, str]:
    try:
        evaluation = evaluate(trial, understood)
    except AnswerError:  # a slot value the engine refuses: count every criterion as disagreeing
        return {}
    return {c.question_id: c.status for c in evaluation.criteria}


def _same_value(trial: Trial, question: str, bot: Any, fact: Any) -> bool:
    spec = trial.question(question).values
    return bot is not None and spec.normalise(bot) == spec.normalise(fact)


def score(
    trial: Trial,
    personas: Sequence[Persona],
    expectations: Sequence[Expectation],
    screens: Sequence[Screen],
    understood: Sequence[Optional[Mapping[str, Any]]],
) -> dict[str, Any]:
    """`understood[i]`: the screening slots of persona i's conversation (None if not found)."""
    confusion: Counter[tuple[str, str]] = Counter()
    per_question: dict[str, dict[str, int]] = {}
    wrong: list[dict[str, Any]] = []
    questions, repeats = [], []
    for persona, expected, screen, slots in zip(personas, expectations, screens, understood):
        got = screen.outcome if screen.outcome else ("stalled" if screen.stalled else "error")
        confusion[(expected.outcome, got)] += 1
        statuses = _bot_statuses(trial, slots or {})
        misread = []
        for question in expected.asked:
            row = per_question.setdefault(question, {"asked": 0, "status_agrees": 0, "value_agrees": 0})
            row["asked"] += 1
            bot_value = (slots or {}).get(question)
            row["status_agrees"] += statuses.get(question) == expected.statuses[question]
            same = _same_value(trial, question, bot_value, persona.answers[question])
            row["value_agrees"] += same
            if not same:
                misread.append(question)
        if screen.outcome:
            questions.append(len(screen.asks))
            repeats.append(len(screen.asks) - len(set(screen.asks)))
        if got != expected.outcome:
            # Ids only: which persona, what was expected, which answers were misread.
            wrong.append({"persona": persona.name, "expected": expected.outcome, "got": got,
                          "misread": misread, "last_asked": screen.asks[-1] if screen.asks else None})
    n = len(personas)
    outcomes = sorted({e.outcome for e in expectations} | {g for _, g in confusion})
    return {
        "personas": n,
        "outcome_accuracy": sum(c for (e, g), c in confusion.items() if e == g) / n if n else None,
        "confusion": {e: {g: confusion[(e, g)] for g in outcomes} for e in outcomes if any(confusion[(e, g)] for g in outcomes)},
        "expected_outcomes": dict(Counter(e.outcome for e in expectations)),
        "per_criterion": {
            q: {**row, "status_agreement": row["status_agrees"] / row["asked"],
                "value_agreement": row["value_agrees"] / row["asked"]}
            for q, row in per_question.items()
        },
        "questions_to_outcome": {
            "median": median(questions) if questions else None,
            "max": max(questions) if questions else None,
            "expected_median": median(len(e.asked) for e in expectations) if expectations else None,
            "expected_max": max((len(e.asked) for e in expectations), default=None),
            "asked_again_total": sum(repeats),
            "screens_with_a_question_asked_again": sum(r > 0 for r in repeats),
        },
        "stalled": sum(s.stalled for s in screens),
        "errors": sum(s.error is not None for s in screens),
        "wrong": wrong,
    }
