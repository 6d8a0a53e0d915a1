"""`ResultWriter`: finished attempts written in batches as they arrive, none lost to a bad one.

Batches go out every ~50 ms or `max_rows` attempts (`ledger.write_results`, one transaction
each), so a crash loses at most the batch in flight, and results are never held until the end.
What a provider sent was made storable before it got here (storable.py); a batch the database
still refuses is split in halves and written again until the one attempt it cannot store is
found, and that attempt is stored as an error with the reason: one bad reply never loses
another's result. A database that cannot be reached stops the writer (`broken`); `close()` then
raises `ResultsNotStored` with the count, which a resume plays again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import psycopg
import sqlalchemy.exc

from workbench.errors import ResultsNotStored
from workbench.runs import storable
from workbench.runs.engine import AttemptResult
from workbench.runs.ledger import DatabaseThread, Finished, write_results

Stored = Callable[[str], None]  # called with each stored attempt's status

MAX_BATCH_CHARACTERS = 32_000_000
"""Replies in one batch, at most (about): a batch is one JSON document per table, and jsonb
refuses one over 256 MB; its memory stays bounded too. A single reply is capped by its target's
`max_reply_bytes`, so only a batch of many long ones is split by this."""


class ResultWriter:
    """Collects finished attempts and writes them in batches as they arrive.

    `on_stored` hears of each attempt once its result is in the database (never before), so
    counts shown from it never claim a result that is not stored. After a write that fails for
    good, `broken` is true (executors stop claiming) and `close()` raises `ResultsNotStored`."""

    def __init__(
        self,
        db: DatabaseThread,
        *,
        run_id: str,
        user_id: str,
        owner: str,
        interval_s: float = 0.05,
        max_rows: int = 200,
        max_characters: int = MAX_BATCH_CHARACTERS,
        on_stored: Stored = lambda status: None,
    ) -> None:
        self._db, self._interval, self._max = db, interval_s, max_rows
        self._max_characters, self._characters = max_characters, 0
        self._ids = {"run_id": run_id, "user_id": user_id, "owner": owner}
        self._on_stored = on_stored
        self._buffer: list[tuple[Finished, int]] = []  # with its replies' length
        self._wake = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.unstored = 0
        self.failure: BaseException | None = None

    @property
    def broken(self) -> bool:
        """A write failed for good: nothing more will be stored by this writer."""
        return self.failure is not None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def add(self, item: Finished) -> None:
        size = _characters(item)
        self._buffer.append((item, size))
        self._characters += size
        if len(self._buffer) >= self._max or self._characters >= self._max_characters:
            self._wake.set()

    async def _loop(self) -> None:
        while not self._closing and not self.broken:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer, self._characters = self._buffer, [], 0
        # What arrived while the last batch was written may be more than one batch's worth.
        chunk: list[Finished] = []
        size = 0
        for item, characters in batch:
            chunk.append(item)
            size += characters
            if len(chunk) >= self._max or size >= self._max_characters:
                await self._write(chunk)
                chunk, size = [], 0
        if chunk:
            await self._write(chunk)

    async def _write(self, batch: list[Finished]) -> None:
        """Write `batch`; if it fails, its halves (down to the one attempt that cannot be)."""
        if self.broken:
            self.unstored += len(batch)
            return
        try:
            await self._db.call(write_results, finished=batch, **self._ids)
        except Exception as error:
            if unreachable(error):
                self.failure = error
                self.unstored += len(batch)
            elif len(batch) == 1:
                await self._store_as_error(batch[0], error)
            else:
                half = len(batch) // 2
                await self._write(batch[:half])
                await self._write(batch[half:])
            return
        self._stored(batch)

    async def _store_as_error(self, item: Finished, error: Exception) -> None:
        """The one attempt whose result cannot be stored: stored as an error saying why."""
        reason = f"the result could not be stored ({reason_of(error)}); kept as an error"
        result = AttemptResult("error", reason, item.result.latency_s, (), ())
        replacement = Finished(item.attempt_id, result)
        try:
            await self._db.call(write_results, finished=[replacement], **self._ids)
        except Exception as again:  # not even an error row: nothing can be stored
            self.failure = again
            self.unstored += 1
            return
        self._stored([replacement])

    def _stored(self, batch: list[Finished]) -> None:
        self.written += len(batch)
        for item in batch:
            self._on_stored(item.result.status)

    async def close(self) -> None:
        """Stop the loop and write what is left (also after a cancel: finished work is kept).

        Raises `ResultsNotStored` if any result could not be written."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()
        if self.unstored:
            raise self.not_stored(self.failure)

    def not_stored(self, failure: BaseException | None) -> ResultsNotStored:
        """The error that says what was not stored, why, and that a resume plays it again."""
        run_id = self._ids["run_id"]
        why = reason_of(failure) if failure is not None else "unknown"
        return ResultsNotStored(
            f"Run {run_id} stopped: the database could not be written to (it said: {why}), "
            f"so {self.unstored} finished attempt(s) are not stored. wb.runs.resume({run_id!r}) "
            "plays them again, with those not played yet, once the database can be reached.",
            run_id=run_id,
            count=self.unstored,
        )


def _characters(item: Finished) -> int:
    """The length of an attempt's replies (what makes a batch large)."""
    return sum(len(turn.completion.text) for turn in item.result.turns if turn.completion)


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached (no write can succeed now), rather
    than that it refused these rows (then a smaller batch may be written)."""
    if isinstance(error, sqlalchemy.exc.DisconnectionError | sqlalchemy.exc.TimeoutError):
        return True
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, psycopg.InterfaceError):
        return True
    if isinstance(cause, psycopg.OperationalError):
        state = cause.sqlstate  # None: no server answered; 08: connection; 57P: shut down
        return state is None or state.startswith(("08", "57P", "53"))
    return isinstance(error, sqlalchemy.exc.InterfaceError)


def reason_of(error: BaseException) -> str:
    """The first line of the driver's message (never the statement or its parameters, which
    SQLAlchemy would add and which hold replies), bounded."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return storable.text(lines[0])[:200]
