"""`RunHandle`: a run playing in the background, awaitable, cancellable, with a progress bar.

The run's event loop lives in its own thread, always. Scheduling it on Jupyter's loop instead
would make `run.wait()` in a cell deadlock the kernel (the cell blocks the very loop the run
needs), so the handle runs its loop beside the kernel's: `await run` bridges with
`asyncio.wrap_future`, and `wait()` blocks only the caller. No nest_asyncio, no `asyncio.run`
inside a running loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Generator, Mapping
from typing import TYPE_CHECKING, Any

from workbench.services.runs.study import RunStudyHandle

if TYPE_CHECKING:
    import pandas as pd

    from workbench.services.runs.service import RunService


class RunHandle(RunStudyHandle):
    """A started run. `await run`, `run.wait()`, `run.cancel()`, `run.frame()`, `run.summary()`."""

    def __init__(self, service: RunService, run_id: str, total: int, *, progress: bool) -> None:
        self.id = run_id
        self.total = total
        self._service = service
        self._counts: Counter[str] = Counter()
        self._future: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[str] | None = None
        self._started = threading.Event()
        self._bar = _progress_bar(total, run_id) if progress else None

    # -- called by the service -----------------------------------------------------------
    def _launch(self, main: Callable[[RunHandle], Coroutine[Any, Any, str]]) -> None:
        thread = threading.Thread(target=self._serve, args=(main,), daemon=True)
        thread.name = f"workbench-run-{self.id[:8]}"
        thread.start()
        self._started.wait(10)

    def _serve(self, main: Callable[[RunHandle], Coroutine[Any, Any, str]]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(main(self))
            self._started.set()
            status = loop.run_until_complete(self._task)
            self._future.set_result(status)
        except BaseException as error:
            self._future.set_exception(error)
        finally:
            if self._bar is not None:
                self._bar.close()
            loop.close()

    def _settle(self, status: str, tally: Mapping[str, int]) -> None:
        """The run ended before this handle followed it: its counts, and done."""
        for outcome in ("passed", "failed", "error"):
            for _ in range(tally.get(outcome, 0)):
                self._advance(outcome)
        if self._bar is not None:
            self._bar.close()
        self._future.set_result(status)

    def _advance(self, status: str) -> None:
        self._counts[status] += 1
        if self._bar is not None:
            self._bar.update(1)

    # -- public -------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._future.done()

    @property
    def status(self) -> str:
        """running until it ends; then finished, cancelled or interrupted (from the ledger)."""
        return self._service.get(self.id).status if self.done else "running"

    def wait(self, timeout: float | None = None) -> RunHandle:
        """Block until the run ends. Ctrl-C (the kernel's interrupt button) cancels it."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            # Short waits, so Ctrl-C (SIGINT) is seen at once, whatever the platform's locks do.
            while not self._future.done():
                left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
                if left <= 0:
                    raise TimeoutError(f"run {self.id} still playing after {timeout} s")
                concurrent.futures.wait([self._future], timeout=left)
            self._future.result()
        except KeyboardInterrupt:
            self.cancel()
            raise
        return self

    def cancel(self) -> RunHandle:
        """Stop: requests in flight are cancelled, finished attempts kept, run marked cancelled."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not self._future.done():
            loop.call_soon_threadsafe(task.cancel)
        concurrent.futures.wait([self._future], timeout=30)
        return self

    def __await__(self) -> Generator[Any, None, RunHandle]:
        yield from asyncio.wrap_future(self._future).__await__()
        return self

    def frame(self) -> pd.DataFrame:
        """One row per expectation attempt (see `wb.runs.results_frame`)."""
        return self._service.results_frame(self.id)

    def summary(self) -> pd.DataFrame:
        """Pass rate per scenario and expectation; ERROR results are never counted as failed."""
        return self._service.summary(self.id)

    def __repr__(self) -> str:
        done = sum(self._counts.values())
        state = "running"
        if self.done:  # the result is the run's final status (finished, cancelled, ...)
            ended = self._future.exception() is None and self._future.result()
            state = ended if isinstance(ended, str) and ended else "ended"
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self._counts.items()))
        return (
            f"<Run {self.id} {state}: {done}/{self.total} attempts{': ' + parts if parts else ''}>"
        )


def _progress_bar(total: int, run_id: str) -> Any:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    return tqdm(total=total, desc="run", unit="attempt", leave=True)
