"""What the bot understood in a finished conversation: the screening slots as
Rasa's tracker store holds them, found through the gateway's session table.

The benchmark (not the product) reads the two SQLite files of its own
throwaway run; the token is hashed as api/core/security.py does.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable

# Events that clear every slot (start over, a restarted conversation).
CLEARING = {"reset_slots", "restart"}


def conversation_id(api_db: Path, token: str) -> str:
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    with sqlite3.connect(api_db) as db:
        row = db.execute("SELECT conversation_id FROM chat_sessions WHERE token_hash = ?", (digest,)).fetchone()
    if row is None:
        raise LookupError("no such chat session")
    return str(row[0])


def slots(tracker_db: Path, sender_id: str, names: Iterable[str]) -> dict[str, Any]:
    """The last value of each named slot (None when never set or cleared)."""
    wanted = set(names)
    values: dict[str, Any] = {}
    with sqlite3.connect(tracker_db) as db:
        rows = db.execute(
            "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
        ).fetchall()
    for type_name, data in rows:
        if type_name in CLEARING:
            values.clear()
        elif type_name == "slot":
            event = json.loads(data)
            if event.get("name") in wanted:
                values[event["name"]] = event.get("value")
    return {name: values.get(name) for name in wanted}
