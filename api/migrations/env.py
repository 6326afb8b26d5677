"""Alembic environment: the URL comes from the caller or the app settings."""

from __future__ import annotations

from alembic import context

from api.core.config import get_settings
from api.db import make_engine, sqlalchemy_url
from api.models import Base

url = context.config.get_main_option("sqlalchemy.url") or sqlalchemy_url(
    get_settings().database_url
)
engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
