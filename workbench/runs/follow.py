"""Following a run from the ledger, whoever plays it: workers, Dask, or a kernel that closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from workbench.db.engine import Database
from workbench.runs import lifecycle
from workbench.runs.ledger import FINAL, DatabaseThread

POLL_COST_SHARE = 50
"""Counting a run's attempts reads all of them (a few ms at 20,000, tens at 100,000), so the
follower waits at least this many times what the last count took: whatever the run's size, it
keeps its database connection busy for at most about 2% of the time (issue 24: every 0.2 s, a
large run's follower took more of the database than a worker's claims)."""
STATUS_EVERY_S = 0.05
"""Between counts, the run's own row (one row by its key) is read this often: its end is seen
within this, not within a count's interval (a run of 2,000 attempts on Dask takes 1.6 s)."""


async def follow(
    database: Database,
    *,
    run_id: str,
    user_id: str,
    on_progress: Callable[[str], None],
    every_s: float = 0.2,
    complete: bool = False,
) -> str:
    """Report each newly finished attempt to `on_progress` until the run ends; its status.

    Counts every `every_s`, or less often when counting costs more (`POLL_COST_SHARE`), and
    reads the run's status in between (`STATUS_EVERY_S`).
    `complete`: first write the attempts `start()` left unwritten (runs/later.py); a player
    that starts before they are written writes them itself, or waits for these.

    A run nobody has played for `STALE_SECONDS` ends the follow as `interrupted` (a run queued
    for workers too): following never waits for players that may never come."""
    db = DatabaseThread(database)
    ids = {"run_id": run_id, "user_id": user_id}
    shown: dict[str, int] = {}

    def report(now: dict[str, int]) -> None:
        nonlocal shown
        for status in FINAL:
            for _ in range(now.get(status, 0) - shown.get(status, 0)):
                on_progress(status)
        shown = now

    try:
        if complete:
            await db.call(lifecycle.complete_attempts, **ids)
        counted_at, count_every_s = float("-inf"), every_s
        while True:
            if time.monotonic() - counted_at >= count_every_s:
                started = time.perf_counter()
                report(await db.call(lifecycle.counts, **ids))
                took_s = time.perf_counter() - started
                counted_at = time.monotonic()
                count_every_s = max(every_s, POLL_COST_SHARE * took_s)
                # `state` also marks the run interrupted if its owner stopped beating.
                status, _owner = await db.call(lifecycle.state, **ids)
            else:
                status = await db.call(lifecycle.status, **ids)
            if lifecycle.has_ended(status):
                # The last attempts may have finished between the count and the end.
                report(await db.call(lifecycle.counts, **ids))
                return status
            await asyncio.sleep(min(STATUS_EVERY_S, count_every_s))
    finally:
        db.close()
