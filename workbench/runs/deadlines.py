"""One loop timer for every request of a client in flight, instead of one each.

A client's requests share one timeout (`Target.timeout_s`), so their deadlines come in the
order they began: the earliest is always at the front of a queue, and one timer, armed for it,
is enough. `asyncio.timeout` arms a timer per request and cancels it when the answer comes (a
timer handle, a push onto the loop's heap, comparisons in Python, a cancelled handle left
behind): about 5 µs a request with 200 in flight, of a worker's ~0.2 ms of CPU per attempt
(issue 24). Here a request costs an entry appended to a queue and a flag set when it ends.

The behaviour is `asyncio.timeout`'s: at its deadline the request's task is cancelled, and that
cancellation leaves `async with deadlines.watch():` as `TimeoutError`, unless the task was
also cancelled from outside (then `CancelledError` goes on: the same `uncancel` rule).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Any

COMPACT_ABOVE = 64
"""A queue longer than this, and more than twice the requests still in flight, is rebuilt
without the finished ones (a request stuck at the front keeps them from being dropped)."""


class Deadlines:
    """The requests of one client in flight, each cancelled `timeout_s` after it began."""

    __slots__ = ("_live", "_loop", "_queue", "_timeout_s", "_timer")

    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._queue: deque[_Watch] = deque()
        self._live = 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self) -> _Watch:
        """`async with deadlines.watch(): ...`: the block raises `TimeoutError` when it is
        still running `timeout_s` after it began."""
        return _Watch(self)

    @property
    def queued(self) -> int:
        """Entries held, finished ones at or behind the front included (stays bounded)."""
        return len(self._queue)

    def _enter(self, watch: _Watch) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop: the old one's timer and entries are gone
            self._loop, self._queue, self._timer, self._live = loop, deque(), None, 0
        watch.deadline = loop.time() + self._timeout_s
        self._queue.append(watch)
        self._live += 1
        if self._timer is None:
            self._timer = loop.call_at(watch.deadline, self._expire)

    def _exit(self, watch: _Watch) -> None:
        watch.done = True
        if watch.loop is not self._loop:
            return  # begun in an event loop since replaced
        self._live -= 1
        queue = self._queue
        while queue and queue[0].done:
            queue.popleft()
        if len(queue) > COMPACT_ABOVE and len(queue) > 2 * self._live:
            self._queue = deque(entry for entry in queue if not entry.done)

    def _expire(self) -> None:
        """The timer: cancel every request past its deadline, then wait for the next one."""
        assert self._loop is not None
        self._timer = None
        now, queue = self._loop.time(), self._queue
        while queue and (queue[0].done or queue[0].deadline <= now):
            entry = queue.popleft()
            if not entry.done:
                entry.expired = True
                entry.task.cancel()
        if queue:
            self._timer = self._loop.call_at(queue[0].deadline, self._expire)


class _Watch:
    """One request in flight: an async context manager, as `asyncio.timeout(...)` is."""

    __slots__ = ("cancelling", "deadline", "deadlines", "done", "expired", "loop", "task")
    task: asyncio.Task[Any]
    cancelling: int
    loop: asyncio.AbstractEventLoop | None

    def __init__(self, deadlines: Deadlines) -> None:
        self.deadlines = deadlines
        self.deadline = 0.0
        self.done = self.expired = False

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline is watched inside a task")
        self.task, self.cancelling = task, task.cancelling()
        self.deadlines._enter(self)
        self.loop = self.deadlines._loop

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.deadlines._exit(self)
        # asyncio.timeout's rule: an expired watch takes its cancel back (`uncancel`), and the
        # cancellation is a TimeoutError only when no other cancel was asked for meanwhile.
        expired = self.expired and self.task.uncancel() <= self.cancelling
        if expired and exc_type is asyncio.CancelledError:
            raise TimeoutError from exc
