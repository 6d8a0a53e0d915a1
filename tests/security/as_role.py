"""Running service code as a per-user role inside a test's rolled-back transaction.

`SET SESSION AUTHORIZATION` changes `session_user` (what the policies key on) for the test's
one connection; only a superuser may issue it, and it is undone with the transaction, so the
role, its mapping and everything it wrote vanish when the test ends. With
`WORKBENCH_TEST_AS_ROLE=1` the `wb`/`other_wb` fixtures hand out handles that run this way, so
the service tests run under the policies (`.ci/run` does this once).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from workbench.db.engine import Database
from workbench.db.security.attributes import quote_role
from workbench.db.security.roles import role_name_for
from workbench.db.security.sql import GROUP_ROLE, MAPPING

ROLE_MODE_VARIABLE = "WORKBENCH_TEST_AS_ROLE"


def role_mode() -> bool:
    return os.environ.get(ROLE_MODE_VARIABLE, "") not in ("", "0")


class RoleBoundDatabase(Database):
    """A test Database whose every transaction runs as `role` (session_user and current_user)."""

    role: str

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with super().transaction() as session, _as_role(session, self.role):
            yield session

    @contextmanager
    def single_statement_read(self) -> Iterator[Session]:
        with super().single_statement_read() as session, _as_role(session, self.role):
            yield session


@contextmanager
def _as_role(session: Session, role: str) -> Iterator[None]:
    # Straight to libpq: the tests that count what a service sends (tests/statement_count.py,
    # at psycopg's cursor) count the service's statements, not this harness's.
    driver = session.connection().connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    _exec(driver, f"SET SESSION AUTHORIZATION {quote_role(role)}")
    yield
    # Only on success: after an error the savepoint's rollback undoes the SET by itself.
    _exec(driver, "RESET SESSION AUTHORIZATION")


def _exec(driver: psycopg.Connection[Any], statement: str) -> None:
    result = driver.pgconn.exec_(statement.encode())
    if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
        message = (result.error_message or b"").decode(errors="replace")
        raise AssertionError(f"{statement} failed: {message}")


def bind_as_role(db: Database, user_id: str) -> RoleBoundDatabase:
    """Create and map `user_id`'s role inside the test transaction; a Database running as it."""
    role = role_name_for(user_id)
    with db.transaction() as session:
        session.execute(text(f"CREATE ROLE {quote_role(role)} NOLOGIN NOBYPASSRLS"))
        session.execute(text(f"GRANT {GROUP_ROLE} TO {quote_role(role)}"))
        session.execute(
            text(f"INSERT INTO {MAPPING} (role_name, user_id) VALUES (:r, :u)"),
            {"r": role, "u": user_id},
        )
    bound = RoleBoundDatabase(db.engine, db.url, f"a test connection as {role}", db.local)
    bound.sessions = db.sessions
    bound.read_sessions = db.read_sessions
    bound.role = role
    bound.definer_counts = True  # the role-mode database was secured by this code
    bound.definer_deletes = True
    return bound
