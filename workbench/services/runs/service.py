"""Runs: play a suite with a prompt against a model, keep every attempt. Reach it as `wb.runs`.

    run = wb.runs.start(suite="Checkout flows", prompt="Support agent",
                        target=workbench.openai("gpt-4o-mini", temperature=0), repeats=3)
    run.wait(); run.summary(); run.frame()
    wb.runs.list(); wb.runs.get(run_id).compare(run); wb.runs.resume(run_id)

Everything is checked before any row is written or any request sent (setup.py). The service
looks up what is the user's (suite, prompt, keys) and hands `workbench.runs` a `NewRun` to store
and a `PlayRequest` to play (runs/play.py, the one path); reading runs is `RunStudy`'s (study.py).
"""

from __future__ import annotations

import builtins
import os
import socket
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from workbench.db.engine import Database
from workbench.errors import ValidationError
from workbench.runs import lifecycle
from workbench.runs.engine import DEFAULT_MAX_TOOL_ROUNDS
from workbench.runs.follow import follow
from workbench.runs.judge import JUDGE_PROMPT_VERSION
from workbench.runs.ledger import FINAL
from workbench.runs.mcp import list_tool_names
from workbench.runs.play import PlayRequest, RunKeys, play
from workbench.runs.providers import Target
from workbench.services._base import UserScopedService, session_driver
from workbench.services.keys.service import KeyReveal
from workbench.services.prompts.service import PromptService
from workbench.services.runs.background import Background, Main, Progress
from workbench.services.runs.handle import RunHandle, StoredRun
from workbench.services.runs.setup import (
    RunPlan,
    cache_settings,
    check_counts,
    check_target,
    find_prompt,
    find_suite,
    rendered,
    run_keys,
    run_options,
    snapshot_scenarios,
    stored_cache_ttl,
)
from workbench.services.runs.simulated_setup import (
    check_simulator,
    simulator_option,
    stored_simulator,
    with_simulation,
)
from workbench.services.runs.study import ExportFormat, RunRef, RunStudy
from workbench.services.runs.tool_setup import (
    check_max_tool_rounds,
    check_run_tools,
    rounds_option,
)
from workbench.services.runs.tool_setup import with_tools as snapshots_with_tools
from workbench.services.runs.worker import WorkerSettings
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

    from workbench.runs.analysis.comparison_frame import ComparisonFrame


def new_owner() -> str:
    return f"kernel:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class RunService(UserScopedService):
    """The signed-in user's runs."""

    def __init__(
        self, database: Database, user_id: str, *, guard: Callable[[], None] | None = None
    ) -> None:
        super().__init__(database, user_id, guard=guard)
        self._study = RunStudy(database, user_id, guard=guard)
        self._prompts = PromptService(database, user_id, guard=guard)
        self._keys = KeyReveal(database, user_id, guard=guard)
        self._dask_futures: builtins.list[Any] = []  # held while this service lives

    def start(
        self,
        *,
        suite: str,
        prompt: str,
        target: Target,
        judge: Target | None = None,
        repeats: int = 1,
        concurrency: int = 16,
        variables: Mapping[str, object] | None = None,
        stop_on_failure: bool = False,
        progress: bool = True,
        cache: bool = False,
        cache_ttl: timedelta | float | None = None,
        executor: object = "kernel",
        detach: bool = False,
        tools: object = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        simulator: Target | None = None,
    ) -> RunHandle:
        """Start playing `suite` (id or name) with `prompt` (id or name) against `target`.

        Scenarios with tools offer them to the target; `tools={"name": function}` answers
        those calls with your Python functions instead of the mocks, `tools=mcp_stdio(...)`
        (or a list of both) offers an MCP server's tools too (kernel runs only), and
        `max_tool_rounds` bounds the tool rounds of one EXPECT turn (see docs/runs.md).
        `simulator` plays the simulated users of `simulated_user(...)` blocks (default: the
        judge; see docs/simulated-users.md).

        `executor="workers"` only queues the run for `workbench worker` processes; a Dask
        `Client` plays it on its cluster (`detach=True`: it goes on after this kernel closes).
        Either way the handle follows it from the ledger (see docs/scaling.md).

        Returns at once; `await run` or `run.wait()`. Every check runs first: nothing is
        written and nothing sent if one fails. `cache=True` answers from your response cache
        where it can (entries younger than `cache_ttl`, 14 days by default; see docs/runs.md).
        """
        check_counts(repeats, concurrency)
        dask = executor not in ("kernel", "workers")
        if dask and type(executor).__name__ not in ("Client", "DaskExecutor"):
            raise ValidationError(
                f"executor must be 'kernel', 'workers' or a dask Client, got {executor!r}"
            )
        ttl = cache_settings(cache, cache_ttl)
        target = check_target(target, "target")
        judge = check_target(judge, "judge") if judge is not None else None
        simulator = check_target(simulator, "simulator") if simulator is not None else None
        given = check_run_tools(tools)
        rounds = check_max_tool_rounds(max_tool_rounds)
        if (given.functions or given.servers) and executor != "kernel":
            raise ValidationError(
                "tools= (live Python functions, MCP servers) need executor='kernel': workers "
                "and Dask cannot call this kernel's functions"
            )
        offered = set(given.functions) | list_tool_names(given.servers)
        plan = self._plan(suite, prompt, variables, offered)
        check_simulator(simulator, judge, plan.scenarios)
        keys = run_keys(self._keys, target, judge, simulator)
        run_id = str(uuid.uuid4())
        total = len(plan.scenarios) * repeats
        if executor != "kernel":
            self._insert(run_id, lifecycle.WORKERS_OWNER, plan, target, judge, repeats,
                         stop_on_failure, ttl, rounds, simulator)  # fmt: skip
            if dask:
                self._submit_to_dask(executor, run_id, concurrency, detach)
            return self._follow(run_id, total, progress)
        owner = new_owner()
        self._insert(run_id, owner, plan, target, judge, repeats, stop_on_failure, ttl, rounds,
                     simulator)  # fmt: skip
        request = PlayRequest(run_id, self._user_id, owner, target, judge, concurrency, ttl,
                              live_tools=given.functions, mcp_servers=given.servers,
                              simulator=simulator)  # fmt: skip
        return self._play(request, keys, total, progress)

    def resume(
        self,
        run_id: str,
        *,
        target: Target | None = None,
        judge: Target | None = None,
        concurrency: int = 16,
        progress: bool = True,
        tools: object = None,
    ) -> RunHandle:
        """Play the attempts of a cancelled or interrupted run that have no result yet.

        The run's own target (and judge) are played again, with every setting they were started
        with; pass `target=` (and `judge=`) only for an offline target (which may hold a
        function), or to say which one you mean: it must match the run's. A run started with
        `cache=True` keeps its cache and TTL. Live tool functions are not stored: pass `tools=`
        again for a run started with them (else the scenarios' mocks answer)."""
        check_counts(1, concurrency)
        given = check_run_tools(tools)
        row = self._study.row(run_id)
        if row.status not in ("cancelled", "interrupted"):
            raise ValidationError(
                f"Run {run_id} is {row.status}; only cancelled or interrupted runs resume."
            )
        target = same_target(target, row.target, "target")
        if row.judge is not None:
            judge = same_target(judge, row.judge, "judge")
        simulator = stored_simulator(row.options)
        keys = run_keys(self._keys, target, judge, simulator)
        owner = new_owner()
        with self._transaction() as session:
            todo = lifecycle.reopen(session_driver(session), run_id=run_id, user_id=self._user_id,
                                    owner=owner)  # fmt: skip
        ttl = stored_cache_ttl(row.options)
        request = PlayRequest(run_id, self._user_id, owner, target, judge, concurrency, ttl,
                              live_tools=given.functions, mcp_servers=given.servers,
                              simulator=simulator)  # fmt: skip
        return self._play(request, keys, todo, progress)

    def attach(self, run_id: str, *, progress: bool = True) -> RunHandle:
        """Follow a run of yours from the ledger, whoever plays it (a worker, a closed kernel)."""
        self._study.get(run_id)  # NotFound unless yours
        with self._transaction() as session:
            connection = session_driver(session)
            tally = lifecycle.counts(connection, run_id=run_id, user_id=self._user_id)
            status, owner = lifecycle.state(connection, run_id=run_id, user_id=self._user_id)
        if not lifecycle.has_ended(status, owner):
            return self._follow(run_id, sum(tally.values()), progress)
        # A run that has ended is shown ended at once, with its counts: nothing to follow.
        shown = Progress(sum(tally.values()), show=progress)
        for outcome in FINAL:
            for _ in range(tally.get(outcome, 0)):
                shown.advance(outcome)
        shown.close()
        return RunHandle(run_id, self._study, shown, Background.ended(status))

    # -- reading runs: RunStudy's --------------------------------------------------------------
    def get(self, run_id: str) -> StoredRun:
        """One of your runs, to study as a started one (`.frame()`, `.summary()`,
        `.compare(other)`, ...); `NotFound` if it is not yours."""
        return self._study.get(run_id)

    def list(self) -> builtins.list[StoredRun]:
        """Your runs, newest first (runs whose kernel died are marked interrupted first)."""
        return self._study.list()

    def frame(self) -> pd.DataFrame:
        """Your runs as a DataFrame, newest first."""
        return self._study.frame()

    def results_frame(self, run_id: str) -> pd.DataFrame:
        """One row per expectation attempt of a run of yours (also `wb.runs.get(id).frame()`)."""
        return self._study.results_frame(run_id)

    def tool_calls_frame(self, run_id: str) -> pd.DataFrame:
        """One row per tool call of a run of yours (also `run.tool_calls_frame()`)."""
        return self._study.tool_calls_frame(run_id)

    def summary(self, run_id: str) -> pd.DataFrame:
        """Pass rate per scenario and expectation of a run of yours (ERROR never counts)."""
        return self._study.summary(run_id)

    def compare(self, baseline: RunRef, candidate: RunRef) -> ComparisonFrame:
        """Align two runs by scenario, turn and expectation; say what changed (`ComparisonFrame`:
        `.regressions()`, `.counts()`, `.scenarios()`; see `RunStudy.compare`).

        >>> wb.runs.compare(last_week, today).regressions()      # doctest: +SKIP
        """
        return self._study.compare(baseline, candidate)

    def trend(self, *, suite: str | None = None, last: int = 20) -> pd.DataFrame:
        """Your last `last` runs of `suite` (name or id; every suite if None), oldest first:
        pass rate, cost and p50/p95 reply latency per run."""
        return self._study.trend(suite=suite, last=last)

    def flaky(self, run: RunRef) -> pd.DataFrame:
        """Expectations of a run that both passed and failed across its repeats."""
        return self._study.flaky(run)

    def pass_rates(self, run: RunRef) -> pd.DataFrame:
        """Per scenario: attempts passed, failed, errored and the pass rate's 95% interval."""
        return self._study.pass_rates(run)

    def attempts(self, run: RunRef) -> pd.DataFrame:
        """One row per attempt: scenario, repeat, status, error, latency, tags, flaky."""
        return self._study.attempts(run)

    def transcript(self, run: RunRef, *, position: int, repeat: int = 1) -> dict[str, Any]:
        """One attempt's turns: USER text, EXPECT replies with each expectation's outcome;
        `position` (the scenario's in the suite) and `repeat` count from 1, as
        `wb.runs.attempts(run)` shows them."""
        return self._study.transcript(run, position=position, repeat=repeat)

    def export(
        self,
        run: RunRef,
        *,
        format: ExportFormat = "json",
        path: str | os.PathLike[str] | None = None,
    ) -> str:
        """A run's results as JSON, CSV or JUnit XML text, also written to `path` if given."""
        return self._study.export(run, format=format, path=path)

    def clear_cache(self, *, older_than: timedelta | float | None = None) -> int:
        """Delete your cached replies (those older than `older_than`, days or a timedelta, if
        given); how many were deleted. Nobody else's are touched."""
        return self._study.clear_cache(older_than=older_than)

    # -- internals ------------------------------------------------------------------------------
    def _mark_interrupted(self) -> None:
        """Runs of yours whose kernel died are marked interrupted (connect() calls this)."""
        self._study.mark_interrupted()

    def _plan(
        self,
        suite: str,
        prompt: str,
        variables: Mapping[str, object] | None,
        offered: Collection[str] = (),
    ) -> RunPlan:
        with self._transaction() as session:
            suite_row = find_suite(session, self._user_id, suite)
            scenarios = snapshot_scenarios(session, self._user_id, suite_row)
            scenarios = snapshots_with_tools(session, self._user_id, scenarios, offered)
            scenarios = with_simulation(session, self._user_id, scenarios)
            prompt_row = find_prompt(session, self._user_id, prompt)
        system = rendered(self._prompts, prompt_row, variables)
        return RunPlan(suite_row.id, suite_row.name, prompt_row, system, scenarios)

    def _insert(
        self,
        run_id: str,
        owner: str,
        plan: RunPlan,
        target: Target,
        judge: Target | None,
        repeats: int,
        stop_on_failure: bool,
        ttl: timedelta | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        simulator: Target | None = None,
    ) -> None:
        """The run's rows (`lifecycle.create`): its record, snapshots and pending attempts."""
        run = lifecycle.NewRun(
            id=run_id, user_id=self._user_id, owner=owner, suite_id=plan.suite_id,
            suite_name=plan.suite_name, prompt_id=plan.prompt.id, prompt_name=plan.prompt.name,
            prompt_updated_at=plan.prompt.updated_at, system_text=plan.system_text,
            system_sha256=plan.system_sha256, target=target.settings(),
            judge=judge.settings() if judge else None, judge_prompt_version=JUDGE_PROMPT_VERSION,
            repeats=repeats, scenarios=plan.scenarios,
            options=run_options(stop_on_failure, ttl) | rounds_option(max_tool_rounds)
            | simulator_option(simulator),
            created_at=utcnow(),
        )  # fmt: skip
        with self._transaction() as session:
            lifecycle.create(session_driver(session), run)

    def _play(self, request: PlayRequest, keys: RunKeys, total: int, show: bool) -> RunHandle:
        progress = Progress(total, show=show)

        async def main() -> str:
            played = await play(self._database, request, keys, on_progress=progress.advance)
            return played.status

        return self._handle(request.run_id, progress, main)

    def _follow(self, run_id: str, total: int, show: bool) -> RunHandle:
        progress = Progress(total, show=show)

        async def main() -> str:
            return await follow(self._database, run_id=run_id, user_id=self._user_id,
                                on_progress=progress.advance)  # fmt: skip

        return self._handle(run_id, progress, main)

    def _handle(self, run_id: str, progress: Progress, main: Main) -> RunHandle:
        name = f"workbench-run-{run_id[:8]}"
        background = Background.start(name, main, on_end=progress.close)
        return RunHandle(run_id, self._study, progress, background)

    def _attempts(self, run_id: str) -> int:
        with self._transaction() as session:
            return sum(lifecycle.counts(session_driver(session), run_id=run_id,
                                        user_id=self._user_id).values())  # fmt: skip

    def _submit_to_dask(self, client: Any, run_id: str, concurrency: int, detach: bool) -> None:
        from distributed import Client

        from workbench.services.runs.dask import submit

        url = self._database.url.render_as_string(hide_password=False)
        settings = WorkerSettings(concurrency)
        if not isinstance(client, Client):  # a DaskExecutor: the client and lease settings
            settings = WorkerSettings(concurrency, client.lease_s, client.heartbeat_s)
            client = client.client
        futures = submit(client, database_url=url, run_id=run_id, user_id=self._user_id,
                         settings=settings, detach=detach)  # fmt: skip
        self._dask_futures = futures  # not detached: the tasks live as long as this service


def same_target(given: Target | None, stored: Mapping[str, Any], role: str) -> Target:
    """The target a resume plays: the one given if it matches the run's settings, else the
    run's own, rebuilt from them (`Target.from_settings`)."""
    if given is None:
        given = Target.from_settings(stored, role=role)
    given = check_target(given, role)
    if given.settings() != dict(stored):
        raise ValidationError(
            f"The {role} given differs from the run's ({stored.get('provider')}, "
            f"{stored.get('model')}); resume plays the same run, so pass the same {role}."
        )
    return given
