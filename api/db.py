"""Engine, sessions and migrations. Tables exist only through Alembic."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

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


def get_session() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


def migrate(url: str | None = None) -> None:
    """Apply every Alembic migration (the prestart step)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", sqlalchemy_url(url or get_settings().database_url).replace("%", "%%")
    )
    command.upgrade(config, "head")
