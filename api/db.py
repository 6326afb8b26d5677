"""Engine, sessions and migrations. Tables exist only through Alembic."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from starlette.concurrency import run_in_threadpool

from api.core.config import get_settings
from contract.private_files import private_file

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def sqlalchemy_url(url: str) -> str:
    """psycopg 3 is the PostgreSQL driver of this environment."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


# Bound parameters are patient data (names, phone numbers, answers): a database
# error's message, and so its traceback in a log, must never quote them.
# Every engine of the API passes these (api/services/tracker.py, retention.py too).
PRIVATE_ENGINE = {"hide_parameters": True}


def make_engine(url: str) -> Engine:
    url = sqlalchemy_url(url)
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[-1]
        if path and path != ":memory:":
            private_file(path)  # the folder 0700, the database 0600 (contract/private_files.py)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 15}, **PRIVATE_ENGINE
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            # Foreign keys are off by default in SQLite; WAL lets readers and a writer overlap.
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **PRIVATE_ENGINE)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


async def get_session() -> AsyncIterator[Session]:
    """One Session per request.

    An async dependency, so FastAPI does not hop to a worker thread to open
    and again to close it (a sync generator dependency costs two thread hops
    per request, a measurable share of a chat message's CPU: issue 14).
    Opening a Session does no I/O. Closing one does I/O only when a
    transaction is still open (its rollback): that is done in a worker
    thread, so a slow database still never blocks the event loop.
    """
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


def migrate(url: str | None = None) -> None:
    """Apply every Alembic migration (the prestart step)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", sqlalchemy_url(url or get_settings().database_url).replace("%", "%%")
    )
    command.upgrade(config, "head")
