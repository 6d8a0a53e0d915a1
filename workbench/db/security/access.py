"""Ending a per-user role's access at once, without superuser.

Three things, so that no open connection keeps reading or writing:

1. `cut_off`: `NOLOGIN`, password removed, and the role's membership in `wb_user` revoked. Every
   grant reaches a per-user role through `wb_user` alone, so from its next statement an open
   session of the role is refused on every table, sequence and function of the workbench,
   inside an open transaction too (PostgreSQL re-reads memberships when they change).
2. `end_sessions`: `pg_terminate_backend`, which needs the privileges of the role whose backend
   it ends. A superuser has them; a CREATEROLE owner grants itself membership in the per-user
   role first (`GRANT wbu_... TO owner`, on 16+ `WITH INHERIT TRUE, SET FALSE`), which
   PostgreSQL allows it for a role it created (15: any role that is not a superuser). A session
   that cannot be ended (the owner may not administer the role) is still cut off by 1.
3. `drop_role` (revoke only): `DROP OWNED BY` first (a role may own large objects or default
   privileges, which would make `DROP ROLE` fail), then `DROP ROLE`.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from workbench.db.engine import Database
from workbench.db.security.attributes import V16, Admin, admin_of, quote_role
from workbench.db.security.locks import bound_lock_waits
from workbench.db.security.sql import GROUP_ROLE

TERMINATE_WAIT_MS = 5000  # pg_terminate_backend waits this long for each session to exit


def cut_off(connection: Connection, admin: Admin, role: str) -> bool:
    """Refuse new logins and take away every privilege, in the caller's transaction; False if
    a membership in `wb_user` stays (on 16+, one granted by a role this one may not act as)."""
    quoted = quote_role(role)
    connection.execute(text(f"ALTER ROLE {quoted} NOLOGIN PASSWORD NULL"))
    grantors = (
        connection.execute(
            text(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.grantor "
                "WHERE m.roleid = to_regrole(:group) AND m.member = to_regrole(:r)"
            ),
            {"group": GROUP_ROLE, "r": role},
        )
        .scalars()
        .all()
    )
    # 16+ keeps one grant per grantor, and a plain REVOKE removes only the current user's.
    revokes = (
        [f"REVOKE {GROUP_ROLE} FROM {quoted} GRANTED BY {quote_role(str(g))}" for g in grantors]
        if admin.version >= V16
        else [f"REVOKE {GROUP_ROLE} FROM {quoted}"][: len(grantors)]
    )
    for revoke in revokes:
        try:
            with connection.begin_nested():
                connection.execute(text(revoke))
        except DBAPIError:
            pass  # reported below; the sessions are still ended where that is allowed
    left = connection.execute(
        text("SELECT pg_has_role(:r, :group, 'MEMBER')"), {"r": role, "group": GROUP_ROLE}
    ).scalar()
    return not left


def ensure_member_of(connection: Connection, admin: Admin, role: str) -> bool:
    """Give the owner the privileges of `role` (to end its sessions, drop what it owns).

    False if it may not (on 16+, a role it holds no ADMIN OPTION on); nothing else changes.
    """
    if admin.superuser:
        return True
    has = connection.execute(
        text("SELECT pg_has_role(current_user, :r, 'USAGE')"), {"r": role}
    ).scalar()
    if has:
        return True
    options = " WITH INHERIT TRUE, SET FALSE" if admin.version >= V16 else ""
    try:
        with connection.begin_nested():
            connection.execute(text(f"GRANT {quote_role(role)} TO {admin.quoted}{options}"))
    except DBAPIError:
        return False
    return True


def end_sessions(database: Database, role: str) -> int:
    """Terminate every session of `role` on the server; how many could not be ended."""
    with database.engine.begin() as connection:
        bound_lock_waits(connection)
        if connection.execute(text("SELECT to_regrole(:r)"), {"r": role}).scalar() is None:
            return 0
        ensure_member_of(connection, admin_of(connection), role)
    with database.engine.connect() as connection:
        # Only sessions it may signal (pg_terminate_backend raises on any other); CASE, not
        # AND, because only CASE promises to evaluate its condition first.
        left = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE NOT CASE WHEN pg_has_role(usesysid, 'USAGE') "
                "THEN pg_terminate_backend(pid, :wait) ELSE false END) FROM pg_stat_activity "
                "WHERE usename = :r AND pid <> pg_backend_pid()"
            ),
            {"r": role, "wait": TERMINATE_WAIT_MS},
        ).scalar()
        connection.commit()
    return int(left or 0)


def drop_role(connection: Connection, role: str) -> None:
    """Drop what the role owns in this database, then the role (in the caller's transaction)."""
    quoted = quote_role(role)
    if connection.execute(text("SELECT to_regrole(:r)"), {"r": role}).scalar() is None:
        return
    connection.execute(text(f"DROP OWNED BY {quoted}"))
    connection.execute(text(f"DROP ROLE {quoted}"))
