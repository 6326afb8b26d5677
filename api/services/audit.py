"""The append-only audit log (S6): who did what to which referral, and when. Never patient data."""

from __future__ import annotations

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
