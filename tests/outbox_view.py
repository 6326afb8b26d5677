"""The action server's outbox as the system tests read it (tests/reliability, tests/api/test_fuzz_gateway.py).

A delivered row keeps only its id and times (actions/outbox.py clears the
payload when the API acknowledges it). The tests still find rows by what the
referral says (conversation, contact name or email, outcome), so for a
cleared row those fields are read back from the API's own copy in the same
data folder. There is no moment when neither holds it: the worker clears the
payload only after the API committed the referral.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any


def _api_copies(data_dir: Path) -> dict[str, dict[str, Any]]:
    path = data_dir / "api.sqlite"
    if not path.exists():
        return {}
    with closing(sqlite3.connect(path, timeout=5)) as db:
        try:
            rows = db.execute("SELECT id, conversation_id, outcome, contact_name, contact_email FROM referrals").fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return {}
    return {
        rid: {
            "referral_id": rid, "conversation_id": conversation, "outcome": outcome,
            "contact": {"name": name, "email": email},
        }
        for rid, conversation, outcome, name, email in rows
    }


def _unknown(referral_id: str) -> dict[str, Any]:
    """A cleared row whose referral the API no longer holds (withdrawn): nothing to match on."""
    return {"referral_id": referral_id, "conversation_id": None, "outcome": None, "contact": {"name": None, "email": None}}


def outbox_rows(data_dir: Path) -> list[dict[str, Any]]:
    """Every outbox row with its payload, or, once cleared, the API's copy of the fields tests match on."""
    path = data_dir / "outbox.sqlite"
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=5)) as db:
        try:
            rows = db.execute(
                "SELECT referral_id, payload, attempts, next_attempt_at, delivered_at, created_at FROM referral_outbox"
            ).fetchall()
        except sqlite3.OperationalError:  # the table does not exist yet
            return []
    copies = _api_copies(data_dir) if any(not payload for _, payload, *_ in rows) else {}
    return [
        {
            "referral_id": rid,
            "payload": json.loads(payload) if payload else copies.get(rid) or _unknown(rid),
            "attempts": attempts, "next_attempt_at": next_at, "delivered_at": delivered, "created_at": created,
        }
        for rid, payload, attempts, next_at, delivered, created in rows
    ]
