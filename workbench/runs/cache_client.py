"""`CachedClient`: a `ModelClient` answering from the response cache when it can.

Lookups go through the run's database thread (the ledger's), batched: the workers of a run ask
at about the same moment, so one `key = ANY(...)` statement answers all of them instead of one
round trip each. What a miss paid for is stored before it is returned.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from workbench.runs.cache import DEFAULT_TTL, cache_key, lookup_many, store
from workbench.runs.engine import ScenarioPlan
from workbench.runs.providers.base import Completion, Message, ModelClient, ToolDefinition
from workbench.runs.providers.targets import Target

T = TypeVar("T")

# The repeat index of the attempt being played, set by the executor for each attempt.
REPEAT: contextvars.ContextVar[int] = contextvars.ContextVar("workbench_repeat", default=0)


class DatabaseCalls(Protocol):
    async def call(self, function: Callable[..., T], /, **kwargs: Any) -> T: ...


class _Lookups:
    """Coalesces concurrent lookups into one statement per turn of the event loop."""

    def __init__(self, db: DatabaseCalls, user_id: str, ttl: timedelta) -> None:
        self._db, self._user_id, self._ttl = db, user_id, ttl
        self._pending: dict[str, list[asyncio.Future[Completion | None]]] = {}
        self._task: asyncio.Task[None] | None = None

    async def get(self, key: str) -> Completion | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Completion | None] = loop.create_future()
        self._pending.setdefault(key, []).append(future)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the other workers queue their keys first
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                found = await self._db.call(
                    lookup_many, user_id=self._user_id, keys=list(batch), ttl=self._ttl
                )
            except BaseException as error:
                # The waiting workers get the error (and end their attempts with it); the
                # flush task itself ends quietly, as nobody awaits it.
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                return
            for key, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(key))


class CachedClient:
    """Cache in front of one target's client; `hits` counts the requests it saved."""

    __slots__ = ("_client", "_db", "_known", "_lookups", "_recent", "_ttl", "_user_id", "hits",
                 "target")  # fmt: skip

    def __init__(
        self,
        client: ModelClient,
        target: Target,
        db: DatabaseCalls,
        user_id: str,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._client, self.target, self._db, self._user_id = client, target, db, user_id
        self._lookups = _Lookups(db, user_id, ttl)
        self._ttl = ttl
        self._known: dict[str, Completion] = {}  # prefetched entries: the last two batches'
        self._recent: dict[str, Completion] = {}  # the last batch's
        self.hits = 0

    def __repr__(self) -> str:
        return f"CachedClient({self._client!r})"

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        tools: Sequence[ToolDefinition] = (),
    ) -> Completion:
        if tools:
            # Exchanges with tools are never cached: a cached reply would replay tool calls
            # whose results (live functions) may differ from run to run.
            return await self._client.complete(
                messages, json_schema=json_schema, temperature=temperature, tools=tools
            )
        key = cache_key(
            self.target,
            messages,
            json_schema=json_schema,
            temperature=temperature,
            repeat=REPEAT.get(),
        )
        hit = self._known.get(key) or await self._lookups.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        completion = await self._client.complete(
            messages, json_schema=json_schema, temperature=temperature
        )
        if not completion.cut:  # a cut reply is not served again as if it were whole
            await self._db.call(
                store, user_id=self._user_id, key=key, target=self.target, completion=completion
            )
        return completion

    async def prefetch(self, conversations: Iterable[Sequence[Message]]) -> int:
        """Look up many requests in one statement (a claimed batch's first turns, known as it
        is claimed). Entries are kept for this batch and the one before (whose attempts have
        all started: their first requests were looked up), so memory stays flat however long
        the run; a request whose entry was dropped is looked up again."""
        keys = [cache_key(self.target, messages) for messages in conversations]
        if keys:
            found = await self._db.call(
                lookup_many, user_id=self._user_id, keys=keys, ttl=self._ttl
            )
            self._known, self._recent = self._recent | found, found
        return len(self._known)

    async def aclose(self) -> None:
        await self._client.aclose()


def cached(
    client: ModelClient,
    judge_client: ModelClient,
    target: Target,
    judge: Target | None,
    db: DatabaseCalls,
    user_id: str,
    ttl: timedelta,
) -> tuple[ModelClient, ModelClient]:
    """The run's target and judge clients behind the cache (one wrapper if they are one)."""
    wrapped = CachedClient(client, target, db, user_id, ttl)
    if judge_client is client or judge is None:
        return wrapped, wrapped
    return wrapped, CachedClient(judge_client, judge, db, user_id, ttl)


async def prefetch_first_turns(
    client: ModelClient, system: Message, plans: Mapping[int, ScenarioPlan]
) -> None:
    """Warm a cached client with these scenarios' first requests (a claimed batch's): a warm
    rerun of single-turn scenarios then asks the database once per batch instead of once per
    turn of the event loop."""
    if isinstance(client, CachedClient):
        firsts = [(system, *plan.steps[0].new_messages) for plan in plans.values()
                  if plan.steps and plan.steps[0].simulated is None
                  and not plan.steps[0].conversation_judge]  # fmt: skip
        await client.prefetch(firsts)
