"""A durable local outbox for referrals.

A referral is written here first, in one SQLite transaction, before the
patient is told it was sent. The referral service (api/, issue 3) delivers
from it with retries; the referral id makes delivery idempotent.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "outbox.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS referral_outbox (
    referral_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL DEFAULT '',
    delivered_at TEXT
)
"""
# Waits between delivery attempts grow 2, 4, 8 ... seconds up to this cap.
MAX_BACKOFF_S = 300


class Outbox:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path or os.environ.get("OUTBOX_PATH") or DEFAULT_PATH)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=5)
        connection.execute(SCHEMA)
        return connection

    def put(self, referral_id: str, payload: dict[str, Any]) -> bool:
        """Store a referral once; False when that id was already stored."""
        with closing(self._connect()) as connection, connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO referral_outbox (referral_id, created_at, payload) VALUES (?, ?, ?)",
                (referral_id, datetime.now(timezone.utc).isoformat(), json.dumps(payload, sort_keys=True)),
            )
            return cursor.rowcount == 1

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        """Every referral not yet acknowledged by the API, oldest first."""
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT referral_id, payload FROM referral_outbox WHERE delivered_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [(referral_id, json.loads(payload)) for referral_id, payload in rows]

    def due(self, now: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Pending referrals whose next delivery attempt is due."""
        moment = (now or datetime.now(timezone.utc)).isoformat()
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT referral_id, payload FROM referral_outbox WHERE delivered_at IS NULL "
                "AND next_attempt_at <= ? ORDER BY created_at",
                (moment,),
            ).fetchall()
        return [(referral_id, json.loads(payload)) for referral_id, payload in rows]

    def postpone(self, referral_id: str, now: datetime | None = None) -> float:
        """Count a failed attempt and wait longer before the next; returns the wait in seconds."""
        moment = now or datetime.now(timezone.utc)
        with closing(self._connect()) as connection, connection:
            (attempts,) = connection.execute(
                "SELECT attempts FROM referral_outbox WHERE referral_id = ?", (referral_id,)
            ).fetchone()
            wait = float(min(MAX_BACKOFF_S, 2 ** (attempts + 1)))
            connection.execute(
                "UPDATE referral_outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE referral_id = ?",
                ((moment + timedelta(seconds=wait)).isoformat(), referral_id),
            )
        return wait

    def mark_delivered(self, referral_id: str) -> None:
        with closing(self._connect()) as connection, connection:
            connection.execute(
                "UPDATE referral_outbox SET delivered_at = ? WHERE referral_id = ?",
                (datetime.now(timezone.utc).isoformat(), referral_id),
            )
