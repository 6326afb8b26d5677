"""The referral pages: the queue (its search and its CSV export), one referral, and the delete confirmation.

The queue's search text is never in an address (finding 7): the filter form
posts to /staff/referrals/search, which keeps the text on the server
(searches.py) and answers the queue's address with the search's handle.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from api.core.texts import text
from api.deps import CurrentCoordinator, SessionDep, SettingsDep
from api.models import Referral
from api.routes.coordinators import CSVResponse
from api.services import audit, csv_export, dead_letters, queue, screening
from api.web.staff import searches
from api.web.staff.criteria_words import RESULT_LABELS, describe_answer, question_text
from api.web.staff.html_errors import page_router
from api.web.staff.page import Viewer, flash, signed_in_page, viewer_for
from api.web.staff.queue_query import (
    OUTCOMES,
    QueueQuery,
    QueueSearchIn,
    QueueSearchOut,
    queue_query,
)
from api.web.staff.responses import HTML, INVALID, NOT_FOUND, SIGNED_IN
from contract.names import AGREEMENT_REASONS, AGREEMENTS, DETERMINATIONS, NOT_CHECKED

PAGE_SIZE = 25
DELETE_REASONS = ("patient_withdrawal", "duplicate", "created_in_error")
ReferralId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]

router = page_router()


def _with_search_text(query: QueueQuery, viewer: Viewer, settings: SettingsDep) -> QueueQuery:
    """The query with the text of its search handle, if this session still has it (searches.py)."""
    if not query.search:
        return query
    max_age = timedelta(hours=settings.coordinator_max_hours)
    return query.with_text(searches.find(viewer.session_id, query.search, max_age=max_age))


@router.get(
    "/referrals",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "The referral queue."}, **SIGNED_IN, **INVALID},
)
def queue_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    coordinator: CurrentCoordinator,
    query: Annotated[QueueQuery, Depends(queue_query)],
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The referral queue: filters, search, paging and the CSV export link."""
    viewer = viewer_for(request, session, coordinator)
    asked = query.search
    query = _with_search_text(query, viewer, settings)
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
        export_url=query.url("/staff/referrals.csv"),
        flash=flash(done),
        # A search handle this process no longer knows: say so, never show it as "no search".
        search_gone=bool(asked) and not query.search,
        # Admins resolve refused referrals (api/web/dead_letter_pages.py), so only they see the count.
        dead_letters_waiting=dead_letters.waiting_count(session) if viewer.is_admin else 0,
    )
    audit.record_shown(
        session, action="list", actor_id=coordinator.id, referral_ids=[r.id for r in rows]
    )
    session.commit()
    return page


@router.post(
    "/referrals/search",
    response_model=QueueSearchOut,
    responses={
        **SIGNED_IN,
        403: {**HTML, "description": "Missing or wrong CSRF token."},
        422: {**HTML, "description": "The form is not valid."},
    },
)
def search_queue(
    body: QueueSearchIn, request: Request, session: SessionDep, coordinator: CurrentCoordinator
) -> QueueSearchOut:
    """Keep the queue's search on the server; answers the queue's address, with the search as a handle only."""
    viewer = viewer_for(request, session, coordinator)
    query = body.query()
    text_ = body.text()
    if text_:
        query = replace(query, search=searches.keep(viewer.session_id, text_))
    return QueueSearchOut(next=query.url("/staff/referrals"))


@router.get(
    "/referrals.csv",
    response_class=CSVResponse,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "The matching referrals as CSV (formula-safe).",
        },
        **SIGNED_IN,
        410: {**HTML, "description": "The search is no longer kept: search again."},
        **INVALID,
    },
)
def export_queue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    coordinator: CurrentCoordinator,
    query: Annotated[QueueQuery, Depends(queue_query)],
) -> CSVResponse:
    """Download the referrals the queue page shows (every page) as a spreadsheet-safe CSV file."""
    viewer = viewer_for(request, session, coordinator)
    asked = query.search
    query = _with_search_text(query, viewer, settings)
    if asked and not query.search:
        # Never export more than the coordinator searched for.
        raise HTTPException(status.HTTP_410_GONE)
    rows = queue.all_referrals(session, query.filters())
    body = csv_export.export(session, rows, actor_id=coordinator.id)
    session.commit()
    return CSVResponse(body, headers=csv_export.download_headers())


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
    result = referral.screening
    emails = queue.coordinator_emails(
        session,
        {c.actor_id for c in referral.status_changes}
        | {n.author_id for n in referral.notes}
        | ({result.recorded_by} if result else set()),
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
        screening=_screening_form(referral),
        linden=referral.linden or {},
        transitions=queue.allowed_transitions(referral.status),
        emails=emails,
        flash=flash(done),
    )
    audit.record(session, action="view", actor_id=coordinator.id, referral_id=referral.id)
    session.commit()
    return page


def _screening_form(referral: Referral) -> dict[str, Any]:
    """What the screening form shows: whether it is open, the judged criteria and the recorded choices."""
    result = referral.screening
    recorded = {
        str(row.get("question_id")): row for row in (result.criteria if result else []) or []
    }
    words = {
        str(row.get("question_id", "")): row
        for row in referral.criteria or []
        if isinstance(row, dict)
    }
    return {
        "open": screening.can_record(referral.status),
        "marks_screened": referral.status == screening.MARKS_SCREENED,
        "result": result,
        "determinations": DETERMINATIONS,
        "agreements": AGREEMENTS,
        "reasons": AGREEMENT_REASONS,
        "criteria": [
            {
                "question_id": question_id,
                "question": question_text(words.get(question_id, {"question_id": question_id})),
                "answer": describe_answer(words.get(question_id, {})),
                "result_label": RESULT_LABELS.get(
                    str(words.get(question_id, {}).get("status", "")),
                    str(words.get(question_id, {}).get("status", "")),
                ),
                "agreement": recorded.get(question_id, {}).get("agreement") or NOT_CHECKED,
                "reason": recorded.get(question_id, {}).get("reason") or "",
            }
            for question_id in screening.judged_criteria(referral)
        ],
    }


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
