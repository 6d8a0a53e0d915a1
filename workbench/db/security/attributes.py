"""Role attributes and role administration, for an owner that is a superuser or only CREATEROLE.

Managed PostgreSQL (Neon, RDS, Cloud SQL) gives the database owner `LOGIN CREATEROLE`, never
SUPERUSER. What such an owner may do with roles depends on the server's version:

- Naming SUPERUSER, REPLICATION or BYPASSRLS in `ALTER ROLE` is refused to a non-superuser in
  either polarity (`NOSUPERUSER` too), and from 16 on so is CREATEDB unless it holds CREATEDB.
  So nothing here states an attribute blindly: the attributes are read, and only one that is
  actually wrong is changed (a fresh `CREATE ROLE` has none of them, so normally none is).
- Up to 15, CREATEROLE may alter, drop and grant any role that is not a superuser. From 16 on
  only roles it holds ADMIN OPTION on: those it created itself (PostgreSQL grants that
  automatically), or granted to it WITH ADMIN OPTION by a superuser or their creator. A role
  made by someone else (say `wb_user`, made by a superuser before) is refused with a message
  saying which GRANT fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from workbench.db.security.sql import GROUP_ROLE
from workbench.errors import ConfigError

V16 = 160000
# pg_roles column, the ALTER ROLE keyword that clears it, and why it must be clear.
_DANGEROUS = (
    ("rolsuper", "NOSUPERUSER", "SUPERUSER"),
    ("rolbypassrls", "NOBYPASSRLS", "BYPASSRLS"),
    ("rolreplication", "NOREPLICATION", "REPLICATION"),
    ("rolcreaterole", "NOCREATEROLE", "CREATEROLE"),
    ("rolcreatedb", "NOCREATEDB", "CREATEDB"),
)


@dataclass(frozen=True)
class Admin:
    """The role running an administrative path, and the server it runs on."""

    name: str
    superuser: bool
    createrole: bool
    version: int

    @property
    def quoted(self) -> str:
        return quote_role(self.name)


def quote_role(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


def admin_of(connection: Connection) -> Admin:
    row = connection.execute(
        text(
            "SELECT current_user, rolsuper, rolcreaterole, "
            "current_setting('server_version_num')::int FROM pg_roles WHERE rolname = current_user"
        )
    ).one()
    return Admin(str(row[0]), bool(row[1]), bool(row[2]), int(row[3]))


def require_createrole(admin: Admin) -> None:
    if not (admin.superuser or admin.createrole):
        raise ConfigError(
            f"Role {admin.name} may not create or change roles (it has no CREATEROLE). Use the "
            "database owner's URL: on Neon, RDS or Cloud SQL the owner role the service made "
            "(neondb_owner, postgres, ...), which has CREATEROLE."
        )


def exists(connection: Connection, role: str) -> bool:
    found = connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    return found.first() is not None


def require_admin_over(connection: Connection, admin: Admin, role: str) -> None:
    """On 16+ a CREATEROLE owner manages only roles it holds ADMIN OPTION on; say so plainly."""
    if admin.superuser or admin.version < V16:
        return
    allowed = connection.execute(
        text("SELECT pg_has_role(current_user, :r, 'MEMBER WITH ADMIN OPTION')"), {"r": role}
    ).scalar()
    if not allowed:
        raise ConfigError(
            f"Role {role} was made by another role, and on PostgreSQL 16+ a CREATEROLE role "
            f"such as {admin.name} may only manage roles it made itself or holds ADMIN OPTION "
            f"on. As a superuser (or as {role}'s creator) run: GRANT {quote_role(role)} TO "
            f"{admin.quoted} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE; then run this again."
        )


def settle_attributes(
    connection: Connection, admin: Admin, role: str, *, login: bool, inherit: bool
) -> None:
    """Clear whatever dangerous attribute `role` has, naming only those: a CREATEROLE owner
    may not even state `NOSUPERUSER`. One it may not clear is a `ConfigError` with the fix."""
    held = (
        connection.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolreplication, rolcreaterole, rolcreatedb, "
                "rolcanlogin, rolinherit FROM pg_roles WHERE rolname = :r"
            ),
            {"r": role},
        )
        .mappings()
        .one()
    )
    wrong = [(clear, name) for column, clear, name in _DANGEROUS if held[column]]
    if held["rolcanlogin"] and not login:
        wrong.append(("NOLOGIN", "LOGIN"))
    if not held["rolinherit"] and inherit:
        wrong.append(("INHERIT", "NOINHERIT"))
    if not wrong:
        return
    fix = f"ALTER ROLE {quote_role(role)} {' '.join(clear for clear, _ in wrong)}"
    try:
        connection.execute(text(fix))
    except DBAPIError:
        names = ", ".join(name for _, name in wrong)
        raise ConfigError(
            f"Role {role} has {names}, which a per-user role or its group must not have (it "
            f"could reach past the row-level security), and {admin.name} may not change that "
            f"(SUPERUSER, BYPASSRLS and REPLICATION only a superuser may). Ask a superuser to "
            f"run `{fix}` (or to drop the role), then run this again."
        ) from None


def ensure_group_role(connection: Connection, admin: Admin) -> None:
    """`wb_user` exists, has no attribute that lifts RLS, and this owner may grant it."""
    require_createrole(admin)
    # Cluster-wide, so two databases on one server may race to create it: either wins.
    connection.execute(
        text(
            f"""DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{GROUP_ROLE}') THEN
                CREATE ROLE {GROUP_ROLE} NOLOGIN;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$"""
        )
    )
    require_admin_over(connection, admin, GROUP_ROLE)
    settle_attributes(connection, admin, GROUP_ROLE, login=False, inherit=False)
