"""Database owners for the security tests: a superuser, or `LOGIN CREATEROLE` as on Neon.

With `WORKBENCH_TEST_OWNER=createrole` every scratch database is owned by (and its URL names) a
role that is `LOGIN CREATEROLE` and no superuser, the way managed PostgreSQL hands out its
owner; `.ci/run` runs the security tests that way as well as as `postgres`. Roles are
cluster-wide and other test sessions share the server: every owner gets a random name and is
dropped by the fixture that made it, after its databases.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

OWNER_VARIABLE = "WORKBENCH_TEST_OWNER"
CREATEROLE = "createrole"


def createrole_owner_mode() -> bool:
    """Whether the scratch databases are owned by a `LOGIN CREATEROLE` role (not a superuser)."""
    mode = os.environ.get(OWNER_VARIABLE, "").strip()
    if mode not in ("", CREATEROLE, "superuser"):
        raise RuntimeError(f"{OWNER_VARIABLE} must be 'createrole' or 'superuser', not {mode!r}")
    return mode == CREATEROLE


@contextmanager
def createrole_owner(admin_url: str, password: str | None = None) -> Iterator[str]:
    """A new `LOGIN CREATEROLE` role (NOSUPERUSER, as CREATE ROLE makes it), dropped at the end
    (drop its databases first).

    On PostgreSQL 16+ a CREATEROLE role may only grant roles it holds ADMIN OPTION on; where
    `wb_user` was made before by someone else (another test's owner, a superuser), it is given
    that option the way docs/isolation.md tells an administrator to.
    """
    name = f"wbowner_{secrets.token_hex(5)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        grant_group_admin(admin, name)
    try:
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def create_database(admin_url: str, name: str, owner: str | None) -> None:
    """`CREATE DATABASE name` (owned by `owner` if given) on the server of `admin_url`."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if owner is not None:
        statement += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(statement)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def grant_group_admin(admin: psycopg.Connection[tuple[object, ...]], owner: str) -> None:
    """On 16+, where `wb_user` exists: `GRANT wb_user TO owner WITH ADMIN OPTION` (superuser)."""
    row = admin.execute(
        "SELECT current_setting('server_version_num')::int >= 160000, to_regrole('wb_user')"
    ).fetchone()
    if row is not None and row[0] and row[1] is not None:
        admin.execute(
            sql.SQL("GRANT wb_user TO {} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE").format(
                sql.Identifier(owner)
            )
        )
