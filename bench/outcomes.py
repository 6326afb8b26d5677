"""Scoring simulated pre-screens against what the criteria engine expects.

Pure (no servers): tests/unit/test_personas.py checks it on hand-made screens.

- outcome accuracy: the outcome the bot gave equals the engine's outcome for
  the persona's facts;
- per-criterion agreement: for every question the engine says should be
  asked, the bot's recorded answer gives the same criterion result as the
  true fact (and, stricter, the same value);
- questions to outcome: questions the bot asked, repeats included;
- stalls: no outcome (a question asked over and over, or no question at all);
- issue 10's failure counts: conversations sent to urgent care without a red
  flag, wrong `not_eligible`, recorded values that differ from the facts
  (worse than unknown, so counted apart from "not understood"), the most
  times one question was asked, confirming questions, and patient messages
  to the outcome.
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
    questions, repeats, most_asked, checks = [], [], [], []
    wrong_values = unknown_values = false_urgent = wrong_not_eligible = 0
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
                # Not recorded at all (the screen stopped earlier) is neither.
                if bot_value == "unknown":
                    unknown_values += 1
                elif bot_value is not None:
                    wrong_values += 1
        if screen.outcome:
            questions.append(len(screen.asks))
            real = [q for q in screen.asks if q not in ("answer_check", "red_flag_check")]
            repeats.append(len(real) - len(set(real)))
            most_asked.append(max(Counter(real).values(), default=0))
            checks.append(len(screen.asks) - len(real))
        false_urgent += got == "urgent_care" and expected.outcome != "urgent_care"
        wrong_not_eligible += got == "not_eligible" and expected.outcome != "not_eligible"
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
            "most_times_one_question_asked": max(most_asked, default=None),
            "confirming_questions_total": sum(checks),
        },
        "false_urgent_care": false_urgent,
        "wrong_not_eligible": wrong_not_eligible,
        "wrong_values": wrong_values,
        "values_not_understood": unknown_values,
        "stalled": sum(s.stalled for s in screens),
        "errors": sum(s.error is not None for s in screens),
        "wrong": wrong,
    }
