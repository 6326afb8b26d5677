"""A durable local outbox for referrals.

A referral is written here first, in one SQLite transaction, before the
patient is told it was sent. The delivery worker (actions/delivery.py)
delivers from it with retries; the referral id makes delivery idempotent.

A row is in one of three states:

| state | how | what the row keeps |
|---|---|---|
| pending | `delivered_at` and `refused_at` empty | the whole referral, until the API has it |
| delivered | `delivered_at` set | id and times only: the payload is cleared when the API acknowledges it |
| refused | `refused_at` set, with `refusal` (JSON paths and rules, or a status; never values) | id, times and reason; the payload too unless the API kept the refused body itself |

A refused row is never retried by the worker and never pruned while it still
holds a payload: a person resolves it (`python -m actions.delivery --status`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from contract.private_files import private_file

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "outbox.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS referral_outbox (
    referral_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL DEFAULT '',
    delivered_at TEXT,
    refused_at TEXT,
    refusal TEXT
)
"""
# Columns added after the first release: an existing outbox file gains them on first use.
ADDED_COLUMNS = {"refused_at": "TEXT", "refusal": "TEXT"}
# What a cleared payload holds. Empty text rather than NULL: outbox files made
# before the refused state have `payload NOT NULL`, and SQLite cannot drop that.
CLEARED = ""
REFUSAL_MAX_CHARS = 500
# Waits between delivery attempts grow 2, 4, 8 ... seconds up to this cap.
MAX_BACKOFF_S = 300


class OutboxError(sqlite3.Error):
    """An outbox database error, raised without the statement's parameters or the original chain.

    The parameters are referral payloads (contact details, answers): a
    traceback that printed them would put patient data in a log.
    """


@dataclass(frozen=True)
class RefusedRow:
    referral_id: str
    refused_at: str
    refusal: str
    # False once the API kept the refused body itself (it answered 422 "kept").
    holds_payload: bool


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


class Outbox:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path or os.environ.get("OUTBOX_PATH") or DEFAULT_PATH)

    @contextmanager
    def _database(self, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection (a transaction when `write`); sqlite3 errors leave as OutboxError with the message only.

        sqlite3's own messages never quote bound values; `from None` drops the
        chain so no caller's traceback shows more than this message.
        """
        try:
            with closing(self._connect()) as connection:
                if write:
                    with connection:
                        yield connection
                else:
                    yield connection
        except sqlite3.Error as error:
            raise OutboxError(f"outbox database error ({type(error).__name__}): {error}") from None

    def _connect(self) -> sqlite3.Connection:
        # Consented contact details: the folder 0700, the file 0600 (contract/private_files.py).
        private_file(self.path)
        connection = sqlite3.connect(self.path, timeout=5)
        # Cleared payloads are overwritten on disk, not just unlinked from the b-tree.
        connection.execute("PRAGMA secure_delete = ON")
        connection.execute(SCHEMA)
        present = {row[1] for row in connection.execute("PRAGMA table_info(referral_outbox)")}
        missing = [column for column in ADDED_COLUMNS if column not in present]
        for column in missing:
            try:
                connection.execute(f"ALTER TABLE referral_outbox ADD COLUMN {column} {ADDED_COLUMNS[column]}")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):  # another process added it first
                    raise
        if missing:
            # An outbox from before payloads were cleared at delivery: clear the delivered ones now.
            with connection:
                connection.execute(
                    "UPDATE referral_outbox SET payload = ? WHERE delivered_at IS NOT NULL AND payload != ?",
                    (CLEARED, CLEARED),
                )
        return connection

    def put(self, referral_id: str, payload: dict[str, Any]) -> bool:
        """Store a referral once; False when that id was already stored."""
        with self._database(write=True) as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO referral_outbox (referral_id, created_at, payload) VALUES (?, ?, ?)",
                (referral_id, _now(), json.dumps(payload, sort_keys=True)),
            )
            return cursor.rowcount == 1

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        """Every referral neither acknowledged nor refused by the API, oldest first."""
        with self._database() as connection:
            rows = connection.execute(
                "SELECT referral_id, payload FROM referral_outbox WHERE delivered_at IS NULL AND refused_at IS NULL "
                "ORDER BY created_at"
            ).fetchall()
        return [(referral_id, json.loads(payload)) for referral_id, payload in rows]

    def due(self, now: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Pending referrals whose next delivery attempt is due."""
        moment = (now or datetime.now(timezone.utc)).isoformat()
        with self._database() as connection:
            rows = connection.execute(
                "SELECT referral_id, payload FROM referral_outbox WHERE delivered_at IS NULL AND refused_at IS NULL "
                "AND next_attempt_at <= ? ORDER BY created_at",
                (moment,),
            ).fetchall()
        return [(referral_id, json.loads(payload)) for referral_id, payload in rows]

    def postpone(self, referral_id: str, now: datetime | None = None) -> float:
        """Count a failed attempt and wait longer before the next; returns the wait in seconds."""
        moment = now or datetime.now(timezone.utc)
        with self._database(write=True) as connection:
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
        """The API acknowledged it: keep only the id and the times (one transaction with the clearing)."""
        with self._database(write=True) as connection:
            connection.execute(
                "UPDATE referral_outbox SET delivered_at = ?, payload = ? WHERE referral_id = ?",
                (_now(), CLEARED, referral_id),
            )

    def mark_refused(self, referral_id: str, refusal: str, *, kept_by_api: bool) -> None:
        """The API refused it for good: never retried; the payload stays unless the API kept the body."""
        with self._database(write=True) as connection:
            connection.execute(
                "UPDATE referral_outbox SET attempts = attempts + 1, refused_at = ?, refusal = ?, "
                "payload = CASE WHEN ? THEN ? ELSE payload END WHERE referral_id = ?",
                (_now(), refusal[:REFUSAL_MAX_CHARS], kept_by_api, CLEARED, referral_id),
            )

    def refused(self) -> list[RefusedRow]:
        """Every refused referral, oldest first: ids, times and reasons, never the payload."""
        with self._database() as connection:
            rows = connection.execute(
                "SELECT referral_id, refused_at, refusal, payload != ? FROM referral_outbox "
                "WHERE refused_at IS NOT NULL ORDER BY refused_at",
                (CLEARED,),
            ).fetchall()
        return [RefusedRow(rid, at, refusal or "", bool(holds)) for rid, at, refusal, holds in rows]

    def counts(self) -> dict[str, int]:
        """How many rows are pending, delivered, refused, and refused with the payload still here."""
        with self._database() as connection:
            pending, delivered, refused, refused_here = connection.execute(
                "SELECT "
                "COALESCE(SUM(delivered_at IS NULL AND refused_at IS NULL), 0), "
                "COALESCE(SUM(delivered_at IS NOT NULL), 0), "
                "COALESCE(SUM(refused_at IS NOT NULL), 0), "
                "COALESCE(SUM(refused_at IS NOT NULL AND payload != ?), 0) FROM referral_outbox",
                (CLEARED,),
            ).fetchone()
        return {"pending": pending, "delivered": delivered, "refused": refused, "refused_payload_here": refused_here}

    def resolve(self, referral_id: str) -> bool:
        """A person dealt with a refused referral by hand: clear its payload, keep id, times and reason."""
        with self._database(write=True) as connection:
            cursor = connection.execute(
                "UPDATE referral_outbox SET payload = ? WHERE referral_id = ? AND refused_at IS NOT NULL",
                (CLEARED, referral_id),
            )
            return cursor.rowcount == 1

    def retry(self, referral_id: str) -> bool:
        """Send a refused referral again (e.g. after the API's limit was fixed); only if its payload is here."""
        with self._database(write=True) as connection:
            cursor = connection.execute(
                "UPDATE referral_outbox SET refused_at = NULL, refusal = NULL, next_attempt_at = '' "
                "WHERE referral_id = ? AND refused_at IS NOT NULL AND payload != ?",
                (referral_id, CLEARED),
            )
            return cursor.rowcount == 1

    def state(self, referral_id: str) -> Optional[str]:
        """'pending', 'delivered', 'refused', or None when the id is not here."""
        with self._database() as connection:
            row = connection.execute(
                "SELECT delivered_at, refused_at FROM referral_outbox WHERE referral_id = ?", (referral_id,)
            ).fetchone()
        if row is None:
            return None
        delivered_at, refused_at = row
        return "delivered" if delivered_at else "refused" if refused_at else "pending"
