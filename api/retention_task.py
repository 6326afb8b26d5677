"""The scheduled retention job (safety-security P3): one asyncio task per API process.

Wire it into the app with the lifespan (api/main.py):

    from api.retention_task import retention_lifespan
    app = FastAPI(..., lifespan=retention_lifespan)

or, inside an existing lifespan, `start_retention(app)` before its `yield`
and `await stop_retention(app)` after it.

The task waits RETENTION_START_DELAY_SECONDS (default 300) after start-up,
then runs the job (api/services/retention.py) every RETENTION_INTERVAL_MINUTES
(default 60; 0 turns the schedule off). The job runs in a worker thread so
the event loop keeps answering patients; a failing pass is logged by error
type only and the next pass still runs. Several replicas may run it at once:
every step is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.core.config import get_settings
from api.services.retention import run_retention

logger = logging.getLogger(__name__)

STATE_KEY = "retention_task"


async def retention_loop(
    *,
    interval_s: float,
    start_delay_s: float = 0.0,
    job: Callable[[], Any] = run_retention,
    passes: int | None = None,
) -> None:
    """Run `job` after `start_delay_s`, then every `interval_s` seconds, until cancelled (or `passes` runs)."""
    await asyncio.sleep(start_delay_s)
    done = 0
    while passes is None or done < passes:
        try:
            await asyncio.to_thread(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the schedule outlives one failed pass
            logger.error("retention pass failed: %s", type(error).__name__)
        done += 1
        if passes is not None and done >= passes:
            return
        await asyncio.sleep(interval_s)


def start_retention(
    app: FastAPI, job: Callable[[], Any] = run_retention
) -> asyncio.Task[None] | None:
    """Start the schedule on the running event loop; None when RETENTION_INTERVAL_MINUTES is 0."""
    settings = get_settings()
    if settings.retention_interval_minutes <= 0:
        logger.info("retention schedule off (RETENTION_INTERVAL_MINUTES=0)")
        return None
    existing: asyncio.Task[None] | None = getattr(app.state, STATE_KEY, None)
    # Reuse a running schedule only on this event loop: a test harness may run
    # the lifespan of one app object on several loops.
    if (
        existing is not None
        and not existing.done()
        and existing.get_loop() is asyncio.get_running_loop()
    ):
        return existing
    task = asyncio.create_task(
        retention_loop(
            interval_s=settings.retention_interval_minutes * 60,
            start_delay_s=settings.retention_start_delay_seconds,
            job=job,
        ),
        name="retention",
    )
    setattr(app.state, STATE_KEY, task)
    logger.info(
        "retention every %s minutes, keeping %s days",
        settings.retention_interval_minutes,
        settings.retention_days,
    )
    return task


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    if task.get_loop() is not asyncio.get_running_loop():
        return  # another loop's task: cancelled there, never awaited here
    try:
        await task
    except asyncio.CancelledError:
        pass


async def stop_retention(app: FastAPI) -> None:
    """Cancel the schedule and wait for it (a pass in its worker thread finishes on its own)."""
    task: asyncio.Task[None] | None = getattr(app.state, STATE_KEY, None)
    if task is None:
        return
    await _cancel(task)
    setattr(app.state, STATE_KEY, None)


@asynccontextmanager
async def retention_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A FastAPI lifespan that runs the retention schedule while the app serves."""
    task = start_retention(app)
    try:
        yield
    finally:
        # Stop the task this lifespan started, not whatever app.state holds now.
        if task is not None:
            await _cancel(task)
            if getattr(app.state, STATE_KEY, None) is task:
                setattr(app.state, STATE_KEY, None)


__all__ = ["retention_lifespan", "retention_loop", "start_retention", "stop_retention"]
