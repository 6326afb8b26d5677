"""Admin-only routes: the audit log."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Query

from api.deps import CurrentAdmin, SessionDep
from api.schemas_coordinator import AuditOut, AuditPage, ErrorOut
from api.services import audit

router = APIRouter(prefix="/admin", tags=["admin"])


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
    action: Annotated[Optional[str], Query(max_length=32)] = None,
    referral_id: Annotated[Optional[str], Query(max_length=64)] = None,
    actor_id: Annotated[Optional[int], Query(ge=0, le=2**31 - 1)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """The audit log, newest first."""
    rows, total = audit.page(
        session, page=page, page_size=page_size, action=action, referral_id=referral_id, actor_id=actor_id
    )
    return AuditPage(
        items=[AuditOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )
