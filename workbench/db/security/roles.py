"""One user's login role: provision (create or rotate), lock (stopped server) and revoke.

Passwords are random (`secrets.token_urlsafe`), hashed to a SCRAM verifier on this side with
libpq's own `PQencryptPasswordConn`, so the server, its statement log and `pg_stat_activity`
never see the password itself. It leaves this module only inside a `ProvisionedRole`, whose
repr hides it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from workbench.db.engine import Database
from workbench.db.security.sql import FUNCTION, GROUP_ROLE, MAPPING, ROLE_PREFIX
from workbench.db.url import DRIVER
from workbench.errors import ConfigError, NotFound

_NOT_ROLE_CHARACTERS = re.compile(r"[^a-z0-9_]+")
MAX_BASE = 48  # PostgreSQL truncates identifiers at 63 bytes; leave room for a suffix


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


def quote_role(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


def provision_role(database: Database, user_id: str) -> ProvisionedRole:
    """Create `user_id`'s role (or rotate its password and unlock it), mapped to the user."""
    _require_secured(database)
    password = secrets.token_urlsafe(32)
    try:
        with database.engine.begin() as connection:
            _require_user(connection, user_id)
            role = _role_for(connection, user_id)
            _ensure_role(connection, role)
            verifier = _verifier(connection, role, password)
            # The driver's own call: text() would read a ':' in the verifier as a parameter.
            connection.exec_driver_sql(f"ALTER ROLE {quote_role(role)} LOGIN PASSWORD '{verifier}'")
            connection.execute(
                text(
                    f"INSERT INTO {MAPPING} (role_name, user_id) VALUES (:r, :u) "
                    "ON CONFLICT DO NOTHING"
                ),
                {"r": role, "u": user_id},
            )
    except DBAPIError as error:
        raise _admin_error("provision a role", error) from None
    url = database.url.set(username=role, password=password)
    return ProvisionedRole(role, user_id, password, url)


def lock_role(database: Database, user_id: str) -> str | None:
    """Refuse new logins for the user's role and end its sessions; the role stays mapped."""
    role = _mapped_role(database, user_id)
    if role is None:
        return None
    with database.engine.begin() as connection:
        connection.execute(text(f"ALTER ROLE {quote_role(role)} NOLOGIN PASSWORD NULL"))
    _terminate(database, role)  # after the commit: a reconnect in between is refused
    return role


def revoke_role(database: Database, user_id: str) -> str:
    """Lock, unmap and drop the user's role; returns its name. `NotFound` if it has none."""
    role = _mapped_role(database, user_id)
    if role is None:
        raise NotFound(f"User {user_id} has no database role here; nothing to revoke.")
    with database.engine.begin() as connection:
        connection.execute(text(f"ALTER ROLE {quote_role(role)} NOLOGIN PASSWORD NULL"))
        connection.execute(text(f"DELETE FROM {MAPPING} WHERE role_name = :r"), {"r": role})
    _terminate(database, role)
    try:
        with database.engine.begin() as connection:
            connection.execute(text(f"DROP ROLE IF EXISTS {quote_role(role)}"))
    except DBAPIError as error:
        # It still holds something in another database on this server; locked and unmapped
        # here, it can neither log in nor see a row.
        raise _admin_error(f"drop role {role} (it is locked and unmapped)", error) from None
    return role


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


def _ensure_role(connection: Connection, role: str) -> None:
    quoted = quote_role(role)
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).first()
    if exists is None:
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
    connection.execute(
        text(
            f"ALTER ROLE {quoted} INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            "NOBYPASSRLS CONNECTION LIMIT -1"
        )
    )
    version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    # PostgreSQL 16+: the privileges flow through, but `SET ROLE wb_user` is refused. On 15 it
    # is allowed and harmless: the policies key on session_user, which SET ROLE never changes.
    options = " WITH INHERIT TRUE, SET FALSE" if version >= 160000 else ""
    connection.execute(text(f"GRANT {GROUP_ROLE} TO {quoted}{options}"))


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


def _terminate(database: Database, role: str) -> None:
    try:
        with database.engine.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
    except DBAPIError as error:
        raise _admin_error(f"end the sessions of {role} (it is locked)", error) from None


def _admin_error(action: str, error: DBAPIError) -> ConfigError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    return ConfigError(
        f"Could not {action}: {detail}. This needs an administrative DATABASE_URL (a role with "
        "CREATEROLE that owns the tables)."
    )
