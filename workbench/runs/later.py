"""A run's later attempts: written beside its first claims, not before its first request.

    start(): run, snapshots, the first ~1,000 attempts (`lifecycle.create(attempts_to=...)`)
    play():  claim, plan, send ... and meanwhile `LaterWrites`: the rest, chunk by chunk

100,000 attempt rows took 3 s to write, all before the first request. Now `start()` writes the
attempts of the first scenarios only; the run's play writes the others in chunks on its database
thread once its first batch is planned, and a claim that finds nothing while rows are still
being written waits for them (`executor.Growing`). The ledger stays the truth: an attempt is
claimed, and played, only once its row exists. A play that ends first (a cancel, a kernel that
died) leaves the rest to `lifecycle.complete_attempts`, which resume and workers call.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from workbench.runs import lifecycle
from workbench.runs.ledger import DatabaseThread

FIRST_ATTEMPTS = 1_000
"""About how many attempts `create` writes with the run; the rest are written in chunks beside
the first claims (`LaterAttempts`): 100,000 rows took 3 s, all before the first request."""
CHUNK_ATTEMPTS = 2_000
"""About how many attempts each later statement writes (tens of ms: claims and results wait
for it on the run's database thread)."""


@dataclass(frozen=True)
class LaterAttempts:
    """The attempts a run's rows were created without: those of the scenarios from position
    `start` to `scenarios`, `repeats` each. Whoever plays the run first writes them, in chunks
    (`chunks`, `lifecycle.add_attempts`); a kernel that died before then leaves them to
    `lifecycle.complete_attempts` (resume, workers)."""

    start: int
    scenarios: int
    repeats: int

    @classmethod
    def after(cls, scenarios: int, repeats: int) -> LaterAttempts | None:
        """What `create(..., attempts_to=...)` leaves for a run of this size (None: nothing)."""
        start = max(1, FIRST_ATTEMPTS // repeats)
        return cls(start, scenarios, repeats) if start < scenarios else None

    def chunks(self) -> list[tuple[int, int]]:
        """Position ranges [first, stop) of about `CHUNK_ATTEMPTS` attempts each."""
        step = max(1, CHUNK_ATTEMPTS // self.repeats)
        return [(p, min(p + step, self.scenarios)) for p in range(self.start, self.scenarios, step)]


class LaterWrites:
    """The attempts `start()` left (`LaterAttempts`), written chunk by chunk on the run's
    database thread once the first claimed batch is planned, so that the first requests go out
    while the rest of the ledger is written (`executor.Growing`)."""

    def __init__(self, db: DatabaseThread, ids: dict[str, str], later: LaterAttempts) -> None:
        self.written = 0
        self._go, self._changed = asyncio.Event(), asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._write(db, ids, later))

    async def _write(self, db: DatabaseThread, ids: dict[str, str], later: LaterAttempts) -> None:
        await self._go.wait()
        try:
            for start, stop in later.chunks():
                await db.call(lifecycle.add_attempts, start=start, stop=stop, **ids)
                self.written += 1
                self._changed.set()
        finally:
            self._changed.set()  # done (or failed): nobody waits for more

    def claimed(self) -> None:
        self._go.set()

    async def grown(self, since: int) -> bool:
        self._go.set()
        while self.written <= since:
            if self._task.done():
                self._task.result()  # a write that failed: its error
                return False
            self._changed.clear()
            await self._changed.wait()
        return True

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
