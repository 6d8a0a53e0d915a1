"""What every service shares: the user it is scoped to, and one transaction per action.

Database errors are translated here, once: a unique violation becomes `Duplicate` naming the
field (Prisma's P2002), a failed or lost connection becomes `ConfigError`, and a statement the
server could not run on a working connection becomes `DatabaseError` (SQLAlchemy's
`OperationalError` covers both, so they are told apart here). Services never catch driver
exceptions themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from workbench.db.engine import Database, connection_error
from workbench.errors import (
    ConfigError,
    DatabaseError,
    Duplicate,
    ResultsNotStored,
    ValidationError,
)

# When the server went away, returning a dead connection to the pool fails too and SQLAlchemy
# logs "Exception during reset or similar" with a traceback; with no handler of its own that
# reaches stderr through logging's last resort. The error the user needs is the ConfigError
# raised here, so the pool's logger gets a NullHandler (an application that configures logging
# still receives the record through propagation).
logging.getLogger("sqlalchemy.pool").addHandler(logging.NullHandler())

# Unique index → (field a user would recognise, what it is unique within).
UNIQUE_FIELDS: dict[str, tuple[str, str]] = {
    "user_email_key": ("email", "an account with this email already exists"),
    "Scenario_user_id_name_key": ("name", "you already have a scenario with this name"),
    "ScenarioSuite_user_id_name_key": ("name", "you already have a suite with this name"),
    "variable_user_id_key_key": ("key", "you already have a variable with this key"),
    "user_api_key_user_id_provider_key": ("provider", "you already have a key for this provider"),
    "ScenarioSuiteItem_pkey": ("scenario", "this scenario is already in the suite"),
    "ScenarioVersion_scenarioId_version_key": ("version", "this version already exists"),
}


@contextmanager
def translated_errors(database: Database) -> Iterator[None]:
    """Turn driver exceptions raised inside the block into the workbench's own errors."""
    try:
        yield
    except IntegrityError as error:
        raise integrity_error(error) from None
    except OperationalError as error:
        if not connection_lost(error):
            raise statement_error(error) from None
        raise reconnect_error(database, error) from None
    except DBAPIError as error:
        if unstorable_text(error):
            raise ValidationError(
                "Text contains a character PostgreSQL cannot store (a NUL character, \\x00); "
                "remove it and try again."
            ) from None
        problem = argument_problem(error)
        if problem is not None:
            raise ValidationError(problem) from None
        raise
    except UnicodeEncodeError:
        # psycopg encoding a parameter: a lone surrogate the service's own checks did not catch.
        raise ValidationError(
            "Text contains a lone surrogate (such as '\\ud800'), which is not valid Unicode and "
            "which PostgreSQL cannot store; remove it and try again."
        ) from None


@contextmanager
def run_errors(database: Database, run_id: str) -> Iterator[None]:
    """A run playing in the background whose database goes away (the embedded server stopped,
    the network dropped): the `ConfigError` every other call gives, saying how to go on.

    The run's own ledger calls use psycopg directly, so its errors are translated here too."""
    try:
        with translated_errors(database):
            yield
    except psycopg.OperationalError as error:
        sqlstate = getattr(error, "sqlstate", None) or ""
        if sqlstate and not sqlstate.startswith(("08", "57P")):
            raise statement_error(OperationalError(None, None, error)) from None
        found = reconnect_error(database, OperationalError(None, None, error))
        raise ConfigError(f"{found} {resume_hint(run_id)}") from None
    except ResultsNotStored as error:  # says what was lost and how to resume: add how to go on
        said = f"{error} The database is not answering this handle: {reconnect_hint(database)}."
        raise ResultsNotStored(said, run_id=error.run_id, count=error.count) from None
    except ConfigError as error:
        raise ConfigError(f"{error} {resume_hint(run_id)}") from None


def resume_hint(run_id: str) -> str:
    return (
        f"Run {run_id} stopped: the attempts written so far are kept; once wb.runs.list() shows "
        f"it interrupted, wb.runs.resume({run_id!r}) plays the rest."
    )


def connection_lost(error: DBAPIError) -> bool:
    """True when the connection failed or broke, not when one statement failed on it.

    A failed connection attempt carries the attempt's `pgconn`; a broken one is invalidated by
    SQLAlchemy or has an SQLSTATE of class 08 (connection exception) or 57P (server shutdown).
    Anything else (a cancelled statement, psycopg refusing more than 65,535 parameters) happened
    on a working connection and must not read as "could not connect".
    """
    if error.connection_invalidated or getattr(error.orig, "pgconn", None) is not None:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return sqlstate.startswith(("08", "57P"))


def reconnect_error(database: Database, error: DBAPIError) -> ConfigError:
    """`connection_error`'s message and what to do: connect again (restarting a local server)."""
    found = connection_error(database.url, database.source, error)
    again = reconnect_hint(database)
    return ConfigError(f"{found} The database is not answering this handle: {again}.")


def reconnect_hint(database: Database) -> str:
    """How to go on once the database stopped answering a handle."""
    if database.local:
        return "run workbench.connect() again: it starts the embedded server if it stopped"
    return "once the server is back, run workbench.connect() again (or sign in again)"


def statement_error(error: DBAPIError) -> DatabaseError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    sqlstate = getattr(error.orig, "sqlstate", None)
    code = f", SQLSTATE {sqlstate}" if sqlstate else ""
    return DatabaseError(
        f"The database could not run this request ({detail[:200]}{code}); "
        "nothing was changed. The connection itself is fine."
    )


def unstorable_text(error: DBAPIError) -> bool:
    """Text PostgreSQL cannot hold: psycopg refuses NUL before sending, the server the rest."""
    if isinstance(
        error.orig, pg_errors.CharacterNotInRepertoire | pg_errors.UntranslatableCharacter
    ):
        return True
    return "NUL (0x00)" in str(error.orig)


def argument_problem(error: DBAPIError) -> str | None:
    """What is wrong with an argument the database could not take as given, or None.

    The net under every service's own checks: an id that is a number (`get(12)`: "operator does
    not exist: text = integer"), a value psycopg cannot send (a dict), a number past the column's
    range. The statement never ran, so nothing was changed."""
    orig = error.orig
    if isinstance(orig, pg_errors.UndefinedFunction) or "cannot adapt type" in str(orig):
        return (
            "An argument has the wrong type: ids, names, keys and search text are text (a str), "
            "such as the ones wb.scenarios.list() and the other lists show. Nothing was changed."
        )
    if isinstance(orig, pg_errors.NumericValueOutOfRange):
        return "A number is out of range for the database; use a smaller one. Nothing was changed."
    return None


def integrity_error(error: IntegrityError) -> Exception:
    diag = getattr(error.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    if isinstance(error.orig, pg_errors.UniqueViolation):
        field, meaning = UNIQUE_FIELDS.get(constraint, ("value", "this value is already taken"))
        return Duplicate(f"Duplicate {field}: {meaning}.", field=field)
    return ValidationError(f"The database refused the change ({constraint or 'constraint'}).")


class UserScopedService:
    """Base of every service: bound to one database and one user, never told a user id."""

    def __init__(
        self, database: Database, user_id: str, *, guard: Callable[[], None] | None = None
    ) -> None:
        self._database = database
        self._user_id = user_id
        # The handle's check that it is still signed in, run before every action, so a
        # service kept in a variable stops working too once its handle's session ends.
        self._guard = guard or _no_guard

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One user action: all or nothing, with driver errors translated."""
        self._guard()
        with translated_errors(self._database), self._database.transaction() as session:
            yield session

    @contextmanager
    def _single_statement_read(self) -> Iterator[Session]:
        """A read that is one SQL statement (a list page): one round trip, errors translated."""
        self._guard()
        with translated_errors(self._database), self._database.single_statement_read() as session:
            yield session

    @contextmanager
    def _single_statement_driver(self) -> Iterator[psycopg.Connection[Any]]:
        """The psycopg connection itself, in autocommit, for a hot one-statement read.

        A Core connection straight from the pool costs a fifth of a Session's set-up and
        tear-down, which matters on a list's hot path. A database bound to a test's connection
        has no engine of its own to draw from, so it gets the session's connection instead.
        """
        self._guard()
        bind = self._database.read_sessions.kw.get("bind")
        with translated_errors(self._database):
            if isinstance(bind, Engine):
                with bind.connect() as connection:
                    yield psycopg_connection(connection.connection.driver_connection)
            else:
                with self._database.single_statement_read() as session:
                    yield psycopg_connection(session.connection().connection.driver_connection)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(user_id={self._user_id!r})"


def _no_guard() -> None:
    """The guard of a service built without a handle (tests, administration): allows all."""


def psycopg_connection(driver: object) -> psycopg.Connection[Any]:
    assert isinstance(driver, psycopg.Connection)
    return driver


def session_driver(session: Session) -> psycopg.Connection[Any]:
    """The session's own psycopg connection: a runs-level statement joins its transaction."""
    return psycopg_connection(session.connection().connection.driver_connection)
