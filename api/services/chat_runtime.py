"""The gateway's per-process state: rate limits, per-conversation locks, late turns."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from typing import Annotated, Any

from fastapi import Depends, Request

from api.services.rate_limit import Clock, SlidingWindowLimiter


class ConversationLock:
    """One conversation's lock, and whether a read made before taking it is still fresh.

    The gateway reads the session before it takes the lock (to answer 401,
    429 and a bad body with the open question). Taking the lock, it needs
    that read again only if another message of the conversation may have
    been answered in between: the lock was held when the read began, or was
    taken since. Otherwise the first read stands, which saves a database
    transaction and a worker-thread hop per message (issue 14).
    """

    __slots__ = ("_lock", "_taken", "__weakref__")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._taken = 0

    def mark(self) -> int | None:
        """Call before reading: a mark that `still_fresh` checks, None if a message is in progress."""
        return None if self._lock.locked() else self._taken

    def still_fresh(self, mark: int | None) -> bool:
        """Under the lock: whether nothing could have changed since `mark` was taken."""
        return mark is not None and self._taken == mark + 1

    async def __aenter__(self) -> ConversationLock:
        await self._lock.acquire()
        self._taken += 1
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._lock.release()


class ConversationLocks:
    """One ConversationLock per conversation, alive only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, ConversationLock] = (
            weakref.WeakValueDictionary()
        )
        self._guard = threading.Lock()

    def get(self, key: str) -> ConversationLock:
        with self._guard:
            lock = self._locks.get(key)
            if lock is None:
                lock = ConversationLock()
                self._locks[key] = lock
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
