"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL.

A column added to api/models.py without a migration (or a migration that
differs from the model) would work in tests that create tables from the
models, then fail in production; here the tables come from the migrations.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, create_engine

from api.db import sqlalchemy_url
from api.models import Base


def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    # The check can fail: a model column that no migration adds is a difference.
    unmigrated = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(unmigrated)
    unmigrated.tables["referrals"].append_column(Column("not_migrated", String(8)))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
            assert [d[0] for d in compare_metadata(context, unmigrated)] == ["add_column"]
    finally:
        engine.dispose()
