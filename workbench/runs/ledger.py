"""The run ledger in PostgreSQL: attempts claimed with a lease, results written idempotently.

- `claim` takes a batch of pending attempts (or claimed ones whose lease expired) with
  `FOR UPDATE SKIP LOCKED`, so any number of executors share a run without blocking each other.
- `write_results` stores finished attempts in one transaction per batch, one multi-row statement
  per table (`unnest` of arrays), `ON CONFLICT DO NOTHING` on the unique keys: the first writer
  of a result wins, a second writer's rows are dropped, and an attempt already finished by
  someone else keeps its status.
- `ResultWriter` batches what arrives (every ~50 ms or `max_rows` attempts), so a crash loses at
  most the batch in flight, and never holds results until the end. What a provider sent is made
  storable first (storable.py); a batch that still fails is split in halves and written again
  until the one attempt it cannot store is found, and that attempt is stored as an error with
  the reason: one bad reply never loses another's result. A database that cannot be reached
  stops the writer; `close()` then raises `ResultsNotStored` with the count (resume replays them).

All functions take a psycopg connection inside a transaction; `DatabaseThread` runs them off
the event loop, one at a time (a test's database is a single connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import sqlalchemy.exc

from workbench.db.engine import Database
from workbench.errors import ResultsNotStored
from workbench.runs import storable
from workbench.runs.engine import AttemptResult

T = TypeVar("T")

LEASE_SECONDS = 60.0
HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 90.0
"""A running run whose owner has not beaten for this long is taken as dead (interrupted)."""

FINAL = ("passed", "failed", "error")


@dataclass(frozen=True, slots=True)
class Claimed:
    attempt_id: int
    position: int
    repeat: int


# The batch is picked in a MATERIALIZED CTE, run once per statement. As `WHERE id IN (SELECT
# ... LIMIT n FOR UPDATE SKIP LOCKED)` the planner may rescan the subquery for every row it
# updates (it did under row-level security), and each rescan skips the rows this statement has
# just updated, so one claim took every pending attempt instead of n.
CLAIM = """
WITH picked AS MATERIALIZED (
    SELECT id FROM workbench.run_attempt
    WHERE user_id = %(user_id)s AND run_id = %(run_id)s
      AND (status = 'pending'
           OR (status = 'claimed' AND lease_expires_at < clock_timestamp() AT TIME ZONE 'UTC'))
    ORDER BY id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
UPDATE workbench.run_attempt AS a
SET status = 'claimed', lease_owner = %(owner)s, tries = a.tries + 1,
    lease_expires_at = (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => %(lease)s),
    started_at = coalesce(a.started_at, clock_timestamp() AT TIME ZONE 'UTC')
FROM picked
WHERE a.id = picked.id AND a.user_id = %(user_id)s
RETURNING a.id, a.position, a.repeat
"""


def claim(
    conn: psycopg.Connection[Any],
    *,
    run_id: str,
    user_id: str,
    owner: str,
    limit: int,
    lease_s: float = LEASE_SECONDS,
) -> list[Claimed]:
    """Up to `limit` attempts for `owner`, leased for `lease_s` seconds, in ledger order."""
    params = {"owner": owner, "lease": lease_s, "user_id": user_id, "run_id": run_id}
    rows = conn.execute(CLAIM, {**params, "limit": limit}).fetchall()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.attempt_id)


def heartbeat(
    conn: psycopg.Connection[Any],
    *,
    run_id: str,
    user_id: str,
    owner: str,
    lease_s: float = LEASE_SECONDS,
) -> None:
    """The owner is alive: extend its leases and stamp the run."""
    params = {"run_id": run_id, "user_id": user_id, "owner": owner, "lease": lease_s}
    conn.execute(
        "UPDATE workbench.run_attempt SET lease_expires_at = (clock_timestamp() AT TIME ZONE 'UTC')"
        " + make_interval(secs => %(lease)s) WHERE user_id = %(user_id)s AND run_id = %(run_id)s"
        " AND status = 'claimed' AND lease_owner = %(owner)s",
        params,
    )
    conn.execute(
        "UPDATE workbench.run SET heartbeat_at = clock_timestamp() AT TIME ZONE 'UTC'"
        " WHERE id = %(run_id)s AND user_id = %(user_id)s AND owner = %(owner)s",
        params,
    )


@dataclass(frozen=True, slots=True)
class Finished:
    """A played attempt on its way to the database."""

    attempt_id: int
    result: AttemptResult


# Rows travel as one JSON document per table, unpacked by PostgreSQL: `json.dumps` is C, while
# binding Python lists as arrays escapes every element in Python (most of a batch's time).
TURNS = """
INSERT INTO workbench.turn_result (attempt_id, run_id, user_id, turn_index, message_count, model,
    reply, latency_s, prompt_tokens, completion_tokens, cost_usd, cached, error, reply_cut)
SELECT a, %(run_id)s, %(user_id)s, t, n, m, r, l, p, c, u, coalesce(k, false), e, coalesce(z, false)
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(a bigint, t int, n int, m text, r text,
    l float8, p int, c int, u float8, k bool, e text, z bool)
ON CONFLICT (attempt_id, turn_index) DO NOTHING
"""

EXPECTATIONS = """
INSERT INTO workbench.expectation_result (attempt_id, run_id, user_id, turn_index,
    expectation_index, type, status, detail)
SELECT a, %(run_id)s, %(user_id)s, t, x, y, s, d
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(a bigint, t int, x int, y text, s text, d jsonb)
ON CONFLICT (attempt_id, turn_index, expectation_index) DO NOTHING
"""

# An attempt is finished only while it has no final status (whoever finished it first wins),
# and only by its lease holder or when nobody holds a live lease on it.
FINISH = """
UPDATE workbench.run_attempt AS a
SET status = v.s, error = v.e, latency_s = v.l,
    finished_at = clock_timestamp() AT TIME ZONE 'UTC', lease_expires_at = NULL
FROM jsonb_to_recordset(%(rows)s::jsonb) AS v(a bigint, s text, e text, l float8)
WHERE a.id = v.a AND a.user_id = %(user_id)s AND a.status IN ('pending', 'claimed', 'cancelled')
  AND (a.lease_owner = %(owner)s OR a.lease_owner IS NULL
       OR a.lease_expires_at < clock_timestamp() AT TIME ZONE 'UTC')
"""


def write_results(
    conn: psycopg.Connection[Any],
    *,
    run_id: str,
    user_id: str,
    owner: str,
    finished: Sequence[Finished],
) -> None:
    """Store `finished` attempts: three statements, however many rows."""
    base = {"run_id": run_id, "user_id": user_id}
    conn.execute(TURNS, {**base, "rows": _storable_json(_turn_rows(finished))})
    conn.execute(EXPECTATIONS, {**base, "rows": _storable_json(_expectation_rows(finished))})
    attempts = [
        {"a": f.attempt_id, "s": f.result.status, "e": f.result.error, "l": f.result.latency_s}
        for f in finished
    ]
    conn.execute(FINISH, {"user_id": user_id, "owner": owner, "rows": _storable_json(attempts)})


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable_json(rows: Any) -> str:
    """`rows` as JSON that PostgreSQL accepts. Replies are made storable where they are made
    (generate.py), but an expectation's detail or an error may still quote a provider's text:
    a NUL character or a lone surrogate (which jsonb and text cannot hold), a NaN. The check is
    on the dumped text, so the usual batch costs a substring search and a flag test."""
    try:
        text = json.dumps(rows, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN, an infinity, or an integer too long to print
        return json.dumps(storable.json_value(rows), ensure_ascii=False)
    if "\\u0000" in text or (not text.isascii() and _SURROGATE.search(text)):
        return json.dumps(storable.json_value(rows), ensure_ascii=False)
    return text


def _turn_rows(finished: Sequence[Finished]) -> list[dict[str, Any]]:
    rows = []
    for item in finished:
        for turn in item.result.turns:
            row: dict[str, Any] = {"a": item.attempt_id, "t": turn.turn_index,
                                   "n": turn.message_count, "e": turn.error}  # fmt: skip
            done = turn.completion
            if done is not None:
                row.update(m=done.model, r=done.text, l=done.latency_s, p=done.prompt_tokens,
                           c=done.completion_tokens, u=done.cost_usd, k=done.cached,
                           z=done.cut)  # fmt: skip
            rows.append(row)
    return rows


def _expectation_rows(finished: Sequence[Finished]) -> list[dict[str, Any]]:
    return [
        {
            "a": item.attempt_id,
            "t": row.turn_index,
            "x": row.expectation_index,
            "y": row.type,
            "s": row.status,
            "d": row.detail,
        }
        for item in finished
        for row in item.result.expectations
    ]


def release(conn: psycopg.Connection[Any], *, run_id: str, user_id: str, owner: str) -> None:
    """Attempts this owner claimed but never finished (a cancel): marked cancelled, resumable."""
    conn.execute(
        "UPDATE workbench.run_attempt SET status = 'cancelled', lease_expires_at = NULL"
        " WHERE user_id = %s AND run_id = %s AND status = 'claimed' AND lease_owner = %s",
        (user_id, run_id, owner),
    )


class DatabaseThread:
    """Ledger calls off the event loop, one at a time, each in its own transaction."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-ledger")

    def run_sync(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        with self._database.transaction() as session:
            driver = session.connection().connection.driver_connection
            assert isinstance(driver, psycopg.Connection)
            return function(driver, **kwargs)

    async def call(self, function: Callable[..., T], /, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: self.run_sync(function, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


Stored = Callable[[str], None]  # called with each stored attempt's status


class ResultWriter:
    """Collects finished attempts and writes them in batches as they arrive.

    `on_stored` hears of each attempt once its result is in the database (never before), so
    counts shown from it never claim a result that is not stored. After a write that fails for
    good, `broken` is true (executors stop claiming) and `close()` raises `ResultsNotStored`."""

    def __init__(
        self,
        db: DatabaseThread,
        *,
        run_id: str,
        user_id: str,
        owner: str,
        interval_s: float = 0.05,
        max_rows: int = 200,
        on_stored: Stored = lambda status: None,
    ) -> None:
        self._db, self._interval, self._max = db, interval_s, max_rows
        self._ids = {"run_id": run_id, "user_id": user_id, "owner": owner}
        self._on_stored = on_stored
        self._buffer: list[Finished] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.unstored = 0
        self.failure: BaseException | None = None

    @property
    def broken(self) -> bool:
        """A write failed for good: nothing more will be stored by this writer."""
        return self.failure is not None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def add(self, item: Finished) -> None:
        self._buffer.append(item)
        if len(self._buffer) >= self._max:
            self._wake.set()

    async def _loop(self) -> None:
        while not self._closing and not self.broken:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        await self._write(batch)

    async def _write(self, batch: list[Finished]) -> None:
        """Write `batch`; if it fails, its halves (down to the one attempt that cannot be)."""
        if self.broken:
            self.unstored += len(batch)
            return
        try:
            await self._db.call(write_results, finished=batch, **self._ids)
        except Exception as error:
            if unreachable(error):
                self.failure = error
                self.unstored += len(batch)
            elif len(batch) == 1:
                await self._store_as_error(batch[0], error)
            else:
                half = len(batch) // 2
                await self._write(batch[:half])
                await self._write(batch[half:])
            return
        self._stored(batch)

    async def _store_as_error(self, item: Finished, error: Exception) -> None:
        """The one attempt whose result cannot be stored: stored as an error saying why."""
        reason = f"the result could not be stored ({reason_of(error)}); kept as an error"
        result = AttemptResult("error", reason, item.result.latency_s, (), ())
        replacement = Finished(item.attempt_id, result)
        try:
            await self._db.call(write_results, finished=[replacement], **self._ids)
        except Exception as again:  # not even an error row: nothing can be stored
            self.failure = again
            self.unstored += 1
            return
        self._stored([replacement])

    def _stored(self, batch: list[Finished]) -> None:
        self.written += len(batch)
        for item in batch:
            self._on_stored(item.result.status)

    async def close(self) -> None:
        """Stop the loop and write what is left (also after a cancel: finished work is kept).

        Raises `ResultsNotStored` if any result could not be written."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()
        if self.unstored:
            raise self.not_stored(self.failure)

    def not_stored(self, failure: BaseException | None) -> ResultsNotStored:
        """The error that says what was not stored, why, and that a resume plays it again."""
        run_id = self._ids["run_id"]
        why = reason_of(failure) if failure is not None else "unknown"
        return ResultsNotStored(
            f"Run {run_id} stopped: the database could not be written to (it said: {why}), "
            f"so {self.unstored} finished attempt(s) are not stored. wb.runs.resume({run_id!r}) "
            "plays them again, with those not played yet, once the database can be reached.",
            run_id=run_id,
            count=self.unstored,
        )


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached (no write can succeed now), rather
    than that it refused these rows (then a smaller batch may be written)."""
    if isinstance(error, sqlalchemy.exc.DisconnectionError | sqlalchemy.exc.TimeoutError):
        return True
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, psycopg.InterfaceError):
        return True
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate  # None: no server answered; 08: connection; 57P: shut down
        return state is None or state.startswith(("08", "57P", "53"))
    return isinstance(error, sqlalchemy.exc.InterfaceError)


def reason_of(error: BaseException) -> str:
    """The first line of the driver's message (never the statement or its parameters, which
    SQLAlchemy would add and which hold replies), bounded."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return storable.text(lines[0])[:200]
