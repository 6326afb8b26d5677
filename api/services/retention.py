"""Retention (safety-security P3, pitfall 5): what is deleted after N days, and what is kept.

Run by `python -m api.cli retention [--days N] [--now ISO]` and, every
RETENTION_INTERVAL_MINUTES, by the API itself (api/retention_task.py).
N is RETENTION_DAYS (default 30). Every step is safe to repeat and to run from
several API replicas at once.

| store | deleted after N days | kept |
|---|---|---|
| Rasa tracker store (`events`) | every event of a conversation whose **last** event is older than N days, referred or not | conversations with an event in the last N days |
| API `chat_sessions` | the links to the person: cookie token hash, Rasa conversation id, last question, offered buttons (replaced by random values, like a withdrawal does) | the anonymous funnel row: start/finish times, outcome, criterion ids, message count |
| API `referrals`, notes, status history | nothing: referrals follow the study's own retention policy; a withdrawal deletes them (DELETE /coordinator/referrals/{id}) | everything |
| API `referral_dead_letters` | the body of a resolved dead letter (resolving clears it; this step catches any left) | unresolved dead letters whatever their age (a consented referral is never dropped: the summary counts those older than N days so that an admin looks); id, reason, who and when of resolved ones |
| API `audit_events` | nothing (append-only, holds no patient data) | everything |

Why referred conversations go too: the referral row already holds everything
the study team needs (each criterion's answer, interpreted value, rule result
and reason, the contact details, the consent version and time), so the raw
chat transcript of a referred patient is a second copy of health information
with no further use. Why chat sessions are unlinked, not deleted: deleting
them would rewrite the weekly funnel statistics (conversations started and
finished, outcomes, top reasons); once the token hash and conversation id are
random, a row says only "someone chatted that week with this outcome".

The action server's outbox is not pruned here: each store has one owner, and
the outbox is the action side's (the delivery worker prunes it hourly,
`python -m actions.retention` by hand; the API never imports `actions`). A
delivered outbox row holds only its id and times anyway.

Nothing here logs or returns patient data: counts only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, and_, bindparam, create_engine, inspect, not_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api.core.config import Settings, get_settings
from api.core.security import new_token, token_hash
from api.db import PRIVATE_ENGINE, get_sessionmaker, sqlalchemy_url
from api.models import ChatSession
from api.services import dead_letters

logger = logging.getLogger(__name__)

EVENTS_TABLE = "events"
BATCH = 500
# Conversation ids of chat sessions whose links were cut (a withdrawal uses "deleted-").
EXPIRED_PREFIX = "expired-"
UNLINKED_PREFIXES = (EXPIRED_PREFIX, "deleted-")


@dataclass
class RetentionResult:
    now: datetime
    days: int
    tracker_conversations: int = 0
    tracker_events: int = 0
    chat_sessions_unlinked: int = 0
    dead_letter_bodies_cleared: int = 0
    # Unresolved dead letters received more than N days ago: kept, but someone should look.
    dead_letters_waiting: int = 0
    # "part: ErrorType" for each step that failed; the other steps still ran.
    errors: list[str] = field(default_factory=list)

    @property
    def cutoff(self) -> datetime:
        return cutoff_for(self.now, self.days)

    def summary(self) -> str:
        line = (
            f"retention {self.days} days (before {self.cutoff.isoformat()}): "
            f"tracker conversations deleted {self.tracker_conversations} ({self.tracker_events} events), "
            f"chat sessions unlinked {self.chat_sessions_unlinked}, "
            f"resolved dead-letter bodies cleared {self.dead_letter_bodies_cleared}, "
            f"unresolved dead letters older than {self.days} days (kept) {self.dead_letters_waiting}"
        )
        return line + (f"; failed: {', '.join(self.errors)}" if self.errors else "")


def utc(moment: datetime) -> datetime:
    return (
        moment.replace(tzinfo=timezone.utc)
        if moment.tzinfo is None
        else moment.astimezone(timezone.utc)
    )


def cutoff_for(now: datetime, days: int) -> datetime:
    return utc(now) - timedelta(days=days)


# --- Rasa tracker store -------------------------------------------------------------------


def _tracker_engine(tracker_db_url: str) -> Engine | None:
    """None when an SQLite tracker file does not exist (connecting would create it)."""
    url = sqlalchemy_url(tracker_db_url)
    if url.startswith("sqlite:///"):
        path = url.split("sqlite:///", 1)[1]
        if path != ":memory:" and not Path(path).exists():
            return None
    return create_engine(url, poolclass=NullPool, **PRIVATE_ENGINE)


def prune_tracker(tracker_db_url: str, cutoff: datetime) -> tuple[int, int]:
    """Delete every conversation whose last event is older than `cutoff`: (conversations, events)."""
    engine = _tracker_engine(tracker_db_url)
    if engine is None:
        return 0, 0
    moment = utc(cutoff).timestamp()
    conversations = events = 0
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(EVENTS_TABLE):
                return 0, 0
            senders = [
                row[0]
                for row in connection.execute(
                    text(
                        f"SELECT sender_id FROM {EVENTS_TABLE} GROUP BY sender_id "
                        "HAVING MAX(timestamp) < :cutoff"
                    ),
                    {"cutoff": moment},
                )
            ]
        # The NOT EXISTS guard: a conversation that came back to life since the SELECT stays whole.
        delete = text(
            f"DELETE FROM {EVENTS_TABLE} WHERE sender_id IN :senders AND NOT EXISTS ("
            f"SELECT 1 FROM {EVENTS_TABLE} AS recent WHERE recent.sender_id = {EVENTS_TABLE}.sender_id "
            "AND recent.timestamp >= :cutoff)"
        ).bindparams(bindparam("senders", expanding=True))
        for start in range(0, len(senders), BATCH):
            chunk = senders[start : start + BATCH]
            with engine.begin() as connection:
                result = connection.execute(delete, {"senders": chunk, "cutoff": moment})
            events += int(result.rowcount or 0)
            conversations += len(chunk)
    finally:
        engine.dispose()
    return conversations, events


# --- API chat sessions ----------------------------------------------------------------------


def unlink_chat_sessions(session: Session, cutoff: datetime) -> int:
    """Cut the links of chat sessions not seen since `cutoff`; the anonymous funnel fields stay."""
    stale = and_(
        ChatSession.last_seen_at < utc(cutoff),
        *(not_(ChatSession.conversation_id.startswith(prefix)) for prefix in UNLINKED_PREFIXES),
    )
    unlinked = 0
    while True:
        ids = list(
            session.scalars(
                select(ChatSession.id).where(stale).order_by(ChatSession.id).limit(BATCH)
            )
        )
        if not ids:
            return unlinked
        for chat_id in ids:
            session.execute(
                update(ChatSession)
                .where(ChatSession.id == chat_id, stale)
                .values(
                    conversation_id=EXPIRED_PREFIX + new_token(),
                    token_hash=token_hash(new_token()),
                    last_asks=None,
                    offered_payloads=[],
                )
                .execution_options(synchronize_session=False)
            )
        session.commit()
        unlinked += len(ids)


# --- the job ------------------------------------------------------------------------------------


def run_retention(
    settings: Settings | None = None,
    *,
    days: int | None = None,
    now: datetime | None = None,
    session_factory: Callable[[], Session] | None = None,
) -> RetentionResult:
    """One retention pass. A failing step is reported in `errors` and the others still run."""
    settings = settings or get_settings()
    result = RetentionResult(
        now=utc(now or datetime.now(timezone.utc)), days=days or settings.retention_days
    )
    if result.days < 1:
        raise ValueError("retention days must be at least 1")
    cutoff = result.cutoff

    try:
        result.tracker_conversations, result.tracker_events = prune_tracker(
            settings.tracker_db_url, cutoff
        )
    except Exception as error:  # noqa: BLE001 - one unreachable store must not stop the others
        result.errors.append(f"tracker: {type(error).__name__}")
    try:
        with (session_factory or get_sessionmaker())() as session:
            result.chat_sessions_unlinked = unlink_chat_sessions(session, cutoff)
    except Exception as error:  # noqa: BLE001
        result.errors.append(f"chat_sessions: {type(error).__name__}")
    try:
        with (session_factory or get_sessionmaker())() as session:
            result.dead_letter_bodies_cleared = dead_letters.clear_resolved_bodies(session)
            result.dead_letters_waiting = dead_letters.waiting_since(session, cutoff)
    except Exception as error:  # noqa: BLE001
        result.errors.append(f"dead_letters: {type(error).__name__}")

    log = logger.warning if result.errors or result.dead_letters_waiting else logger.info
    log("%s", result.summary())
    return result
