"""`wb.runs.attach` on a run that already ended shows it ended, at once, with its counts."""

from __future__ import annotations

import asyncio

import pytest

import workbench
from tests.conftest import insert_user
from tests.runs.conftest import Setup, make_setup
from workbench.db.engine import Database
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.runs import RunWorker, WorkerSettings
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import StandIn


def test_attach_to_a_finished_run_is_done_at_once_with_its_counts(setup: Setup) -> None:
    played = setup.wb.runs.start(
        suite=setup.suite_id,
        prompt=setup.prompt_id,
        target=workbench.offline(),
        repeats=3,
        progress=False,
    ).wait(60)
    attached = setup.wb.runs.attach(played.id, progress=False)
    assert attached.done  # no waiting for a watcher's first poll
    assert attached.status == "finished"
    assert repr(attached) == f"<Run {played.id} finished: 6/6 attempts: 3 failed, 3 passed>"
    assert attached.wait(0.5) is attached


def test_attach_to_a_cancelled_run_says_cancelled(setup: Setup) -> None:
    run = setup.wb.runs.start(
        suite=setup.suite_id,
        prompt=setup.prompt_id,
        target=workbench.offline(),
        progress=False,
    ).wait(60)
    from sqlalchemy import text

    with setup.wb.database.transaction() as session:
        session.execute(text("UPDATE workbench.run SET status = 'cancelled'"))
    attached = setup.wb.runs.attach(run.id, progress=False)
    assert attached.done and repr(attached).startswith(f"<Run {run.id} cancelled: 2/2 attempts")


def _age_heartbeat(setup: Setup, run_id: str, seconds: float) -> None:
    """As if the run's last beat was `seconds` ago: its players went away that long ago."""
    from sqlalchemy import text

    with setup.wb.database.transaction() as session:
        session.execute(
            text(
                "UPDATE workbench.run SET heartbeat_at = heartbeat_at - make_interval(secs => :s)"
                " WHERE id = :r"
            ),
            {"s": seconds, "r": run_id},
        )


@pytest.fixture
def queued(committed_db: Database) -> Setup:
    """A user with the runs' suite, on a database that commits: the follower's thread reads
    what the test writes."""
    return make_setup(Workbench(committed_db, insert_user(committed_db)), QUEUED)


QUEUED = {"Greets": [user("hello"), expect(must_contain("echo: hello"))]}


def test_a_run_queued_for_workers_that_never_came_reads_interrupted_and_wait_returns(
    queued: Setup,
) -> None:
    setup = queued
    with StandIn(latency_s=0.01, max_lifetime_s=60) as server:
        run = setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.openai_compatible(base_url=server.openai_base_url, model="m"),
            executor="workers",
            progress=False,
        )
        assert setup.wb.runs.get(run.id).status == "running"  # workers may come: within 90 s
        _age_heartbeat(setup, run.id, 120)
        assert setup.wb.runs.get(run.id).status == "interrupted"  # read from anywhere
        assert run.wait(10) is run  # the kernel that queued it stops following: nobody plays
        assert run.status == "interrupted"
        assert "wb.runs.resume" in repr(run)
        attached = setup.wb.runs.attach(run.id, progress=False)
        assert attached.done and attached.wait(0.5).status == "interrupted"
        assert repr(attached).startswith(f"<Run {run.id} interrupted: 0/1 attempts")
        resumed = setup.wb.runs.resume(run.id, progress=False).wait(60)
    assert resumed.status == "finished"


def test_executor_mistakes_are_refused_before_anything_is_written(queued: Setup) -> None:
    wb = queued.wb
    start = {"suite": queued.suite_id, "prompt": queued.prompt_id, "progress": False}
    with pytest.raises(ValidationError, match="detach=True needs a Dask client"):
        wb.runs.start(target=workbench.offline(), detach=True, **start)
    with pytest.raises(ValidationError, match="offline target plays only in this kernel"):
        wb.runs.start(target=workbench.offline(), executor="workers", **start)
    with pytest.raises(ValidationError, match="executor must be"):
        wb.runs.start(target=workbench.offline(), executor="dask", **start)
    with pytest.raises(ValidationError, match="detach must be True or False"):
        wb.runs.start(target=workbench.offline(), detach="yes", **start)
    assert wb.runs.list() == []


def test_a_queued_run_a_worker_picks_up_late_plays_again(queued: Setup) -> None:
    """Interrupted is not the end of it: a worker that comes later plays it to the end."""
    setup = queued
    with StandIn(latency_s=0.01, max_lifetime_s=60) as server:
        run = setup.wb.runs.start(
            suite=setup.suite_id,
            prompt=setup.prompt_id,
            target=workbench.openai_compatible(base_url=server.openai_base_url, model="m"),
            executor="workers",
            repeats=3,
            progress=False,
        )
        _age_heartbeat(setup, run.id, 120)
        assert run.wait(10).status == "interrupted"
        worker = RunWorker(setup.wb.database, setup.wb.user.id)
        assert asyncio.run(worker.serve(run.id, WorkerSettings())) == 3
    assert setup.wb.runs.get(run.id).status == "finished"
