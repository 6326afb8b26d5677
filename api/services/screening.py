"""The study team's screening result for a referral: the determination and, per criterion, agreement.

A coordinator records it when marking a referral screened (from contacting,
in the same transaction as the status change) or on a referral that has been
screened (screened, enrolled, not enrolled), and may correct it there. The
criteria are those the bot judged for this referral, read from the record it
stores (never from the trial file in force now): every row with an answer,
and the Linden hint. Codes only (contract/names.py); audited like every write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models import Coordinator, Referral, ScreeningResult, now
from api.services import audit, queue
from contract.names import (
    AGREE,
    AGREEMENT_REASONS,
    AGREEMENTS,
    CONTACTING,
    DETERMINATIONS,
    ENROLLED,
    LINDEN_ID,
    NOT_CHECKED,
    NOT_ENROLLED,
    SCREENED,
)

# Statuses of a referral that has been screened: its result can be recorded or corrected.
SCREENED_STATUSES = (SCREENED, ENROLLED, NOT_ENROLLED)
# From this status, recording the result also marks the referral screened.
MARKS_SCREENED = CONTACTING


class ScreeningNotAllowed(Exception):
    """The referral is not being marked screened and has not been screened."""


class ScreeningInvalid(Exception):
    """A code or criterion that is not allowed; `kind` names the rule that failed (no values)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class CriterionCheck:
    question_id: str
    agreement: str
    reason: str | None = None


def judged_criteria(referral: Referral) -> list[str]:
    """Question ids of the criteria the bot judged for this referral, in the record's order.

    A row with an answer was read and judged by a rule; the Linden row has no
    answer of its own (it is derived) but is judged too. Rows not asked (answer
    null) were not judged, so the team has nothing to agree or disagree with.
    """
    ids: list[str] = []
    for row in referral.criteria or []:
        if not isinstance(row, dict):
            continue
        question_id = str(row.get("question_id") or "")
        if question_id and (row.get("answer") is not None or question_id == LINDEN_ID):
            if question_id not in ids:
                ids.append(question_id)
    return ids


def can_record(status: str) -> bool:
    return status == MARKS_SCREENED or status in SCREENED_STATUSES


def _checks(
    referral: Referral, agreement: Mapping[str, str], reason: Mapping[str, str | None]
) -> list[CriterionCheck]:
    judged = judged_criteria(referral)
    if set(agreement) - set(judged) or set(reason) - set(judged):
        raise ScreeningInvalid("unknown_criterion")
    checks = []
    for question_id in judged:
        value = agreement.get(question_id, NOT_CHECKED)
        why = reason.get(question_id) or None
        if value not in AGREEMENTS:
            raise ScreeningInvalid("unknown_agreement")
        if why is not None and why not in AGREEMENT_REASONS:
            raise ScreeningInvalid("unknown_reason")
        if why is not None and value == AGREE:
            # A reason explains a disagreement or a criterion not checked.
            raise ScreeningInvalid("reason_with_agree")
        checks.append(CriterionCheck(question_id, value, why))
    return checks


def record(
    session: Session,
    *,
    referral_id: str,
    determination: str,
    agreement: Mapping[str, str],
    reason: Mapping[str, str | None] | None = None,
    status_reason: str | None = None,
    actor: Coordinator,
) -> ScreeningResult:
    """Record (or correct) the screening result; from contacting, also move the referral to screened.

    Raises ReferralNotFound, ScreeningNotAllowed, ScreeningInvalid, or
    TransitionNotAllowed (someone else moved the referral first). Criteria not
    given are "not checked". One transaction: the status change, the result
    and their audit rows are written together or not at all.
    """
    referral = queue.get_referral(session, referral_id)
    if determination not in DETERMINATIONS:
        raise ScreeningInvalid("unknown_determination")
    if not can_record(referral.status):
        raise ScreeningNotAllowed(referral.status)
    checks = _checks(referral, agreement, reason or {})
    if referral.status == MARKS_SCREENED:
        if not (status_reason or "").strip():
            raise ScreeningInvalid("status_reason_missing")
        queue.move_status(
            session,
            referral_id=referral_id,
            to_status=SCREENED,
            reason=status_reason or "",
            actor=actor,
        )
    rows: list[dict[str, Any]] = [
        {"question_id": c.question_id, "agreement": c.agreement, "reason": c.reason} for c in checks
    ]
    result = session.get(ScreeningResult, referral_id)
    first = result is None
    if result is None:
        result = ScreeningResult(referral_id=referral_id)
        session.add(result)
    result.determination = determination
    result.criteria = rows
    result.recorded_by = actor.id
    result.recorded_at = now()
    audit.record(
        session,
        action="screening",
        actor_id=actor.id,
        referral_id=referral_id,
        detail="recorded" if first else "corrected",
    )
    try:
        session.commit()
    except IntegrityError:
        # Another coordinator recorded the first result at the same moment: theirs stands.
        session.rollback()
        raise queue.TransitionNotAllowed("screening recorded at the same time") from None
    session.refresh(result)
    return result
