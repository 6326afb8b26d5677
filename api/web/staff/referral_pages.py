"""The referral pages: the queue, one referral, and the delete confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.core.texts import text
from api.deps import CurrentCoordinator, SessionDep
from api.models import Referral
from api.services import audit, dead_letters, queue
from api.web.staff.criteria_words import RESULT_LABELS, describe_answer, question_text
from api.web.staff.html_errors import page_router
from api.web.staff.page import flash, signed_in_page, viewer_for
from api.web.staff.queue_query import OUTCOMES, QueueQuery, queue_query
from api.web.staff.responses import HTML, INVALID, NOT_FOUND, SIGNED_IN

PAGE_SIZE = 25
DELETE_REASONS = ("patient_withdrawal", "duplicate", "created_in_error")
ReferralId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

router = page_router()


@router.get(
    "/referrals",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "The referral queue."}, **SIGNED_IN, **INVALID},
)
def queue_page(
    request: Request,
    session: SessionDep,
    coordinator: CurrentCoordinator,
    query: Annotated[QueueQuery, Depends(queue_query)],
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The referral queue: filters, search, paging and the CSV export link."""
    viewer = viewer_for(request, session, coordinator)
    rows, total = queue.list_referrals(
        session, query.filters(), page=query.page, page_size=PAGE_SIZE
    )
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = signed_in_page(
        "staff/queue.html",
        viewer,
        "queue",
        rows=rows,
        total=total,
        query=query,
        pages=pages,
        statuses=queue.STATUSES,
        outcomes=OUTCOMES,
        previous_url=query.url("/staff/referrals", page=query.page - 1) if query.page > 1 else None,
        next_url=query.url("/staff/referrals", page=query.page + 1) if query.page < pages else None,
        export_url=query.url("/coordinator/referrals.csv"),
        flash=flash(done),
        # Admins resolve refused referrals (api/web/dead_letter_pages.py), so only they see the count.
        dead_letters_waiting=dead_letters.waiting_count(session) if viewer.is_admin else 0,
    )
    audit.record(session, action="list", actor_id=coordinator.id)
    session.commit()
    return page


def _found(session: SessionDep, referral_id: str) -> Referral:
    try:
        return queue.get_referral(session, referral_id)
    except queue.ReferralNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, text("referral_not_found")) from None


@router.get(
    "/referrals/{referral_id}",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "One referral."}, **SIGNED_IN, **NOT_FOUND, **INVALID},
)
def referral_page(
    referral_id: ReferralId,
    request: Request,
    session: SessionDep,
    coordinator: CurrentCoordinator,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """One referral: every criterion, the Linden hint, contact, history, notes, status and delete."""
    viewer = viewer_for(request, session, coordinator)
    referral = _found(session, referral_id)
    emails = queue.coordinator_emails(
        session,
        {c.actor_id for c in referral.status_changes} | {n.author_id for n in referral.notes},
    )
    criteria = [
        {
            "question_id": str(row.get("question_id", "")),
            "question": question_text(row),
            "answer": describe_answer(row),
            "protocol": ", ".join(str(p) for p in row.get("protocol") or []),
            "reason": row.get("reason") or "",
            "result": str(row.get("status", "")),
            "result_label": RESULT_LABELS.get(
                str(row.get("status", "")), str(row.get("status", ""))
            ),
        }
        for row in referral.criteria or []
        if isinstance(row, dict)
    ]
    page = signed_in_page(
        "staff/detail.html",
        viewer,
        "queue",
        referral=referral,
        criteria=criteria,
        linden=referral.linden or {},
        transitions=queue.allowed_transitions(referral.status),
        emails=emails,
        flash=flash(done),
    )
    audit.record(session, action="view", actor_id=coordinator.id, referral_id=referral.id)
    session.commit()
    return page


@router.get(
    "/referrals/{referral_id}/delete",
    response_class=HTMLResponse,
    responses={
        200: {**HTML, "description": "Confirm the deletion."},
        **SIGNED_IN,
        **NOT_FOUND,
        **INVALID,
    },
)
def delete_page(
    referral_id: ReferralId, request: Request, session: SessionDep, coordinator: CurrentCoordinator
) -> HTMLResponse:
    """Confirm deleting a referral (withdrawal), with a reason."""
    viewer = viewer_for(request, session, coordinator)
    referral = _found(session, referral_id)
    page = signed_in_page(
        "staff/delete.html", viewer, "queue", referral=referral, reasons=DELETE_REASONS
    )
    audit.record(session, action="view", actor_id=coordinator.id, referral_id=referral.id)
    session.commit()
    return page
