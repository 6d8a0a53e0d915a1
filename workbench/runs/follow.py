"""Following a run from the ledger, whoever plays it: workers, Dask, or a kernel that closed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from workbench.db.engine import Database
from workbench.runs import lifecycle
from workbench.runs.ledger import FINAL, DatabaseThread


async def follow(
    database: Database,
    *,
    run_id: str,
    user_id: str,
    on_progress: Callable[[str], None],
    every_s: float = 0.2,
) -> str:
    """Report each newly finished attempt to `on_progress` until the run ends; its status.

    A run nobody has played for `STALE_SECONDS` ends the follow as `interrupted` (a run queued
    for workers too): following never waits for players that may never come."""
    db = DatabaseThread(database)
    ids = {"run_id": run_id, "user_id": user_id}
    shown: dict[str, int] = {}
    try:
        while True:
            now = await db.call(lifecycle.counts, **ids)
            for status in FINAL:
                for _ in range(now.get(status, 0) - shown.get(status, 0)):
                    on_progress(status)
            shown = now
            status, _owner = await db.call(lifecycle.state, **ids)
            if lifecycle.has_ended(status):
                return status
            await asyncio.sleep(every_s)
    finally:
        db.close()
