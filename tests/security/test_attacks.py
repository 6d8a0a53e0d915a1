"""B, connected as their own role and typing raw SQL, tries everything on A's rows; nothing leaks.

Every statement B tries is counted, and every row of A's that B gets to see, write or change is
a leak; the tests fail on one leak, and on any table in the catalog they do not cover.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from tests.security.hub import Hub
from workbench.db.security.deletes import definer_delete_sql

# Nobody's rows: readable by every role on purpose (the schema revision, install facts).
SHARED_READABLE = {("workbench", "alembic_version"), ("workbench", "installation_setting")}
# Changed in a forged row, so that a unique index is never what refuses it.
FRESH_TEXT = ("id", "name", "key", "token", "email", "provider", "identifier", "accountId")
FRESH_NUMBER = ("position", "orderIndex", "repeat", "turn_index", "version", "expectation_index")
USER_COLUMNS = ("user_id", "userId")
Conn = psycopg.Connection[Any]


@dataclass
class Tally:
    tried: int = 0
    leaked: list[str] = field(default_factory=list)
    refused: int = 0

    def run(self, conn: Conn, statement: Any, params: Any = None) -> list[str] | None:
        """One attack in a transaction that is always rolled back: rows as text, None if refused."""
        self.tried += 1
        conn.execute("BEGIN")
        try:
            cursor = conn.execute(statement, params)
            return [str(row[0]) for row in cursor.fetchall()] if cursor.description else []
        except psycopg.errors.InsufficientPrivilege:
            self.refused += 1
            return None
        finally:
            conn.execute("ROLLBACK")

    def count(self, what: str, rows: list[str] | None, marker: str) -> None:
        for row in rows or []:
            if marker in row:
                self.leaked.append(f"{what}: {row[:120]}")


def catalog_tables(admin: Conn) -> list[tuple[str, str]]:
    rows = admin.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname IN ('public', 'workbench') AND c.relkind IN ('r', 'p') ORDER BY 1, 2"
    ).fetchall()
    return [(str(schema), str(table)) for schema, table in rows]


def ident(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def rows_with(admin: Conn, name: sql.Composed, marker: str) -> list[dict[str, Any]]:
    query = sql.SQL("SELECT to_jsonb(t) FROM {} t WHERE to_jsonb(t)::text LIKE %s").format(name)
    return [row[0] for row in admin.execute(query, (f"%{marker}%",)).fetchall()]


def forged(row: dict[str, Any], marker: str) -> dict[str, Any]:
    """A's row with its unique parts changed: a new row of A's, as B would forge it."""
    copy = dict(row)
    for column in FRESH_TEXT:
        if isinstance(copy.get(column), str):
            copy[column] = f"{marker}-forged-{secrets.token_hex(4)}"
    for column in FRESH_NUMBER:
        if isinstance(copy.get(column), int):
            copy[column] += 1000
    if isinstance(copy.get("id"), int):
        del copy["id"]  # a serial: the sequence gives the new row its id
    return copy


def test_every_table_in_the_catalog_is_covered(hub: Hub) -> None:
    with hub.admin() as admin:
        uncovered = [
            f"{schema}.{table}"
            for schema, table in catalog_tables(admin)
            if (schema, table) not in SHARED_READABLE
            and not (
                rows_with(admin, ident(schema, table), hub.a.marker)
                and rows_with(admin, ident(schema, table), hub.b.marker)
            )
        ]
    assert not uncovered, f"seed A's and B's rows in tests/security/conftest.py for {uncovered}"


def test_b_cannot_read_write_or_change_a_rows_in_any_table(hub: Hub) -> None:
    tally = Tally()
    with hub.admin() as admin, hub.b.connect() as b:
        tables = catalog_tables(admin)
        for schema, table in tables:
            attack_table(tally, admin, b, hub, schema, table)
    assert tally.leaked == [], f"{len(tally.leaked)} rows leaked in {tally.tried} statements"
    assert tally.tried >= 7 * len(tables) and tally.refused > 0


def attack_table(tally: Tally, admin: Conn, b: Conn, hub: Hub, schema: str, table: str) -> None:
    name, a = ident(schema, table), hub.a.marker
    where = f"{schema}.{table}"
    tally.count(
        f"SELECT {where}", tally.run(b, sql.SQL("SELECT to_jsonb(t) FROM {} t").format(name)), a
    )
    copied = sql.SQL("SELECT to_jsonb(t) FROM {} t").format(name)
    tally.count(
        f"COPY {where}", copy_out(tally, b, sql.SQL("COPY ({}) TO STDOUT").format(copied)), a
    )
    tally.count(
        f"COPY table {where}", copy_out(tally, b, sql.SQL("COPY {} TO STDOUT").format(name)), a
    )
    every = sql.SQL("RETURNING to_jsonb({}.*)").format(sql.Identifier(table))
    columns = sorted(rows_with(admin, name, a)[0]) if rows_with(admin, name, a) else []
    if columns:
        column = sql.Identifier("name" if table == "user" else columns[0])
        update = sql.SQL("UPDATE {} SET {} = {} {}").format(name, column, column, every)
        tally.count(f"UPDATE {where}", tally.run(b, update), a)
    tally.count(
        f"DELETE {where}", tally.run(b, sql.SQL("DELETE FROM {} {}").format(name, every)), a
    )
    for row in rows_with(admin, name, a):
        forge_insert(tally, b, name, where, forged(row, a))
    for column_name in USER_COLUMNS:
        if column_name in columns:  # hand B's own rows over to A
            give = sql.SQL("UPDATE {} SET {} = %s {}").format(
                name, sql.Identifier(column_name), every
            )
            tally.count(f"UPDATE {where} to A", tally.run(b, give, (hub.a.user_id,)), hub.a.user_id)
    stats = (
        "SELECT coalesce(most_common_vals::text, '') || coalesce(histogram_bounds::text, '') "
        "FROM pg_stats WHERE schemaname = %s AND tablename = %s"
    )
    tally.count(f"pg_stats {where}", tally.run(b, stats, (schema, table)), a)


def copy_out(tally: Tally, b: Conn, statement: sql.Composed) -> list[str] | None:
    tally.tried += 1
    try:
        with b.cursor() as cursor, cursor.copy(statement) as copy:
            return [bytes(chunk).decode() for chunk in copy]
    except psycopg.errors.InsufficientPrivilege:
        tally.refused += 1
        return None


def forge_insert(
    tally: Tally, b: Conn, name: sql.Composed, where: str, row: dict[str, Any]
) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(column) for column in row)
    insert = sql.SQL(
        "INSERT INTO {} ({}) SELECT {} FROM jsonb_populate_record(NULL::{}, %s) RETURNING 1"
    ).format(name, columns, columns, name)
    tally.tried += 1
    b.execute("BEGIN")
    try:
        b.execute(insert, (json.dumps(row),))
        tally.leaked.append(f"INSERT {where} accepted a row of A's: {row}")
    except psycopg.errors.InsufficientPrivilege:
        tally.refused += 1  # no INSERT privilege, or the row-level policy refused it
    except psycopg.Error as error:  # refused, but not by the policy: fix the forgery
        tally.leaked.append(f"INSERT {where} refused by {type(error).__name__}, not the policy")
    finally:
        b.execute("ROLLBACK")


def test_b_sees_and_uses_their_own_rows_through_the_same_statements(hub: Hub) -> None:
    """The control: the policies do not pass the attacks by refusing everything."""
    closed = {"session", "account", "verification", "sign_in_failure", "db_role_user", "admin_lock"}
    tally = Tally()
    with hub.admin() as admin, hub.b.connect() as b:
        for schema, table in catalog_tables(admin):
            if (schema, table) in SHARED_READABLE or table in closed:
                continue
            rows = tally.run(
                b, sql.SQL("SELECT to_jsonb(t) FROM {} t").format(ident(schema, table))
            )
            assert rows and all(hub.b.marker in row for row in rows), f"{schema}.{table}"
        b.execute("BEGIN")
        b.execute(
            'INSERT INTO "Scenario" (id, user_id, name, "updatedAt") VALUES '
            "('b-new', workbench.current_user_id(), 'new', now())"
        )
        b.execute(
            'INSERT INTO "ScenarioTurn" ("scenarioId", "orderIndex", "turnType") '
            "VALUES ('b-new', 0, 'USER')"
        )
        updated = b.execute("UPDATE \"Scenario\" SET name = 'renamed' WHERE id = 'b-new'")
        # No DELETE privilege (it would let B lock the table): B deletes through the definer.
        deleted = b.execute(definer_delete_sql('"public"."Scenario"', "id = 'b-new'", "id"))
        b.execute("ROLLBACK")
        assert updated.rowcount == 1 and deleted.fetchall() == [("b-new",)]
