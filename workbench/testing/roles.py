"""Teardown for scratch databases that were secured: their per-user roles outlive them.

Roles are cluster-wide, so a test or benchmark that provisions roles in a scratch database must
drop them before it drops the database (else they pile up on the server, each still a member of
`wb_user`). Works for a `LOGIN CREATEROLE` owner as well as a superuser.
"""

from __future__ import annotations

from sqlalchemy import text

from workbench.db.engine import Database
from workbench.db.security.access import cut_off, drop_role, end_sessions
from workbench.db.security.attributes import admin_of
from workbench.db.security.sql import MAPPING


def drop_mapped_roles(database: Database) -> None:
    """Cut off, end the sessions of, unmap and drop every role `database` maps."""
    with database.engine.begin() as connection:
        roles = connection.execute(text(f"SELECT role_name FROM {MAPPING}")).scalars().all()
        admin = admin_of(connection)
        for role in roles:
            if connection.execute(text("SELECT to_regrole(:r)"), {"r": role}).scalar():
                cut_off(connection, admin, role)
        connection.execute(text(f"DELETE FROM {MAPPING}"))
    for role in roles:
        end_sessions(database, role)
    with database.engine.begin() as connection:
        for role in roles:
            drop_role(connection, role)
