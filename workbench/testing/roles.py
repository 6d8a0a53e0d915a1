"""Teardown for scratch databases that were secured: their per-user roles outlive them.

Roles are cluster-wide, so a test or benchmark that provisions roles in a scratch database must
drop them before it drops the database (else they pile up on the server, each still a member of
`wb_user`).
"""

from __future__ import annotations

from sqlalchemy import text

from workbench.db.engine import Database
from workbench.db.security.roles import quote_role
from workbench.db.security.sql import MAPPING


def drop_mapped_roles(database: Database) -> None:
    """End the sessions of, unmap and drop every role `database` maps."""
    with database.engine.begin() as connection:
        roles = connection.execute(text(f"SELECT role_name FROM {MAPPING}")).scalars().all()
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY(:r)"),
            {"r": list(roles)},
        )
        connection.execute(text(f"DELETE FROM {MAPPING}"))
    with database.engine.begin() as connection:
        for role in roles:
            connection.execute(text(f"DROP ROLE IF EXISTS {quote_role(role)}"))
