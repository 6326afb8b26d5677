"""Chat sessions as the gateway knows them, and what it keeps of each bot turn.

- A session is found only by the hash of a server-issued token (cookie or
  X-Chat-Session header); the Rasa sender id (`conversation_id`) is another
  random value that never leaves the server, so a client can neither choose
  nor join a conversation (safety-security pitfall 2).
- What is kept of a bot turn: the question id it asks, the payloads of the
  buttons it offered (only these may come back as payloads: pitfall 1), the
  outcome and its criterion ids (for the funnel statistics). Never the text
  of either side.
- Typed text is cleaned here: control characters out, leading slashes out.

The database functions are synchronous; the router runs them in a worker
thread so a slow database never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import unicodedata
import weakref
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeGuard

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.core.security import new_token, token_hash
from api.models import ChatSession, now
from api.services.rate_limit import Clock, SlidingWindowLimiter
from contract.names import URGENT_CARE

CHAT_COOKIE = "chat_session"
CHAT_HEADER = "X-Chat-Session"
# What the gateway says to the bot to open a conversation (not shown to anyone).
START_MESSAGE = "hello"

# Tokens are secrets.token_urlsafe(32) (43 characters); anything else is not ours.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
# Question ids and criterion ids of the trial file; outcome values.
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_OUTCOME = re.compile(r"[a-z_]{1,32}")
MAX_BUTTONS = 50
MAX_PAYLOAD_CHARS = 1000
MAX_REASONS = 64
URGENT_OUTCOME = URGENT_CARE


# --- typed text ---------------------------------------------------------------

# Bidirectional overrides and isolates: they can make text display differently
# from what it says (a coordinator reads these answers later).
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SPACE_CONTROLS = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")


def strip_controls(text: str) -> str:
    """Line breaks and tabs become spaces; other control characters, lone
    surrogates and bidi controls are dropped. Emoji (including joiners) stay."""
    out: list[str] = []
    for char in text:
        if char in _SPACE_CONTROLS:
            out.append(" ")
        elif char in _BIDI_CONTROLS:
            continue
        elif unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            out.append(char)
    return "".join(out)


def _is_leading_junk(char: str) -> bool:
    return char == "/" or char.isspace() or unicodedata.category(char) == "Cf"


def neutralise_text(text: str) -> str:
    """Typed text as the bot may see it: no control characters, and no leading
    "/" (even behind spaces or invisible characters), so it is never parsed as
    `/intent{...}`."""
    cleaned = strip_controls(text)
    start = 0
    while start < len(cleaned) and _is_leading_junk(cleaned[start]):
        start += 1
    return cleaned[start:].rstrip()


# --- bot turns ----------------------------------------------------------------


@dataclass
class BotTurn:
    """What the gateway forwards and keeps of one bot turn."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    asks: str | None = None
    outcome: str | None = None
    # None when the turn had no outcome_reasons message.
    outcome_reasons: list[str] | None = None
    urgent: bool = False
    offered_payloads: list[str] = field(default_factory=list)


def _buttons(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    buttons = []
    for button in raw[:MAX_BUTTONS]:
        if not isinstance(button, dict):
            continue
        title, payload = button.get("title"), button.get("payload")
        if (
            isinstance(title, str)
            and isinstance(payload, str)
            and payload
            and len(payload) <= MAX_PAYLOAD_CHARS
        ):
            buttons.append({"title": title, "payload": payload})
    return buttons


def summarise_turn(raw_messages: list[dict[str, Any]]) -> BotTurn:
    """Forward messages that have text (with their buttons); read the chat
    contract from `custom`: `asks`, `outcome`, `urgent`, `outcome_reasons`."""
    turn = BotTurn()
    for message in raw_messages:
        text = message.get("text")
        buttons = _buttons(message.get("buttons"))
        for button in buttons:
            if (
                button["payload"] not in turn.offered_payloads
                and len(turn.offered_payloads) < MAX_BUTTONS
            ):
                turn.offered_payloads.append(button["payload"])
        if isinstance(text, str) and text.strip():
            turn.messages.append({"text": text, "buttons": buttons})
        elif buttons and turn.messages:
            # Buttons sent on their own belong to the message before them.
            turn.messages[-1]["buttons"].extend(buttons)
        custom = message.get("custom")
        if not isinstance(custom, dict):
            continue
        asks = custom.get("asks")
        if isinstance(asks, str) and _ID.fullmatch(asks):
            turn.asks = asks
        outcome = custom.get("outcome")
        if isinstance(outcome, str) and _OUTCOME.fullmatch(outcome):
            turn.outcome = outcome
        if custom.get("urgent") is True:
            turn.urgent = True
        reasons = custom.get("outcome_reasons")
        if isinstance(reasons, list):
            turn.outcome_reasons = [r for r in reasons if isinstance(r, str) and _ID.fullmatch(r)][
                :MAX_REASONS
            ]
    if turn.outcome == URGENT_OUTCOME:
        turn.urgent = True
    return turn


# --- the table ----------------------------------------------------------------


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


# --- per-process state: rate limits and per-conversation locks ------------------


class ConversationLocks:
    """One asyncio.Lock per conversation, alive only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def get(self, conversation_id: str) -> asyncio.Lock:
        with self._guard:
            lock = self._locks.get(conversation_id)
            if lock is None:
                lock = asyncio.Lock()
                self._locks[conversation_id] = lock
            return lock

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


class LateTurns:
    """Turns that Rasa had not answered within the patient's timeout.

    The patient got "please try again" (503), but Rasa may still process the
    message. Sending it again would answer one question twice, so the turn is
    left to finish in the background and kept here; the patient's next
    message first collects it. A re-sent identical message is then answered
    with the late turn instead of reaching Rasa a second time.
    """

    # How long a turn may go on in the background (Rasa's own lock lasts 60 s).
    BACKGROUND_S = 60.0

    def __init__(self) -> None:
        self._turns: dict[str, tuple[asyncio.Task[list[dict[str, Any]]], tuple[str, str]]] = {}

    def keep(
        self,
        conversation_id: str,
        task: asyncio.Task[list[dict[str, Any]]],
        sent: tuple[str, str],
    ) -> None:
        self._turns[conversation_id] = (task, sent)

    def take(
        self, conversation_id: str
    ) -> tuple[asyncio.Task[list[dict[str, Any]]], tuple[str, str]] | None:
        return self._turns.pop(conversation_id, None)


class ChatRuntime:
    """The gateway's in-memory state for one application (one process)."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.limiter = SlidingWindowLimiter(clock)
        self.locks = ConversationLocks()
        self.late = LateTurns()


_runtime_guard = threading.Lock()


async def get_chat_runtime(request: Request) -> ChatRuntime:
    """Request dependency; override it in tests to inject a clock."""
    state = request.app.state
    runtime = getattr(state, "chat_runtime", None)
    if runtime is None:
        with _runtime_guard:
            runtime = getattr(state, "chat_runtime", None)
            if runtime is None:
                runtime = ChatRuntime()
                state.chat_runtime = runtime
    return runtime


RuntimeDep = Annotated[ChatRuntime, Depends(get_chat_runtime)]
