"""Many simulated patients at once, and the servers' memory while they talk.

`at_once(n, rounds, one)` runs n patients side by side; each completes
`rounds` conversations one after another (`one(patient_index, round)` runs
one and returns a Screen). The figures are per turn (what a person waits for)
and per conversation (completed screens per minute).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Mapping

from bench.memory import tree_rss_mb
from bench.metrics import percentile
from bench.screen import Screen


def turn_figures(screens: list[Screen]) -> dict[str, Any]:
    turns_ms = [t * 1000 for s in screens for t in s.turn_s]
    if not turns_ms:
        return {"turns": 0}
    return {
        "turns": len(turns_ms),
        "p50_ms": percentile(turns_ms, 50),
        "p95_ms": percentile(turns_ms, 95),
        "p99_ms": percentile(turns_ms, 99),
        "max_ms": max(turns_ms),
    }


def at_once(count: int, rounds: int, one: Callable[[int, int], Screen]) -> dict[str, Any]:
    def patient(index: int) -> list[Screen]:
        return [one(index, r) for r in range(rounds)]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        screens = [s for batch in pool.map(patient, range(count)) for s in batch]
    wall_s = time.perf_counter() - started
    completed = sum(s.completed for s in screens)
    return {
        "at_once": count,
        "conversations": len(screens),
        "completed": completed,
        "failed": sum(s.error is not None for s in screens),
        "stalled": sum(s.stalled for s in screens),
        "retries_503": sum(s.retries for s in screens),
        "wall_s": wall_s,
        "completed_per_min": completed / wall_s * 60,
        **turn_figures(screens),
    }


class MemorySampler:
    """Samples the resident memory (process and children) of named processes
    every `every_s` seconds in a background thread; `peak()` and `last()` per name."""

    def __init__(self, pids: Mapping[str, int], every_s: float = 0.5) -> None:
        self.pids = dict(pids)
        self.every_s = every_s
        self.samples: dict[str, list[float]] = {name: [] for name in self.pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.samples[name].append(tree_rss_mb(pid))
            self._stop.wait(self.every_s)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self) -> dict[str, float]:
        return {name: max(values, default=0.0) for name, values in self.samples.items()}


def rss_now(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: tree_rss_mb(pid) for name, pid in pids.items()}
