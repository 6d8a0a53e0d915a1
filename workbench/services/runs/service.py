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
import contextlib
import dataclasses
import os
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from workbench.db.engine import Database
from workbench.errors import ValidationError
from workbench.runs import lifecycle
from workbench.runs.engine import DEFAULT_MAX_TOOL_ROUNDS
from workbench.runs.follow import follow
from workbench.runs.judge import JUDGE_PROMPT_VERSION
from workbench.runs.later import LaterAttempts
from workbench.runs.ledger import FINAL
from workbench.runs.mcp import list_tool_names
from workbench.runs.play import PlayRequest, RunKeys, play
from workbench.runs.providers import Target
from workbench.services._base import UserScopedService, run_errors, session_driver
from workbench.services.keys.service import KeyReveal
from workbench.services.prompts.service import PromptService
from workbench.services.runs.background import Background, Main, Progress
from workbench.services.runs.handle import RunHandle, StoredRun
from workbench.services.runs.matrix import check_spec, start_matrix
from workbench.services.runs.matrix_handle import MatrixHandle
from workbench.services.runs.matrix_study import MatrixStudy
from workbench.services.runs.setup import (
    RunPlan,
    cache_settings,
    check_counts,
    check_executor,
    check_playable_elsewhere,
    check_size,
    check_target,
    ended_here,
    find_prompt,
    find_suite,
    new_owner,
    plan_scenarios,
    rendered,
    repeatable_read,
    run_keys,
    run_options,
    snapshot_copier,
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
    kernel_only_tools,
    rounds_option,
)
from workbench.services.runs.tool_setup import with_tools as snapshots_with_tools
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd

    from workbench.runs.analysis.comparison_frame import ComparisonFrame


class RunService(UserScopedService):
    """The signed-in user's runs."""

    def __init__(
        self, database: Database, user_id: str, *, guard: Callable[[], None] | None = None
    ) -> None:
        super().__init__(database, user_id, guard=guard)
        self._study = RunStudy(database, user_id, guard=guard)
        self._matrices = MatrixStudy(database, user_id, guard=guard)
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
        check_executor(executor, detach)
        ttl = cache_settings(cache, cache_ttl)
        target = check_target(target, "target")
        judge = check_target(judge, "judge") if judge is not None else None
        simulator = check_target(simulator, "simulator") if simulator is not None else None
        given = check_run_tools(tools)
        rounds = check_max_tool_rounds(max_tool_rounds)
        kernel_only_tools(given, executor)
        offered = set(given.functions) | list_tool_names(given.servers)
        # Keys and the Dask client first: they use sessions and connections of their own, and
        # the transaction below should hold its connection only for the plan and the rows.
        keys = run_keys(self._keys, target, judge, simulator)
        dask = None
        if executor != "kernel":
            check_playable_elsewhere(target, judge, simulator)
            dask = self._dask_client(executor, concurrency, detach)  # before any row
        # One REPEATABLE READ transaction from the plan's read to the run's rows: the checks
        # read the scenarios that `INSERT ... SELECT` copies into the run (setup.COPY), and a
        # failed check writes nothing.
        with self._transaction() as session:
            repeatable_read(session)
            plan = self._plan(suite, prompt, variables, offered, session=session)
            check_size(len(plan.scenarios), repeats)
            check_simulator(simulator, judge, plan.scenarios)
            run_id = str(uuid.uuid4())
            total = len(plan.scenarios) * repeats
            # The first attempts are written with the run, the rest after `start` returns (a
            # large run's rows took seconds before the first request): by its play beside the
            # first claims, or for workers and Dask by this kernel's follower at once, unless a
            # player that starts first writes them (`lifecycle.complete_attempts`).
            later = LaterAttempts.after(len(plan.scenarios), repeats)
            owner = new_owner() if executor == "kernel" else lifecycle.WORKERS_OWNER
            self._insert(run_id, owner, plan, target, judge, repeats, stop_on_failure, ttl,
                         rounds, simulator, attempts_to=later.start if later else None,
                         session=session)  # fmt: skip
        if executor != "kernel":
            if dask is not None:
                self._submit_to_dask(dask, run_id, detach)
            return self._follow(run_id, total, progress, complete=later is not None)
        request = PlayRequest(run_id, self._user_id, owner, target, judge, concurrency, ttl,
                              live_tools=given.functions, mcp_servers=given.servers,
                              simulator=simulator, later=later)  # fmt: skip
        return self._play(request, keys, total, progress)

    def resume(
        self,
        run_id: str,
        *,
        target: Target | None = None,
        judge: Target | None = None,
        concurrency: int = 16,
        progress: bool = True,
        executor: object = "kernel",
        detach: bool = False,
        tools: object = None,
    ) -> RunHandle:
        """Play the attempts of a cancelled or interrupted run that have no result yet.

        The run's own target (and judge) are played again, with every setting they were started
        with; pass `target=` (and `judge=`) only for an offline target (which may hold a
        function), or to say which one you mean: it must match the run's. A run started with
        `cache=True` keeps its cache and TTL. `executor` hands it to workers or a Dask cluster,
        as in `start` (a run started in a kernel that closed, or on a cluster that went away,
        goes on anywhere: `wb.runs.resume(run_id, executor=client, detach=True)`). Live tool
        functions are not stored: pass `tools=` again for a run started with them (else the
        scenarios' mocks answer)."""
        check_counts(1, concurrency)
        check_executor(executor, detach)
        given = check_run_tools(tools)
        kernel_only_tools(given, executor)
        row = self._study.row(run_id)
        if row.status not in ("cancelled", "interrupted") and not ended_here(row.status, row.owner):
            raise ValidationError(
                f"Run {run_id} is {row.status}; only cancelled or interrupted runs resume."
            )
        target = same_target(target, row.target, "target")
        if row.judge is not None:
            judge = same_target(judge, row.judge, "judge")
        simulator = stored_simulator(row.options)
        keys = run_keys(self._keys, target, judge, simulator)
        if executor != "kernel":
            check_playable_elsewhere(target, judge, simulator)
            dask = self._dask_client(executor, concurrency, detach)
            todo = self._reopen(run_id, lifecycle.WORKERS_OWNER)
            if dask is not None:
                self._submit_to_dask(dask, run_id, detach)
            return self._follow(run_id, todo, progress)
        owner = new_owner()
        todo = self._reopen(run_id, owner)
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
            status, _owner = lifecycle.state(connection, run_id=run_id, user_id=self._user_id)
        if not lifecycle.has_ended(status):
            return self._follow(run_id, sum(tally.values()), progress)
        # A run that has ended is shown ended at once, with its counts: nothing to follow.
        shown = Progress(sum(tally.values()), show=progress)
        for outcome in FINAL:
            for _ in range(tally.get(outcome, 0)):
                shown.advance(outcome)
        shown.close()
        return RunHandle(run_id, self._study, shown, Background.ended(status))

    # -- matrices: matrix.py, matrix_handle.py, matrix_study.py ---------------------------------
    def matrix(
        self,
        *,
        suite: str,
        prompts: builtins.list[str],
        targets: builtins.list[Target],
        judge: Target | None = None,
        repeats: int = 1,
        concurrency: int = 16,
        pass_k: int | None = None,
        baseline: tuple[str, Target | str] | None = None,
        variables: Mapping[str, object] | None = None,
        progress: bool = False,
        cache: bool = False,
        cache_ttl: timedelta | float | None = None,
    ) -> MatrixHandle:
        """Start one normal run per (prompt, target) cell of `suite` (see docs/matrix.md).

        `concurrency` is the budget per provider and model, shared by the cells that call it.
        `pass_k` (default: `repeats`) is the k of pass^k; `baseline` a (prompt, target) cell
        that `m.compare()` and `m.report()` compare with. Every check runs first: nothing is
        written and nothing sent if one fails (an empty list, a repeated cell, a baseline not
        in the matrix, `pass_k` above `repeats`, a missing key).

        >>> m = wb.runs.matrix(suite="S", prompts=["A", "B"], targets=[t1, t2])  # doctest: +SKIP
        """
        spec = check_spec(suite, prompts, targets, judge, repeats, concurrency, pass_k, baseline,
                          variables, cache, cache_ttl)  # fmt: skip
        matrix_id, play = start_matrix(self, spec, progress)
        record = self._matrices.record(matrix_id)
        return MatrixHandle(record, self._matrices, play(), self._quiet)

    def matrices(self) -> builtins.list[MatrixHandle]:
        """Your matrices, newest first."""
        return [MatrixHandle(record, self._matrices, {}, self._quiet)
                for record in self._matrices.records()]  # fmt: skip

    def matrix_get(self, matrix_id: str) -> MatrixHandle:
        """One of your matrices (`NotFound` if it is not yours), to wait on and study."""
        return MatrixHandle(self._matrices.record(matrix_id), self._matrices, {}, self._quiet)

    def _quiet(self, run_id: str) -> RunHandle:
        return self.attach(run_id, progress=False)

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

    def summary(self, run_id: str, *, labels: bool = False) -> pd.DataFrame:
        """Pass rate per scenario and expectation of a run of yours (ERROR never counts);
        `labels=True` counts a person's pass/fail label (wb.reviews) where there is one."""
        return self._study.summary(run_id, labels=labels)

    def compare(
        self, baseline: RunRef, candidate: RunRef, *, pass_k: int | None = None
    ) -> ComparisonFrame:
        """Align two runs by scenario, turn and expectation; say what changed (`ComparisonFrame`:
        `.regressions()`, `.counts()`, `.scenarios()`, and `.paired`, the paired statistics:
        difference with interval, McNemar p-value, pass^k; see `RunStudy.compare`).

        >>> wb.runs.compare(last_week, today).paired      # doctest: +SKIP
        """
        return self._study.compare(baseline, candidate, pass_k=pass_k)

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
    def _plan(
        self,
        suite: str,
        prompt: str,
        variables: Mapping[str, object] | None,
        offered: Collection[str] = (),
        *,
        session: Session | None = None,
    ) -> RunPlan:
        """What a run plays, checked. In `session`, `start()`'s transaction, only the scenarios
        with tools or simulated blocks are read whole (`plan_scenarios`: `_insert` copies the
        others server-side in that transaction); alone, every scenario is."""
        whole = session is None
        with contextlib.ExitStack() as stack:
            if session is None:
                session = stack.enter_context(self._transaction())
            suite_row = find_suite(session, self._user_id, suite)
            read = snapshot_scenarios if whole else plan_scenarios
            scenarios = read(session, self._user_id, suite_row)
            # A copied scenario has no tools or simulated document (`plan_scenarios`): only the
            # others are looked up (at 10,000 scenarios, two reads of every id cost 0.13 s).
            held = [s for s in scenarios if not s.copied]
            held = snapshots_with_tools(session, self._user_id, held, offered)
            set_up = iter(with_simulation(session, self._user_id, held))
            scenarios = [s if s.copied else next(set_up) for s in scenarios]
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
        *,
        attempts_to: int | None = None,
        session: Session | None = None,
    ) -> None:
        """The run's rows (`lifecycle.create`): its record, snapshots and pending attempts
        (those of the scenarios before `attempts_to` only, if given); in `session` if given
        (the plan's: its `copied` snapshots are copied from what it read)."""
        run = self._new_run(run_id, owner, plan, target, judge, repeats, stop_on_failure, ttl,
                            max_tool_rounds, simulator)  # fmt: skip
        copy = snapshot_copier(run_id, self._user_id, plan.suite_id)
        with contextlib.ExitStack() as stack:
            if session is None:
                session = stack.enter_context(self._transaction())
            lifecycle.create(session_driver(session), run, attempts_to=attempts_to, copy=copy)

    def _new_run(
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
    ) -> lifecycle.NewRun:
        return lifecycle.NewRun(
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

    def _play(self, request: PlayRequest, keys: RunKeys, total: int, show: bool) -> RunHandle:
        progress = Progress(total, show=show)

        async def main() -> str:
            with run_errors(self._database, request.run_id):
                played = await play(self._database, request, keys, on_progress=progress.advance)
            return played.status

        return self._handle(request.run_id, progress, main)

    def _follow(self, run_id: str, total: int, show: bool, *, complete: bool = False) -> RunHandle:
        progress = Progress(total, show=show)

        async def main() -> str:
            return await follow(self._database, run_id=run_id, user_id=self._user_id,
                                on_progress=progress.advance, complete=complete)  # fmt: skip

        return self._handle(run_id, progress, main)

    def _handle(self, run_id: str, progress: Progress, main: Main) -> RunHandle:
        name = f"workbench-run-{run_id[:8]}"
        background = Background.start(name, main, on_end=progress.close)
        return RunHandle(run_id, self._study, progress, background)

    def _attempts(self, run_id: str) -> int:
        with self._transaction() as session:
            return sum(lifecycle.counts(session_driver(session), run_id=run_id,
                                        user_id=self._user_id).values())  # fmt: skip

    def _reopen(self, run_id: str, owner: str) -> int:
        with self._transaction() as session:
            connection = session_driver(session)
            return lifecycle.reopen(connection, run_id=run_id, user_id=self._user_id, owner=owner)

    def _dask_client(self, executor: object, concurrency: int, detach: bool) -> Any:
        """The checked Dask client and its workers' settings, or None for `"workers"`."""
        if executor == "workers":
            return None
        from workbench.services.runs.dask import checked_client

        return checked_client(executor, concurrency=concurrency, detach=detach)  # type: ignore[arg-type]

    def _submit_to_dask(self, dask: Any, run_id: str, detach: bool) -> None:
        from workbench.services.runs.dask import submit, warn_if_role_ends_with_server

        if detach:
            warn_if_role_ends_with_server(self._database, run_id)

        client, settings = dask
        url = self._database.url.render_as_string(hide_password=False)
        futures = submit(client, database_url=url, run_id=run_id, user_id=self._user_id,
                         settings=settings, detach=detach)  # fmt: skip
        self._dask_futures = futures  # not detached: the tasks live as long as this service


def same_target(given: Target | None, stored: Mapping[str, Any], role: str) -> Target:
    """The target a resume plays: the one given if it matches the run's settings, else the
    run's own, rebuilt from them (`Target.from_settings`)."""
    offline = stored.get("provider") == "offline"  # stored without its rules: given again
    own = None if offline and given is not None else Target.from_settings(stored, role=role)
    given = check_target(own if given is None else given, role)
    # The transport is how the same bytes travel, not what the run is: a target built as at the
    # start matches even though the default changed since ("sdk" then, "direct" now), and the
    # run goes on with its own transport, as it started (a worker's --transport overrides it).
    if own is not None:
        given = dataclasses.replace(given, transport=own.transport)
        stored = {**stored, "transport": own.transport}
    if given.settings() != dict(stored):
        raise ValidationError(
            f"The {role} given differs from the run's ({stored.get('provider')}, "
            f"{stored.get('model')}); resume plays the same run, so pass the same {role}."
        )
    return given
