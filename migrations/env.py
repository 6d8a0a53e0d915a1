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


def run_migrations_online() -> None:
    database = context.config.attributes.get("database")
    if database is None:
        from workbench.db.engine import open_database

        database = open_database(check_schema=False)
    with database.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, **context_options())
        with context.begin_transaction():
            # Two kernels may upgrade a fresh database at once: the second waits here, then
            # finds the work done. The lock ends with the transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {WORKBENCH_SCHEMA}"))
            context.run_migrations()


run_migrations_online()
