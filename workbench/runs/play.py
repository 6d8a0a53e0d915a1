"""Playing a run: the one path every executor takes, in a kernel, `workbench worker` or Dask.

    open the clients -> (the response cache) -> the player -> the job -> execute -> close

`play` is given a `PlayRequest` (what to play and how) and the run's `RunKeys`; it returns when
nothing is left for it to play, or raises `CancelledError` on a worker's stop. An owner (the
kernel that started or resumed the run) plays what it can claim once and ends the run with its
status. A worker (`shared=True`) is one of any number: it stamps the run while it plays, waits
out other workers' live leases (one that dies loses only its leases), hands back what it still
held when stopped, and finishes the run only once nothing is left for anyone.

The plaintext keys are handed to `open_client` inside the coroutine and kept nowhere else: not in
the request, the job, the run row or any exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn

from workbench.crypto.secret import Secret
from workbench.db.engine import Database
from workbench.runs import lifecycle
from workbench.runs.cache_client import cached
from workbench.runs.collector import quiet_collector
from workbench.runs.engine import Judge, Player
from workbench.runs.executor import Growing, InKernelExecutor, RunJob
from workbench.runs.generate import open_client
from workbench.runs.judge import judge
from workbench.runs.later import LaterAttempts, LaterWrites
from workbench.runs.ledger import HEARTBEAT_SECONDS, LEASE_SECONDS, DatabaseThread
from workbench.runs.mcp import McpStdio, McpTools, open_servers
from workbench.runs.plans import ClaimedPlans
from workbench.runs.providers import Message, ModelClient, Target
from workbench.runs.simulation import play_special
from workbench.runs.tools import LiveTool

Progress = Callable[[str], None]  # called with each stored attempt's status

POLL_SECONDS = 0.5
"""How often an idle worker looks again while others hold leases: they may hand attempts back
(a SIGTERM) or finish, and a worker that slept until their leases expired would idle for a
whole lease after the run ended."""


@dataclass(frozen=True)
class PlayRequest:
    """What to play of one run, and how. Holds no key (see `RunKeys`)."""

    run_id: str
    user_id: str
    owner: str
    target: Target
    judge: Target | None
    concurrency: int
    cache_ttl: timedelta | None = None
    """None: no response cache; else answers younger than this come from it (cache.py)."""
    transport: str | None = None
    """None: each target's own; "sdk" or "direct" for both (a worker's --transport)."""
    lease_s: float = LEASE_SECONDS
    heartbeat_s: float = HEARTBEAT_SECONDS
    shared: bool = False
    """False: the run's owner plays it once and ends it; True: one worker among many."""
    live_tools: Mapping[str, LiveTool] = field(default_factory=dict, hash=False, compare=False)
    """Python functions answering tool calls by name (the kernel's own: never stored)."""
    simulator: Target | None = None
    """Plays simulated users (issue 21); None: the judge (or, without one, the target)."""
    mcp_servers: tuple[McpStdio, ...] = ()
    """MCP servers started for this play and stopped when it ends (runs/mcp.py)."""
    later: LaterAttempts | None = None
    """Attempts `start()` left unwritten, written here beside the first claims (None: none)."""


class RunKeys:
    """The plaintext keys of a run's target and judge on their way to `open_client`: taken once,
    then gone. Shown as `RunKeys(***)`, never pickled (Dask workers find their own)."""

    __slots__ = ("_keys", "_simulator")

    def __init__(
        self, target: str | None, judge: str | None = None, simulator: str | None = None
    ) -> None:
        self._keys: list[Secret | None] = [_secret(target), _secret(judge)]
        self._simulator = _secret(simulator)

    def take(self) -> tuple[Secret | None, Secret | None]:
        """The two keys (target, judge), forgotten here: a second take gets nothing."""
        target, judge = self._keys or (None, None)
        self._keys = []
        return target, judge

    def take_simulator(self) -> Secret | None:
        """The simulator's key (issue 21), forgotten here."""
        key, self._simulator = self._simulator, None
        return key

    def __repr__(self) -> str:
        return "RunKeys(***)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("run keys cannot be pickled")


def _secret(key: str | None) -> Secret | None:
    return None if key is None else Secret(key)


_PLAYING: set[str] = set()
"""The owners playing a run in this process right now."""


def playing_here(owner: str) -> bool:
    """Whether `owner` is playing in this process (False once its `play` returned or raised:
    a run it left 'running' because the database went away has no player any more)."""
    return owner in _PLAYING


@dataclass(frozen=True)
class Played:
    status: str  # finished, cancelled or interrupted (an owner's); finished for a worker
    attempts: int  # attempts this player played


async def play(
    database: Database,
    request: PlayRequest,
    keys: RunKeys,
    *,
    on_progress: Progress = lambda status: None,
) -> Played:
    """Play `request`'s run: open clients, claim, play and write attempts, close, end."""
    client, judge_client = _open_clients(request, keys)
    simulator = _open_simulator(request, keys, judge_client)
    judge_raw = judge_client
    db = DatabaseThread(database)
    ids = {"run_id": request.run_id, "user_id": request.user_id}
    if request.cache_ttl is not None:  # wb.runs.start(cache=True): see workbench/runs/cache.py
        pair = cached(client, judge_client, request.target, request.judge, db,
                      request.user_id, request.cache_ttl)  # fmt: skip
        client, judge_client = pair
    beat = _stamping(db, ids, request.heartbeat_s) if request.shared else None
    later = LaterWrites(db, ids, request.later) if request.later is not None else None
    played = 0

    def progress(status: str) -> None:
        nonlocal played
        played += 1
        on_progress(status)

    status, failed = "interrupted", True
    _PLAYING.add(request.owner)
    try:
        async with open_servers(request.mcp_servers) as served:  # stopped on any exit
            if request.shared:  # a kernel that died may have left attempts unwritten
                await db.call(lifecycle.complete_attempts, **ids)
            job = await _job(db, request, client, judge_client, progress, served, simulator,
                             growing=later)  # fmt: skip
            with quiet_collector():
                if request.shared:
                    await _play_to_the_end(job)
                else:
                    await InKernelExecutor().execute(job)
        status, failed = "finished", False
    except asyncio.CancelledError:
        status, failed = "cancelled", False
        if request.shared:
            raise  # `workbench worker` says so; what it held is handed back below
    finally:
        if later is not None:
            await later.close()
        if beat is not None:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await beat
        await client.aclose()
        if judge_client is not client:
            await judge_client.aclose()
        if simulator is not judge_raw:  # its own client (the judge's is closed above)
            await simulator.aclose()
        try:
            await _end(db, request, status)
        except Exception:
            # The error already on its way (say ResultsNotStored: the database went away)
            # says more than the same database refusing the run's end.
            if not failed:
                raise
        finally:
            db.close()
            _PLAYING.discard(request.owner)
    return Played(status, played)


def _open_clients(request: PlayRequest, keys: RunKeys) -> tuple[ModelClient, ModelClient]:
    # On the run's own loop: the clients' HTTP sessions belong to it.
    target_key, judge_key = keys.take()
    client = open_client(request.target, api_key=_text(target_key), transport=request.transport)
    if request.judge is None:
        return client, client
    judge_client = open_client(request.judge, api_key=_text(judge_key), transport=request.transport)
    return client, judge_client


def _open_simulator(request: PlayRequest, keys: RunKeys, judge_client: ModelClient) -> ModelClient:
    """The simulator's own client, or the judge's (taken before the response cache wraps it:
    a cached simulator would replay the same user in every repeat)."""
    key = keys.take_simulator()
    if request.simulator is None or request.simulator is request.judge:  # not ==: rules differ
        return judge_client
    return open_client(request.simulator, api_key=_text(key), transport=request.transport)


def _text(key: Secret | None) -> str | None:
    return None if key is None else key.reveal()


async def _job(
    db: DatabaseThread,
    request: PlayRequest,
    client: ModelClient,
    judge_client: ModelClient,
    progress: Progress,
    served: McpTools | None = None,
    simulator: ModelClient | None = None,
    *,
    growing: Growing | None = None,
) -> RunJob:
    script = await db.call(lifecycle.script, run_id=request.run_id, user_id=request.user_id)
    live = request.live_tools
    system = Message("system", script.system_text)
    # Scenarios are read and planned batch by batch as they are claimed (runs/plans.py).
    plans = ClaimedPlans(db, run_id=request.run_id, user_id=request.user_id, client=client,
                         merge_users=request.target.provider == "anthropic",  # alternation
                         system=system, live_tools=live,
                         served=served.definitions if served else {})  # fmt: skip
    player = Player(system, client, _judge(judge_client), script.stop_on_failure, live,
                    script.max_tool_rounds, served.callers if served else None,
                    simulator=simulator, judge_client=judge_client,
                    special=play_special)  # fmt: skip
    return RunJob(request.run_id, request.user_id, request.owner, plans, player, db,
                  request.concurrency, progress, request.lease_s, request.heartbeat_s,
                  growing)  # fmt: skip


def _judge(client: ModelClient) -> Judge:
    async def ask(conversation: Any, reply: str, assertion: str, threshold: float) -> Any:
        return await judge(
            client, conversation=conversation, reply=reply, assertion=assertion, threshold=threshold
        )

    return ask


def _stamping(db: DatabaseThread, ids: dict[str, str], every_s: float) -> asyncio.Task[None]:
    async def stamp() -> None:
        while True:
            await db.call(lifecycle.stamp, **ids)
            await asyncio.sleep(every_s)

    return asyncio.get_running_loop().create_task(stamp())


async def _play_to_the_end(job: RunJob) -> None:
    """Claim until nothing is left, waiting out other workers' live leases: if one of them dies,
    this worker plays its attempts once their leases expire."""
    ids = {"run_id": job.run_id, "user_id": job.user_id, "owner": job.owner}
    while True:
        await InKernelExecutor().execute(job)
        wait_s = await job.db.call(lifecycle.others_lease_left, **ids)
        if wait_s is None:
            return
        await asyncio.sleep(min(max(wait_s, 0.0) + 0.05, POLL_SECONDS))


async def _end(db: DatabaseThread, request: PlayRequest, status: str) -> None:
    ids = {"run_id": request.run_id, "user_id": request.user_id}
    if request.shared:  # the others go on; the last to find nothing left finishes the run
        await db.call(lifecycle.hand_back, owner=request.owner, **ids)
        await db.call(lifecycle.finish_if_played, **ids)
    else:
        await db.call(lifecycle.finish, owner=request.owner, status=status, **ids)
