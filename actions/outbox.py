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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "outbox.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS referral_outbox (
    referral_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT
)
"""


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
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT referral_id, payload FROM referral_outbox WHERE delivered_at IS NULL ORDER BY created_at"
            ).fetchall()
        return [(referral_id, json.loads(payload)) for referral_id, payload in rows]

    def mark_delivered(self, referral_id: str) -> None:
        with closing(self._connect()) as connection, connection:
            connection.execute(
                "UPDATE referral_outbox SET delivered_at = ? WHERE referral_id = ?",
                (datetime.now(timezone.utc).isoformat(), referral_id),
            )
