"""The coordinators' pages, rendered on the server (Jinja2, autoescaping on).

Pages read through the coordinator services (queue, audit, stats) with the
same server-side session cookie as the JSON API, and write the same audit
rows. The pages only read: every change (log in, log out, status, note,
delete) is a form that static/staff.js sends to the existing JSON API
(api/routes/auth.py, api/routes/coordinators.py) with the session's CSRF
token in the X-CSRF-Token header, which api/deps.py checks on every
state-changing request. The token is rendered into each page
(<meta name="csrf-token">) from the server-side session, never from a cookie.

Not logged in, a wrong role, an unknown referral: the page answers with the
right status code (401, 403, 404) and an HTML page (the login form for 401),
through HTMLErrorRoute below.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from sqlalchemy import select

from api.core.openapi import Responses
from api.core.security import token_hash
from api.core.texts import text
from api.deps import COORDINATOR_COOKIE, CurrentAdmin, CurrentCoordinator, SessionDep, public
from api.models import Coordinator, CoordinatorSession, Referral
from api.services import audit, dead_letters, queue, stats
from api.web.render import render_html
from contract.names import (
    FAIL,
    LIKELY_ELIGIBLE,
    NEEDS_REVIEW,
    NOT_ELIGIBLE,
    PASS,
    REFERABLE_OUTCOMES,
    REVIEW,
    UNKNOWN_STATUS,
    URGENT,
    URGENT_CARE,
)
from contract.names import OUTCOMES as ALL_OUTCOME_NAMES

PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50
OUTCOMES = REFERABLE_OUTCOMES
ALL_OUTCOMES = ALL_OUTCOME_NAMES
DELETE_REASONS = ("patient_withdrawal", "duplicate", "created_in_error")
WEEK_CHOICES = (4, 12, 26, 52)

HTML: dict[str, Any] = {"content": {"text/html": {}}}
SIGNED_IN: Responses = {
    401: {**HTML, "description": "Not logged in, or the session expired: the login page."},
}
ADMIN_ONLY: Responses = {**SIGNED_IN, 403: {**HTML, "description": "Admins only."}}
NOT_FOUND: Responses = {404: {**HTML, "description": "No such referral (or it was deleted)."}}
INVALID: Responses = {422: {**HTML, "description": "The page address is not valid."}}

ReferralId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
ShortText = Annotated[str | None, Query(max_length=200)]


class HTMLErrorRoute(APIRoute):
    """Refusals of these pages as HTML pages with the same status code (the JSON API keeps JSON)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def html_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as refusal:
                return _refusal_page(request, refusal.status_code, str(refusal.detail))
            except RequestValidationError:
                return _refusal_page(request, 422, None)

        return html_errors


router = APIRouter(prefix="/staff", tags=["coordinator pages"], route_class=HTMLErrorRoute)


def _refusal_page(request: Request, code: int, detail: str | None) -> HTMLResponse:
    if code == status.HTTP_401_UNAUTHORIZED:
        return render_html(
            "staff/login.html",
            status_code=code,
            message=detail,
            next_path=_safe_next(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            ),
            flash=None,
            user=None,
            csrf=None,
            nav=None,
        )
    return render_html(
        "staff/error.html",
        status_code=code,
        code=code,
        detail=detail,
        user=None,
        csrf=None,
        nav=None,
    )


def _safe_next(path: str | None) -> str:
    """Only our own pages after login (no open redirect)."""
    if (
        path
        and path.startswith("/staff/")
        and not path.startswith("//")
        and "\\" not in path
        and len(path) < 500
    ):
        return path
    return "/staff/referrals"


# --- what every signed-in page needs -------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    email: str
    role: str
    csrf: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _viewer(request: Request, session: SessionDep, coordinator: Coordinator) -> Viewer:
    token = request.cookies.get(COORDINATOR_COOKIE) or ""
    csrf = session.scalar(
        select(CoordinatorSession.csrf_token).where(
            CoordinatorSession.token_hash == token_hash(token)
        )
    )
    return Viewer(email=coordinator.email, role=coordinator.role, csrf=csrf or "")


def _page(template: str, viewer: Viewer, nav: str, **context: Any) -> HTMLResponse:
    return render_html(template, user=viewer, csrf=viewer.csrf, nav=nav, **context)


# --- a referral's criteria in words, from what the referral itself recorded --------------
#
# The record carries the question as asked and the answer's label (issue 11), so
# a referral is shown as it was judged, whatever trial file is in force now.
# The pages never read the trial file. Rows received before labels were
# recorded fall back to the raw ids.


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


# --- query parameters of the queue (lenient: an empty or wrong filter is ignored) ------


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) <= 100_000 else 1


@dataclass(frozen=True)
class QueueQuery:
    status: str | None
    outcome: str | None
    received_from: date | None
    received_to: date | None
    q: str | None
    page: int

    def filters(self) -> queue.QueueFilters:
        return queue.QueueFilters(
            status=self.status,
            outcome=self.outcome,
            received_from=self.received_from,
            received_to=self.received_to,
            q=self.q,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        values = {
            "status": self.status,
            "outcome": self.outcome,
            "received_from": self.received_from.isoformat() if self.received_from else None,
            "received_to": self.received_to.isoformat() if self.received_to else None,
            "q": self.q,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def url(self, path: str, **changes: Any) -> str:
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path


def queue_query(
    status_: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    outcome: Annotated[str | None, Query(max_length=32)] = None,
    received_from: Annotated[str | None, Query(max_length=10)] = None,
    received_to: Annotated[str | None, Query(max_length=10)] = None,
    q: ShortText = None,
    page: Annotated[str | None, Query(max_length=6)] = None,
) -> QueueQuery:
    """The queue page's filters, as the filter form sends them (empty fields included)."""
    return QueueQuery(
        status=status_ if status_ in queue.STATUSES else None,
        outcome=outcome if outcome in OUTCOMES else None,
        received_from=_day(received_from),
        received_to=_day(received_to),
        q=(q or "").strip() or None,
        page=_page_number(page),
    )


# --- pages ----------------------------------------------------------------------------

FLASHES = ("status", "note", "deleted", "logged_out")


def _flash(done: str | None) -> str | None:
    return done if done in FLASHES else None


@router.get(
    "/login",
    response_class=HTMLResponse,
    dependencies=[Depends(public)],
    responses={200: {**HTML, "description": "The login form."}},
)
def login_page(
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The coordinators' login form (it posts to POST /auth/login from static/staff.js)."""
    return render_html(
        "staff/login.html",
        message=None,
        next_path=_safe_next(next_),
        flash=_flash(done),
        user=None,
        csrf=None,
        nav=None,
    )


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
    viewer = _viewer(request, session, coordinator)
    rows, total = queue.list_referrals(
        session, query.filters(), page=query.page, page_size=PAGE_SIZE
    )
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = _page(
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
        flash=_flash(done),
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
    viewer = _viewer(request, session, coordinator)
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
    page = _page(
        "staff/detail.html",
        viewer,
        "queue",
        referral=referral,
        criteria=criteria,
        linden=referral.linden or {},
        transitions=queue.allowed_transitions(referral.status),
        emails=emails,
        flash=_flash(done),
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
    viewer = _viewer(request, session, coordinator)
    referral = _found(session, referral_id)
    page = _page("staff/delete.html", viewer, "queue", referral=referral, reasons=DELETE_REASONS)
    audit.record(session, action="view", actor_id=coordinator.id, referral_id=referral.id)
    session.commit()
    return page


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
    viewer = _viewer(request, session, admin)
    chosen_action = action if action in audit.ACTIONS else None
    chosen_referral = (referral_id or "").strip() or None
    if chosen_referral and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", chosen_referral):
        chosen_referral = None
    number = _page_number(page)
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

    return _page(
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


OUTCOME_LABELS = {
    LIKELY_ELIGIBLE: "Likely a fit",
    NEEDS_REVIEW: "Team needs to check",
    NOT_ELIGIBLE: "Not a fit",
    URGENT_CARE: "Urgent care",
}


def funnel_bars(data: dict[str, Any]) -> list[dict[str, Any]]:
    """conversations -> finished -> outcomes -> referrals -> enrolled, summed over the weeks."""
    weeks = data["weeks"]
    outcomes: dict[str, int] = {}
    for week in weeks:
        for outcome, count in week["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    bars = [
        ("Conversations started", sum(w["conversations_started"] for w in weeks), "bar"),
        ("Conversations finished", sum(w["conversations_finished"] for w in weeks), "bar"),
    ]
    for outcome in ALL_OUTCOMES + tuple(sorted(set(outcomes) - set(ALL_OUTCOMES))):
        bars.append(
            (
                f"Outcome: {OUTCOME_LABELS.get(outcome, outcome)}",
                outcomes.get(outcome, 0),
                "bar bar-outcome",
            )
        )
    bars.append(("Referrals received", sum(w["referrals_received"] for w in weeks), "bar bar-end"))
    bars.append(("Enrolled", sum(w["enrolled"] for w in weeks), "bar bar-end"))
    return _layout(bars)


CHART = {"width": 760, "label_width": 250, "bar_area": 440, "row": 34, "bar": 22}


def _layout(bars: list[tuple[str, int, str]]) -> list[dict[str, Any]]:
    largest = max([count for _, count, _ in bars] + [1])
    laid = []
    for index, (label, count, css) in enumerate(bars):
        width = round(CHART["bar_area"] * count / largest) if count else 0
        y = index * CHART["row"]
        laid.append(
            {
                "label": label,
                "count": count,
                "css": css,
                "y": y,
                "text_y": y + CHART["bar"] - 6,
                "width": max(width, 2 if count else 0),
                "value_x": CHART["label_width"] + max(width, 0) + 8,
            }
        )
    return laid


@router.get(
    "/stats",
    response_class=HTMLResponse,
    responses={200: {**HTML, "description": "The funnel statistics."}, **SIGNED_IN, **INVALID},
)
def stats_page(
    request: Request,
    session: SessionDep,
    coordinator: CurrentCoordinator,
    weeks: Annotated[str | None, Query(max_length=3)] = None,
) -> HTMLResponse:
    """Funnel statistics: a bar chart, the weekly numbers and the top reasons (no patient data)."""
    viewer = _viewer(request, session, coordinator)
    chosen = int(weeks) if weeks and weeks.isdigit() and int(weeks) in WEEK_CHOICES else 12
    data = stats.funnel(session, weeks=chosen)
    bars = funnel_bars(data)
    questions = stored_question_texts(session)
    reasons = {
        outcome: [
            {
                "criterion": r["criterion"],
                "question": questions.get(r["criterion"], r["criterion"]),
                "count": r["count"],
            }
            for r in data["top_reasons"].get(outcome, [])
        ]
        for outcome in stats.REASON_OUTCOMES
    }
    return _page(
        "staff/stats.html",
        viewer,
        "stats",
        weeks=chosen,
        week_choices=WEEK_CHOICES,
        data=data,
        bars=bars,
        chart=CHART,
        chart_height=len(bars) * CHART["row"],
        outcome_labels=OUTCOME_LABELS,
        all_outcomes=ALL_OUTCOMES,
        reasons=reasons,
    )
