"""Playing a run from outside the kernel that started it: `workbench worker` and Dask tasks.

A worker is one more player on the same ledger: it claims batches with `FOR UPDATE SKIP LOCKED`,
plays them on the one path every executor takes (runs/play.py), writes results idempotently and
extends its leases with heartbeats. Any number of workers, on any machines, share a run; one
that dies loses only its leases, which expire and are claimed again (at most `lease_s` later).

The run's row belongs to whoever started it (`owner`); workers stamp its heartbeat (so it is not
taken for a dead kernel) and the last one to find nothing left to play writes its totals. A
worker plays the run as it was started: its targets rebuilt from the run's settings
(`Target.from_settings`: timeout, retries, parameters, limits, transport) and its response
cache. Keys come from the worker's own user (the vault, else the provider's environment
variable): nothing secret travels with the run.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from workbench.db.engine import Database
from workbench.runs.ledger import HEARTBEAT_SECONDS, LEASE_SECONDS
from workbench.runs.play import PlayRequest, play
from workbench.runs.providers import Target
from workbench.services._base import UserScopedService
from workbench.services.keys.service import KeyReveal
from workbench.services.runs.setup import check_counts, run_keys, stored_cache_ttl
from workbench.services.runs.simulated_setup import stored_simulator
from workbench.services.runs.study import RunStudy


def worker_owner() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 16
    lease_s: float = LEASE_SECONDS
    heartbeat_s: float = HEARTBEAT_SECONDS
    transport: str | None = None
    """None: the run's target's (`workbench.openai(..., transport="sdk")`; "direct" unless
    chosen, "sdk" for runs stored before that default); "sdk" or "direct" overrides it for this
    worker ("direct" needs about a third of the SDKs' CPU per call)."""


class RunWorker(UserScopedService):
    """Plays its user's runs from the ledger, beside any other workers."""

    def __init__(
        self, database: Database, user_id: str, *, guard: Callable[[], None] | None = None
    ) -> None:
        super().__init__(database, user_id, guard=guard)
        self._study = RunStudy(database, user_id, guard=guard)
        self._keys = KeyReveal(database, user_id, guard=guard)

    async def serve(self, run_id: str, settings: WorkerSettings) -> int:
        """Play what can be claimed of `run_id` (one of this user's runs); how many it played.

        Cancelling the task (SIGTERM in `workbench worker`) writes what finished and hands the
        attempts it still held back to the ledger as pending, for the other workers."""
        check_counts(1, settings.concurrency)
        row = self._study.row(run_id)  # NotFound for another user's run, RLS or not
        target = Target.from_settings(row.target, role="target")
        judge = Target.from_settings(row.judge, role="judge") if row.judge is not None else None
        simulator = stored_simulator(row.options)
        keys = run_keys(self._keys, target, judge, simulator)
        request = PlayRequest(
            run_id, self._user_id, worker_owner(), target, judge, settings.concurrency,
            cache_ttl=stored_cache_ttl(row.options), transport=settings.transport,
            lease_s=settings.lease_s, heartbeat_s=settings.heartbeat_s, shared=True,
            simulator=simulator,
        )  # fmt: skip
        played = await play(self._database, request, keys)
        return played.attempts
