"""Dead letters: referral bodies the intake refused for a reason a retry cannot fix (issue 11).

The delivery worker would otherwise send such a body again and again and
nobody would hear of it. The intake (api/routes/referrals.py) keeps the body
here instead, answers 422 with `"kept": true`, and the worker marks its
outbox row refused and clears its copy: the API is then the one holder of
that referral. An admin sees the list (/staff/dead-letters), opens one
(audited like any view of patient data), deals with it by hand and marks it
resolved, which clears the body and keeps id, reason, who and when.

A dead letter is never deleted and its body is never dropped until someone
resolves it (retention keeps unresolved ones, whatever their age); a
withdrawal of the same referral id clears the body like a resolution does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.models import Coordinator, ReferralDeadLetter
from api.services import audit

REASON_MAX_CHARS = 1000
# A path element longer than this is cut: paths are field names and list indexes, never free text.
PATH_PART_MAX_CHARS = 64
AUDIT_DETAIL_MAX_CHARS = 200
NOTE_MAX_CHARS = 500


class DeadLetterNotFound(Exception):
    pass


class AlreadyResolved(Exception):
    pass


def failed_rules(errors: Iterable[Mapping[str, Any]]) -> list[str]:
    """'spine_levels: too_long' for each failed rule of the body: the JSON path and the rule, never the value."""
    found: set[str] = set()
    for error in errors:
        # The contract's own check (api/schemas.py ContractBroken) names "path: rule" already.
        problems = getattr((error.get("ctx") or {}).get("error"), "problems", None)
        if problems:
            found.update(str(problem)[: PATH_PART_MAX_CHARS * 2] for problem in problems)
            continue
        location = [str(part)[:PATH_PART_MAX_CHARS] for part in error.get("loc") or ()]
        if location and location[0] == "body":
            path = ".".join(location[1:]) or "body"
        else:
            path = " ".join(location) or "request"
        found.add(f"{path}: {str(error.get('type') or 'invalid')[:PATH_PART_MAX_CHARS]}")
    return sorted(found)


def reason_text(rules: Iterable[str]) -> str:
    return "; ".join(rules)[:REASON_MAX_CHARS] or "refused"


def keep(session: Session, *, referral_id: str, rules: list[str], body: str) -> bool:
    """Keep a refused body once per id (a repeated delivery changes nothing); True when this call kept it.

    INSERT ... ON CONFLICT DO NOTHING for the same reason as the intake: two
    deliveries of one refused referral may arrive at once.
    """
    reason = reason_text(rules)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(
        insert(ReferralDeadLetter)
        .values(id=referral_id, received_at=datetime.now(timezone.utc), reason=reason, body=body)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(ReferralDeadLetter.id)
    ).first()
    if inserted is not None:
        audit.record(
            session,
            action="refused",
            referral_id=referral_id,
            detail=reason[:AUDIT_DETAIL_MAX_CHARS],
        )
    session.commit()
    return inserted is not None


def waiting_count(session: Session) -> int:
    """Dead letters nobody has resolved yet (the count on the queue page)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ReferralDeadLetter)
            .where(ReferralDeadLetter.resolved_at.is_(None))
        )
        or 0
    )


def page(
    session: Session, *, page: int, page_size: int, resolved: bool
) -> tuple[list[ReferralDeadLetter], int]:
    """Waiting ones (or resolved ones), oldest first: the oldest has waited longest."""
    condition = (
        ReferralDeadLetter.resolved_at.is_not(None)
        if resolved
        else ReferralDeadLetter.resolved_at.is_(None)
    )
    total = (
        session.scalar(select(func.count()).select_from(ReferralDeadLetter).where(condition)) or 0
    )
    rows = session.scalars(
        select(ReferralDeadLetter)
        .where(condition)
        .order_by(ReferralDeadLetter.received_at, ReferralDeadLetter.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return list(rows), total


def get(session: Session, dead_letter_id: str) -> ReferralDeadLetter:
    found = session.get(ReferralDeadLetter, dead_letter_id)
    if found is None:
        raise DeadLetterNotFound(dead_letter_id)
    return found


def readable_body(body: str | None) -> str | None:
    """The kept body indented for reading (as received when it is not JSON)."""
    if body is None:
        return None
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def _clear(session: Session, dead_letter_id: str, *, actor_id: int | None, note: str) -> bool:
    """Clear the body and record who and when, once: a conditional UPDATE, so two admins cannot both resolve it."""
    # An UPDATE gives a CursorResult (rowcount); Session.execute is typed as the general Result.
    cleared = cast(
        "CursorResult[Any]",
        session.execute(
            update(ReferralDeadLetter)
            .where(
                ReferralDeadLetter.id == dead_letter_id, ReferralDeadLetter.resolved_at.is_(None)
            )
            .values(
                body=None,
                resolved_at=datetime.now(timezone.utc),
                resolved_by=actor_id,
                resolution_note=note[:NOTE_MAX_CHARS],
            )
            .execution_options(synchronize_session=False)
        ),
    )
    return bool(cleared.rowcount)


def resolve(
    session: Session, *, dead_letter_id: str, note: str, actor: Coordinator
) -> ReferralDeadLetter:
    """Mark it "resolved by hand": the patient data goes, id, reason, who, when and the note stay."""
    get(session, dead_letter_id)
    if not _clear(session, dead_letter_id, actor_id=actor.id, note=note):
        session.rollback()
        raise AlreadyResolved(dead_letter_id)
    audit.record(session, action="resolve", actor_id=actor.id, referral_id=dead_letter_id)
    session.commit()
    found = get(session, dead_letter_id)
    session.refresh(found)
    return found


def forget_withdrawn(session: Session, *, referral_id: str, reason: str, actor_id: int) -> bool:
    """A withdrawal of this referral id clears its dead letter too (in the caller's transaction)."""
    return _clear(session, referral_id, actor_id=actor_id, note=f"withdrawn: {reason}")


def clear_resolved_bodies(session: Session) -> int:
    """Retention: a resolved dead letter holds no body (resolve clears it; this catches any left)."""
    # An UPDATE gives a CursorResult (rowcount); Session.execute is typed as the general Result.
    cleared = cast(
        "CursorResult[Any]",
        session.execute(
            update(ReferralDeadLetter)
            .where(
                ReferralDeadLetter.resolved_at.is_not(None), ReferralDeadLetter.body.is_not(None)
            )
            .values(body=None)
            .execution_options(synchronize_session=False)
        ),
    )
    session.commit()
    return int(cleared.rowcount or 0)


def waiting_since(session: Session, cutoff: datetime) -> int:
    """Unresolved dead letters received before `cutoff`: kept, and reported so that someone looks."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ReferralDeadLetter)
            .where(
                ReferralDeadLetter.resolved_at.is_(None), ReferralDeadLetter.received_at < cutoff
            )
        )
        or 0
    )
