"""Alembic environment: the workbench's version table lives in the `workbench` schema.

`workbench.db.migrate` passes the open `Database` in `config.attributes["database"]`; run
from the `alembic` command line, the URL comes from DATABASE_URL or the embedded server.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import text

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.models import Base

CONTRACT_SCHEMAS = {None, "public", WORKBENCH_SCHEMA}


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Look at the contract's schemas only, and never at Alembic's own table."""
    if type_ == "schema":
        return name in CONTRACT_SCHEMAS
    return not (type_ == "table" and name == "alembic_version")


def run_migrations_online() -> None:
    database = context.config.attributes.get("database")
    if database is None:
        from workbench.db.engine import open_database

        database = open_database(check_schema=False)
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table_schema=WORKBENCH_SCHEMA,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {WORKBENCH_SCHEMA}"))
            context.run_migrations()


run_migrations_online()
