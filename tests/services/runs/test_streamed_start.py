"""A run's first attempts are written with it, the rest beside its first claims (issue 24)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import make_setup
from workbench.handle import Workbench
from workbench.runs import later, lifecycle
from workbench.services._base import session_driver
from workbench.services.runs.worker import RunWorker, WorkerSettings
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import StandIn


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """4 attempts written with the run, then chunks of 3 (one scenario of 2 repeats each)."""
    monkeypatch.setattr(later, "FIRST_ATTEMPTS", 4)
    monkeypatch.setattr(later, "CHUNK_ATTEMPTS", 3)


def questions(wb: Workbench, count: int) -> str:
    scenarios = {f"S{i}": [user(f"q{i}"), expect(must_contain(f"q{i}"))] for i in range(count)}
    return make_setup(wb, scenarios, prompt="Be brief.").suite_id


def attempt_rows(wb: Workbench, run_id: str) -> list[tuple[int, int, str]]:
    with wb.database.transaction() as session:
        rows = session.execute(
            text(
                "SELECT position, repeat, status FROM workbench.run_attempt WHERE run_id = :r"
                " ORDER BY id"
            ),
            {"r": run_id},
        ).all()
    return [(int(p), int(k), str(s)) for p, k, s in rows]


def test_later_attempts_are_written_while_the_first_play_and_all_play_once(
    wb: Workbench, small_chunks: None
) -> None:
    suite = questions(wb, 5)
    assert later.LaterAttempts.after(5, 2) == later.LaterAttempts(2, 5, 2)
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = wb.runs.start(suite=suite, prompt="Support", target=target, repeats=2,
                            concurrency=1, progress=False).wait(60)  # fmt: skip
        sent = [body["messages"][-1]["content"] for body in server.bodies]
    assert sent == [f"q{i}" for i in range(5) for _ in range(2)]  # the ledger's order
    rows = attempt_rows(wb, run.id)
    assert [(p, k) for p, k, _ in rows] == [(p, k) for p in range(5) for k in range(2)]
    assert {status for _, _, status in rows} == {"passed"}
    assert wb.runs.get(run.id).status == "finished"
    assert wb.runs.get(run.id).totals["attempts"] == 10


def started_then_died(wb: Workbench, target: workbench.Target, scenarios: int) -> str:
    """A run whose kernel died after start() wrote its first scenario's attempts (3 repeats)."""
    suite = questions(wb, scenarios)
    service = wb.runs
    plan = service._plan(suite, "Support", None)
    run_id = str(uuid.uuid4())
    new = service._new_run(run_id, "a-kernel-that-died", plan, target, None, 3, False)
    with wb.database.transaction() as session:
        lifecycle.create(session_driver(session), new, attempts_to=1)  # what start() wrote
        session.execute(
            text(
                "UPDATE workbench.run SET heartbeat_at = heartbeat_at - interval '1 hour'"
                " WHERE id = :r"
            ),
            {"r": run_id},
        )
    assert len(attempt_rows(wb, run_id)) == 3
    return run_id


def test_a_run_whose_kernel_died_before_its_later_attempts_were_written_resumes_them_all(
    wb: Workbench,
) -> None:
    target = workbench.offline()
    run_id = started_then_died(wb, target, 4)
    assert wb.runs.get(run_id).status == "interrupted"
    wb.runs.resume(run_id, target=target, progress=False).wait(60)
    rows = attempt_rows(wb, run_id)
    assert sorted((p, k) for p, k, _ in rows) == [(p, k) for p in range(4) for k in range(3)]
    assert {status for _, _, status in rows} == {"passed"}
    assert wb.runs.get(run_id).status == "finished"


def test_a_worker_on_such_a_run_writes_the_missing_attempts_and_plays_them(wb: Workbench) -> None:
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run_id = started_then_died(wb, target, 4)
        worker = RunWorker(wb.database, wb.user.id)
        played = asyncio.run(worker.serve(run_id, WorkerSettings(concurrency=2)))
    assert played == 12
    rows = attempt_rows(wb, run_id)
    assert sorted((p, k) for p, k, _ in rows) == [(p, k) for p in range(4) for k in range(3)]
    assert {status for _, _, status in rows} == {"passed"}
    assert wb.runs.get(run_id).status == "finished"


def test_attempts_never_written_count_as_unplayed_in_the_progress_and_the_totals(
    wb: Workbench,
) -> None:
    """A run cancelled, or whose kernel died, before the attempts start() left were written:
    its progress and totals are the run's 12 attempts, not the 3 rows written so far."""
    run_id = started_then_died(wb, workbench.offline(), 4)
    assert "0/12 attempts" in repr(wb.runs.attach(run_id, progress=False))
    with wb.database.transaction() as session:
        connection = session_driver(session)
        assert lifecycle.counts(connection, run_id=run_id, user_id=wb.user.id) == {"pending": 12}
        lifecycle.finish(connection, run_id=run_id, user_id=wb.user.id,
                         owner="a-kernel-that-died", status="finished")  # fmt: skip
    run = wb.runs.get(run_id)
    assert run.status == "interrupted"  # not "finished": 12 attempts are left to play
    assert (run.totals["attempts"], run.totals["unplayed"]) == (12, 12)


def test_a_run_with_every_attempt_written_counts_its_rows(wb: Workbench) -> None:
    run = wb.runs.start(suite=questions(wb, 3), prompt="Support", target=workbench.offline(),
                        repeats=2, progress=False).wait(60)  # fmt: skip
    with wb.database.transaction() as session:
        counted = lifecycle.counts(session_driver(session), run_id=run.id, user_id=wb.user.id)
    assert counted == {"passed": 6}
    stored = wb.runs.get(run.id)
    assert (stored.totals["attempts"], stored.totals["unplayed"]) == (6, 0)
