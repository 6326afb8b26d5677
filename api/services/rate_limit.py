"""In-memory sliding-window rate limits (per chat session, per client address).

A sliding-window log: for every key the limiter keeps the times of the hits
that are still inside the window, so "30 per minute" means at most 30 hits in
any 60 seconds, not 30 per calendar minute. Refused hits are not recorded: a
client that keeps retrying gets through as soon as old hits leave the window.

Thread-safe (one lock around the table; FastAPI may call from worker threads),
and the clock is injectable so tests can move time instead of sleeping. The
state lives in one process: with several API worker processes each enforces its
own share, which is acceptable for abuse protection (not for billing).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class SlidingWindowLimiter:
    def __init__(self, clock: Clock = time.monotonic, *, sweep_every: int = 1024) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}
        self._sweep_every = max(1, sweep_every)
        self._calls = 0
        self._longest_window = 0.0

    def hit(self, key: str, limit: int, window_s: float = 60.0) -> bool:
        """Record one hit for `key`; False (and nothing recorded) when the limit is reached.

        A limit of 0 or less means "no limit".
        """
        if limit <= 0:
            return True
        now = self._clock()
        with self._lock:
            self._longest_window = max(self._longest_window, window_s)
            hits = self._hits.setdefault(key, deque())
            cutoff = now - window_s
            while hits and hits[0] <= cutoff:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            self._calls += 1
            if self._calls % self._sweep_every == 0:
                self._sweep(now)
            return allowed

    def retry_after(self, key: str, window_s: float = 60.0) -> float:
        """Seconds until the oldest hit of `key` leaves the window (0 when none)."""
        now = self._clock()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 0.0
            return max(0.0, hits[0] + window_s - now)

    def __len__(self) -> int:
        """Number of keys currently tracked (for tests and memory checks)."""
        with self._lock:
            return len(self._hits)

    def _sweep(self, now: float) -> None:
        # Forget keys whose newest hit is older than any window: memory stays
        # bounded by the clients of the last minute, not of the process lifetime.
        cutoff = now - self._longest_window
        stale = [key for key, hits in self._hits.items() if not hits or hits[-1] <= cutoff]
        for key in stale:
            del self._hits[key]
