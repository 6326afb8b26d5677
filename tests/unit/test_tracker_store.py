"""Issue 14: the incremental SQL tracker store reads what Rasa's own SQL store reads.

Each step changes the stored conversation the way the real system does (this
server saving, another replica saving, the API deleting a conversation, a new
session) and the incremental store's tracker must equal a fresh Rasa
SQLTrackerStore's read of the same table.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from nlu import tracker_store
from nlu.tracker_store import IncrementalSQLTrackerStore

DOMAIN = Domain.from_dict({"slots": {"age": {"type": "any", "mappings": [{"type": "custom"}]}}})


def _user(text: str) -> UserUttered:
    return UserUttered(text, {"intent": {"name": "inform"}, "entities": []})


def _same(store: IncrementalSQLTrackerStore, rasas: SQLTrackerStore, sender: str) -> DialogueStateTracker | None:
    import asyncio

    mine, theirs = asyncio.run(store.retrieve(sender)), asyncio.run(rasas.retrieve(sender))
    assert (mine is None) == (theirs is None)
    if mine is not None and theirs is not None:
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
        assert mine.current_slot_values() == theirs.current_slot_values()
    return mine


def test_reads_equal_rasas_own_through_saves_replicas_deletions_and_sessions(tmp_path: Path) -> None:
    import asyncio

    db = str(tmp_path / "tracker.sqlite")
    store = IncrementalSQLTrackerStore(DOMAIN, dialect="sqlite", db=db)
    replica = IncrementalSQLTrackerStore(DOMAIN, dialect="sqlite", db=db)
    rasas = SQLTrackerStore(DOMAIN, dialect="sqlite", db=db)
    assert _same(store, rasas, "p1") is None

    tracker = DialogueStateTracker.from_events("p1", [ActionExecuted("action_session_start"), SessionStarted(),
                                                      ActionExecuted("action_listen")], DOMAIN.slots)
    asyncio.run(store.save(tracker))
    _same(store, rasas, "p1")
    for turn in range(3):
        tracker.update(_user(f"answer {turn}"))
        tracker.update(SlotSet("age", 60 + turn))
        tracker.update(BotUttered(f"question {turn}"))
        asyncio.run(store.save(tracker))
        read = _same(store, rasas, "p1")
        assert read is not None and read.get_slot("age") == 60 + turn

    # Another replica answers the next message: its rows are read too.
    served = asyncio.run(replica.retrieve("p1"))
    assert served is not None
    served.update(_user("from the other replica"))
    served.update(SlotSet("age", 70))
    asyncio.run(replica.save(served))
    read = _same(store, rasas, "p1")
    assert read is not None and read.get_slot("age") == 70 and read.latest_message.text == "from the other replica"

    # A new session: only its events, as Rasa reads them.
    read.update(ActionExecuted("action_session_start"))
    read.update(SessionStarted())
    read.update(ActionExecuted("action_listen"))
    asyncio.run(store.save(read))
    after = _same(store, rasas, "p1")
    assert after is not None and after.get_slot("age") is None

    # The API deletes the conversation (retention or withdrawal): nothing is read back from memory.
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'p1'"))
    engine.dispose()
    assert _same(store, rasas, "p1") is None
    assert "p1" not in store.known


def test_reads_only_the_new_rows_and_keeps_little(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    store = IncrementalSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "t.sqlite"))
    tracker = DialogueStateTracker.from_events("p2", [ActionExecuted("action_listen")], DOMAIN.slots)
    for turn in range(5):
        tracker.update(_user(f"answer {turn}"))
        asyncio.run(store.save(tracker))
        asyncio.run(store.retrieve("p2"))
    statements: list[str] = []
    listener = lambda _c, _k, statement, *_a: statements.append(" ".join(statement.split()))  # noqa: E731
    sa.event.listen(store.engine, "before_cursor_execute", listener)
    tracker.update(_user("one more"))
    asyncio.run(store.save(tracker))  # counts what the session has stored (once), then inserts
    asyncio.run(store.retrieve("p2"))
    sa.event.remove(store.engine, "before_cursor_execute", listener)
    reads = [statement for statement in statements if statement.startswith("SELECT")]
    assert [statement.split(" FROM")[0] for statement in reads] == [
        "SELECT count(*)", "SELECT max(id), count(id)", "SELECT type_name, data"
    ], "the read after a save fetched only the new rows"

    monkeypatch.setattr(tracker_store, "MAX_CONVERSATIONS", 2)
    for sender in ("a", "b", "c"):
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, [_user("hi")], DOMAIN.slots)))
        asyncio.run(store.retrieve(sender))
    assert list(store.known) == ["b", "c"]
    monkeypatch.setattr(tracker_store, "KEEP_SECONDS", -1)
    asyncio.run(store.retrieve("c"))
    assert list(store.known) == []


def test_saves_the_rows_rasas_own_save_writes(tmp_path: Path) -> None:
    """One insert of many rows instead of an ORM object each: the same columns, the same JSON."""
    import asyncio

    start = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    turns = [[UserUttered(f"answer {turn}", {"name": "inform", "confidence": 1.0}), SlotSet("age", 60 + turn), ActionExecuted("prescreen_form"),
              BotUttered(f"question {turn}")] for turn in range(2)]

    def stored(store_class: type[SQLTrackerStore], name: str) -> list[tuple]:
        db = str(tmp_path / f"{name}.sqlite")
        store = store_class(DOMAIN, dialect="sqlite", db=db)
        tracker = DialogueStateTracker.from_events("p1", start, DOMAIN.slots)
        asyncio.run(store.save(tracker))
        for events in turns:
            for event in events:
                tracker.update(event)
            asyncio.run(store.save(tracker))
            asyncio.run(store.save(tracker))  # nothing new: nothing written twice
        engine = sa.create_engine(f"sqlite:///{db}")
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"
            )).all()
        engine.dispose()
        return [tuple(row) for row in rows]

    ours, rasas = stored(IncrementalSQLTrackerStore, "ours"), stored(SQLTrackerStore, "rasas")
    # Rasa counts a session's stored rows from its session_started row, so the
    # save after a session start writes its last action_listen again: kept as Rasa does it.
    assert [row[2] for row in ours] == ["action", "session_started", "action", "action"] + ["user", "slot", "action", "bot"] * 2
    assert ours == rasas
    assert "inform" in {row[4] for row in ours} and "prescreen_form" in {row[5] for row in ours}


def test_keeps_its_sqlite_connections_and_writes_ahead(tmp_path: Path) -> None:
    import asyncio
    import sqlite3

    def connections_for_five_turns(store: SQLTrackerStore, sender: str) -> int:
        opened: list[object] = []
        sa.event.listen(store.engine, "connect", lambda connection, _record: opened.append(connection))
        started = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
        tracker = DialogueStateTracker.from_events(sender, started, DOMAIN.slots)
        for turn in range(5):
            tracker.update(_user(f"answer {turn}"))
            asyncio.run(store.save(tracker))
            asyncio.run(store.retrieve(sender))
        return len(opened)

    path = tmp_path / "t.sqlite"
    # The control: Rasa's own store opens a connection per session on a SQLite file (SQLAlchemy 1.4).
    assert connections_for_five_turns(SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path)), "rasa") >= 10
    store = IncrementalSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path))
    assert connections_for_five_turns(store, "ours") == 1
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    _same(store, SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(path)), "ours")


def test_a_conversation_without_a_session_start_is_stored_and_read_as_rasa_does(tmp_path: Path) -> None:
    # Rasa's query reads every row of a conversation that has no session_started row
    # (its `or ... is None`); the store's queries must too, or each save would store
    # the whole conversation again. The Rasa server starts every conversation with a
    # session, so this is Rasa's contract kept rather than a path the bot takes.
    import asyncio
    import sqlite3

    def stored_rows(kind: type[SQLTrackerStore], db: Path) -> int:
        store = kind(DOMAIN, dialect="sqlite", db=str(db))
        tracker = DialogueStateTracker.from_events("p", [ActionExecuted("action_listen")], DOMAIN.slots)
        for turn in range(5):
            tracker.update(_user(f"answer {turn}"))
            asyncio.run(store.save(tracker))
            asyncio.run(store.retrieve("p"))
        with sqlite3.connect(db) as connection:
            return int(connection.execute("SELECT count(*) FROM events").fetchone()[0])

    assert stored_rows(SQLTrackerStore, tmp_path / "rasa.sqlite") == 6
    assert stored_rows(IncrementalSQLTrackerStore, tmp_path / "ours.sqlite") == 6
    store = IncrementalSQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.sqlite"))
    read = _same(store, SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "ours.sqlite")), "p")
    assert read is not None and len(read.events) == 6
