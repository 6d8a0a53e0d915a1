"""Playing a run: the job the executor runs, on the handle's loop, and how a run ends.

The plaintext keys are passed to `open_client` inside the run's coroutine and kept nowhere
else: not on the handle, the job, the run row or any exception.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from workbench.runs.cache_client import cached, prefetch_first_turns
from workbench.runs.collector import quiet_collector
from workbench.runs.engine import Player, ScenarioPlan, build_plan
from workbench.runs.executor import InKernelExecutor, RunJob
from workbench.runs.ledger import STALE_SECONDS, DatabaseThread
from workbench.runs.providers import Message, ModelClient, Target, open_client

if TYPE_CHECKING:
    import psycopg

    from workbench.services.runs.handle import RunHandle
    from workbench.services.runs.service import RunService

MARK_INTERRUPTED = text(
    "UPDATE workbench.run SET status = 'interrupted',"
    " finished_at = clock_timestamp() AT TIME ZONE 'UTC'"
    " WHERE user_id = :u AND status = 'running' AND (heartbeat_at IS NULL OR heartbeat_at"
    " < clock_timestamp() AT TIME ZONE 'UTC' - make_interval(secs => :stale))"
)


def mark_interrupted(session: Session, user_id: str) -> None:
    """Runs whose owner stopped beating (a kernel that died) are marked interrupted."""
    session.execute(MARK_INTERRUPTED, {"u": user_id, "stale": STALE_SECONDS})


def launch(
    service: RunService,
    handle: RunHandle,
    owner: str,
    target: Target,
    key: str | None,
    judge: Target | None,
    judge_key: str | None,
    concurrency: int,
    *,
    cache_ttl: timedelta | None = None,
) -> None:
    database, user_id, run_id = service._database, service._user_id, handle.id
    keys = [key, judge_key]  # emptied as soon as the clients hold them
    del key, judge_key

    async def main(handle: RunHandle) -> str:
        # Clients are opened on the run's own loop (their HTTP sessions belong to it).
        client = open_client(target, api_key=keys[0])
        judge_client = open_client(judge, api_key=keys[1]) if judge is not None else client
        keys.clear()
        db = DatabaseThread(database)
        if cache_ttl is not None:  # wb.runs.start(cache=True): see workbench/runs/cache.py
            pair = cached(client, judge_client, target, judge, db, user_id, cache_ttl)
            client, judge_client = pair
        status = "interrupted"
        try:
            merge = target.provider == "anthropic"
            plans, system, stop = await db.call(
                load_plans, run_id=run_id, user_id=user_id, merge_users=merge
            )
            await prefetch_first_turns(client, Message("system", system), plans)
            player = Player(Message("system", system), client, _judge(judge_client), stop)
            job = RunJob(run_id, user_id, owner, plans, player, db, concurrency, handle._advance)
            with quiet_collector():
                await InKernelExecutor().execute(job)
            status = "finished"
        except asyncio.CancelledError:
            status = "cancelled"
        finally:
            await client.aclose()
            if judge_client is not client:
                await judge_client.aclose()
            await db.call(finish_run, run_id=run_id, user_id=user_id, owner=owner, status=status)
            db.close()
        return status

    handle._launch(main)


def _judge(client: ModelClient) -> Any:
    from workbench.runs.judge import judge

    async def ask(conversation: Any, reply: str, assertion: str, threshold: float) -> Any:
        return await judge(
            client, conversation=conversation, reply=reply, assertion=assertion, threshold=threshold
        )

    return ask


def load_plans(
    conn: psycopg.Connection[Any], *, run_id: str, user_id: str, merge_users: bool
) -> tuple[dict[int, ScenarioPlan], str, bool]:
    run = conn.execute(
        "SELECT system_text, options FROM workbench.run WHERE id = %s AND user_id = %s",
        (run_id, user_id),
    ).fetchone()
    assert run is not None
    rows = conn.execute(
        "SELECT position, scenario_id, turns FROM workbench.run_scenario"
        " WHERE run_id = %s AND user_id = %s ORDER BY position",
        (run_id, user_id),
    ).fetchall()
    plans = {p: build_plan(p, sid, turns, merge_users=merge_users) for p, sid, turns in rows}
    return plans, run[0], bool(run[1].get("stop_on_failure"))


TOTALS = """
SELECT json_build_object(
  'attempts', count(*),
  'passed', count(*) FILTER (WHERE status = 'passed'),
  'failed', count(*) FILTER (WHERE status = 'failed'),
  'errors', count(*) FILTER (WHERE status = 'error'),
  'unplayed', count(*) FILTER (WHERE status IN ('pending', 'claimed', 'cancelled')),
  'cost_usd', (SELECT sum(cost_usd) FROM workbench.turn_result
               WHERE user_id = %(u)s AND run_id = %(r)s))
FROM workbench.run_attempt WHERE user_id = %(u)s AND run_id = %(r)s
"""


def finish_run(
    conn: psycopg.Connection[Any], *, run_id: str, user_id: str, owner: str, status: str
) -> None:
    """Status and totals; an ended run whose attempts are not all played is not 'finished'."""
    params = {"u": user_id, "r": run_id, "o": owner, "s": status}
    totals = conn.execute(TOTALS, params).fetchone()
    assert totals is not None
    if status == "finished" and totals[0]["unplayed"]:
        params["s"] = "interrupted"
    conn.execute(
        "UPDATE workbench.run SET status = %(s)s, totals = %(t)s::jsonb,"
        " finished_at = clock_timestamp() AT TIME ZONE 'UTC' WHERE id = %(r)s AND user_id = %(u)s"
        " AND owner = %(o)s",
        {**params, "t": __import__("json").dumps(totals[0])},
    )
