"""`workbench db check`: compare a database's `public` schema with the shared contract.

The expected side is Prisma's own SQL (`contract/schema.sql`), applied in a scratch schema inside a
transaction that is always rolled back, so the check needs no second database and leaves no trace.
Both sides are read from the catalogs with the same queries as `shared/tools/schema_diff.py`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

CONTRACT_SQL = Path(__file__).with_name("contract") / "schema.sql"

# What a healthy database beside the web app may hold beyond the contract.
BETTER_AUTH_EXTRAS = {("column", "account.issuer"): "Better Auth 1.7 column"}
# Better Auth 1.7.0 to 1.7.2 made `account.issuer` required; 1.7.3 and later never write it and
# refuse to sign up while a required column they do not write exists (Prisma's adapter inserts
# the user first, then fails: an orphaned user). So the extra is fine only if it can be left out.
ISSUER = "account.issuer"
ISSUER_FIX = 'ALTER TABLE "account" ALTER COLUMN "issuer" DROP NOT NULL'
PRISMA_HISTORY = "_prisma_migrations"

CATALOG_QUERIES = {
    "enum": """
        SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = :schema GROUP BY t.typname""",
    "table": """
        SELECT c.relname, c.relkind::text FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :schema AND c.relkind IN ('r', 'v', 'm', 'p')""",
    "column": """
        SELECT c.relname || '.' || a.attname,
               format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
               || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = :schema AND c.relkind = 'r' AND a.attnum > 0
          AND NOT a.attisdropped""",
    "index": """
        SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = :schema""",
    "constraint": """
        SELECT cl.relname || '.' || co.conname, pg_get_constraintdef(co.oid)
        FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
        JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = :schema AND co.contype IN ('p', 'u', 'f', 'c')""",
}


@dataclass(frozen=True)
class Difference:
    """One way the database differs from the contract, as one readable line."""

    change: str  # "missing", "extra" or "different"
    kind: str  # "enum", "table", "column", "index" or "constraint"
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.change} {self.kind} {self.name}: {self.detail}"


@dataclass(frozen=True)
class ContractReport:
    differences: list[Difference]
    allowed: list[str]
    """Extras that are expected beside the web app, reported but not failures."""

    @property
    def matches(self) -> bool:
        return not self.differences


def check_contract(connection: Connection, schema: str = "public") -> ContractReport:
    """Compare `schema` with the contract; the connection's transaction state is untouched."""
    scratch = f"wb_contract_{secrets.token_hex(4)}"
    with connection.begin_nested() as savepoint:
        connection.execute(text(f'CREATE SCHEMA "{scratch}"'))
        connection.execute(text(f'SET LOCAL search_path TO "{scratch}"'))
        connection.exec_driver_sql(CONTRACT_SQL.read_text(encoding="utf-8"))
        expected = _snapshot(connection, scratch)
        connection.execute(text(f'SET LOCAL search_path TO "{schema}"'))
        actual = _snapshot(connection, schema)
        savepoint.rollback()
    return _compare(expected, actual)


def _snapshot(connection: Connection, schema: str) -> dict[str, dict[str, str]]:
    snapshot = {
        kind: {
            str(name): str(value)
            for name, value in connection.execute(text(query), {"schema": schema})
        }
        for kind, query in CATALOG_QUERIES.items()
    }
    # Index definitions name their schema; strip it so two schemas compare equal.
    snapshot["index"] = {
        name: re.sub(r" ON (\"?[^\s\"]+\"?)\.", " ON ", definition)
        for name, definition in snapshot["index"].items()
    }
    return snapshot


def _compare(
    expected: dict[str, dict[str, str]], actual: dict[str, dict[str, str]]
) -> ContractReport:
    differences: list[Difference] = []
    allowed: list[str] = []
    for kind in CATALOG_QUERIES:
        want, have = expected[kind], actual[kind]
        for name in sorted(want.keys() - have.keys()):
            differences.append(Difference("missing", kind, name, want[name]))
        for name in sorted(have.keys() - want.keys()):
            reason = _allowed_reason(kind, name)
            if reason and not _required_issuer(kind, name, have[name]):
                allowed.append(f"{kind} {name} ({reason})")
            elif reason:
                detail = (
                    f"{have[name]}; required with no default, which breaks sign-up in Better "
                    f"Auth 1.7.3 and later (they never write it). Fix: {ISSUER_FIX}"
                )
                differences.append(Difference("extra", kind, name, detail))
            else:
                differences.append(Difference("extra", kind, name, have[name]))
        for name in sorted(want.keys() & have.keys()):
            if want[name] != have[name]:
                detail = f"expected {want[name]!r}, found {have[name]!r}"
                differences.append(Difference("different", kind, name, detail))
    return ContractReport(differences, allowed)


def _allowed_reason(kind: str, name: str) -> str | None:
    if name.startswith(PRISMA_HISTORY):  # the table, its columns, key and index
        return "Prisma's migration history"
    return BETTER_AUTH_EXTRAS.get((kind, name))


def _required_issuer(kind: str, name: str, definition: str) -> bool:
    """`account.issuer` as NOT NULL without a default: an insert that omits it fails."""
    return (
        kind == "column"
        and name == ISSUER
        and " NOT NULL" in definition
        and " DEFAULT " not in definition
    )
