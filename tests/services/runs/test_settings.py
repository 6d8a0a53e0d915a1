"""A run keeps how it was started: `resume` without `target=` plays with the run's target
settings (issue 18, item 5), and a worker with the run's response cache."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.conftest import insert_user
from tests.runs.conftest import Setup, make_setup
from workbench.db.engine import Database
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.runs import RunWorker, WorkerSettings
from workbench.services.runs.service import same_target
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import StandIn


def test_resume_without_a_target_plays_with_the_runs_own_settings(setup: Setup) -> None:
    # Cancelled before any answer came; resumed without target=, the stored target is rebuilt
    # with its timeout and retries: every attempt gives up after 0.3 s, not the 60 s default.
    with StandIn(latency_s=1.5, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", timeout_s=0.3, max_retries=0,
            stop=("never",), concurrency=3,
        )  # fmt: skip
        run = setup.wb.runs.start(suite="Smoke", prompt="Support", target=target, repeats=3,
                                  progress=False)  # fmt: skip
        run.cancel()
        assert setup.wb.runs.get(run.id).status == "cancelled"
        resumed = setup.wb.runs.resume(run.id, progress=False).wait(60)
    assert setup.wb.runs.get(run.id).status == "finished"
    errors = set(resumed.frame()["error"])
    assert errors == {"timeout: openai_compatible: no answer within 0.3 s"}
    assert server.bodies[-1]["stop"] == ["never"]


def test_a_worker_answers_from_the_runs_response_cache(committed_db: Database) -> None:
    # A run started with cache=True is played from the cache by workers too, as in the kernel.
    wb = Workbench(committed_db, insert_user(committed_db))
    setup = make_setup(wb, {"Greets": [user("hello"), expect(must_contain("echo: hello"))]})
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", temperature=0
        )
        start = {"suite": "Smoke", "prompt": "Support", "target": target, "repeats": 3}
        wb.runs.start(**start, cache=True, progress=False).wait(60)
        warmed = server.requests
        run = wb.runs.start(**start, cache=True, executor="workers", progress=False)
        worker = RunWorker(wb.database, wb.user.id)
        played = asyncio.run(worker.serve(run.id, WorkerSettings(concurrency=2)))
        run.wait(60)
    assert played == 3 and server.requests == warmed  # not one request more
    assert run.status == "finished" and set(run.frame()["cached"]) == {True}
    assert len(setup.scenario_ids) == 1


def test_a_run_stored_before_direct_became_the_default_resumes_on_the_sdk(setup: Setup) -> None:
    # Issue 24: runs stored while the SDKs were the default have no transport in their target.
    # Resumed with a target built as then (its transport now "direct" by default) or without one,
    # it matches, and it goes on over the SDK it was started on.
    with StandIn(latency_s=1.5, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        assert target.transport == "direct"
        run = setup.wb.runs.start(suite="Smoke", prompt="Support", target=target, repeats=2,
                                  progress=False)  # fmt: skip
        run.cancel()
        with setup.wb.database.transaction() as session:  # what an older row looks like
            session.execute(
                text("UPDATE workbench.run SET target = target - 'transport' WHERE id = :id"),
                {"id": run.id},
            )
        stored = stored_target(setup, run.id)
        assert "transport" not in stored
        assert same_target(target, stored, "target").transport == "sdk"
        assert same_target(None, stored, "target").transport == "sdk"
        with pytest.raises(ValidationError, match="differs from the run's"):
            same_target(dataclasses.replace(target, model="other"), stored, "target")
        server.latency_s = 0.0
        resumed = setup.wb.runs.resume(run.id, target=target, progress=False).wait(60)
    assert setup.wb.runs.get(run.id).status == "finished"
    assert set(resumed.frame()["status"]) <= {"PASSED", "FAILED"}  # answered, none errored
    assert server.requests >= 2 and "transport" not in stored_target(setup, run.id)


def stored_target(setup: Setup, run_id: str) -> dict[str, Any]:
    with setup.wb.database.transaction() as session:
        query = text("SELECT target FROM workbench.run WHERE id = :id")
        return dict(session.execute(query, {"id": run_id}).scalar_one())
