"""Plans built as attempts are claimed, never all at once before the first request.

    claim a batch -> its scenarios' snapshots (one statement) -> their plans -> (cache prefetch)

A run used to read every scenario's snapshot and build every plan before it claimed anything:
0.2-0.3 ms per attempt of set-up before the first request (2-3 s at 10,000 attempts), and every
plan held until the run ended. Here a claimed batch asks only for its own scenarios; the last
batch's plans are kept for the repeats of a scenario that straddle two batches (claims follow
the ledger's order: a scenario's repeats one after another), and dropped with the next batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.runs import lifecycle
from workbench.runs.cache_client import DatabaseCalls, prefetch_first_turns
from workbench.runs.engine import ScenarioPlan, build_plan
from workbench.runs.providers import Message, ModelClient
from workbench.runs.tools import LiveTool


class ClaimedPlans:
    """`await plans(positions)`: the plans of the scenarios at `positions`, built on demand."""

    def __init__(
        self,
        db: DatabaseCalls,
        *,
        run_id: str,
        user_id: str,
        merge_users: bool,
        client: ModelClient,
        system: Message,
        live_tools: Mapping[str, LiveTool] | None = None,
        served: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._db, self._ids = db, {"run_id": run_id, "user_id": user_id}
        self._merge, self._live, self._served = merge_users, live_tools or {}, served or {}
        self._client, self._system = client, system
        self._last: dict[int, ScenarioPlan] = {}
        self.built = 0  # plans built so far (a scenario straddling two batches: once)

    async def __call__(self, positions: Sequence[int]) -> Mapping[int, ScenarioPlan]:
        wanted = sorted(set(positions))
        plans = {p: self._last[p] for p in wanted if p in self._last}
        missing = [p for p in wanted if p not in plans]
        if missing:
            rows = await self._db.call(lifecycle.snapshots, positions=missing, **self._ids)
            built = {p: self._build(p, sid, turns, tools) for p, sid, turns, tools in rows}
            self.built += len(built)
            # A cached client learns these scenarios' first requests in one statement.
            await prefetch_first_turns(self._client, self._system, built)
            plans |= built
        self._last = plans
        return plans

    def _build(self, position: int, scenario_id: str, turns: Any, tools: Any) -> ScenarioPlan:
        return build_plan(position, scenario_id, turns, merge_users=self._merge, tools=tools,
                          live_tools=self._live, served=self._served)  # fmt: skip
