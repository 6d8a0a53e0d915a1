"""Alembic environment: the workbench's version table lives in the `workbench` schema.

`workbench.db.migrate` passes the open `Database` in `config.attributes["database"]`; run
from the `alembic` command line, the URL comes from DATABASE_URL or the embedded server.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.migrate import MIGRATION_LOCK, context_options
from workbench.db.models import Base
from workbench.db.security.locks import lock_schema, translated_lock_timeout


def run_migrations_online() -> None:
    database = context.config.attributes.get("database")
    if database is None:
        from workbench.db.engine import open_database

        database = open_database(check_schema=False)
    action = "upgrade the database"
    with (
        translated_lock_timeout(database.engine, action),
        database.engine.connect() as connection,
    ):
        context.configure(connection=connection, target_metadata=Base.metadata, **context_options())
        with context.begin_transaction():
            # Two kernels may upgrade a fresh database at once: the second waits here, then
            # finds the work done. The lock ends with the transaction, and every lock the
            # migrations wait for is bounded too (a user's open transaction must not hang it).
            lock_schema(connection, MIGRATION_LOCK, action)
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {WORKBENCH_SCHEMA}"))
            context.run_migrations()


run_migrations_online()
