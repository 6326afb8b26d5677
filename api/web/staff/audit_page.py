"""The audit log page (admins only)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from api.deps import CurrentAdmin, SessionDep
from api.services import audit, queue
from api.web.staff.html_errors import page_router
from api.web.staff.page import page_number, signed_in_page, viewer_for
from api.web.staff.responses import ADMIN_ONLY, HTML, INVALID

AUDIT_PAGE_SIZE = 50

router = page_router()


@router.get(
    "/audit",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "The audit log."}, **ADMIN_ONLY, **INVALID},
)
def audit_page(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    action: Annotated[str | None, Query(max_length=32)] = None,
    referral_id: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[str | None, Query(max_length=6)] = None,
) -> HTMLResponse:
    """The audit log for admins, newest first, with filters."""
    viewer = viewer_for(request, session, admin)
    chosen_action = action if action in audit.ACTIONS else None
    chosen_referral = (referral_id or "").strip() or None
    if chosen_referral and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", chosen_referral):
        chosen_referral = None
    number = page_number(page)
    rows, total = audit.page(
        session,
        page=number,
        page_size=AUDIT_PAGE_SIZE,
        action=chosen_action,
        referral_id=chosen_referral,
    )
    emails = queue.coordinator_emails(session, {r.actor_id for r in rows if r.actor_id is not None})
    pages = max(1, (total + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE)

    def url(to: int) -> str:
        params = {
            k: v
            for k, v in {
                "action": chosen_action,
                "referral_id": chosen_referral,
                "page": to,
            }.items()
            if v
        }
        return f"/staff/audit?{urlencode(params)}"

    return signed_in_page(
        "staff/audit.html",
        viewer,
        "audit",
        rows=rows,
        total=total,
        emails=emails,
        actions=audit.ACTIONS,
        action=chosen_action,
        referral_id=chosen_referral,
        page=number,
        pages=pages,
        previous_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if number < pages else None,
    )
