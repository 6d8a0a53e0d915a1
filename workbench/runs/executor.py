"""Executors play a run's attempts from the ledger. The in-kernel asyncio one is the default.

An executor only needs a `RunJob`: it claims batches from the ledger, plays each attempt with
the job's `Player` and hands the results to a `ResultWriter`. Issue 14 adds a Dask executor and
`workbench worker` processes behind the same protocol, without changing storage.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from workbench.runs.cache_client import REPEAT
from workbench.runs.engine import Player, ScenarioPlan
from workbench.runs.ledger import (
    HEARTBEAT_SECONDS,
    LEASE_SECONDS,
    Claimed,
    DatabaseThread,
    Finished,
    claim,
    heartbeat,
    release,
)
from workbench.runs.writer import ResultWriter, unreachable

Progress = Callable[[str], None]  # called with each stored attempt's status
Plans = Callable[[Sequence[int]], Awaitable[Mapping[int, ScenarioPlan]]]
"""The plans of the scenarios at these positions (a claimed batch's: runs/plans.py)."""


class Growing(Protocol):
    """A ledger whose later attempts are still being written (lifecycle.LaterAttempts)."""

    written: int
    """Chunks written so far."""

    def claimed(self) -> None:
        """A claimed batch is planned: the writes may begin (the first requests go first)."""

    async def grown(self, since: int) -> bool:
        """True once more than `since` chunks are written; False when no more will be (the
        error of a write that failed is raised here)."""


@dataclass
class RunJob:
    """Everything needed to play one run's unfinished attempts."""

    run_id: str
    user_id: str
    owner: str
    plans: Plans  # asked for each claimed batch's scenarios, as it is claimed
    player: Player
    db: DatabaseThread
    concurrency: int
    on_progress: Progress = field(default=lambda status: None)
    lease_s: float = LEASE_SECONDS
    heartbeat_s: float = HEARTBEAT_SECONDS
    growing: Growing | None = None
    """None: every attempt's row exists; else a claim that comes back empty waits for more."""


class Executor(Protocol):
    async def execute(self, job: RunJob) -> None:
        """Play every claimable attempt of `job`; return when none is left."""


class InKernelExecutor:
    """Up to `concurrency` asyncio workers in this process, fed by batched claims."""

    async def execute(self, job: RunJob) -> None:
        """Raises `ResultsNotStored` when the database could not be reached to store results or
        claim more (then what this executor still holds is left to its leases: a resume hands
        it back)."""
        ids = {"run_id": job.run_id, "user_id": job.user_id, "owner": job.owner}
        # Progress is told of an attempt once its result is stored, not when it was played.
        writer = ResultWriter(job.db, run_id=job.run_id, user_id=job.user_id, owner=job.owner,
                              on_stored=job.on_progress)  # fmt: skip
        writer.start()
        beat = asyncio.get_running_loop().create_task(_beat(job))
        crew = _Crew(job, writer)
        feed = _Feed(job, on_claimed=crew.grow)
        crew.feed = feed
        failure: BaseException | None = None
        try:
            # Every worker ends before the writer closes (one that fails stops the others'
            # claims): no result arrives after the last write, and none is dropped.
            failure = await crew.run()
        finally:
            await feed.close()
            beat.cancel()
            # A heartbeat that failed (the database went away) says nothing the writer won't.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await beat
            await writer.close()  # ResultsNotStored if a result could not be written
            if failure is None or not unreachable(failure):
                await job.db.call(release, **ids)
        if failure is not None:
            if unreachable(failure):  # a claim found no database: the same story, nothing lost
                raise writer.not_stored(failure) from None
            raise failure


class _Crew:
    """The workers: one to start with, then as many as attempts were claimed, up to
    `concurrency`. A run of one attempt at concurrency 10,000 makes one coroutine, not 10,000."""

    def __init__(self, job: RunJob, writer: ResultWriter) -> None:
        self._job, self._writer = job, writer
        self.feed: _Feed | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def grow(self, claimed: int) -> None:
        assert self.feed is not None
        loop = asyncio.get_running_loop()
        while len(self._tasks) < min(self._job.concurrency, claimed):
            self._tasks.append(loop.create_task(_work(self._job, self.feed, self._writer)))

    async def run(self) -> Exception | None:
        """Until every worker has ended; the first failure, if one failed (the others finish
        what they were playing, then stop: `_work` stops the feed)."""
        self.grow(1)  # the first worker's first `next()` makes the first claim
        failure: Exception | None = None
        try:
            done = 0
            while done < len(self._tasks):  # workers added while waiting are awaited too
                try:
                    await self._tasks[done]
                except Exception as error:
                    failure = failure or error
                done += 1
        finally:
            for task in self._tasks:  # cancelled from outside (Ctrl-C): stop the rest
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        return failure


class _Feed:
    """Hands out claimed attempts, claiming the next batch before this one runs out.

    Workers never wait on a claim except at the very start: the next batch is fetched in the
    background once fewer than `concurrency` claimed attempts are left. `on_claimed` hears the
    number claimed so far after every claim.
    """

    def __init__(self, job: RunJob, on_claimed: Callable[[int], None]) -> None:
        self._job = job
        self._on_claimed = on_claimed
        self._claimed = 0
        self._error: Exception | None = None  # a failed claim, raised to the next worker asking
        self._queue: deque[tuple[Claimed, ScenarioPlan]] = deque()
        self._done = False
        self.stopped = False  # a worker failed: the others finish what they play, then stop
        self._refill: asyncio.Task[None] | None = None
        # Large enough that claims are rare, small enough that leases stay with live work.
        self._batch = min(max(4 * job.concurrency, 50), 500)
        self._low = job.concurrency
        # The first claim is as small as will keep every worker busy: its plans are built before
        # the first request goes out; the next claim follows at once, in the background.
        self._limit = min(job.concurrency, self._batch)
        self._after = 0  # the highest attempt id claimed so far: the next claim starts past it

    async def next(self) -> tuple[Claimed, ScenarioPlan] | None:
        while not self.stopped:
            if self._error is not None:
                raise self._error
            if self._queue:
                if len(self._queue) <= self._low:
                    self._start_refill()
                return self._queue.popleft()
            if self._done:
                return None
            self._start_refill()
            assert self._refill is not None
            await asyncio.shield(self._refill)
        return None

    def _start_refill(self) -> None:
        if self._refill is None and not self._done:
            self._refill = asyncio.get_running_loop().create_task(self._claim())
            # A claim that fails while nobody waits on it is seen by the next `next()` (which
            # claims again); its own error is taken here, never left "never retrieved".
            self._refill.add_done_callback(_retrieved)

    async def _claim(self) -> None:
        job, growing = self._job, self._job.growing
        seen = growing.written if growing is not None else 0
        try:
            batch = await job.db.call(
                claim,
                run_id=job.run_id,
                user_id=job.user_id,
                owner=job.owner,
                limit=self._limit,
                lease_s=job.lease_s,
                after=self._after,
            )
            self._limit = self._batch
            if batch:
                self._after = max(self._after, batch[-1].attempt_id)  # the batch is in id order
            if growing is not None and not batch and await growing.grown(seen):
                return  # rows were written since this claim began: the next one sees them
            # Built now, not up front: the first requests go out after one batch's plans.
            plans = await job.plans([item.position for item in batch]) if batch else {}
            if growing is not None:
                growing.claimed()  # only now: its writes would have delayed these plans
        except Exception as error:
            # A claim made in the background has no one awaiting it: kept for the workers
            # (else asyncio would log "Task exception was never retrieved" and the run go on).
            self._error = error
            return
        finally:
            self._refill = None
        self._done = not batch
        self._queue.extend((item, plans[item.position]) for item in batch)
        self._claimed += len(batch)
        self._on_claimed(self._claimed)

    async def close(self) -> None:
        refill = self._refill
        if refill is not None:
            refill.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refill


def _retrieved(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


async def _work(job: RunJob, feed: _Feed, writer: ResultWriter) -> None:
    play = job.player.play
    try:
        # A writer that cannot store any more stops the run: nothing more is played (or paid).
        while not writer.broken and (item := await feed.next()) is not None:
            claimed, plan = item
            REPEAT.set(claimed.repeat)  # the response cache keys sampled repeats apart
            result = await play(plan)
            writer.add(Finished(claimed.attempt_id, result))
    except Exception:
        feed.stopped = True
        raise


async def _beat(job: RunJob) -> None:
    ids = {"run_id": job.run_id, "user_id": job.user_id, "owner": job.owner}
    while True:
        await asyncio.sleep(job.heartbeat_s)
        await job.db.call(heartbeat, lease_s=job.lease_s, **ids)
