"""A referral's criteria in words, from what the referral itself recorded.

The record carries the question as asked and the answer's label (issue 11), so
a referral is shown as it was judged, whatever trial file is in force now.
The pages never read the trial file. Rows received before labels were
recorded fall back to the raw ids.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from api.deps import SessionDep
from api.models import Referral
from contract.names import FAIL, PASS, REVIEW, UNKNOWN_STATUS, URGENT


def _raw(answer: Any) -> str:
    if isinstance(answer, dict):
        if {"points_min", "points_max"} <= set(answer):
            groups = ", ".join(str(g) for g in answer.get("groups") or []) or "?"
            return (
                f"{answer['points_min']}-{answer['points_max']} points; possible group(s): {groups}"
            )
        return ", ".join(f"{k}: {v}" for k, v in sorted(answer.items()))
    if isinstance(answer, list):
        return ", ".join(str(item) for item in answer) if answer else "[]"
    return str(answer).lower() if isinstance(answer, bool) else str(answer)


def describe_answer(row: dict[str, Any]) -> str:
    """The interpreted answer in words for the coordinator ("Upper or middle back (thoracic)")."""
    answer = row.get("answer")
    label = row.get("answer_label")
    if label is None:
        return "Not asked" if answer is None else _raw(answer)
    if answer is None or _raw(answer).lower() == str(label).lower():
        return str(label)
    return f"{label} ({_raw(answer)})"


def question_text(row: dict[str, Any]) -> str:
    return str(row.get("question") or row.get("question_id", ""))


def stored_question_texts(session: SessionDep) -> dict[str, str]:
    """Question words by criterion id, as the newest referral recorded them (for the statistics page)."""
    criteria = (
        session.scalar(select(Referral.criteria).order_by(Referral.received_at.desc()).limit(1))
        or []
    )
    return {
        str(row["question_id"]): str(row["question"])
        for row in criteria
        if isinstance(row, dict) and row.get("question")
    }


RESULT_LABELS = {
    PASS: "Pass",
    FAIL: "Does not fit",
    REVIEW: "Needs review",
    UNKNOWN_STATUS: "Unknown",
    URGENT: "Urgent",
}
