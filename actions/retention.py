"""Retention for the action server's referral outbox (safety-security P3).

    python -m actions.retention [--days N] [--now ISO] [--outbox PATH]

A delivered outbox row holds only its id and times (actions/outbox.py clears
the payload when the API acknowledges it); after N days the row itself is
deleted. Rows not yet delivered, and refused rows, are never deleted
whatever their age: a referral must not be lost (safety-security pitfall 4).

The outbox belongs to the action side: the delivery worker calls
`prune_delivered` every hour (actions/delivery.py), and this command does
the same by hand or from cron where the worker does not run. The API never
touches the outbox (each store has one owner).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

from actions.outbox import OutboxError

DEFAULT_DAYS = 30
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "outbox.sqlite"
TABLE = "referral_outbox"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def prune_delivered(path: str | os.PathLike[str], cutoff: datetime) -> int:
    """Delete delivered referrals acknowledged before `cutoff`; returns how many.

    A missing file or table means nothing to prune (the file is not created).
    """
    path = Path(path)
    if not path.exists():
        return 0
    cutoff = _utc(cutoff)
    try:
        return _prune(path, cutoff)
    except sqlite3.Error as error:
        raise OutboxError(f"outbox database error ({type(error).__name__}): {error}") from None


def _prune(path: Path, cutoff: datetime) -> int:
    with closing(sqlite3.connect(path, timeout=5)) as connection, connection:
        # Deleted rows are overwritten on disk (rows delivered before payloads were cleared still hold one).
        connection.execute("PRAGMA secure_delete = ON")
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
        ).fetchone()
        if not found:
            return 0
        rows = connection.execute(
            f"SELECT referral_id, delivered_at FROM {TABLE} WHERE delivered_at IS NOT NULL"
        ).fetchall()
        # Compared as datetimes, not as text: isoformat() leaves out zero microseconds.
        old = [(referral_id,) for referral_id, delivered_at in rows if _delivered_before(delivered_at, cutoff)]
        connection.executemany(f"DELETE FROM {TABLE} WHERE referral_id = ? AND delivered_at IS NOT NULL", old)
    return len(old)


def _delivered_before(delivered_at: str, cutoff: datetime) -> bool:
    try:
        return _utc(datetime.fromisoformat(delivered_at)) < cutoff
    except (TypeError, ValueError):
        return False  # unreadable: keep it for a person to look at


def _parse_now(value: Optional[str]) -> datetime:
    return _utc(datetime.fromisoformat(value)) if value else datetime.now(timezone.utc)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m actions.retention",
        description="Delete delivered referrals older than N days from the outbox (never undelivered ones).",
    )
    parser.add_argument(
        "--days", type=int, default=int(os.environ.get("RETENTION_DAYS", DEFAULT_DAYS)),
        help=f"keep this many days (default RETENTION_DAYS or {DEFAULT_DAYS})",
    )
    parser.add_argument("--now", help="ISO date-time to count the days from (default: now, UTC)")
    parser.add_argument(
        "--outbox", default=os.environ.get("OUTBOX_PATH") or str(DEFAULT_PATH), help="default OUTBOX_PATH"
    )
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    try:
        now = _parse_now(args.now)
    except ValueError:
        parser.error("--now must be an ISO date-time, e.g. 2025-03-01T12:00:00+00:00")
    deleted = prune_delivered(args.outbox, now - timedelta(days=args.days))
    # Counts only: the outbox holds patient data.
    print(f"outbox: {deleted} delivered referrals older than {args.days} days deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
