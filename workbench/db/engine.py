"""Opening the database: resolve the URL, connect, and check the schema is current.

`open_database()` is the one place that turns configuration into a live engine. It connects
once, up front, so a wrong host or password surfaces as a `ConfigError` here, not as a driver
traceback from the first query a notebook happens to run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.revision import HEAD_REVISION
from workbench.db.url import display, host_of, parse_database_url
from workbench.errors import ConfigError

DEFINER_DELETES = "workbench.definer_deletes"
"""`Session.info` key: the session deletes through `workbench.delete_rows` (db/security)."""


@dataclass
class Database:
    """A live engine plus how it was configured. Services open transactions through it."""

    engine: Engine
    url: URL
    source: str
    """Where the URL came from: "DATABASE_URL", "the embedded server" or "the given URL"."""
    local: bool
    """True for the embedded per-user server (local mode: no sign-in ceremony)."""
    definer_counts: bool = False
    """Connected as a per-user role under row-level security, on a database whose `db secure`
    made `workbench.scenario_counts`: the catalog counts through it (workbench/db/security)."""
    definer_deletes: bool = False
    """Connected as a per-user role, which holds no DELETE privilege (it would let the role lock
    whole tables): rows are deleted through `workbench.delete_rows` (db/security/deletes.py)."""
    sessions: sessionmaker[Session] = field(init=False)
    read_sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Autocommit: a single SELECT is its own consistent snapshot, and skipping BEGIN and
        # COMMIT makes a read one round trip instead of three.
        autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessions = sessionmaker(autocommit, expire_on_commit=False)

    @classmethod
    def bound_to(cls, connection: Connection, *, local: bool = False) -> Database:
        """A Database whose transactions are savepoints inside `connection`'s transaction.

        Tests use it: everything a test does is rolled back with the outer transaction.
        """
        database = cls(connection.engine, connection.engine.url, "a test connection", local)
        database.sessions = sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        database.read_sessions = database.sessions
        return database

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        with self.sessions.begin() as session:
            session.info[DEFINER_DELETES] = self.definer_deletes
            yield session

    @contextmanager
    def single_statement_read(self) -> Iterator[Session]:
        """For a read that is ONE statement: autocommit, one round trip, nothing to roll back.

        Reads of several statements that must agree use `transaction()` instead.
        """
        with self.read_sessions() as session:
            yield session

    def describe(self) -> str:
        """Where this database is, password masked: for messages and reprs."""
        return f"{display(self.url)} (from {self.source})"

    def __repr__(self) -> str:
        return f"Database({self.describe()})"


def resolve_url(url: str | None = None) -> tuple[URL, str, bool]:
    """The URL to use, where it came from, and whether it is the embedded server."""
    if url is not None:
        return parse_database_url(url, source="the given URL"), "the given URL", False
    raw = os.environ.get("DATABASE_URL", "").strip()
    if raw:
        return parse_database_url(raw), "DATABASE_URL", False
    from workbench.db import embedded  # only without a URL: a worker's process never needs it

    return embedded.ensure_server(), "the embedded server", True


def open_database(url: str | None = None, *, check_schema: bool = True) -> Database:
    """Connect to `url`, else `DATABASE_URL`, else the embedded per-user server.

    With the embedded server a schema that is behind is upgraded on the spot (it is ours);
    any other server must be upgraded explicitly with `workbench db upgrade`.
    """
    resolved, source, local = resolve_url(url)
    engine = create_engine(resolved, pool_pre_ping=False, connect_args={"connect_timeout": 10})
    database = Database(engine, resolved, source, local)
    revision = current_revision(database)
    if check_schema and revision != HEAD_REVISION:
        if local:
            from workbench.db.migrate import upgrade

            upgrade(database)
        else:
            raise schema_behind(database, revision)
    return database


def current_revision(database: Database) -> str | None:
    """The Alembic revision the database is at, or None for a database never upgraded."""
    try:
        with database.engine.connect() as conn:
            exists = conn.execute(
                text("SELECT to_regclass(:name)"), {"name": f"{WORKBENCH_SCHEMA}.alembic_version"}
            ).scalar()
            if exists is None:
                return None
            row = conn.execute(
                text(f"SELECT version_num FROM {WORKBENCH_SCHEMA}.alembic_version")
            ).first()
    except DBAPIError as error:
        raise connection_error(database.url, database.source, error) from None
    return None if row is None else str(row[0])


def schema_behind(database: Database, revision: str | None) -> ConfigError:
    at = "has no workbench schema yet" if revision is None else f"is at revision {revision}"
    return ConfigError(
        f"The database at {host_of(database.url)} (from {database.source}) {at}; this workbench "
        f"needs revision {HEAD_REVISION}. Run `workbench db upgrade` (with the same DATABASE_URL)."
    )


def connection_error(url: URL, source: str, error: DBAPIError) -> ConfigError:
    """Translate a failed connection into an actionable message, password masked."""
    detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    if url.password:
        detail = detail.replace(str(url.password), "***")
    host = host_of(url)
    if "password authentication failed" in detail or "authentication failed" in detail:
        hint = f"the password for user {url.username!r} was refused; check it in {source}"
    elif "does not exist" in detail and "database" in detail:
        hint = f"database {url.database!r} does not exist on {host}; create it or fix {source}"
    elif "timeout" in detail or "could not translate host" in detail or "refused" in detail:
        hint = f"no PostgreSQL server answered at {host}; check the host and port in {source}"
    else:
        hint = f"check {source}"
    return ConfigError(
        f"Could not connect to the database at {host} ({display(url)}): {hint}. ({detail})"
    )
