"""The admins' pages for referrals the intake refused and kept (dead letters, issue 11).

The list shows ids, times and reasons only. Opening one shows the refused
body as received, so it is a view of patient data: admins only, and written
to the audit log like a referral view. "Resolved by hand" is a form that
static/staff.js sends to POST /admin/dead-letters/{id}/resolve.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.core.openapi import Responses
from api.core.texts import text
from api.deps import CurrentAdmin, SessionDep
from api.services import audit, dead_letters, queue
from api.web.staff.html_errors import page_router
from api.web.staff.page import page_number, signed_in_page, viewer_for
from api.web.staff.responses import ADMIN_ONLY, HTML, INVALID

PAGE_SIZE = 50
DeadLetterId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
NOT_FOUND: Responses = {404: {**HTML, "description": "No such dead letter."}}

router = page_router()


@router.get(
    "/dead-letters",
    response_class=HTMLResponse,
    responses={
        200: {**HTML, "description": "Refused referrals kept for an admin."},
        **ADMIN_ONLY,
        **INVALID,
    },
)
def dead_letters_page(
    request: Request,
    session: SessionDep,
    admin: CurrentAdmin,
    show: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[str | None, Query(max_length=6)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Refused referrals waiting for an admin (or those resolved), oldest first: id, time, reason."""
    viewer = viewer_for(request, session, admin)
    resolved = show == "resolved"
    number = page_number(page)
    rows, total = dead_letters.page(session, page=number, page_size=PAGE_SIZE, resolved=resolved)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    emails = queue.coordinator_emails(
        session, {r.resolved_by for r in rows if r.resolved_by is not None}
    )

    def url(to: int) -> str:
        params = {
            k: v for k, v in {"show": "resolved" if resolved else None, "page": to}.items() if v
        }
        return f"/staff/dead-letters?{urlencode(params)}"

    return signed_in_page(
        "staff/dead_letters.html",
        viewer,
        "dead_letters",
        rows=rows,
        total=total,
        resolved=resolved,
        waiting=dead_letters.waiting_count(session),
        emails=emails,
        page=number,
        pages=pages,
        previous_url=url(number - 1) if number > 1 else None,
        next_url=url(number + 1) if number < pages else None,
        flash="resolved" if done == "resolved" else None,
    )


@router.get(
    "/dead-letters/{dead_letter_id}",
    response_class=HTMLResponse,
    responses={
        200: {**HTML, "description": "One refused referral."},
        **ADMIN_ONLY,
        **NOT_FOUND,
        **INVALID,
    },
)
def dead_letter_page(
    dead_letter_id: DeadLetterId, request: Request, session: SessionDep, admin: CurrentAdmin
) -> HTMLResponse:
    """One refused referral: why, the body as received, and "Resolved by hand"."""
    viewer = viewer_for(request, session, admin)
    try:
        found = dead_letters.get(session, dead_letter_id)
    except dead_letters.DeadLetterNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("dead_letter_not_found")) from None
    resolver = queue.coordinator_emails(
        session, {found.resolved_by} if found.resolved_by is not None else set()
    )
    page = signed_in_page(
        "staff/dead_letter.html",
        viewer,
        "dead_letters",
        letter=found,
        rules=found.reason.split("; "),
        body=dead_letters.readable_body(found.body),
        resolver=resolver.get(found.resolved_by) if found.resolved_by is not None else None,
    )
    audit.record(
        session, action="view", actor_id=admin.id, referral_id=found.id, detail="dead_letter"
    )
    session.commit()
    return page
