"""Chat sessions as the gateway knows them (the chat_sessions table).

- A session is found only by the hash of a server-issued token (cookie or
  X-Chat-Session header); the Rasa sender id (`conversation_id`) is another
  random value that never leaves the server, so a client can neither choose
  nor join a conversation (safety-security pitfall 2).
- Each row keeps what api/services/bot_turns.py keeps of the last bot turn;
  typed text is cleaned by contract/typed_text.py, per-process state is
  in api/services/chat_runtime.py.

The database functions are synchronous; the router runs them in a worker
thread so a slow database never blocks the event loop.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.core.security import new_token, token_hash
from api.models import ChatSession, now
from api.services.bot_turns import BotTurn

CHAT_COOKIE = "chat_session"
CHAT_HEADER = "X-Chat-Session"
# What the gateway says to the bot to open a conversation (not shown to anyone).
START_MESSAGE = "hello"

# Tokens are secrets.token_urlsafe(32) (43 characters); anything else is not ours.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")


def valid_token(token: str | None) -> TypeGuard[str]:
    return bool(token) and _TOKEN.fullmatch(token or "") is not None


def find_session(db: Session, token: str | None) -> ChatSession | None:
    """The session of a client token, or None. Ends the read transaction so
    no database connection is held while the bot is thinking."""
    if not valid_token(token):
        return None
    found = db.scalar(select(ChatSession).where(ChatSession.token_hash == token_hash(token)))
    db.commit()
    return found


def reload_session(db: Session, chat: ChatSession) -> ChatSession | None:
    """Fresh state, read after taking the conversation lock (None if it was deleted meanwhile)."""
    fresh = db.get(ChatSession, chat.id, populate_existing=True)
    db.commit()
    return fresh


def create_session(db: Session, conversation_id: str, turn: BotTurn) -> tuple[str, ChatSession]:
    """Store a new session for a conversation Rasa has opened; return (token, row)."""
    token = new_token()
    chat = ChatSession(
        token_hash=token_hash(token),
        conversation_id=conversation_id,
        message_count=0,
        offered_payloads=[],
        outcome_reasons=[],
    )
    _apply_turn(chat, turn)
    db.add(chat)
    db.commit()
    return token, chat


def record_turn(db: Session, chat: ChatSession, turn: BotTurn) -> bool:
    """One patient message answered: keep what the next message is checked
    against. False when the session was deleted meanwhile (withdrawal)."""
    _apply_turn(chat, turn)
    # In SQL, so two API processes cannot lose a count.
    chat.message_count = ChatSession.message_count + 1
    return _commit(db)


def touch(db: Session, chat: ChatSession) -> bool:
    chat.last_seen_at = now()
    return _commit(db)


def _commit(db: Session) -> bool:
    try:
        db.commit()
    except StaleDataError:
        db.rollback()
        return False
    return True


def _apply_turn(chat: ChatSession, turn: BotTurn) -> None:
    moment = now()
    chat.last_seen_at = moment
    chat.last_asks = turn.asks
    chat.offered_payloads = list(turn.offered_payloads)
    if turn.outcome is not None:
        # A later outcome (after "start over") replaces the earlier one.
        chat.outcome = turn.outcome
        chat.finished_at = moment
        chat.outcome_reasons = list(turn.outcome_reasons or [])
    elif turn.outcome_reasons is not None:
        chat.outcome_reasons = list(turn.outcome_reasons)


def new_conversation_id() -> str:
    return new_token()
