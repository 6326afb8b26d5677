"""The gateway's per-process state: rate limits, per-conversation locks, late turns."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from typing import Annotated, Any

from fastapi import Depends, Request

from api.services.rate_limit import Clock, SlidingWindowLimiter


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
