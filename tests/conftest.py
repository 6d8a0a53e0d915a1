"""Fixtures shared by every test: a real PostgreSQL, never SQLite, never a mock.

The server is `WORKBENCH_TEST_DATABASE_URL` when set, else the embedded per-user server. The
session creates one scratch database, migrates it, and drops it at the end. Each test gets
either `db` (everything it does is rolled back) or `committed_db` (real commits, for tests of
concurrency and atomicity; the tables are emptied afterwards).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from tests.security.as_role import bind_as_role, role_mode
from tests.security.owners import (
    create_database,
    createrole_owner,
    createrole_owner_mode,
    drop_database,
)
from workbench.crypto.tokens import new_id
from workbench.db.engine import Database, open_database
from workbench.db.migrate import upgrade
from workbench.db.models import User
from workbench.db.url import DRIVER
from workbench.handle import SignedInUser, Workbench
from workbench.timeutil import utcnow

CONTRACT_TABLES = (
    '"user", "session", "account", "verification", "Scenario", "ScenarioTurn", '
    '"ScenarioExpectation", "ScenarioVersion", "ScenarioSuite", "ScenarioSuiteItem", '
    '"prompt", "variable", "user_api_key"'
)


def libpq(url: URL) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    return url.render_as_string(hide_password=False).replace(DRIVER, "postgresql", 1)


@pytest.fixture(scope="session")
def server_url() -> URL:
    """An administrative URL on the test server (database `postgres`)."""
    raw = os.environ.get("WORKBENCH_TEST_DATABASE_URL")
    if raw:
        from workbench.db.url import parse_database_url

        return parse_database_url(raw, source="WORKBENCH_TEST_DATABASE_URL")
    from workbench.db.embedded import ensure_server

    return ensure_server().set(database="postgres")


@pytest.fixture(scope="session")
def scratch_database(server_url: URL) -> Iterator[Callable[[], URL]]:
    """Make a fresh database on the test server and drop it when the session ends.

    With WORKBENCH_TEST_OWNER=createrole its owner, and the role its URL names, is a
    `LOGIN CREATEROLE` role that is no superuser, as on Neon (tests/security/owners.py).
    """
    created: list[str] = []
    admin = libpq(server_url)
    with ExitStack() as stack:
        owner = stack.enter_context(createrole_owner(admin)) if createrole_owner_mode() else None

        def make() -> URL:
            name = f"wbtest_{secrets.token_hex(6)}"
            create_database(admin, name, owner)
            created.append(name)
            if owner is None:
                return server_url.set(database=name)
            return server_url.set(database=name, username=owner, password=None)

        yield make
        for name in created:
            drop_database(admin, name)


@pytest.fixture(scope="session")
def migrated_url(scratch_database: Callable[[], URL]) -> URL:
    """One database for the session, upgraded to the head revision."""
    url = scratch_database()
    database = open_database(url.render_as_string(hide_password=False), check_schema=False)
    upgrade(database)
    if role_mode():  # WORKBENCH_TEST_AS_ROLE: `wb` and `other_wb` run as per-user roles
        from workbench.db.security import secure

        with database.engine.begin() as connection:
            secure(connection)
    database.engine.dispose()
    return url


@pytest.fixture(scope="session")
def migrated_database(migrated_url: URL) -> Database:
    return open_database(migrated_url.render_as_string(hide_password=False))


@pytest.fixture
def db(migrated_database: Database) -> Iterator[Database]:
    """A Database whose every transaction is rolled back when the test ends."""
    with migrated_database.engine.connect() as connection:
        outer = connection.begin()
        yield Database.bound_to(connection)
        outer.rollback()


@pytest.fixture
def committed_db(migrated_database: Database) -> Iterator[Database]:
    """A Database that really commits; the contract tables are emptied afterwards."""
    yield migrated_database
    with migrated_database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {CONTRACT_TABLES} CASCADE"))


def insert_user(
    database: Database, email: str | None = None, name: str = "Test User"
) -> SignedInUser:
    """A user row written directly, for tests of services that do not exercise sign-in."""
    user_id = new_id()
    email = email or f"{user_id.lower()}@example.com"
    now = utcnow()
    with database.transaction() as session:
        session.add(
            User(
                id=user_id,
                name=name,
                email=email,
                email_verified=False,
                created_at=now,
                updated_at=now,
            )
        )
    return SignedInUser(id=user_id, email=email, name=name)


def user_handle(db: Database, name: str) -> Workbench:
    """A fresh user's handle; under WORKBENCH_TEST_AS_ROLE its services run as its own role."""
    user = insert_user(db, name=name)
    return Workbench(bind_as_role(db, user.id) if role_mode() else db, user)


@pytest.fixture
def wb(db: Database) -> Workbench:
    """A Workbench handle for a fresh user; rolled back with the test."""
    return user_handle(db, "Ada")


@pytest.fixture
def other_wb(db: Database) -> Workbench:
    """A second user's handle on the same database, for scoping tests."""
    return user_handle(db, "Bob")


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """WORKBENCH_HOME in a temporary directory: token files and config stay out of the real one.

    Only for tests that pass database URLs explicitly: the embedded server lives under it too.
    """
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    return tmp_path
