"""Who a per-user role is: the workbench user its `session_user` is mapped to, if any."""

from __future__ import annotations

from sqlalchemy import text

from workbench.db.engine import Database
from workbench.db.security.deletes import DELETE_FUNCTION
from workbench.db.security.sql import COUNTS_FUNCTION, FUNCTION


def role_user(database: Database) -> tuple[str, str, str] | None:
    """`(id, email, name)` of the user this connection's role is mapped to, else None.

    None on a database that was never secured, and for the owner or any unmapped role. The
    user row is read through the role's own policy, which shows it exactly that row.
    """
    with database.engine.connect() as connection:
        # Roles that may not call it (neither owner nor wb_user) are simply not per-user roles.
        callable_ = connection.execute(
            text(
                f"SELECT CASE WHEN to_regprocedure('{FUNCTION}()') IS NULL THEN false "
                f"ELSE has_function_privilege('{FUNCTION}()', 'EXECUTE') END"
            )
        ).scalar()
        if not callable_:
            return None
        row = connection.execute(
            text(f'SELECT u.id, u.email, u.name FROM public."user" u WHERE u.id = {FUNCTION}()')
        ).first()
    return None if row is None else (str(row[0]), str(row[1]), str(row[2]))


def has_definer_counts(database: Database) -> bool:
    """Whether this database's `db secure` made the catalog's counting function (it is newer
    than the rest of the setup: a database secured before it counts under the policies)."""
    with database.engine.connect() as connection:
        found = connection.execute(
            text(f"SELECT to_regprocedure('{COUNTS_FUNCTION}(text[])') IS NOT NULL")
        ).scalar()
    return bool(found)


def has_definer_deletes(database: Database) -> bool:
    """Whether this database's `db secure` made `workbench.delete_rows` (and so took DELETE
    away from per-user roles, who must delete through it: deletes.py)."""
    with database.engine.connect() as connection:
        found = connection.execute(
            text(f"SELECT to_regprocedure('{DELETE_FUNCTION}(regclass, tid[])') IS NOT NULL")
        ).scalar()
    return bool(found)
