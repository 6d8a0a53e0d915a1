"""A run keeps how it was started: `resume` without `target=` plays with the run's target
settings (issue 18, item 5), and a worker with the run's response cache."""

from __future__ import annotations

import asyncio

import workbench
from tests.conftest import insert_user
from tests.runs.conftest import Setup, make_setup
from workbench.db.engine import Database
from workbench.handle import Workbench
from workbench.services.runs import RunWorker, WorkerSettings
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
