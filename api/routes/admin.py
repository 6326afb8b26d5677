"""Admin-only routes: the audit log and the referral dead letters."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.core.openapi import Responses
from api.core.texts import text
from api.deps import CurrentAdmin, SessionDep
from api.models import ReferralDeadLetter
from api.schemas_coordinator import AuditOut, AuditPage, ErrorOut
from api.schemas_dead_letters import DeadLetterDetail, DeadLetterPage, DeadLetterSummary, ResolveIn
from api.services import audit, dead_letters

router = APIRouter(prefix="/admin", tags=["admin"])

DeadLetterId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
ADMINS: Responses = {
    401: {"model": ErrorOut, "description": "Not logged in, or the session expired."},
    403: {"model": ErrorOut, "description": "Admins only (or a missing CSRF token on a change)."},
    422: {"model": ErrorOut, "description": "Invalid request."},
}
NO_DEAD_LETTER: Responses = {404: {"model": ErrorOut, "description": "No such dead letter."}}


@router.get(
    "/audit",
    response_model=AuditPage,
    responses={
        401: {"model": ErrorOut, "description": "Not logged in, or the session expired."},
        403: {"model": ErrorOut, "description": "Admins only."},
        422: {"model": ErrorOut, "description": "Invalid request."},
    },
)
def audit_log(
    session: SessionDep,
    admin: CurrentAdmin,
    action: Annotated[str | None, Query(max_length=32)] = None,
    referral_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """The audit log, newest first."""
    rows, total = audit.page(
        session,
        page=page,
        page_size=page_size,
        action=action,
        referral_id=referral_id,
        actor_id=actor_id,
    )
    return AuditPage(
        items=[AuditOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


def _dead_letter(session: SessionDep, dead_letter_id: str) -> ReferralDeadLetter:
    try:
        return dead_letters.get(session, dead_letter_id)
    except dead_letters.DeadLetterNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("dead_letter_not_found")) from None


@router.get("/dead-letters", response_model=DeadLetterPage, responses=ADMINS)
def list_dead_letters(
    session: SessionDep,
    admin: CurrentAdmin,
    resolved: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeadLetterPage:
    """Referrals the intake refused and kept, oldest first: id, time and reason (no patient data)."""
    rows, total = dead_letters.page(session, page=page, page_size=page_size, resolved=resolved)
    return DeadLetterPage(
        items=[DeadLetterSummary.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get(
    "/dead-letters/{dead_letter_id}",
    response_model=DeadLetterDetail,
    responses={**ADMINS, **NO_DEAD_LETTER},
)
def dead_letter_detail(
    dead_letter_id: DeadLetterId, session: SessionDep, admin: CurrentAdmin
) -> DeadLetterDetail:
    """One dead letter with the refused body as received (a view of patient data: audited)."""
    found = _dead_letter(session, dead_letter_id)
    detail = DeadLetterDetail.model_validate(found, from_attributes=True)
    audit.record(
        session, action="view", actor_id=admin.id, referral_id=found.id, detail="dead_letter"
    )
    session.commit()
    return detail


@router.post(
    "/dead-letters/{dead_letter_id}/resolve",
    response_model=DeadLetterSummary,
    responses={
        **ADMINS,
        **NO_DEAD_LETTER,
        409: {"model": ErrorOut, "description": "Already resolved."},
    },
)
def resolve_dead_letter(
    dead_letter_id: DeadLetterId, body: ResolveIn, session: SessionDep, admin: CurrentAdmin
) -> DeadLetterSummary:
    """Resolved by hand: the body (patient data) is deleted; id, reason, who, when and the note stay."""
    _dead_letter(session, dead_letter_id)
    try:
        resolved = dead_letters.resolve(
            session, dead_letter_id=dead_letter_id, note=body.note, actor=admin
        )
    except dead_letters.AlreadyResolved:
        raise HTTPException(status.HTTP_409_CONFLICT, text("dead_letter_resolved")) from None
    return DeadLetterSummary.model_validate(resolved, from_attributes=True)
