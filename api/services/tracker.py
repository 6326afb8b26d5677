"""Deleting a conversation from Rasa's SQL tracker store (P4: withdraw and delete).

Rasa keeps every message in its `events` table, keyed by `sender_id`, and has
no delete API. A separate engine (not the API's own) reaches that database.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from api.db import PRIVATE_ENGINE, sqlalchemy_url

EVENTS_TABLE = "events"


class TrackerStoreUnavailable(Exception):
    """The tracker database could not be reached; nothing was deleted."""


def delete_conversation(tracker_db_url: str, sender_id: str) -> int:
    """Delete every tracker event of one conversation; returns how many. No table: nothing to delete."""
    url = sqlalchemy_url(tracker_db_url)
    if url.startswith("sqlite:///"):
        path = Path(url.split("sqlite:///", 1)[1])
        if str(path) != ":memory:" and not path.exists():
            return 0  # connecting would create an empty database file
    # NullPool: deletions are rare, and a pooled connection would outlive the request for nothing.
    engine = create_engine(url, poolclass=NullPool, **PRIVATE_ENGINE)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table(EVENTS_TABLE):
                return 0
            result = connection.execute(
                text(f"DELETE FROM {EVENTS_TABLE} WHERE sender_id = :sender_id"),
                {"sender_id": sender_id},
            )
            return int(result.rowcount or 0)
    except Exception as error:  # noqa: BLE001 - any driver error means the deletion did not happen
        raise TrackerStoreUnavailable(type(error).__name__) from None
    finally:
        engine.dispose()
