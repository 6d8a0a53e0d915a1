"""Playing a run from outside the kernel that started it: `workbench worker`, and watching it.

A worker is one more executor on the same ledger: it claims batches with `FOR UPDATE SKIP
LOCKED`, plays them with the same `Player`, writes results idempotently and extends its leases
with heartbeats. Any number of workers, on any machines, share a run; one that dies loses only
its leases, which expire and are claimed again (at most `lease_s` later).

The run's row belongs to whoever started it (`owner`); workers stamp its heartbeat (so it is not
taken for a dead kernel) and the last one to find nothing left to play writes its totals.
Keys come from the worker's own user (the vault, else the provider's environment variable):
nothing secret travels with the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFound
from workbench.runs.collector import quiet_collector
from workbench.runs.engine import Player
from workbench.runs.executor import InKernelExecutor, RunJob
from workbench.runs.ledger import HEARTBEAT_SECONDS, LEASE_SECONDS, DatabaseThread
from workbench.runs.play import _judge, finish_run, load_plans
from workbench.runs.providers import Message, open_client
from workbench.services.runs.setup import find_key

if TYPE_CHECKING:
    import psycopg

    from workbench.services.runs.handle import RunHandle
    from workbench.services.runs.service import RunService

WORKERS_OWNER = "workers"
"""The owner of a run started with `executor="workers"`: no kernel plays it."""


def worker_owner() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 16
    lease_s: float = LEASE_SECONDS
    heartbeat_s: float = HEARTBEAT_SECONDS
    transport: str | None = None
    """None: the run's target's (`workbench.openai(..., transport="direct")`); "sdk" or
    "direct" overrides it for this worker ("direct" needs about a third of the CPU per call)."""


async def serve_run(service: RunService, run_id: str, settings: WorkerSettings) -> int:
    """Play what can be claimed of `run_id` (one of the service's user's runs); how many played.

    Cancelling the task (SIGTERM in `workbench worker`) writes what finished and hands the
    attempts it still held back to the ledger as pending, for the other workers."""
    from workbench.services.runs.service import rebuild_target

    row = service._mark_and_get(run_id)  # NotFound for another user's run, RLS or not
    target = rebuild_target(row.target, "target")
    judge = rebuild_target(row.judge, "judge") if row.judge is not None else None
    reveal = service._api_keys()._reveal_for_provider_call
    transport = settings.transport
    client = open_client(target, api_key=find_key(reveal, target, "target"), transport=transport)
    judge_client = client
    if judge is not None:
        judge_client = open_client(
            judge, api_key=find_key(reveal, judge, "judge"), transport=transport
        )
    played: list[str] = []
    db = DatabaseThread(service._database)
    owner, user_id = worker_owner(), service._user_id
    ids = {"run_id": run_id, "user_id": user_id}
    beat = asyncio.get_running_loop().create_task(_stamp(db, ids, settings.heartbeat_s))
    try:
        merge = target.provider == "anthropic"
        plans, system, stop = await db.call(load_plans, merge_users=merge, **ids)
        player = Player(Message("system", system), client, _judge(judge_client), stop)
        job = RunJob(run_id, user_id, owner, plans, player, db, settings.concurrency,
                     played.append, settings.lease_s, settings.heartbeat_s)  # fmt: skip
        with quiet_collector():
            await _play_to_the_end(job)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        await client.aclose()
        if judge_client is not client:
            await judge_client.aclose()
        await db.call(hand_back, owner=owner, **ids)
        await db.call(finish_if_played, **ids)
        db.close()
    return len(played)


POLL_SECONDS = 0.5
"""How often an idle worker looks again while others hold leases: they may hand attempts back
(a SIGTERM) or finish, and a worker that slept until their leases expired would idle for a
whole lease after the run ended."""


async def _play_to_the_end(job: RunJob) -> None:
    """Claim until nothing is left, waiting out other workers' live leases: if one of them dies,
    this worker plays its attempts once their leases expire."""
    ids = {"run_id": job.run_id, "user_id": job.user_id, "owner": job.owner}
    while True:
        await InKernelExecutor().execute(job)
        wait_s = await job.db.call(others_lease_left, **ids)
        if wait_s is None:
            return
        await asyncio.sleep(min(max(wait_s, 0.0) + 0.05, POLL_SECONDS))


def others_lease_left(
    conn: psycopg.Connection[Any], *, run_id: str, user_id: str, owner: str
) -> float | None:
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


async def _stamp(db: DatabaseThread, ids: dict[str, str], every_s: float) -> None:
    while True:
        await db.call(stamp_run, **ids)
        await asyncio.sleep(every_s)


def stamp_run(conn: psycopg.Connection[Any], *, run_id: str, user_id: str) -> None:
    """Someone is playing the run: not a dead kernel's (an interrupted mark is undone)."""
    conn.execute(
        "UPDATE workbench.run SET heartbeat_at = clock_timestamp() AT TIME ZONE 'UTC',"
        " status = 'running', finished_at = NULL WHERE id = %s AND user_id = %s"
        " AND status IN ('running', 'interrupted')",
        (run_id, user_id),
    )


def hand_back(conn: psycopg.Connection[Any], *, run_id: str, user_id: str, owner: str) -> None:
    """Attempts this worker claimed and did not finish go back to pending (not cancelled: the
    run goes on with the other workers)."""
    conn.execute(
        "UPDATE workbench.run_attempt SET status = 'pending', lease_owner = NULL,"
        " lease_expires_at = NULL WHERE user_id = %s AND run_id = %s AND lease_owner = %s"
        " AND status IN ('claimed', 'cancelled')",
        (user_id, run_id, owner),
    )


def finish_if_played(conn: psycopg.Connection[Any], *, run_id: str, user_id: str) -> None:
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
        finish_run(conn, run_id=run_id, user_id=user_id, owner=owner, status="finished")


def counts(conn: psycopg.Connection[Any], *, run_id: str, user_id: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status, count(*) FROM workbench.run_attempt WHERE run_id = %s AND user_id = %s"
        " GROUP BY status",
        (run_id, user_id),
    ).fetchall()
    return {str(status): int(n) for status, n in rows}


def watch(service: RunService, handle: RunHandle, every_s: float = 0.2) -> None:
    """`handle` follows the run from the ledger, whoever plays it, until it ends."""

    async def main(handle: RunHandle) -> str:
        db = DatabaseThread(service._database)
        ids = {"run_id": handle.id, "user_id": service._user_id}
        shown: dict[str, int] = {}
        queued = service._mark_and_get(handle.id).owner == WORKERS_OWNER
        try:
            while True:
                now = await db.call(counts, **ids)
                for status in ("passed", "failed", "error"):
                    for _ in range(now.get(status, 0) - shown.get(status, 0)):
                        handle._advance(status)
                shown = now
                status = service.get(handle.id).status
                # A run queued for workers stays followed while workers may still come.
                if status in ("finished", "cancelled") or (status == "interrupted" and not queued):
                    return status
                await asyncio.sleep(every_s)
        finally:
            db.close()

    handle._launch(main)
