"""The locks the administrative paths take, bounded in time, and who holds what they wait for.

Advisory locks are no use against a hostile user: `pg_advisory_lock` is executable by PUBLIC
(only a superuser could revoke that), so any per-user role could take the key `db upgrade`
waits on and hold it for ever. The administrative paths lock a row of `workbench.admin_lock`
instead, a table no per-user role may read, lock or write (`db secure` keeps it closed).

Every wait is bounded: `SET LOCAL lock_timeout` (`WORKBENCH_LOCK_TIMEOUT` seconds, default 10;
LOCAL, so it is safe behind a transaction pooler). A wait that runs out becomes a `ConfigError`
that names the sessions holding locks on the tables, with who they are and for how long their
transaction has been open, and how to end them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from workbench.db.base import WORKBENCH_SCHEMA
from workbench.db.security.sql import MAPPING
from workbench.errors import ConfigError

ADMIN_LOCK = f"{WORKBENCH_SCHEMA}.admin_lock"
SCHEMA_LOCK = "schema"
"""The row `db upgrade` and `db secure` lock: one of them at a time changes the schema."""
LOCK_TIMEOUT_VARIABLE = "WORKBENCH_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_S = 10.0
LOCK_NOT_AVAILABLE = "55P03"

# A row of admin_lock is created the first time it is locked: inserting a name that exists
# updates (and so row-locks) the existing row instead, all in one statement.
_LOCK_ROW = (
    f"INSERT INTO {ADMIN_LOCK} (name) VALUES (:name) "
    "ON CONFLICT (name) DO UPDATE SET name = excluded.name"
)


def lock_timeout_s() -> float:
    """How long an administrative path waits for a lock: `WORKBENCH_LOCK_TIMEOUT` or 10 s."""
    raw = os.environ.get(LOCK_TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 3600:
        raise ConfigError(
            f"{LOCK_TIMEOUT_VARIABLE} must be a number of seconds between 0 and 3600, not {raw!r}."
        )
    return seconds


def bound_lock_waits(connection: Connection) -> None:
    """For the rest of this transaction, a lock not granted within the timeout is an error."""
    milliseconds = max(1, round(lock_timeout_s() * 1000))
    connection.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))


def lock_row(connection: Connection, name: str) -> None:
    """Hold the `admin_lock` row `name` (made if missing) until the transaction ends."""
    connection.execute(text(_LOCK_ROW), {"name": name})


def has_admin_lock_table(connection: Connection) -> bool:
    found = connection.execute(text("SELECT to_regclass(:t)"), {"t": ADMIN_LOCK}).scalar()
    return found is not None


@dataclass(frozen=True)
class Wanted:
    """What a waiting path wanted, to name who holds it: a row of admin_lock, tables (None: every
    table in `public` and `workbench`), an advisory key."""

    row: str | None = None
    relations: Sequence[str] | None = None
    advisory: int | None = None


def lock_schema(connection: Connection, legacy_key: int, action: str) -> None:
    """Serialise schema changes: the `schema` row, bounded; a `ConfigError` naming the holders.

    On a database older than `admin_lock` (fresh, or before migration 0005) there is no row to
    lock yet, so the advisory lock `legacy_key` of earlier versions stands in, bounded too.
    """
    bound_lock_waits(connection)
    params: dict[str, object]
    if has_admin_lock_table(connection):
        wanted = Wanted(row=SCHEMA_LOCK)
        statement, params = _LOCK_ROW, {"name": SCHEMA_LOCK}
    else:
        wanted = Wanted(advisory=legacy_key)
        statement, params = "SELECT pg_advisory_xact_lock(:key)", {"key": legacy_key}
    with translated_lock_timeout(connection.engine, action, wanted, waiting=connection):
        connection.execute(text(statement), params)


def is_lock_timeout(error: BaseException) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) == LOCK_NOT_AVAILABLE


@contextmanager
def translated_lock_timeout(
    engine: Engine, action: str, wanted: Wanted | None = None, *, waiting: Connection | None = None
) -> Iterator[None]:
    """Turn a lock wait that ran out inside the block into a `ConfigError` naming the holders
    (looked up on a new connection: the waiting transaction is aborted). `waiting`: the
    connection that waited, if it still holds locks of its own (it is not named)."""
    own = None if waiting is None else _backend_pid(waiting)
    try:
        yield
    except DBAPIError as error:
        if is_lock_timeout(error):
            raise lock_timeout_error(engine, action, wanted or Wanted(), exclude=own) from None
        raise


def _backend_pid(connection: Connection) -> int:
    driver = connection.connection.driver_connection
    return int(driver.info.backend_pid)  # type: ignore[union-attr]


def lock_timeout_error(
    engine: Engine, action: str, wanted: Wanted, *, exclude: int | None = None
) -> ConfigError:
    """The error for a lock wait that ran out: who holds locks, and how to end their sessions."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SET LOCAL lock_timeout = 2000"))  # never hang here either
            holders = lock_holders(connection, wanted, exclude=exclude)
    except DBAPIError:
        holders = []
    waited = f"{lock_timeout_s():g} s"
    if holders:
        named = "; ".join(holders)
        who = f"These sessions hold locks it needs: {named}."
    else:
        who = "The sessions that held the locks have finished since; try again."
    return ConfigError(
        f"Could not {action}: it waited {waited} for a lock and gave up; nothing was changed. "
        f"{who} A user's sessions end with `workbench users lock EMAIL` (provision unlocks); "
        "any session with `SELECT pg_terminate_backend(PID)` as an administrator. "
        f"Then run it again (raise {LOCK_TIMEOUT_VARIABLE}, in seconds, to wait longer)."
    )


def lock_holders(
    connection: Connection, wanted: Wanted, *, exclude: int | None = None
) -> list[str]:
    """Other sessions holding what `wanted` names, one line each, oldest transaction first;
    neither this session nor `exclude` (the one that waited)."""
    params: dict[str, object] = {"schema": WORKBENCH_SCHEMA, "exclude": exclude or 0}
    holding = [_relation_holders(wanted.relations, params)]
    if wanted.row is not None and has_admin_lock_table(connection):
        # A row lock is not in pg_locks; its holder's transaction id is the row's xmax.
        holding.append(
            f"""SELECT l.pid, 'the ' || r.name || ' lock' FROM {ADMIN_LOCK} r
                JOIN pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = r.xmax
                WHERE r.name = :row AND l.granted"""
        )
        params["row"] = wanted.row
    if wanted.advisory is not None:
        # An int8 key is kept as its high and low 32 bits (classid, objid), objsubid 1.
        holding.append(
            f"""SELECT l.pid, 'advisory lock {wanted.advisory}' FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.classid::text::bigint = :high AND l.objid::text::bigint = :low
                  AND {_THIS_DATABASE}"""
        )
        params["high"], params["low"] = (
            (wanted.advisory >> 32) & 0xFFFFFFFF,
            wanted.advisory & 0xFFFFFFFF,
        )
    mapped = connection.execute(text("SELECT to_regclass(:m)"), {"m": MAPPING}).scalar()
    email = (
        f"""(SELECT u.email FROM {MAPPING} m JOIN public."user" u ON u.id = m.user_id
             WHERE m.role_name = a.usename)"""
        if mapped is not None
        else "NULL"
    )
    rows = connection.execute(
        text(
            f"""SELECT h.pid, a.usename, {email}, a.state,
                   floor(extract(epoch FROM clock_timestamp() - a.xact_start))::bigint,
                   string_agg(DISTINCT h.what, ', ' ORDER BY h.what)
            FROM ({" UNION ".join(holding)}) h JOIN pg_stat_activity a ON a.pid = h.pid
            WHERE h.pid NOT IN (pg_backend_pid(), :exclude)
            GROUP BY h.pid, a.usename, a.state, a.xact_start
            ORDER BY a.xact_start NULLS LAST, h.pid LIMIT 20"""
        ),
        params,
    ).all()
    return [_holder(*found) for found in rows]


_THIS_DATABASE = "l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"


def _relation_holders(relations: Sequence[str] | None, params: dict[str, object]) -> str:
    if relations is None:
        scope = "c.relnamespace IN ('public'::regnamespace, to_regnamespace(:schema))"
    else:
        scope = "c.oid = ANY (CAST(:relations AS regclass[]))"
        params["relations"] = list(relations)
    return f"""SELECT l.pid, format('%s on %s', l.mode, l.relation::regclass) AS what
        FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE l.locktype = 'relation' AND l.granted AND {scope} AND {_THIS_DATABASE}"""


def _holder(
    pid: int, role: str | None, email: str | None, state: str | None, age: int | None, what: str
) -> str:
    who = f"role {role}" + (f", user {email}" if email else "")
    # Another role's state is hidden from a non-superuser that is not a member of it.
    doing = state or "state not visible to this role"
    since = f" for {age} s" if age is not None else ""
    return f"pid {pid} ({who}, {doing}{since}): {what}"
