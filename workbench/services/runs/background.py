"""A run's coroutine on an event loop of its own, in a thread of its own, with a progress bar.

The run's event loop lives in its own thread, always. Scheduling it on Jupyter's loop instead
would make `run.wait()` in a cell deadlock the kernel (the cell blocks the very loop the run
needs), so the run's loop runs beside the kernel's: `await run` bridges with
`asyncio.wrap_future`, and `wait()` blocks only the caller. No nest_asyncio, no `asyncio.run`
inside a running loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from workbench.errors import ValidationError

MAX_WAIT_S = 10**9  # about 31 years: past it a deadline is no longer a float worth adding to

Main = Callable[[], Coroutine[Any, Any, str]]  # the run's coroutine; returns the run's status


class Progress:
    """Finished attempts by status, and a tqdm bar when shown."""

    def __init__(self, total: int, *, show: bool) -> None:
        self.total = total
        self.counts: Counter[str] = Counter()
        self._bar = _progress_bar(total) if show else None

    def advance(self, status: str) -> None:
        self.counts[status] += 1
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def describe(self) -> str:
        done = sum(self.counts.values())
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        return f"{done}/{self.total} attempts{': ' + parts if parts else ''}"


def _progress_bar(total: int) -> Any:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    return tqdm(total=total, desc="run", unit="attempt", leave=True)


class Background:
    """`main()` running on its own loop in a daemon thread (see `start`); its result (the run's
    status) or its error in `future`."""

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[str] | None = None
        self._started = threading.Event()

    @classmethod
    def start(cls, name: str, main: Main, *, on_end: Callable[[], None]) -> Background:
        """Run `main()` in a new thread called `name`; `on_end` runs there once it ended."""
        background = cls()
        thread = threading.Thread(target=background._serve, args=(main, on_end), daemon=True)
        thread.name = name
        thread.start()
        background._started.wait(10)
        return background

    @classmethod
    def ended(cls, status: str) -> Background:
        """A run that had ended before anyone followed it: nothing to run, done at once."""
        background = cls()
        background.future.set_result(status)
        return background

    def _serve(self, main: Main, on_end: Callable[[], None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(main())
            self._started.set()
            status = loop.run_until_complete(self._task)
            self.future.set_result(status)
        except BaseException as error:
            self.future.set_exception(error)
        finally:
            on_end()
            loop.close()

    @property
    def done(self) -> bool:
        return self.future.done()

    def outcome(self) -> str:
        """ "running" until `main` ended; then the run's final status ("ended" if it failed)."""
        if not self.future.done():
            return "running"
        if self.future.exception() is not None:
            return "ended"
        return self.future.result() or "ended"

    def wait(self, timeout: float | None, what: str) -> None:
        """Block until `main` ended (its error raised here); Ctrl-C (SIGINT) cancels it."""
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 <= timeout <= MAX_WAIT_S
        ):
            raise ValidationError(
                f"timeout must be a number of seconds from 0 to {MAX_WAIT_S:,}, or None to wait "
                f"until the run ends; got {str(timeout)[:50]!r}"
            )
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            # Short waits, so Ctrl-C (SIGINT) is seen at once, whatever the platform's locks do.
            while not self.future.done():
                left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                if left <= 0:
                    raise TimeoutError(f"{what} still playing after {timeout} s")
                concurrent.futures.wait([self.future], timeout=left)
            self.future.result()
        except KeyboardInterrupt:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Cancel `main` on its loop and wait (up to 30 s) for it to end."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not self.future.done():
            loop.call_soon_threadsafe(task.cancel)
        concurrent.futures.wait([self.future], timeout=30)
