"""The referral queue: filtering, the status workflow, notes, and withdrawal with deletion."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from api.core.config import Settings
from api.core.security import new_token, token_hash
from api.models import ChatSession, Coordinator, Referral, ReferralNote, StatusChange
from api.services import audit, dead_letters, tracker
from contract.names import (
    CONTACTING,
    ENROLLED,
    NEW,
    NOT_ENROLLED,
    REFERRAL_STATUSES,
    SCREENED,
    WITHDRAWN,
)

# new -> contacting -> screened -> enrolled | not_enrolled; withdrawn from any state that is not final.
# The names are the contract's; the workflow between them is the queue's own.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    NEW: (CONTACTING, WITHDRAWN),
    CONTACTING: (SCREENED, WITHDRAWN),
    SCREENED: (ENROLLED, NOT_ENROLLED, WITHDRAWN),
    ENROLLED: (),
    NOT_ENROLLED: (),
    WITHDRAWN: (),
}
STATUSES = REFERRAL_STATUSES
FINAL = tuple(status for status, nexts in TRANSITIONS.items() if not nexts)
# Characters people put in phone numbers; stripped on both sides when searching by digits.
_PHONE_PUNCTUATION = (" ", "-", "(", ")", ".", "+", "/")


class ReferralNotFound(Exception):
    pass


class TransitionNotAllowed(Exception):
    pass


@dataclass(frozen=True)
class QueueFilters:
    status: str | None = None
    outcome: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    q: str | None = None


def allowed_transitions(status: str) -> list[str]:
    return list(TRANSITIONS.get(status, ()))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits_only(column: InstrumentedAttribute[str | None]) -> ColumnElement[Any]:
    digits: ColumnElement[Any] = column.expression
    for character in _PHONE_PUNCTUATION:
        digits = func.replace(digits, character, "")
    return digits


def apply_filters(query: Select[Any], filters: QueueFilters) -> Select[Any]:
    """Status, outcome, received dates (UTC days, both ends inclusive) and a search on name, e-mail, phone."""
    if filters.status:
        query = query.where(Referral.status == filters.status)
    if filters.outcome:
        query = query.where(Referral.outcome == filters.outcome)
    if filters.received_from:
        query = query.where(Referral.received_at >= _start_of(filters.received_from))
    if filters.received_to:
        query = query.where(
            Referral.received_at < _start_of(filters.received_to + timedelta(days=1))
        )
    needle = (filters.q or "").strip()
    if needle:
        pattern = _like_pattern(needle.lower())
        matches = [
            func.lower(Referral.contact_name).like(pattern, escape="\\"),
            func.lower(Referral.patient_name).like(pattern, escape="\\"),
            func.lower(Referral.contact_email).like(pattern, escape="\\"),
            Referral.contact_phone.like(pattern, escape="\\"),
        ]
        digits = re.sub(r"\D", "", needle)
        if len(digits) >= 3:
            matches.append(_digits_only(Referral.contact_phone).like(f"%{digits}%"))
        query = query.where(or_(*matches))
    return query


def list_referrals(
    session: Session, filters: QueueFilters, *, page: int, page_size: int
) -> tuple[list[Referral], int]:
    """Newest first."""
    query = apply_filters(select(Referral), filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Referral.received_at.desc(), Referral.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def all_referrals(session: Session, filters: QueueFilters) -> list[Referral]:
    """Everything the filters match, oldest first (for the export)."""
    query = apply_filters(select(Referral), filters)
    return list(session.scalars(query.order_by(Referral.received_at, Referral.id)).all())


def get_referral(session: Session, referral_id: str) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralNotFound(referral_id)
    return referral


def coordinator_emails(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Coordinator.id, Coordinator.email).where(Coordinator.id.in_(ids))
    ).all()
    return {row.id: row.email for row in rows}


def change_status(
    session: Session, *, referral_id: str, to_status: str, reason: str, actor: Coordinator
) -> Referral:
    """Move a referral along the workflow; raises TransitionNotAllowed (also when someone else moved it first)."""
    referral = move_status(
        session, referral_id=referral_id, to_status=to_status, reason=reason, actor=actor
    )
    session.commit()
    session.refresh(referral)
    return referral


def move_status(
    session: Session, *, referral_id: str, to_status: str, reason: str, actor: Coordinator
) -> Referral:
    """change_status in the caller's transaction (the caller commits); on a refusal it rolls back."""
    referral = get_referral(session, referral_id)
    from_status = referral.status
    if to_status not in TRANSITIONS.get(from_status, ()):
        raise TransitionNotAllowed(f"{from_status}->{to_status}")
    # Conditional UPDATE: two coordinators acting at once cannot both move it from the same state.
    # An UPDATE gives a CursorResult (rowcount); Session.execute is typed as the general Result.
    moved = cast(
        "CursorResult[Any]",
        session.execute(
            update(Referral)
            .where(Referral.id == referral_id, Referral.status == from_status)
            .values(status=to_status, updated_at=datetime.now(timezone.utc))
            .execution_options(synchronize_session=False)
        ),
    )
    if moved.rowcount != 1:
        session.rollback()
        raise TransitionNotAllowed(f"{from_status}->{to_status}")
    session.add(
        StatusChange(
            referral_id=referral_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor_id=actor.id,
        )
    )
    audit.record(
        session,
        action="status_change",
        actor_id=actor.id,
        referral_id=referral_id,
        detail=f"{from_status}->{to_status}",
    )
    return referral


def add_note(session: Session, *, referral_id: str, text: str, actor: Coordinator) -> ReferralNote:
    get_referral(session, referral_id)
    note = ReferralNote(referral_id=referral_id, author_id=actor.id, text=text)
    session.add(note)
    session.execute(
        update(Referral)
        .where(Referral.id == referral_id)
        .values(updated_at=datetime.now(timezone.utc))
        .execution_options(synchronize_session=False)
    )
    audit.record(session, action="note", actor_id=actor.id, referral_id=referral_id)
    session.commit()
    return note


def delete_referral(
    session: Session, settings: Settings, *, referral_id: str, reason: str, actor: Coordinator
) -> int:
    """Delete a referral, its notes and history, and its conversation; returns the tracker events deleted.

    The tracker store goes first: if it cannot be reached nothing is deleted and
    the coordinator can try again (both deletions are safe to repeat).
    """
    referral = get_referral(session, referral_id)
    conversation_id = referral.conversation_id
    events_deleted = (
        tracker.delete_conversation(settings.tracker_db_url, conversation_id)
        if conversation_id
        else 0
    )
    if conversation_id:
        # Keep the anonymous funnel counts (times, outcome, criterion ids) but cut every link to
        # the person: the chat cookie and the conversation id no longer lead anywhere.
        session.execute(
            update(ChatSession)
            .where(ChatSession.conversation_id == conversation_id)
            .values(
                conversation_id=f"deleted-{uuid.uuid4().hex}",
                token_hash=token_hash(new_token()),
                last_asks=None,
                offered_payloads=[],
            )
            .execution_options(synchronize_session=False)
        )
    session.delete(referral)
    # A refused delivery of the same referral kept as a dead letter goes with it.
    dead_letters.forget_withdrawn(
        session, referral_id=referral_id, reason=reason, actor_id=actor.id
    )
    audit.record(
        session, action="delete", actor_id=actor.id, referral_id=referral_id, detail=reason
    )
    session.commit()
    return events_deleted
