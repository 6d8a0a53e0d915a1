"""`workbench db secure`: the group role, the mapping, the definer function, grants, policies.

Every table in `public` and `workbench` is classified, and anything unclassified fails the whole
command (one transaction, nothing half-applied), so a table the web app adds later is never left
open: a table with a `user_id`/`userId` column gets the direct policy automatically; child tables
are declared here; everything else must be named as read-only or closed.

RLS is ENABLEd, not FORCEd: the owner (the web app, `db upgrade`, the workbench without hub
roles) must keep seeing every row, and FORCE would subject it to policies that are all
`TO wb_user`, hiding everything from it. Superusers and the owner bypass RLS; `wb_user` does not.

No table-level UPDATE, DELETE or TRUNCATE for `wb_user`: any of them would let a per-user role
`LOCK` the whole table in ACCESS EXCLUSIVE mode (deletes.py says why and how rows are deleted).
The command takes the `schema` lock of admin_lock and then every table's lock, each wait
bounded (locks.py): a user's open transaction makes it fail with the holder's name, not hang.
It works for a `LOGIN CREATEROLE` owner as well as a superuser (attributes.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.engine import Database
from workbench.db.security.attributes import admin_of, ensure_group_role
from workbench.db.security.deletes import delete_function_statements
from workbench.db.security.locks import Wanted, lock_schema, translated_lock_timeout
from workbench.db.security.sql import (
    GROUP_ROLE,
    MAPPING_TABLE,
    ME,
    POLICY_PREFIX,
    quote_table,
    setup_statements,
)
from workbench.db.security.statistics import revoke_statistics
from workbench.errors import ConfigError, WorkbenchError

# The advisory lock of databases older than admin_lock (migration 0005), which still need one.
SECURE_LOCK = 0x7762736563757265  # "wbsecure"
ACTION = "secure the database"
USER_COLUMNS = ("user_id", "userId")

# Closed: no grant, RLS on with no policy. Identity on a hub comes from the role, not a password,
# so sessions, accounts (password hashes) and verification tokens are nobody's business there.
CLOSED = frozenset(
    {
        ("public", "session"),
        ("public", "account"),
        ("public", "verification"),
        ("public", "_prisma_migrations"),
        (WORKBENCH_SCHEMA, "sign_in_failure"),
        (WORKBENCH_SCHEMA, MAPPING_TABLE),
        (WORKBENCH_SCHEMA, "admin_lock"),  # per-user roles must not lock what admins wait on
    }
)
# Read by everyone: `open_database` checks the revision, migrations remember their settings.
READ_ONLY = frozenset(
    {(WORKBENCH_SCHEMA, "installation_setting"), (WORKBENCH_SCHEMA, "alembic_version")}
)

_SCENARIO = (
    f'EXISTS (SELECT 1 FROM public."Scenario" s WHERE s.id = "scenarioId" AND s.user_id = {ME})'
)
_SUITE = (
    f'EXISTS (SELECT 1 FROM public."ScenarioSuite" s WHERE s.id = "suiteId" AND s.user_id = {ME})'
)
_TURN = 'EXISTS (SELECT 1 FROM public."ScenarioTurn" t WHERE t.id = "turnId")'  # its own policy
# Child tables without a user column: (USING, WITH CHECK). A new row must hang off your parents
# only, so a row cannot be attached to (and cascade-deleted with) another user's scenario.
CHILDREN: dict[tuple[str, str], tuple[str, str]] = {
    ("public", "ScenarioTurn"): (_SCENARIO, _SCENARIO),
    ("public", "ScenarioExpectation"): (_SCENARIO, f"{_SCENARIO} AND {_TURN}"),
    ("public", "ScenarioVersion"): (_SCENARIO, _SCENARIO),
    ("public", "ScenarioSuiteItem"): (f"{_SUITE} AND {_SCENARIO}", f"{_SUITE} AND {_SCENARIO}"),
}
# "user": your own row; you may rename yourself, never change your email (its unique index
# would tell you whose address exists) nor insert or delete users (revoking is an admin's job).
USER_TABLE = ("public", "user")
USER_UPDATABLE = ('"name"', '"image"', '"updatedAt"')


@dataclass(frozen=True)
class SecureReport:
    """What `secure` did, one line per table: `public."Scenario": own rows (user_id)`."""

    tables: dict[str, str] = field(default_factory=dict)
    server_version: int = 0
    notes: tuple[str, ...] = ()
    """What else it did, or could not do (one line each)."""

    def lines(self) -> list[str]:
        return [f"{name}: {kind}" for name, kind in sorted(self.tables.items())]


def secure_database(database: Database) -> SecureReport:
    """`secure` in its own transaction: all or nothing, every refusal a `ConfigError`."""
    try:
        with translated_lock_timeout(database.engine, ACTION), database.engine.begin() as c:
            return secure(c)
    except WorkbenchError:
        raise
    except DBAPIError as error:
        detail = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise ConfigError(
            f"`workbench db secure` changed nothing: {detail}. Run it with the database owner's "
            "URL (the role that owns the tables: a superuser, or the CREATEROLE owner of a "
            "managed database such as Neon's), after `workbench db upgrade`."
        ) from None


def secure(connection: Connection) -> SecureReport:
    """Apply roles, grants and policies in the connection's transaction; caller commits."""
    lock_schema(connection, SECURE_LOCK, ACTION)
    admin = admin_of(connection)
    ensure_group_role(connection, admin)
    for statement in setup_statements():
        connection.execute(text(statement))
    tables = _tables(connection)
    unknown = [name for name, plan in _plans(tables).items() if plan is None]
    if unknown:
        raise ConfigError(
            "`workbench db secure` changed nothing: these tables have no user column and no "
            "declared policy, so a per-user role could not be kept to its rows: "
            f"{', '.join(unknown)}. "
            "Add them to workbench/db/security/policies.py (CHILDREN, READ_ONLY or CLOSED)."
        )
    _lock_tables(connection, sorted(quote_table(*key) for key in tables))
    report: dict[str, str] = {}
    deletable: dict[str, str] = {}
    for (schema, table), columns in tables.items():
        report[quote_table(schema, table)] = _apply(connection, schema, table, columns, deletable)
    for statement in delete_function_statements(deletable):
        connection.execute(text(statement))
    statistics = revoke_statistics(connection, admin)
    _check_all_enabled(connection)
    return SecureReport(report, admin.version, (statistics,))


def _lock_tables(connection: Connection, names: list[str]) -> None:
    """Every table's ACCESS EXCLUSIVE lock (the policies need it), up front and in one order,
    so a user's open transaction makes the command fail naming them, not wait for ever."""
    if not names:
        return
    with (
        translated_lock_timeout(
            connection.engine, ACTION, Wanted(relations=names), waiting=connection
        ),
        connection.begin_nested(),
    ):
        connection.execute(text(f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE"))


def _tables(connection: Connection) -> dict[tuple[str, str], set[str]]:
    rows = connection.execute(
        text(
            """
            SELECT n.nspname, c.relname, a.attname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname IN ('public', :schema) AND c.relkind IN ('r', 'p')
            """
        ),
        {"schema": WORKBENCH_SCHEMA},
    )
    tables: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        tables.setdefault((schema, table), set()).add(column)
    return tables


def _plans(tables: dict[tuple[str, str], set[str]]) -> dict[str, str | None]:
    return {quote_table(*key): _kind(key, columns) for key, columns in tables.items()}


def _kind(key: tuple[str, str], columns: set[str]) -> str | None:
    if key in CLOSED:
        return "closed"
    if key in READ_ONLY:
        return "read-only"
    if key == USER_TABLE:
        return "own row"
    if key in CHILDREN:
        return "through its parent"
    column = _user_column(columns)
    return None if column is None else f"own rows ({column})"


def _user_column(columns: set[str]) -> str | None:
    return next((name for name in USER_COLUMNS if name in columns), None)


def _apply(
    connection: Connection,
    schema: str,
    table: str,
    columns: set[str],
    deletable: dict[str, str],
) -> str:
    name = quote_table(schema, table)
    kind = _kind((schema, table), columns)
    assert kind is not None  # unknown tables were refused before anything was applied
    statements = [
        f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
        f"REVOKE ALL ON {name} FROM {GROUP_ROLE}",
        *_drop_policies(connection, schema, table),
    ]
    policy = f'CREATE POLICY "{POLICY_PREFIX}rows" ON {name} AS PERMISSIVE'
    if kind == "read-only":
        statements += [
            f"GRANT SELECT ON {name} TO {GROUP_ROLE}",
            f"{policy} FOR SELECT TO {GROUP_ROLE} USING (true)",
        ]
    elif kind == "own row":
        updatable = ", ".join(USER_UPDATABLE)
        statements += [
            f"GRANT SELECT, UPDATE ({updatable}) ON {name} TO {GROUP_ROLE}",
            f"{policy} FOR ALL TO {GROUP_ROLE} USING (id = {ME}) WITH CHECK (id = {ME})",
        ]
    elif kind != "closed":
        using, check = CHILDREN.get((schema, table)) or (f'"{_user_column(columns)}" = {ME}',) * 2
        check = " AND ".join([check, *_parent_checks(connection, schema, table)])
        # UPDATE column by column and no DELETE: neither then lets the role lock the table.
        every = ", ".join('"' + column.replace('"', '""') + '"' for column in sorted(columns))
        deletable[name] = using
        statements += [
            f"GRANT SELECT, INSERT, UPDATE ({every}) ON {name} TO {GROUP_ROLE}",
            f"{policy} FOR ALL TO {GROUP_ROLE} USING ({using}) WITH CHECK ({check})",
            *_sequence_grants(connection, name, columns),
        ]
    for statement in statements:
        connection.execute(text(statement))
    return kind


def _parent_checks(connection: Connection, schema: str, table: str) -> list[str]:
    """For each foreign key: a new or changed row may only point at rows the caller can see.

    The constraint's own check runs as the owner and would accept another user's parent; a row
    hung under someone else's run or scenario would be theirs to cascade-delete. The parent's
    policy filters the subquery, so "visible" means "yours".
    """
    keys = connection.execute(
        text(
            """
            SELECT format('%I.%I', pn.nspname, p.relname),
                   array_agg(ca.attname::text ORDER BY k.ord),
                   array_agg(pa.attname::text ORDER BY k.ord)
            FROM pg_constraint co
            JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_class p ON p.oid = co.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
            CROSS JOIN LATERAL unnest(co.conkey, co.confkey) WITH ORDINALITY AS k(ck, pk, ord)
            JOIN pg_attribute ca ON ca.attrelid = c.oid AND ca.attnum = k.ck
            JOIN pg_attribute pa ON pa.attrelid = p.oid AND pa.attnum = k.pk
            WHERE co.contype = 'f' AND n.nspname = :s AND c.relname = :t
            GROUP BY co.oid, pn.nspname, p.relname ORDER BY co.oid
            """
        ),
        {"s": schema, "t": table},
    ).all()
    target = quote_table(schema, table)
    checks = []
    for parent, columns, parent_columns in keys:
        own = [f'{target}."{column}"' for column in columns]
        match = " AND ".join(f'p."{pc}" = {c}' for pc, c in zip(parent_columns, own, strict=True))
        nulls = " OR ".join(f"{c} IS NULL" for c in own)
        checks.append(f"({nulls} OR EXISTS (SELECT 1 FROM {parent} p WHERE {match}))")
    return checks


def _drop_policies(connection: Connection, schema: str, table: str) -> list[str]:
    names = connection.execute(
        text("SELECT policyname FROM pg_policies WHERE schemaname = :s AND tablename = :t"),
        {"s": schema, "t": table},
    ).scalars()
    target = quote_table(schema, table)
    return [
        f'DROP POLICY "{policy}" ON {target}'
        for policy in names
        if policy.startswith(POLICY_PREFIX)
    ]


def _sequence_grants(connection: Connection, name: str, columns: set[str]) -> list[str]:
    grants = []
    for column in sorted(columns):
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": name, "c": column}
        ).scalar()
        if sequence is not None:
            grants.append(f"GRANT USAGE ON SEQUENCE {sequence} TO {GROUP_ROLE}")
    return grants


def _check_all_enabled(connection: Connection) -> None:
    """After applying: no table in either schema may be reachable without RLS."""
    left_open = (
        connection.execute(
            text(
                """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('public', :schema) AND c.relkind IN ('r', 'p')
              AND NOT c.relrowsecurity ORDER BY 1
            """
            ),
            {"schema": WORKBENCH_SCHEMA},
        )
        .scalars()
        .all()
    )
    if left_open:
        raise ConfigError(f"Row-level security is still off on: {', '.join(left_open)}.")
