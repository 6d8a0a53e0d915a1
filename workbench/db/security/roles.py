"""One user's login role: provision (create or rotate), lock (stopped server) and revoke.

Everything here works for an owner that is only `LOGIN CREATEROLE` (Neon, RDS, Cloud SQL) as
well as for a superuser: see attributes.py for what such an owner may do with roles on each
PostgreSQL version, and access.py for how a lock or revoke ends the role's open sessions.

Passwords are random (`secrets.token_urlsafe`), hashed to a SCRAM verifier on this side with
libpq's own `PQencryptPasswordConn`, so the server, its statement log and `pg_stat_activity`
never see the password itself. It leaves this module only inside a `ProvisionedRole`, whose
repr hides it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from workbench.db.engine import Database
from workbench.db.security.access import cut_off, drop_role, end_sessions, ensure_member_of
from workbench.db.security.attributes import (
    V16,
    Admin,
    admin_of,
    exists,
    quote_role,
    require_admin_over,
    require_createrole,
    settle_attributes,
)
from workbench.db.security.locks import bound_lock_waits, translated_lock_timeout
from workbench.db.security.sql import FUNCTION, GROUP_ROLE, MAPPING, ROLE_PREFIX
from workbench.db.url import DRIVER
from workbench.errors import ConfigError, NotFound, WorkbenchError

_NOT_ROLE_CHARACTERS = re.compile(r"[^a-z0-9_]+")
MAX_BASE = 48  # PostgreSQL truncates identifiers at 63 bytes; leave room for a suffix
# Each per-user role's session defaults. A session may SET them away (they are ordinary user
# settings: PostgreSQL has no way to forbid that), so they bound honest clients only: a kernel
# left idle inside a transaction, a query that runs away, a wait behind someone else's lock.
ROLE_SETTINGS = (
    ("lock_timeout", "30s"),
    ("idle_in_transaction_session_timeout", "10min"),
    ("statement_timeout", "15min"),
)


@dataclass(frozen=True)
class ProvisionedRole:
    """A user's login role with its fresh password; `url` is a DATABASE_URL for the kernel."""

    role: str
    user_id: str
    password: str = field(repr=False)
    url: URL = field(repr=False)

    def database_url(self) -> str:
        """The URL as the web app writes it (`postgresql://role:password@host/db`)."""
        rendered = self.url.render_as_string(hide_password=False)
        return rendered.replace(DRIVER, "postgresql", 1)


def role_name_for(user_id: str, *, taken: bool = False) -> str:
    """`wbu_<lowercased id>`; with `taken` (another user already has it) a hash makes it unique."""
    base = _NOT_ROLE_CHARACTERS.sub("_", user_id.lower())[:MAX_BASE]
    if not taken:
        return f"{ROLE_PREFIX}{base}"
    return f"{ROLE_PREFIX}{base}_{hashlib.sha256(user_id.encode()).hexdigest()[:8]}"


def provision_role(database: Database, user_id: str) -> ProvisionedRole:
    """Create `user_id`'s role (or rotate its password and unlock it), mapped to the user."""
    _require_secured(database)
    password = secrets.token_urlsafe(32)
    with _administering(database, "provision a role") as connection:
        _require_user(connection, user_id)
        role = _role_for(connection, user_id)
        _ensure_role(connection, admin_of(connection), role)
        verifier = _verifier(connection, role, password)
        # The driver's own call: text() would read a ':' in the verifier as a parameter.
        connection.exec_driver_sql(f"ALTER ROLE {quote_role(role)} LOGIN PASSWORD '{verifier}'")
        connection.execute(
            text(
                f"INSERT INTO {MAPPING} (role_name, user_id) VALUES (:r, :u) ON CONFLICT DO NOTHING"
            ),
            {"r": role, "u": user_id},
        )
    url = database.url.set(username=role, password=password)
    return ProvisionedRole(role, user_id, password, url)


def lock_role(database: Database, user_id: str) -> str | None:
    """Refuse new logins, cut off and end the role's sessions; the role stays mapped.

    From the moment this returns, a connection the role had open reads and writes nothing:
    it is ended, or (where the owner may not end it) left without a single privilege.
    """
    role = _mapped_role(database, user_id)
    if role is None:
        return None
    with _administering(database, f"lock role {role}") as connection:
        cut = cut_off(connection, admin_of(connection), role)
    _require_ended(role, cut, _end_sessions(database, role))  # after the commit: no reconnect
    return role


def revoke_role(database: Database, user_id: str) -> str:
    """Lock, unmap and drop the user's role; returns its name. `NotFound` if it has none."""
    role = _mapped_role(database, user_id)
    if role is None:
        raise NotFound(f"User {user_id} has no database role here; nothing to revoke.")
    with _administering(database, f"revoke role {role}") as connection:
        cut_off(connection, admin_of(connection), role)  # unmapped too: it sees no row anyway
        connection.execute(text(f"DELETE FROM {MAPPING} WHERE role_name = :r"), {"r": role})
    _end_sessions(database, role)
    # Locked and unmapped from here on: it can neither log in nor see a row.
    with _administering(database, f"drop role {role} (it is locked and unmapped)") as connection:
        drop_role(connection, role)
    return role


def _end_sessions(database: Database, role: str) -> int:
    try:
        return end_sessions(database, role)
    except DBAPIError as error:
        raise _admin_error(f"end the sessions of {role} (it is locked)", error) from None


def _require_ended(role: str, cut: bool, left: int) -> None:
    """A session that was neither ended nor cut off still reads the user's rows: say so."""
    if left and not cut:
        raise ConfigError(
            f"Role {role} is locked against new logins, but {left} of its sessions could "
            f"neither be ended nor cut off: its membership in {GROUP_ROLE} was granted by a role "
            "this one may not act for. A superuser must end them: SELECT "
            f"pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'."
        )


@contextmanager
def _administering(database: Database, action: str) -> Iterator[Connection]:
    """One administrative transaction: lock waits bounded, and every refusal a `ConfigError`
    that says what to do, never a driver traceback."""
    try:
        with (
            translated_lock_timeout(database.engine, action),
            database.engine.begin() as connection,
        ):
            bound_lock_waits(connection)
            yield connection
    except WorkbenchError:
        raise
    except DBAPIError as error:
        raise _admin_error(action, error) from None


def _require_secured(database: Database) -> None:
    with database.engine.connect() as connection:
        found = connection.execute(text(f"SELECT to_regprocedure('{FUNCTION}()')")).scalar()
    if found is None:
        raise ConfigError(
            f"{database.describe()} is not secured yet: run `workbench db secure` first."
        )


def _require_user(connection: Connection, user_id: str) -> None:
    if (
        connection.execute(
            text('SELECT 1 FROM public."user" WHERE id = :u'), {"u": user_id}
        ).first()
        is None
    ):
        raise NotFound(f"No user with id {user_id!r}.")


def _role_for(connection: Connection, user_id: str) -> str:
    mapped = connection.execute(
        text(f"SELECT role_name FROM {MAPPING} WHERE user_id = :u"), {"u": user_id}
    ).scalar()
    if mapped is not None:
        return str(mapped)
    role = role_name_for(user_id)
    owner = connection.execute(
        text(f"SELECT user_id FROM {MAPPING} WHERE role_name = :r"), {"r": role}
    ).scalar()
    return role if owner is None else role_name_for(user_id, taken=True)


def _ensure_role(connection: Connection, admin: Admin, role: str) -> None:
    require_createrole(admin)
    quoted = quote_role(role)
    if exists(connection, role):
        require_admin_over(connection, admin, role)  # on 16+, one it made (or was granted)
    else:
        connection.execute(text(f"CREATE ROLE {quoted} NOLOGIN"))
    other = (
        connection.execute(
            text(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :r AND g.rolname <> :g"
            ),
            {"r": role, "g": GROUP_ROLE},
        )
        .scalars()
        .all()
    )
    if other:
        raise ConfigError(
            f"Role {role} is also a member of {', '.join(other)}; refusing to use it."
        )
    settle_attributes(connection, admin, role, login=True, inherit=True)
    for name, value in ROLE_SETTINGS:
        connection.execute(text(f"ALTER ROLE {quoted} SET {name} = '{value}'"))
    # PostgreSQL 16+: the privileges flow through, but `SET ROLE wb_user` is refused. On 15 it
    # is allowed and harmless: the policies key on session_user, which SET ROLE never changes.
    options = " WITH INHERIT TRUE, SET FALSE" if admin.version >= V16 else ""
    connection.execute(text(f"GRANT {GROUP_ROLE} TO {quoted}{options}"))
    # So that lock and revoke may end its sessions later without superuser (access.py).
    ensure_member_of(connection, admin, role)


def _verifier(connection: Connection, role: str, password: str) -> str:
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    hashed = driver.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256")
    return hashed.decode("ascii")


def _mapped_role(database: Database, user_id: str) -> str | None:
    _require_secured(database)
    with database.engine.connect() as connection:
        role = connection.execute(
            text(f"SELECT role_name FROM {MAPPING} WHERE user_id = :u"), {"u": user_id}
        ).scalar()
    return None if role is None else str(role)


def _admin_error(action: str, error: DBAPIError) -> ConfigError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate == "42501":  # insufficient privilege
        hint = (
            "The URL's role may not do this. Use the database owner's URL: a superuser, or "
            "(as on Neon, RDS, Cloud SQL) the owner role with CREATEROLE that ran "
            "`workbench db secure`; on PostgreSQL 16+ it may manage only roles it made itself."
        )
    else:
        hint = "Nothing was changed by this step; fix the cause above and run it again."
    return ConfigError(f"Could not {action}: {detail}. {hint}")
