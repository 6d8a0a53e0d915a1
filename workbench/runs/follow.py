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

    A run queued for workers stays followed while it is interrupted: workers may still come."""
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
            status, owner = await db.call(lifecycle.state, **ids)
            if lifecycle.has_ended(status, owner):
                return status
            await asyncio.sleep(every_s)
    finally:
        db.close()
