"""Rasa's SQL tracker store, reading only the events stored since it last read a conversation.

Rasa's SQLTrackerStore reads every event of the conversation's session from the
database on every patient message (an ORM object per row), so a message costs
more the longer the conversation: a sixth of Rasa's CPU at the end of a
screening (issue 14's profile). This store keeps, per conversation it served
recently, the stored rows of the session (their JSON text, as Rasa stored
it) with the highest id and the number of rows, and on the next read asks the
database only for those two numbers and for the rows after that id. Each read
still parses fresh events from the JSON, exactly as Rasa does.

Whatever changed behind its back is seen: another Rasa replica's events (the
count and id move together: the new rows are read), the API deleting a
conversation for retention or withdrawal (the numbers no longer match: a full
read, which finds nothing), a new session (a full read with Rasa's own query).
What it keeps in memory is bounded (MAX_CONVERSATIONS) and forgotten after
KEEP_SECONDS without a message, so a deleted conversation does not linger.

Saving writes the same rows as Rasa's save (the same count of what is stored,
the same columns and JSON), in one insert of many rows rather than one ORM
object each: the ORM's unit of work was most of the cost of saving a turn.

Configured in bot/endpoints.yml and bot/endpoints.replicas.yml as
`type: nlu.tracker_store.IncrementalSQLTrackerStore`; the table is Rasa's own.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.core.trackers import DialogueStateTracker

# Conversations kept, least recently used dropped first (a screening's rows are ~0.3 MB).
MAX_CONVERSATIONS = 100
# A conversation idle this long is forgotten (the gateway's chat sessions end sooner).
KEEP_SECONDS = 15 * 60


@dataclass
class KnownRows:
    last_id: int
    count: int  # rows of the sender in all sessions: a deletion changes it
    session_rows: List[Text]  # JSON of the current session's events, in id order
    used_at: float


class IncrementalSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose reads of the current session fetch only the rows added since the last read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool_sqlite_connections()
        self.known: "OrderedDict[Text, KnownRows]" = OrderedDict()
        # The queries of a turn as plain SQL on Rasa's table: building ORM
        # queries (their cache keys) cost more than running them (issue 14's
        # profile). The session's rows are Rasa's `_event_query`: from the
        # latest session_started row on, or every row when there is none.
        table = self.SQLEvent.__table__.name
        since_session = (
            f"sender_id = :sender AND id >= COALESCE((SELECT max(id) FROM {table} "
            f"WHERE sender_id = :sender AND type_name = '{SessionStarted.type_name}'), 0)"
        )
        self._sql_totals = sa.text(f"SELECT max(id), count(id) FROM {table} WHERE sender_id = :sender")
        self._sql_newer = sa.text(
            f"SELECT type_name, data FROM {table} WHERE sender_id = :sender AND id > :after ORDER BY id"
        )
        self._sql_session = sa.text(f"SELECT data FROM {table} WHERE {since_session} ORDER BY id")
        self._sql_session_count = sa.text(f"SELECT count(*) FROM {table} WHERE {since_session}")

    def _pool_sqlite_connections(self) -> None:
        """On a SQLite file: keep connections open, and let readers and the writer work at once.

        SQLAlchemy 1.4 (Rasa's pin) opens a new SQLite connection for every
        session on a file (NullPool); a message opens several, each reading the
        schema afresh. A pool keeps them (PostgreSQL is pooled already).
        Write-ahead logging (WAL), as the API's database has, commits with one
        sync of the log instead of a rollback journal made and deleted per
        commit, and readers (the API deleting a conversation, another reader)
        do not wait for the writer. Durability is unchanged (synchronous stays FULL).
        """
        if self.engine.dialect.name != "sqlite" or not isinstance(self.engine.pool, sa.pool.NullPool):
            return
        url = self.engine.url
        self.engine.dispose()
        # Connections may be returned on another thread than they were made on.
        self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})

        @sa.event.listens_for(self.engine, "connect")
        def _write_ahead_log(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        self.sessionmaker.configure(bind=self.engine)

    def _forget_idle(self, now: float) -> None:
        while self.known and (
            len(self.known) > MAX_CONVERSATIONS or now - next(iter(self.known.values())).used_at > KEEP_SECONDS
        ):
            self.known.popitem(last=False)

    def _session_rows(self, session: Any, sender_id: Text) -> List[Text]:
        last_id, count = session.execute(self._sql_totals, {"sender": sender_id}).one()
        known = self.known.pop(sender_id, None)
        rows: Optional[List[Text]] = None
        if known is not None and (last_id, count) == (known.last_id, known.count):
            rows = known.session_rows  # nothing added or deleted since
        elif known is not None and last_id is not None and last_id >= known.last_id:
            new = session.execute(self._sql_newer, {"sender": sender_id, "after": known.last_id}).all()
            # Only appended rows, and no new session: the kept rows plus the new ones.
            if known.count + len(new) == count and all(t != SessionStarted.type_name for t, _ in new):
                rows = known.session_rows + [data for _, data in new]
        if rows is None:  # first read, a deletion or a new session: the rows of Rasa's own query
            rows = list(session.execute(self._sql_session, {"sender": sender_id}).scalars())
        now = time.monotonic()
        if last_id is not None:
            self.known[sender_id] = KnownRows(last_id, count, rows, now)
        self._forget_idle(now)
        return rows

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            events = [json.loads(data) for data in self._session_rows(session, sender_id)]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def bot_events_since_user(self, sender_id: Text) -> List[dict[str, Any]]:
        """The bot events after the latest user message (or session start), from the kept rows.

        What nlu/channel.py reads to check a tapped button, with the freshness
        check of a read (usually one query) instead of two queries of its own.
        """
        with self.session_scope() as session:
            rows = self._session_rows(session, sender_id)
        events: List[dict[str, Any]] = []
        for data in reversed(rows):
            event = json.loads(data)
            if event.get("event") in ("user", SessionStarted.type_name):
                break
            if event.get("event") == "bot":
                events.append(event)
        return events[::-1]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's SQLTrackerStore.save, with the new rows written in one insert."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            stored = session.execute(self._sql_session_count, {"sender": tracker.sender_id}).scalar_one()
            # Rasa's `_additional_events`: the tracker's events after as many as the session has stored.
            rows = [self._row(tracker.sender_id, event) for event in itertools.islice(tracker.events, stored, None)]
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)
            session.commit()

    @staticmethod
    def _row(sender_id: Text, event: Event) -> dict[str, Any]:
        """The columns Rasa's save writes for one event."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }
