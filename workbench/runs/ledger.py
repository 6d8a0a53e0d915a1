"""The run ledger in PostgreSQL: attempts claimed with a lease, results written idempotently.

- `claim` takes a batch of pending attempts (or claimed ones whose lease expired) with
  `FOR UPDATE SKIP LOCKED`, so any number of executors share a run without blocking each other.
- `write_results` stores finished attempts in one statement per batch (an INSERT per table as a
  CTE, each table's rows one JSON document, then the attempts' status), `ON CONFLICT DO
  NOTHING` on the unique keys: the first writer of a result wins, a second writer's rows are
  dropped, and an attempt already finished by someone else keeps its status.
- What an attempt costs the database is small and flat (issue 24): a share of one claim and of
  one results statement, its result rows, and two updates of its ledger row that stay HOT (no
  index holds a column they change; the table keeps room on its pages, migration 0011).
- `ResultWriter` (writer.py) batches what arrives and calls `write_results`, splitting a batch
  the database refuses until the one attempt it cannot store is found.

All functions take a psycopg connection inside a transaction; `DatabaseThread` runs them off
the event loop, one at a time (a test's database is a single connection).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from workbench.db.engine import Database
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
# just updated, so one claim took every pending attempt instead of n. Its rows are updated
# between the batch's first and last id, as FINISH's are (a join, or `id = ANY` alone, could
# read the whole run on stale statistics).
#
# The run's attempts after `after` are bounded by row comparisons only (user_id, run_id, id)
# serves, in its order: with `run_id = ...` the planner could read the whole run by the
# (run_id, position, repeat) index and sort it (it did on analyzed statistics). `after`
# starts the scan past what this claimer already took: claims go in id order, so
# nearly every attempt below it is taken or finished, and scanning them again made each claim
# cost more than the last (a run's claims were quadratic in its size; issue 24).
CLAIM = """
WITH picked AS MATERIALIZED (
    SELECT id FROM workbench.run_attempt
    WHERE (user_id, run_id, id) > (%(user_id)s, %(run_id)s, %(after)s)
      AND (user_id, run_id, id) < (%(user_id)s, %(run_id)s, 9223372036854775807)
      AND (status = 'pending'
           OR (status = 'claimed' AND lease_expires_at < clock_timestamp() AT TIME ZONE 'UTC'))
    ORDER BY user_id, run_id, id LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED)
UPDATE workbench.run_attempt AS a
SET status = 'claimed', lease_owner = %(owner)s, tries = a.tries + 1,
    lease_expires_at = (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => %(lease)s),
    started_at = coalesce(a.started_at, clock_timestamp() AT TIME ZONE 'UTC')
WHERE (a.user_id, a.run_id) IS NOT DISTINCT FROM (%(user_id)s, %(run_id)s)
  AND a.id BETWEEN (SELECT min(id) FROM picked) AND (SELECT max(id) FROM picked)
  AND a.id = ANY(ARRAY(SELECT id FROM picked))
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
    after: int = 0,
) -> list[Claimed]:
    """Up to `limit` attempts for `owner`, leased for `lease_s` seconds, in ledger order.

    `after`: the highest attempt id this claimer took so far (0: none). The attempts after it
    are claimed first; only when they are fewer than `limit` does the claim look before it too,
    for attempts that became claimable again (a lease that expired, an attempt handed back):
    those are played once the rest are taken, and none is left behind (an empty claim has
    looked at the whole run)."""
    params = {"owner": owner, "lease": lease_s, "user_id": user_id, "run_id": run_id}
    rows = conn.execute(CLAIM, {**params, "limit": limit, "after": after}).fetchall()
    if after > 0 and len(rows) < limit:
        more = {**params, "limit": limit - len(rows), "after": 0}
        rows += conn.execute(CLAIM, more).fetchall()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.attempt_id)


# One statement: the owner's leases (a HOT update of each row it holds: no index covers them)
# and the run's stamp.
HEARTBEAT = """
WITH leases AS (
    UPDATE workbench.run_attempt
    SET lease_expires_at = (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => %(lease)s)
    WHERE user_id = %(user_id)s AND run_id = %(run_id)s AND status = 'claimed'
      AND lease_owner = %(owner)s)
UPDATE workbench.run SET heartbeat_at = clock_timestamp() AT TIME ZONE 'UTC'
WHERE id = %(run_id)s AND user_id = %(user_id)s AND owner = %(owner)s
"""


def heartbeat(
    conn: psycopg.Connection[Any],
    *,
    run_id: str,
    user_id: str,
    owner: str,
    lease_s: float = LEASE_SECONDS,
) -> None:
    """The owner is alive: extend its leases and stamp the run (one statement)."""
    params = {"run_id": run_id, "user_id": user_id, "owner": owner, "lease": lease_s}
    conn.execute(HEARTBEAT, params)


@dataclass(frozen=True, slots=True)
class Finished:
    """A played attempt on its way to the database."""

    attempt_id: int
    result: AttemptResult


# Rows travel as one JSON document per table, unpacked by PostgreSQL: `json.dumps` is C, while
# binding Python lists as arrays escapes every element in Python (most of a batch's time).
# Each is a data-modifying CTE of one statement (`RESULTS`): a batch is one round trip.
TURNS = """
INSERT INTO workbench.turn_result (attempt_id, run_id, user_id, turn_index, message_count, model,
    reply, latency_s, prompt_tokens, completion_tokens, cost_usd, cached, error, reply_cut)
SELECT a, %(run_id)s, %(user_id)s, t, n, m, r, l, p, c, u, coalesce(k, false), e, coalesce(z, false)
FROM jsonb_to_recordset(%(turns)s::jsonb) AS v(a bigint, t int, n int, m text, r text,
    l float8, p int, c int, u float8, k bool, e text, z bool)
ON CONFLICT (attempt_id, turn_index) DO NOTHING
"""

# The expectations, four or so an attempt, travel as arrays rather than objects: the same
# values without their keys cost the dump (and the server's parse) about a third less. A JSON
# null detail is stored as SQL NULL, as jsonb_to_recordset does (`nullif`).
EXPECTATIONS = """
INSERT INTO workbench.expectation_result (attempt_id, run_id, user_id, turn_index,
    expectation_index, type, status, detail)
SELECT (r->>0)::bigint, %(run_id)s, %(user_id)s, (r->>1)::int, (r->>2)::int, r->>3, r->>4,
    nullif(r->5, 'null')
FROM jsonb_array_elements(%(expectations)s::jsonb) AS v(r)
ON CONFLICT (attempt_id, turn_index, expectation_index) DO NOTHING
"""

TOOL_CALLS = """
INSERT INTO workbench.tool_call (attempt_id, run_id, user_id, turn_index, round, call_index, name,
    arguments, result, source, error, latency_s)
SELECT a, %(run_id)s, %(user_id)s, t, r, i, n, g, o, s, e, l
FROM jsonb_to_recordset(%(tool_calls)s::jsonb) AS v(a bigint, t int, r int, i int, n text, g text,
    o text, s text, e text, l float8)
ON CONFLICT (attempt_id, turn_index, round, call_index) DO NOTHING
"""

CONVERSATIONS = """
INSERT INTO workbench.conversation_result (attempt_id, run_id, user_id, turn_index, turns_played,
    ending, reason, transcript, simulator_model, simulator_prompt_version, simulator_calls,
    simulator_prompt_tokens, simulator_completion_tokens, simulator_cost_usd)
SELECT a, %(run_id)s, %(user_id)s, t, n, e, r, x, m, v, c, p, o, u
FROM jsonb_to_recordset(%(conversations)s::jsonb) AS v(a bigint, t int, n int, e text, r text,
    x jsonb, m text, v text, c int, p int, o int, u float8)
ON CONFLICT (attempt_id, turn_index) DO NOTHING
"""

# An attempt is finished only while it has no final status (whoever finished it first wins),
# and only by its lease holder or when nobody holds a live lease on it. Each row's values are
# looked up in the arrays by its id's place: there is no join for the planner to get wrong.
# The rows are found between the batch's first and last id (a batch comes from the attempts in
# flight, a narrow range), and the user and run are checked in a form no index serves (`IS NOT
# DISTINCT FROM`; neither side is ever NULL), so no index by run competes: the row fetches stay
# within the range. On a fresh run's stale statistics, with `id = ANY` alone, the planner read
# the whole run by the (run_id, position, repeat) index, or under row-level security (whose
# policy adds an indexable `user_id = ...`) every attempt of the user, for each batch (issue
# 24). Under row-level security it may still walk the user's entries of (user_id, run_id, id),
# checking the range in the index without fetching rows. No column set here is indexed: the
# update is HOT.
# The arrays are made from one JSON document (`finished`, one row of four arrays, in the
# batch's order): psycopg adapts a Python list element by element in Python, four times an
# attempt, where `json.dumps` is C.
# The batch's arrays, made once (MATERIALIZED): as a subquery the planner may put them on the
# inner side of a nested loop over the batch's rows and build them again for every row.
FINISHED = """
SELECT array_agg(v.a ORDER BY v.o) AS ids, array_agg(v.s ORDER BY v.o) AS statuses,
       array_agg(v.e ORDER BY v.o) AS errors, array_agg(v.l ORDER BY v.o) AS latencies
FROM ROWS FROM (jsonb_to_recordset(%(finished)s::jsonb)
                AS (a bigint, s text, e text, l float8)) WITH ORDINALITY AS v(a, s, e, l, o)
"""

FINISH = """
UPDATE workbench.run_attempt AS a
SET status = f.statuses[array_position(f.ids, a.id)],
    error = f.errors[array_position(f.ids, a.id)],
    latency_s = f.latencies[array_position(f.ids, a.id)],
    finished_at = clock_timestamp() AT TIME ZONE 'UTC', lease_expires_at = NULL
FROM finished AS f
WHERE (a.user_id, a.run_id) IS NOT DISTINCT FROM (%(user_id)s, %(run_id)s)
  AND a.id BETWEEN %(first)s AND %(last)s AND a.id = ANY(f.ids)
  AND a.status IN ('pending', 'claimed', 'cancelled')
  AND (a.lease_owner = %(owner)s OR a.lease_owner IS NULL
       OR a.lease_expires_at < clock_timestamp() AT TIME ZONE 'UTC')
"""

_PARTS = {"turns": TURNS, "expectations": EXPECTATIONS, "tool_calls": TOOL_CALLS,
          "conversations": CONVERSATIONS}  # fmt: skip
_RESULTS: dict[tuple[str, ...], str] = {}


def results_statement(tables: tuple[str, ...]) -> str:
    """One statement storing a batch: an INSERT per table in `tables` (CTEs, all run to
    completion whether or not anything reads them), then the attempts' final status."""
    statement = _RESULTS.get(tables)
    if statement is None:
        parts = [f"{name} AS ({_PARTS[name].strip()})" for name in tables]
        parts.append(f"finished AS MATERIALIZED ({FINISHED.strip()})")
        statement = _RESULTS[tables] = "WITH " + ",\n".join(parts) + f"\n{FINISH.strip()}"
    return statement


def write_results(
    conn: psycopg.Connection[Any],
    *,
    run_id: str,
    user_id: str,
    owner: str,
    finished: Sequence[Finished],
) -> None:
    """Store `finished` attempts in one statement, however many rows and tables."""
    params: dict[str, Any] = {"run_id": run_id, "user_id": user_id, "owner": owner}
    params["turns"] = _storable_json(_turn_rows(finished))
    params["expectations"] = _storable_json(_expectation_rows(finished))
    tables: tuple[str, ...] = ("turns", "expectations")
    calls = [{"a": f.attempt_id, **call.row()} for f in finished for call in f.result.tool_calls]
    if calls:  # a part only for runs whose assistants called tools
        params["tool_calls"], tables = _storable_json(calls), (*tables, "tool_calls")
    talks = [{"a": f.attempt_id, **talk.row()} for f in finished for talk in f.result.conversations]
    if talks:  # simulated users (issue 21)
        params["conversations"], tables = _storable_json(talks), (*tables, "conversations")
    # The error is made storable with the rest of the document (`_storable_json`).
    attempts = [{"a": f.attempt_id, "s": f.result.status, "e": f.result.error,
                 "l": _storable_float(f.result.latency_s)} for f in finished]  # fmt: skip
    params["finished"] = _storable_json(attempts)
    params["first"] = min(f.attempt_id for f in finished)
    params["last"] = max(f.attempt_id for f in finished)
    conn.execute(results_statement(tables), params)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable_float(value: float | None) -> float | None:
    """A latency as stored: finite, else unknown (None)."""
    return None if value is None else storable.cost(value)


def _storable_json(rows: Any) -> str:
    """`rows` as JSON that PostgreSQL accepts. Replies are made storable where they are made
    (generate.py), but an expectation's detail or an error may still quote a provider's text:
    a NUL character or a lone surrogate (which jsonb and text cannot hold), a NaN. The check is
    on the dumped text, so the usual batch costs a substring search and a flag test."""
    try:
        # No cycle check: rows are made here, and their values are JSON a provider sent or
        # details a check built (a dict per container less to keep: ~15% of the dump).
        text = json.dumps(rows, default=str, ensure_ascii=False, allow_nan=False,
                          check_circular=False)  # fmt: skip
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


def _expectation_rows(finished: Sequence[Finished]) -> list[list[Any]]:
    """[attempt, turn, index, type, status, detail] (the order EXPECTATIONS reads them in)."""
    return [
        [item.attempt_id, row.turn_index, row.expectation_index, row.type, row.status, row.detail]
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
