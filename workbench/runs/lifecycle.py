"""The life of a run's rows: every statement on `run` and `run_attempt` outside the ledger.

    create -> (claimed and finished by the ledger: ledger.py) -> finish
                 | a kernel dies: mark_interrupted      | a worker stops: hand_back
                 `-> reopen (resume) -------------------'

The ledger (ledger.py) keeps what executors do attempt by attempt: claim, heartbeat, results.
Here is what happens to a run as a whole: it is created with its snapshots and attempts,
reopened, handed back, stamped, finished with its totals, or marked interrupted when its owner
stopped beating. Every function takes a psycopg connection inside the caller's transaction and
filters by the user first (the indexes start with `user_id`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from workbench.errors import NotFound, ValidationError
from workbench.runs.ledger import STALE_SECONDS

Connection = psycopg.Connection[Any]

WORKERS_OWNER = "workers"
"""The owner of a run started with `executor="workers"` (or Dask): no kernel plays it."""


def has_ended(status: str) -> bool:
    """Nobody is playing the run: finished, cancelled, or interrupted (no kernel, worker or Dask
    task has beaten for `STALE_SECONDS`). An interrupted run may still be played again, by
    `resume` or by workers that come later (their first beat makes it `running` again), but
    nobody following it waits for that: `attach(...).wait()` never hangs on a run nobody plays."""
    return status in ("finished", "cancelled", "interrupted")


UNPLAYED = ("pending", "claimed", "cancelled")
"""Attempt statuses that still need a play; finished ones are passed, failed or error."""


@dataclass(frozen=True)
class ScenarioSnapshot:
    """A scenario as the run plays it: its version then, and its turns as `run_scenario.turns`.

    The turns travel as the JSON text PostgreSQL built (`turns_json`), parsed only where they
    are changed or read (`turns`): parsing and dumping again 10,000 scenarios' turns took
    most of a second of `start()`."""

    position: int
    scenario_id: str
    name: str
    version: int
    turns_json: str
    tools: dict[str, Any] | None = None
    """The scenario's tools document (issue 20): {"tools": [...]}; tool checks are in `turns`."""
    copied: bool = False
    """Its turns were not read (`turns_json` is empty): PostgreSQL copies them from the scenario
    into the run's snapshot itself (`create(..., copy=...)`); 10,000 scenarios' turns read as
    text and written back took 0.6 s of `start()`."""

    @property
    def turns(self) -> list[dict[str, Any]]:
        """The turns, parsed (a new list each time)."""
        turns: list[dict[str, Any]] = json.loads(self.turns_json)
        return turns

    def with_turns(self, turns: list[dict[str, Any]], **changes: Any) -> ScenarioSnapshot:
        """This snapshot with `turns` (and other fields) changed."""
        return replace(self, turns_json=json.dumps(turns), **changes)


@dataclass(frozen=True)
class NewRun:
    """Everything a run row is created with (never a key: targets are their `settings()`)."""

    id: str
    user_id: str
    owner: str
    suite_id: str
    suite_name: str
    prompt_id: str
    prompt_name: str
    prompt_updated_at: datetime
    system_text: str
    system_sha256: str
    target: Mapping[str, Any]
    judge: Mapping[str, Any] | None
    judge_prompt_version: str
    repeats: int
    options: Mapping[str, Any]
    scenarios: Sequence[ScenarioSnapshot]
    created_at: datetime


CREATE = """
INSERT INTO workbench.run (id, user_id, suite_id, suite_name, prompt_id, prompt_name,
    prompt_updated_at, system_text, system_sha256, target, judge, judge_prompt_version, repeats,
    options, status, created_at, started_at, owner, heartbeat_at)
VALUES (%(id)s, %(user_id)s, %(suite_id)s, %(suite_name)s, %(prompt_id)s, %(prompt_name)s,
    %(prompt_updated_at)s, %(system_text)s, %(system_sha256)s, %(target)s::jsonb, %(judge)s::jsonb,
    %(judge_prompt_version)s, %(repeats)s, %(options)s::jsonb, 'running', %(created_at)s,
    %(created_at)s, %(owner)s, %(created_at)s)
"""
# One statement for the whole suite, unpacked by PostgreSQL from one JSON document: an ORM
# executemany of 2,000 snapshots took 0.6 s of a 3 s run. Snapshots come from the database's own
# text columns, so they hold no NUL character that jsonb would refuse.
SNAPSHOTS = """
INSERT INTO workbench.run_scenario (run_id, position, user_id, scenario_id, scenario_name,
    scenario_version, turns, tools)
SELECT %(id)s, p, %(user_id)s, s, n, v, t, x
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(p int, s text, n text, v int, t jsonb, x jsonb)
"""
# The attempts of the scenarios at positions [start, stop), in ledger order (by position, then
# repeat: claims follow their ids). `ON CONFLICT DO NOTHING`: what exists already is kept.
ATTEMPTS = """
INSERT INTO workbench.run_attempt (run_id, user_id, position, scenario_id, repeat, status, tries)
SELECT r.id, r.user_id, s.position, s.scenario_id, k, 'pending', 0
FROM workbench.run r JOIN workbench.run_scenario s ON s.run_id = r.id
CROSS JOIN generate_series(0, r.repeats - 1) k
WHERE r.id = %(id)s AND r.user_id = %(user_id)s AND s.position >= %(start)s
  AND (%(stop)s::int IS NULL OR s.position < %(stop)s)
ORDER BY s.position, k
ON CONFLICT DO NOTHING
"""


CopySnapshots = Callable[[Connection, Sequence[int]], int]
"""Writes the run's snapshots of the `copied` scenarios, those at positions other than the
given ones, in one `INSERT ... SELECT` from the scenarios themselves; how many it wrote."""


def create(
    conn: Connection,
    run: NewRun,
    *,
    attempts_to: int | None = None,
    copy: CopySnapshots | None = None,
) -> None:
    """The run row (running, owned by `run.owner`), its scenario snapshots and its attempts;
    with `attempts_to`, only the attempts of the scenarios before that position (the rest:
    `later.LaterAttempts`, written by `add_attempts`). The snapshots of `copied` scenarios are
    written by `copy`, server-side, the others from their turns here."""
    row = {name: getattr(run, name) for name in NewRun.__dataclass_fields__}
    row |= {name: _naive_utc(row[name]) for name in ("prompt_updated_at", "created_at")}
    row |= {name: json.dumps(row[name]) for name in ("target", "judge", "options")}
    conn.execute(CREATE, row)
    # Each snapshot's turns are spliced in as the JSON text they came as (never parsed here).
    held = [s for s in run.scenarios if not s.copied]
    ids = {"id": run.id, "user_id": run.user_id}
    if held:
        snapshots = ",".join(_snapshot_row(s) for s in held)
        conn.execute(SNAPSHOTS, {**ids, "rows": f"[{snapshots}]"})
    if len(held) < len(run.scenarios):
        if copy is None:
            raise ValueError("copied snapshots given without the statement that copies them")
        # The same read as the plan's (one REPEATABLE READ transaction): the counts can only
        # differ when they are two transactions and the suite changed in between.
        if copy(conn, [s.position for s in held]) != len(run.scenarios) - len(held):
            raise ValidationError(
                "The suite changed while the run was starting; nothing was started. Start it again."
            )
    conn.execute(ATTEMPTS, {**ids, "start": 0, "stop": attempts_to})


def _snapshot_row(s: ScenarioSnapshot) -> str:
    ids = f'"p": {int(s.position)}, "s": {json.dumps(s.scenario_id)}, "n": {json.dumps(s.name)}'
    return f'{{{ids}, "v": {int(s.version)}, "t": {s.turns_json}, "x": {json.dumps(s.tools)}}}'


def add_attempts(
    conn: Connection, *, run_id: str, user_id: str, start: int = 0, stop: int | None = None
) -> None:
    """The attempts of the scenarios at positions [start, stop) that have no row yet."""
    conn.execute(ATTEMPTS, {"id": run_id, "user_id": user_id, "start": start, "stop": stop})


# Every run has its scenarios x repeats (`PLANNED`). An attempt `start()` left for later
# (`later.py`) that nobody wrote yet, because the run was cancelled or its kernel died first,
# has no row: `complete_attempts` writes those, and until then the totals and the progress
# count them as unplayed (they are the run's, not those of the rows written so far).
PLANNED = """
(SELECT count(*) FROM workbench.run_scenario WHERE user_id = %(u)s AND run_id = %(r)s)
    * (SELECT repeats FROM workbench.run WHERE id = %(r)s AND user_id = %(u)s)
""".strip()


def complete_attempts(conn: Connection, *, run_id: str, user_id: str) -> None:
    """Every attempt of the run has its row: those `create` left for later (`later.py`) and a
    kernel that died never wrote are written now (resume, workers)."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM workbench.run_attempt WHERE user_id = %(u)s"
        f" AND run_id = %(r)s) < {PLANNED}",
        {"u": user_id, "r": run_id},
    ).fetchone()
    if row is not None and row[0]:  # NULL (not less) when the run is not the user's
        add_attempts(conn, run_id=run_id, user_id=user_id)


def _naive_utc(moment: datetime) -> datetime:
    """A timezone-aware time as `timestamp(3)` holds it: naive UTC (db/base.py's UTCDateTime)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; the workbench stores timezone-aware UTC only")
    return moment.astimezone(UTC).replace(tzinfo=None)


def mark_interrupted(conn: Connection, *, user_id: str) -> None:
    """Runs whose owner stopped beating (a kernel that died) are marked interrupted."""
    conn.execute(
        "UPDATE workbench.run SET status = 'interrupted',"
        " finished_at = clock_timestamp() AT TIME ZONE 'UTC'"
        " WHERE user_id = %(u)s AND status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at"
        " < clock_timestamp() AT TIME ZONE 'UTC' - make_interval(secs => %(stale)s))",
        {"u": user_id, "stale": STALE_SECONDS},
    )


def hand_back(conn: Connection, *, run_id: str, user_id: str, owner: str | None = None) -> None:
    """Claimed and cancelled attempts back to pending (not played: someone will play them).

    `owner` hands back only what that owner held (a worker stopping: the run goes on with the
    others); None hands back everyone's (a resume)."""
    conn.execute(
        "UPDATE workbench.run_attempt SET status = 'pending', lease_owner = NULL,"
        " lease_expires_at = NULL WHERE user_id = %(u)s AND run_id = %(r)s"
        " AND status IN ('claimed', 'cancelled')"
        " AND (%(o)s::text IS NULL OR lease_owner = %(o)s)",
        {"u": user_id, "r": run_id, "o": owner},
    )


def reopen(conn: Connection, *, run_id: str, user_id: str, owner: str) -> int:
    """A cancelled or interrupted run playing again, for `owner`: unfinished attempts back to
    pending and the run to running (attempts a kernel that died never wrote: written). How many
    attempts are left to play."""
    complete_attempts(conn, run_id=run_id, user_id=user_id)
    hand_back(conn, run_id=run_id, user_id=user_id)
    conn.execute(
        "UPDATE workbench.run SET status = 'running', owner = %(o)s, finished_at = NULL,"
        " heartbeat_at = clock_timestamp() AT TIME ZONE 'UTC' WHERE id = %(r)s AND user_id = %(u)s",
        {"u": user_id, "r": run_id, "o": owner},
    )
    left = conn.execute(
        "SELECT count(*) FROM workbench.run_attempt"
        " WHERE user_id = %s AND run_id = %s AND status = 'pending'",
        (user_id, run_id),
    ).fetchone()
    return int(left[0]) if left else 0


def stamp(conn: Connection, *, run_id: str, user_id: str) -> None:
    """Someone is playing the run: not a dead kernel's (an interrupted mark is undone)."""
    conn.execute(
        "UPDATE workbench.run SET heartbeat_at = clock_timestamp() AT TIME ZONE 'UTC',"
        " status = 'running', finished_at = NULL WHERE id = %s AND user_id = %s"
        " AND status IN ('running', 'interrupted')",
        (run_id, user_id),
    )


TOTALS = f"""
SELECT json_build_object(
  'attempts', greatest(count(*), {PLANNED}),
  'passed', count(*) FILTER (WHERE status = 'passed'),
  'failed', count(*) FILTER (WHERE status = 'failed'),
  'errors', count(*) FILTER (WHERE status = 'error'),
  'unplayed', count(*) FILTER (WHERE status IN ('pending', 'claimed', 'cancelled'))
      + greatest(0, {PLANNED} - count(*)),
  'cost_usd', (SELECT sum(cost_usd) FROM workbench.turn_result
               WHERE user_id = %(u)s AND run_id = %(r)s))::jsonb || coalesce((
  -- Runs with simulated users (issue 21) also give the judge's and the simulator's cost.
  SELECT jsonb_build_object(
    'simulator_cost_usd', sum(simulator_cost_usd),
    'judge_cost_usd', (SELECT sum((detail ->> 'cost_usd')::float8)
                       FROM workbench.expectation_result
                       WHERE user_id = %(u)s AND run_id = %(r)s
                         AND type IN ('SEMANTIC_ASSERT', 'CONVERSATION')))
  FROM workbench.conversation_result WHERE user_id = %(u)s AND run_id = %(r)s
  HAVING count(*) > 0), '{{}}'::jsonb)
FROM workbench.run_attempt WHERE user_id = %(u)s AND run_id = %(r)s
"""


def finish(conn: Connection, *, run_id: str, user_id: str, owner: str, status: str) -> None:
    """Status and totals, if `owner` still owns the run; an ended run whose attempts are not
    all played is not 'finished' but 'interrupted'."""
    params = {"u": user_id, "r": run_id, "o": owner, "s": status}
    totals = conn.execute(TOTALS, params).fetchone()
    assert totals is not None
    if status == "finished" and totals[0]["unplayed"]:
        params["s"] = "interrupted"
    conn.execute(
        "UPDATE workbench.run SET status = %(s)s, totals = %(t)s::jsonb,"
        " finished_at = clock_timestamp() AT TIME ZONE 'UTC' WHERE id = %(r)s AND user_id = %(u)s"
        " AND owner = %(o)s",
        {**params, "t": json.dumps(totals[0])},
    )


def finish_if_played(conn: Connection, *, run_id: str, user_id: str) -> None:
    """Totals and 'finished' once no attempt is left to play (whoever sees it first)."""
    row = conn.execute(
        "SELECT r.owner, r.status, (SELECT count(*) FROM workbench.run_attempt a"
        " WHERE a.run_id = r.id AND a.user_id = r.user_id"
        " AND a.status IN ('pending', 'claimed', 'cancelled'))"
        " FROM workbench.run r WHERE r.id = %s AND r.user_id = %s",
        (run_id, user_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"No run {run_id!r}.")
    owner, status, unplayed = row
    if unplayed == 0 and status in ("running", "interrupted"):
        finish(conn, run_id=run_id, user_id=user_id, owner=owner, status="finished")


@dataclass(frozen=True)
class Script:
    """How a run plays, as stored: the rendered system text, whether an attempt stops at its
    first failed expectation, and the tool rounds allowed. The scenarios' snapshots are read
    as their attempts are claimed (`snapshots`), never all at once."""

    system_text: str
    stop_on_failure: bool
    max_tool_rounds: int = 8


def script(conn: Connection, *, run_id: str, user_id: str) -> Script:
    run = conn.execute(
        "SELECT system_text, options FROM workbench.run WHERE id = %s AND user_id = %s",
        (run_id, user_id),
    ).fetchone()
    if run is None:
        raise NotFound(f"No run {run_id!r}.")
    options = run[1] or {}
    rounds = int(options.get("max_tool_rounds") or 8)
    return Script(run[0], bool(options.get("stop_on_failure")), rounds)


Snapshot = tuple[int, str, list[dict[str, Any]], dict[str, Any] | None]
"""A scenario as a run plays it: position, scenario id, turns, tools document (or None)."""


def snapshots(
    conn: Connection, *, run_id: str, user_id: str, positions: Sequence[int]
) -> list[Snapshot]:
    """The snapshots of the scenarios at `positions` (those of a claimed batch), by position."""
    rows = conn.execute(
        "SELECT position, scenario_id, turns, tools FROM workbench.run_scenario"
        " WHERE user_id = %s AND run_id = %s AND position = ANY(%s) ORDER BY position",
        (user_id, run_id, list(positions)),
    ).fetchall()
    return [(int(p), str(s), turns, tools) for p, s, turns, tools in rows]


# The attempts per status, and those not written yet (`PLANNED` less the rows) as pending, in
# one count of the run's rows (a follower makes one every few tenths of a second).
COUNTS = f"""
WITH tally AS (
  SELECT status, count(*) AS n FROM workbench.run_attempt
  WHERE run_id = %(r)s AND user_id = %(u)s GROUP BY status)
SELECT status, n FROM tally
UNION ALL
SELECT 'pending', greatest(0, {PLANNED} - (SELECT coalesce(sum(n), 0) FROM tally))
"""


def counts(conn: Connection, *, run_id: str, user_id: str) -> dict[str, int]:
    """Attempts per status; those `start()` left unwritten count as pending."""
    tally: dict[str, int] = {}
    for status, n in conn.execute(COUNTS, {"r": run_id, "u": user_id}).fetchall():
        if n:
            tally[str(status)] = tally.get(str(status), 0) + int(n)
    return tally


def status(conn: Connection, *, run_id: str, user_id: str) -> str:
    """The run's status as stored (one row by its key; `state` also marks dead owners' runs)."""
    row = conn.execute(
        "SELECT status FROM workbench.run WHERE id = %s AND user_id = %s", (run_id, user_id)
    ).fetchone()
    if row is None:
        raise NotFound(f"No run {run_id!r}; see wb.runs.list().")
    return str(row[0])


def state(conn: Connection, *, run_id: str, user_id: str) -> tuple[str, str | None]:
    """The run's status and owner, runs whose owner died marked interrupted first."""
    mark_interrupted(conn, user_id=user_id)
    row = conn.execute(
        "SELECT status, owner FROM workbench.run WHERE id = %s AND user_id = %s",
        (run_id, user_id),
    ).fetchone()
    if row is None:
        raise NotFound(f"No run {run_id!r}; see wb.runs.list().")
    return str(row[0]), row[1]


def others_lease_left(conn: Connection, *, run_id: str, user_id: str, owner: str) -> float | None:
    """Seconds until the first live lease of another owner expires (0 while attempts are still
    pending: a claim that came back empty skipped rows another claim had locked); None when
    nothing is left for anyone."""
    row = conn.execute(
        "SELECT extract(epoch FROM min(lease_expires_at) FILTER (WHERE status = 'claimed'"
        " AND lease_owner IS DISTINCT FROM %s) - clock_timestamp() AT TIME ZONE 'UTC'),"
        " bool_or(status = 'pending')"
        " FROM workbench.run_attempt WHERE run_id = %s AND user_id = %s"
        " AND status IN ('claimed', 'pending')",
        (owner, run_id, user_id),
    ).fetchone()
    if row is None or (row[0] is None and not row[1]):
        return None
    return 0.0 if row[1] else float(row[0])
