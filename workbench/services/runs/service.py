"""Runs: play a suite with a prompt against a model, keep every attempt. Reach it as `wb.runs`.

    run = wb.runs.start(suite="Checkout flows", prompt="Support agent",
                        target=workbench.openai("gpt-4o-mini", temperature=0), repeats=3)
    run.wait(); run.summary(); run.frame()
    wb.runs.list(); wb.runs.resume(run_id)

Everything is checked before any row is written or any request sent (see `run_setup`).
"""

from __future__ import annotations

import builtins
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from workbench.db.models import Run, RunAttempt
from workbench.errors import NotFound, ValidationError
from workbench.runs.play import launch, mark_interrupted
from workbench.runs.providers import Target
from workbench.services.runs.handle import RunHandle
from workbench.services.runs.setup import (
    RunPlan,
    check_counts,
    check_target,
    find_key,
    find_prompt,
    find_suite,
    insert_snapshots,
    rendered,
    snapshot_scenarios,
)
from workbench.services.runs.study import RunStudy, cache_settings
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RunView:
    id: str
    suite_name: str
    prompt_name: str
    model: str
    status: str
    repeats: int
    created_at: datetime
    finished_at: datetime | None
    totals: Mapping[str, Any] | None


def run_view(row: Run) -> RunView:
    return RunView(
        row.id,
        row.suite_name,
        row.prompt_name,
        str(row.target.get("model")),
        row.status,
        row.repeats,
        row.created_at,
        row.finished_at,
        row.totals,
    )


def new_owner() -> str:
    return f"kernel:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_options(stop_on_failure: bool, ttl: timedelta | None) -> dict[str, object]:
    """The run's `options` JSONB; the cache settings are kept so that `resume` reuses them."""
    cache = {"cache": True, "cache_ttl_s": ttl.total_seconds()} if ttl is not None else {}
    return {"stop_on_failure": stop_on_failure, **cache}


class RunService(RunStudy):
    """The signed-in user's runs."""

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
    ) -> RunHandle:
        """Start playing `suite` (id or name) with `prompt` (id or name) against `target`.

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
        plan = self._plan(suite, prompt, variables)
        reveal = self._api_keys()._reveal_for_provider_call
        key = find_key(reveal, target, "target")
        judge_key = find_key(reveal, judge, "judge") if judge is not None else None
        run_id, owner = str(uuid.uuid4()), new_owner()
        if executor != "kernel":
            from workbench.services.runs.worker import WORKERS_OWNER, watch

            self._insert(run_id, WORKERS_OWNER, plan, target, judge, repeats, stop_on_failure, ttl)
            handle = RunHandle(self, run_id, len(plan.scenarios) * repeats, progress=progress)
            if dask:
                self._submit_to_dask(executor, run_id, concurrency, detach)
            watch(self, handle)
            return handle
        self._insert(run_id, owner, plan, target, judge, repeats, stop_on_failure, ttl)
        total = len(plan.scenarios) * repeats
        handle = RunHandle(self, run_id, total, progress=progress)
        launch(self, handle, owner, target, key, judge, judge_key, concurrency, cache_ttl=ttl)
        return handle

    def resume(
        self,
        run_id: str,
        *,
        target: Target | None = None,
        judge: Target | None = None,
        concurrency: int = 16,
        progress: bool = True,
    ) -> RunHandle:
        """Play the attempts of a cancelled or interrupted run that have no result yet.

        Pass `target=` (and `judge=`) again for an offline target built from a function; the
        settings must match the run's. A run started with `cache=True` keeps its cache and TTL."""
        check_counts(1, concurrency)
        row = self._mark_and_get(run_id)
        if row.status not in ("cancelled", "interrupted"):
            raise ValidationError(
                f"Run {run_id} is {row.status}; only cancelled or interrupted runs resume."
            )
        target = self._same_target(target, row.target, "target")
        judge_settings = row.judge
        if judge_settings is not None:
            judge = self._same_target(judge, judge_settings, "judge")
        reveal = self._api_keys()._reveal_for_provider_call
        key = find_key(reveal, target, "target")
        judge_key = find_key(reveal, judge, "judge") if judge is not None else None
        owner = new_owner()
        todo = self._reopen(run_id, owner)
        handle = RunHandle(self, run_id, todo, progress=progress)
        ttl_s = (row.options or {}).get("cache_ttl_s")  # absent: started without the cache
        ttl = timedelta(seconds=float(ttl_s)) if ttl_s is not None else None
        launch(self, handle, owner, target, key, judge, judge_key, concurrency, cache_ttl=ttl)
        return handle

    def attach(self, run_id: str, *, progress: bool = True) -> RunHandle:
        """Follow a run of yours from the ledger, whoever plays it (a worker, a closed kernel)."""
        from workbench.services.runs.worker import WORKERS_OWNER, watch

        row = self._mark_and_get(run_id)
        with self._transaction() as session:
            tally: dict[str, int] = dict(
                session.execute(
                    select(RunAttempt.status, text("count(*)"))
                    .where(RunAttempt.user_id == self._user_id, RunAttempt.run_id == run_id)
                    .group_by(RunAttempt.status)
                ).all()
            )
        handle = RunHandle(self, run_id, sum(tally.values()), progress=progress)
        # A run that has ended is shown ended at once, with its counts: no watcher to wait for.
        ended = row.status in ("finished", "cancelled") or (
            row.status == "interrupted" and row.owner != WORKERS_OWNER
        )
        if ended:
            handle._settle(row.status, tally)
        else:
            watch(self, handle)
        return handle

    def get(self, run_id: str) -> RunView:
        """One of your runs; `NotFound` if it is not yours."""
        return run_view(self._mark_and_get(run_id))

    def list(self) -> builtins.list[RunView]:
        """Your runs, newest first (runs whose kernel died are marked interrupted first)."""
        with self._transaction() as session:
            mark_interrupted(session, self._user_id)
            rows = session.scalars(
                select(Run).where(Run.user_id == self._user_id).order_by(Run.created_at.desc())
            )
            return [run_view(row) for row in rows]

    def frame(self) -> pd.DataFrame:
        """Your runs as a DataFrame, newest first."""
        import pandas as pd

        views = self.list()
        columns = ["id", "suite_name", "prompt_name", "model", "status", "repeats",
                   "created_at", "finished_at"]  # fmt: skip
        rows = [[getattr(v, c) for c in columns] + [dict(v.totals or {})] for v in views]
        return pd.DataFrame(rows, columns=[*columns, "totals"])

    def results_frame(self, run_id: str) -> pd.DataFrame:
        """One row per expectation attempt of a run of yours."""
        from workbench.runs.analysis.results import results_frame

        self._mark_and_get(run_id)
        with self._transaction() as session:
            return results_frame(session, self._user_id, run_id)

    def summary(self, run_id: str) -> pd.DataFrame:
        """Pass rate per scenario and expectation of a run of yours (ERROR never counts)."""
        from workbench.runs.analysis.results import summarise

        return summarise(self.results_frame(run_id))

    # -- internals ----------------------------------------------------------------------
    def _api_keys(self) -> Any:
        from workbench.services.keys.service import ApiKeyService

        return ApiKeyService(self._database, self._user_id, guard=self._guard)

    def _plan(self, suite: str, prompt: str, variables: Mapping[str, object] | None) -> RunPlan:
        from workbench.services.prompts.service import PromptService

        with self._transaction() as session:
            suite_row = find_suite(session, self._user_id, suite)
            scenarios = snapshot_scenarios(session, self._user_id, suite_row)
            prompt_row = find_prompt(session, self._user_id, prompt)
        prompts = PromptService(self._database, self._user_id, guard=self._guard)
        system = rendered(prompts.render, prompt_row, variables)
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
    ) -> None:
        from workbench.runs.judge import JUDGE_PROMPT_VERSION

        now = utcnow()
        run = Run(
            id=run_id, user_id=self._user_id, suite_id=plan.suite_id, suite_name=plan.suite_name,
            prompt_id=plan.prompt.id, prompt_name=plan.prompt.name,
            prompt_updated_at=plan.prompt.updated_at, system_text=plan.system_text,
            system_sha256=plan.system_sha256, target=target.settings(),
            judge=judge.settings() if judge else None, judge_prompt_version=JUDGE_PROMPT_VERSION,
            repeats=repeats, options=run_options(stop_on_failure, ttl), status="running",
            created_at=now, started_at=now, owner=owner, heartbeat_at=now,
        )  # fmt: skip
        with self._transaction() as session:
            session.add(run)
            session.flush()
            insert_snapshots(session, run_id, self._user_id, plan.scenarios)
            session.flush()
            session.execute(
                text(
                    "INSERT INTO workbench.run_attempt (run_id, user_id, position, scenario_id,"
                    " repeat, status, tries) SELECT r.id, r.user_id, s.position, s.scenario_id,"
                    " k, 'pending', 0 FROM workbench.run r JOIN workbench.run_scenario s"
                    " ON s.run_id = r.id CROSS JOIN generate_series(0, r.repeats - 1) k"
                    " WHERE r.id = :run_id AND r.user_id = :user_id ORDER BY s.position, k"
                ),
                {"run_id": run_id, "user_id": self._user_id},
            )

    def _submit_to_dask(self, client: Any, run_id: str, concurrency: int, detach: bool) -> None:
        from distributed import Client

        from workbench.services.runs.dask import submit
        from workbench.services.runs.worker import WorkerSettings

        url = self._database.url.render_as_string(hide_password=False)
        settings = WorkerSettings(concurrency)
        if not isinstance(client, Client):  # a DaskExecutor: the client and lease settings
            settings = WorkerSettings(concurrency, client.lease_s, client.heartbeat_s)
            client = client.client
        futures = submit(client, database_url=url, run_id=run_id, user_id=self._user_id,
                         settings=settings, detach=detach)  # fmt: skip
        self._dask_futures = futures  # held while this service lives (not detached: with it)

    def _mark_interrupted(self) -> None:
        """Runs of yours whose kernel died are marked interrupted (connect() calls this)."""
        with self._transaction() as session:
            mark_interrupted(session, self._user_id)

    def _mark_and_get(self, run_id: str) -> Run:
        with self._transaction() as session:
            mark_interrupted(session, self._user_id)
            row = session.scalar(select(Run).where(Run.id == run_id, Run.user_id == self._user_id))
            if row is None:
                raise NotFound(f"No run {run_id!r}; see wb.runs.list().")
            return row

    def _same_target(self, given: Target | None, stored: Mapping[str, Any], role: str) -> Target:
        if given is None:
            given = rebuild_target(stored, role)
        given = check_target(given, role)
        if given.settings() != dict(stored):
            raise ValidationError(
                f"The {role} given differs from the run's ({stored.get('provider')}, "
                f"{stored.get('model')}); resume plays the same run, so pass the same {role}."
            )
        return given

    def _reopen(self, run_id: str, owner: str) -> int:
        """Unfinished attempts back to pending and the run to running; how many are left."""
        with self._transaction() as session:
            session.execute(
                text(
                    "UPDATE workbench.run_attempt SET status = 'pending', lease_owner = NULL,"
                    " lease_expires_at = NULL WHERE user_id = :u AND run_id = :r"
                    " AND status IN ('claimed', 'cancelled')"
                ),
                {"u": self._user_id, "r": run_id},
            )
            session.execute(
                text(
                    "UPDATE workbench.run SET status = 'running', owner = :o, finished_at = NULL,"
                    " heartbeat_at = clock_timestamp() AT TIME ZONE 'UTC'"
                    " WHERE id = :r AND user_id = :u"
                ),
                {"u": self._user_id, "r": run_id, "o": owner},
            )
            left = session.scalar(
                select(text("count(*)"))
                .select_from(RunAttempt)
                .where(
                    RunAttempt.user_id == self._user_id,
                    RunAttempt.run_id == run_id,
                    RunAttempt.status == "pending",
                )
            )
            return int(left or 0)


def rebuild_target(settings: Mapping[str, Any], role: str) -> Target:
    from workbench.runs.providers import targets

    provider, model = settings.get("provider"), settings.get("model")
    params = dict(settings.get("params") or {})
    for name in ("concurrency", "rpm", "tpm", "transport"):
        if name in settings:
            params[name] = settings[name]
    if provider == "openai":
        return targets.openai(str(model), base_url=settings.get("base_url"), **params)
    if provider == "anthropic":
        return targets.anthropic(str(model), base_url=settings.get("base_url"), **params)
    if provider == "openai_compatible":
        return targets.openai_compatible(base_url=settings["base_url"], model=str(model), **params)
    raise ValidationError(
        f"This run's {role} is an offline target; pass it again: resume(run_id, {role}=...)."
    )
