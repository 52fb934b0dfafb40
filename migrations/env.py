"""Alembic environment: runs as markettina_owner, one migration run at a time."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import markettina.schema  # noqa: F401  (registers every context's tables)
from markettina.kernel.db.autogenerate import compare_type, include_object
from markettina.kernel.db.base import Base

# any fixed number: serialises concurrent `serve`/`migrate` start-ups on one database
MIGRATION_LOCK_KEY = 7_311_2024

config = context.config


def _owner_url():  # type: ignore[no-untyped-def]
    url = config.attributes.get("url")
    if url is not None:
        return url
    from markettina.kernel.db import server
    from markettina.settings import get_settings

    settings = get_settings()
    choice = server.resolve(
        database_url=settings.database_url,
        database_name=settings.database_name,
        data_dir=settings.data_dir,
        owner_password=settings.owner_password,
        app_password=settings.app_password,
    )
    return choice.urls.owner


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")

engine = create_engine(_owner_url(), poolclass=NullPool)
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            compare_type=compare_type,
            compare_server_default=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            context.run_migrations()
finally:
    engine.dispose()
