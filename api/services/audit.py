"""The append-only audit log (S6): who did what to which referral, and when. Never patient data."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import AuditEvent

# Every action the coordinators' side writes ("received" and "refused" are written by the intake).
ACTIONS = (
    "received",
    "refused",
    "resolve",
    "login",
    "login_failed",
    "logout",
    "list",
    "view",
    "export",
    "status_change",
    "note",
    "screening",
    "delete",
)


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None = None,
    referral_id: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add an audit row to the caller's transaction; `detail` must be a code, never free text."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    event = AuditEvent(action=action, actor_id=actor_id, referral_id=referral_id, detail=detail)
    session.add(event)
    return event


def detail_limit() -> int | None:
    """How many characters the detail column holds (None: unbounded), read from the model."""
    length = getattr(AuditEvent.__table__.c.detail.type, "length", None)
    return int(length) if length else None


def shown_details(referral_ids: Sequence[str], *, limit: int | None = None) -> list[str]:
    """The detail of each audit row naming `referral_ids`, in order, every id in full.

    "rows=3 ids=a,b,c" when it fits the detail column; otherwise as many rows as
    needed, "rows=40 part=1/8 ids=...", ..., "rows=40 part=8/8 ids=...", so no id
    is ever cut or left out. Ids only (the intake allows [A-Za-z0-9-]), never patient data.
    """
    limit = detail_limit() if limit is None else limit
    total = len(referral_ids)
    if not total:
        return ["rows=0"]
    single = f"rows={total} ids=" + ",".join(referral_ids)
    if limit is None or len(single) <= limit:
        return [single]
    # Room for the longest prefix ("part" numbers are at most `total`).
    room = limit - len(f"rows={total} part={total}/{total} ids=")
    chunks: list[list[str]] = [[]]
    for referral_id in referral_ids:
        if len(referral_id) > room:
            raise ValueError("a referral id longer than the audit detail column holds")
        used = sum(len(i) for i in chunks[-1]) + len(chunks[-1])  # ids and their commas
        if chunks[-1] and used + len(referral_id) > room:
            chunks.append([])
        chunks[-1].append(referral_id)
    parts = len(chunks)
    return [
        f"rows={total} part={n}/{parts} ids=" + ",".join(chunk)
        for n, chunk in enumerate(chunks, start=1)
    ]


def record_shown(
    session: Session, *, action: str, actor_id: int, referral_ids: Sequence[str]
) -> list[AuditEvent]:
    """Audit a list view or an export: which referrals were shown or exported (ids only)."""
    return [
        record(session, action=action, actor_id=actor_id, detail=detail)
        for detail in shown_details(referral_ids)
    ]


def page(
    session: Session,
    *,
    page: int,
    page_size: int,
    action: str | None = None,
    referral_id: str | None = None,
    actor_id: int | None = None,
) -> tuple[list[AuditEvent], int]:
    """Newest first."""
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if referral_id:
        query = query.where(AuditEvent.referral_id == referral_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total
