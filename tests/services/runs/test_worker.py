"""`workbench worker`: processes sharing a run through the ledger, as faults happen.

On a secured database each worker signs in by its user's own role (DATABASE_URL), exactly as on
a hub: two of A's workers split A's run, one is killed mid-batch (SIGKILL, by pid) and nothing is
lost or played twice once its leases expire; a worker with B's role cannot touch A's run.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import workbench
from tests.security.conftest import hub, secured_url  # noqa: F401 (fixtures)
from tests.security.hub import Hub
from workbench import called, calls_in_order, not_called, tool
from workbench.handle import Workbench
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.testing.standin import StandIn

ATTEMPTS = 400


@pytest.fixture(scope="module")
def ada(hub: Hub) -> Iterator[Workbench]:  # noqa: F811
    handle = workbench.connect(hub.a.role.database_url(), quiet=True)
    made = handle.scenarios.create(
        ScenarioCreate(name="Greets", turns=(user("hello"), expect(must_contain("hello"))))
    )
    handle.suites.create(name="Workers", scenario_ids=[made.id])
    handle.prompts.create(name="Plain", content="Be brief.")
    yield handle


def spawn_worker(
    url: str, run_id: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    env = {**os.environ, **(env or {}), "DATABASE_URL": url}
    argv = [sys.executable, "-m", "workbench.cli", "worker", "--run", run_id,
            "--concurrency", "8", "--lease", "5", "--heartbeat", "1", *extra]  # fmt: skip
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def results_per_attempt(hub: Hub, run_id: str) -> dict[str, int]:  # noqa: F811
    with hub.admin() as admin:
        rows = admin.execute(
            "SELECT a.status, count(t.attempt_id) FROM workbench.run_attempt a"
            " LEFT JOIN workbench.turn_result t ON t.attempt_id = a.id"
            " WHERE a.run_id = %s GROUP BY a.id, a.status",
            (run_id,),
        ).fetchall()
    return _tally(rows)


def _tally(rows: list[tuple[object, ...]]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for status, n in rows:
        key = f"{status}:{n}"
        tally[key] = tally.get(key, 0) + 1
    return tally


def finished_count(hub: Hub, run_id: str, *, by: int = 1) -> int:  # noqa: F811
    """Attempts passed so far, 0 until at least `by` different workers have written some."""
    with hub.admin() as admin:
        row = admin.execute(
            "SELECT count(*), count(DISTINCT lease_owner) FROM workbench.run_attempt"
            " WHERE run_id = %s AND status = 'passed'",
            (run_id,),
        ).fetchone()
    assert row is not None
    passed, owners = int(str(row[0])), int(str(row[1]))
    return passed if owners >= by else 0


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=10)


def test_a_worker_killed_mid_batch_loses_nothing_and_another_finishes_the_run(
    hub: Hub,  # noqa: F811
    ada: Workbench,
) -> None:
    # The first worker is SIGKILLed while it holds live leases; a second one, started then,
    # waits out those leases and plays every attempt that has no result, exactly once.
    # (Two workers started together: test_two_workers_started_together_split_the_run.)
    with StandIn(latency_s=0.1, max_lifetime_s=180) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                             repeats=ATTEMPTS, executor="workers", progress=False)  # fmt: skip
        url = hub.a.role.database_url()
        first = spawn_worker(url, run.id)
        second = None
        try:
            deadline = time.monotonic() + 60
            while finished_count(hub, run.id) < 60 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert first.poll() is None, first.communicate()
            os.kill(first.pid, signal.SIGKILL)  # mid-batch: it holds live leases
            assert first.wait(10) == -signal.SIGKILL
            killed_at = finished_count(hub, run.id)
            assert 0 < killed_at < ATTEMPTS
            second = spawn_worker(url, run.id)
            out, err = second.communicate(timeout=120)
        finally:
            stop(first)
            if second is not None:
                stop(second)
        assert second.returncode == 0, err
        run.wait(timeout=30)
        assert run.status == "finished"
        # Every attempt passed with exactly one turn result: none lost, none written twice.
        assert results_per_attempt(hub, run.id) == {"passed:1": ATTEMPTS}
        assert server.requests >= ATTEMPTS  # the killed worker's calls in flight were repeated
        assert "played" in out
        assert finished_count(hub, run.id, by=2) == ATTEMPTS  # both workers' results kept


def test_a_claim_as_a_per_user_role_takes_its_limit_and_no_more(
    hub: Hub,  # noqa: F811
    ada: Workbench,
) -> None:
    # Under RLS the planner once rescanned the claim's subquery per updated row, and one claim
    # of 50 took all 400 pending attempts (so a second worker found nothing to do).
    from workbench.runs.ledger import claim

    target = workbench.openai_compatible(base_url="http://127.0.0.1:9", model="m")
    run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                         repeats=ATTEMPTS, executor="workers", progress=False)  # fmt: skip
    try:
        with psycopg.connect(hub.a.role.database_url()) as conn:
            first = claim(conn, run_id=run.id, user_id=hub.a.user_id, owner="one", limit=50)
            second = claim(conn, run_id=run.id, user_id=hub.a.user_id, owner="two", limit=50)
            conn.rollback()
        assert len(first) == len(second) == 50
        assert not {c.attempt_id for c in first} & {c.attempt_id for c in second}
    finally:
        run.cancel()


def test_two_workers_started_together_split_the_run(hub: Hub, ada: Workbench) -> None:  # noqa: F811
    # Both claim from the start; each plays a share, and the two shares add up to the run:
    # every attempt played once, none by both, none left behind.
    with StandIn(latency_s=0.2, max_lifetime_s=180) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                             repeats=ATTEMPTS, executor="workers", progress=False)  # fmt: skip
        url = hub.a.role.database_url()
        workers = [spawn_worker(url, run.id), spawn_worker(url, run.id)]
        try:
            outputs = [worker.communicate(timeout=120) for worker in workers]
        finally:
            for worker in workers:
                stop(worker)
        assert [worker.returncode for worker in workers] == [0, 0], outputs
        played = [int(re.search(r"played (\d+)", out).group(1)) for out, _ in outputs]  # type: ignore[union-attr]
        assert sum(played) == ATTEMPTS and min(played) >= ATTEMPTS // 10, played
        assert server.requests == ATTEMPTS
        assert results_per_attempt(hub, run.id) == {"passed:1": ATTEMPTS}
        assert finished_count(hub, run.id, by=2) == ATTEMPTS
        run.wait(timeout=30)
        assert run.status == "finished"


def test_a_sigterm_hands_claimed_attempts_back(hub: Hub, ada: Workbench) -> None:  # noqa: F811
    with StandIn(latency_s=0.2, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                             repeats=100, executor="workers", progress=False)  # fmt: skip
        worker = spawn_worker(hub.a.role.database_url(), run.id)
        try:
            deadline = time.monotonic() + 60
            while finished_count(hub, run.id) < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=30)
        finally:
            stop(worker)
        assert worker.returncode == 0 and "handed back" in err
        tally = results_per_attempt(hub, run.id)
        assert set(tally) <= {"passed:1", "pending:0"}, tally  # no lease left held
        assert 0 < tally.get("pending:0", 0) < 100
        run.cancel()


def test_a_worker_with_another_users_role_cannot_claim(
    hub: Hub,  # noqa: F811
    ada: Workbench,
) -> None:
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                             repeats=20, executor="workers", progress=False)  # fmt: skip
        intruder = spawn_worker(hub.b.role.database_url(), run.id)
        _, err = intruder.communicate(timeout=60)
        assert intruder.returncode == 1 and "No run" in err
        assert results_per_attempt(hub, run.id) == {"pending:0": 20}
        assert server.requests == 0
        # And straight at the ledger with B's role: RLS hides A's attempts from the claim.
        from workbench.runs.ledger import claim

        with psycopg.connect(hub.b.role.database_url()) as conn:
            got = claim(conn, run_id=run.id, user_id=hub.a.user_id, owner="b", limit=50)
        assert got == []
        run.cancel()


def test_a_worker_with_the_direct_transport_plays_the_run_without_the_sdk(
    hub: Hub,  # noqa: F811
    ada: Workbench,
    tmp_path: Path,
) -> None:
    # An `openai` package that cannot be imported: a worker that reached for the SDK would fail.
    (tmp_path / "openai").mkdir()
    (tmp_path / "openai" / "__init__.py").write_text("raise ImportError('the SDK was used')\n")
    path = os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])
    with StandIn(latency_s=0.05, max_lifetime_s=120) as server:
        # The transport is the target's, so it travels with the run to every executor; a
        # worker's --transport overrides it.
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", transport="direct"
        )
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                             repeats=50, executor="workers", progress=False)  # fmt: skip
        url = hub.a.role.database_url()
        sdk = spawn_worker(url, run.id, "--transport", "sdk", env={"PYTHONPATH": path})
        direct = spawn_worker(url, run.id, env={"PYTHONPATH": path})
        try:
            _, sdk_err = sdk.communicate(timeout=60)
            out, err = direct.communicate(timeout=120)
        finally:
            stop(sdk)
            stop(direct)
        assert sdk.returncode != 0 and "the SDK was used" in sdk_err  # the stub is in the way
        assert direct.returncode == 0, err
        assert "played 50" in out
        assert results_per_attempt(hub, run.id) == {"passed:1": 50}
        assert server.requests == 50
        run.wait(timeout=30)
        assert run.status == "finished"


def stored_errors(hub: Hub, run_id: str) -> list[tuple[str, str]]:  # noqa: F811
    with hub.admin() as admin:
        rows = admin.execute(
            "SELECT status, coalesce(error, '') FROM workbench.run_attempt WHERE run_id = %s"
            " ORDER BY position, repeat",
            (run_id,),
        ).fetchall()
    return [(str(status), str(error)) for status, error in rows]


def test_a_worker_plays_with_the_runs_timeout_and_retries(hub: Hub, ada: Workbench) -> None:  # noqa: F811
    # The stand-in answers after 3 s; the target gives up after 0.3 s and retries once. The
    # kernel and a worker must both give up the same way: two requests, then the timeout error
    # (a worker with the defaults, 60 s and 5 retries, waited and passed every attempt).
    attempts = 4
    with StandIn(latency_s=3.0, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", timeout_s=0.3, max_retries=1
        )
        kernel = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                                repeats=attempts, progress=False).wait(60)  # fmt: skip
        assert server.requests == 2 * attempts
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target,
                             repeats=attempts, executor="workers", progress=False)  # fmt: skip
        worker = spawn_worker(hub.a.role.database_url(), run.id)
        try:
            _, err = worker.communicate(timeout=60)
        finally:
            stop(worker)
        assert worker.returncode == 0, err
        assert server.requests == 4 * attempts  # the worker retried once too, not five times
    gave_up = "timeout: openai_compatible: no answer within 0.3 s (gave up after 2 attempts)"
    expected = [("error", gave_up)]
    assert stored_errors(hub, kernel.id) == expected * attempts
    assert stored_errors(hub, run.id) == expected * attempts
    run.wait(timeout=30)
    assert run.status == "finished"


def test_a_worker_plays_mock_tools_and_stores_what_a_kernel_run_stores(
    hub: Hub,  # noqa: F811
    ada: Workbench,
) -> None:
    # Issue 20 in a worker process: the scenario's mocks answer the calls (two turns, one of
    # them with two tool rounds), and the calls and the tool checks' outcomes are stored row
    # for row as the kernel stores them.
    order = {"type": "object", "properties": {"order_id": {"type": "string"}}}
    lost = ({"order_id": "A2"}, {"status": "lost"})
    lookup = tool("lookup_order", "Look up an order", parameters=order,
                  returns={"status": "shipped"}, cases=[lost])  # fmt: skip
    refund = tool("issue_refund", "Refund an order", parameters=order, returns={"refunded": True})
    made = ada.scenarios.create(ScenarioCreate(name="Tools in workers", tools=[lookup, refund],
        turns=[user("Where is A1?"),
               expect(called("lookup_order", args={"order_id": "A1"}), must_contain("shipped")),
               user("Refund A2."),
               expect(calls_in_order("lookup_order", "issue_refund"), not_called("lookup_order"),
                      called("issue_refund", times=2))]))  # fmt: skip
    ada.suites.create(name="Tool workers", scenario_ids=[made.id])
    rounds = {
        "Where is A1?": [[("lookup_order", {"order_id": "A1"})]],
        "Refund A2.": [
            [("lookup_order", {"order_id": "A2"})],
            [("issue_refund", {"order_id": "A2"}), ("unknown_tool", {})],
        ],
    }
    with StandIn(tool_rounds=rounds, latency_s=0.01, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        start = {"suite": "Tool workers", "prompt": "Plain", "target": target, "repeats": 3,
                 "progress": False}  # fmt: skip
        kernel = ada.runs.start(**start).wait(60)
        run = ada.runs.start(**start, executor="workers")
        worker = spawn_worker(hub.a.role.database_url(), run.id)
        try:
            out, err = worker.communicate(timeout=120)
        finally:
            stop(worker)
        assert worker.returncode == 0, err
        assert "played 3" in out
        run.wait(timeout=30)
    assert kernel.status == run.status == "finished"
    checks = ["turn", "expectation", "type", "status", "reply"]
    kernel_frame, worker_frame = kernel.frame(), run.frame()
    tool_rows = worker_frame[worker_frame["type"].str.startswith("TOOL_")]
    assert list(tool_rows["status"])[:4] == ["PASSED", "PASSED", "FAILED", "FAILED"]
    assert worker_frame[["repeat", *checks]].equals(kernel_frame[["repeat", *checks]])
    calls = ["repeat", "turn", "round", "name", "arguments", "result", "source", "error"]
    stored = run.tool_calls_frame()[calls]
    assert len(stored) == 3 * 4 and list(stored["name"])[:4] == [
        "lookup_order", "lookup_order", "issue_refund", "unknown_tool"]  # fmt: skip
    assert list(stored["result"])[:3] == [
        '{"status": "shipped"}', '{"status": "lost"}', '{"refunded": true}']  # fmt: skip
    assert "there is no tool named" in str(stored["error"].iloc[3])
    assert stored.equals(kernel.tool_calls_frame()[calls])


def test_a_run_queued_for_workers_is_written_whole_by_its_follower_and_played_once(
    hub: Hub,  # noqa: F811
    ada: Workbench,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`start(executor="workers")` writes the first attempts with the run and returns; the
    kernel's follower writes the rest at once (issue 24), and a worker plays each once."""
    from workbench.runs import later

    monkeypatch.setattr(later, "FIRST_ATTEMPTS", 4)  # one scenario's 4 repeats with the run
    ids = [ada.scenarios.create(ScenarioCreate(name=f"Streamed {i}", turns=(
        user(f"q{i}"), expect(must_contain(f"q{i}"))))).id for i in range(3)]  # fmt: skip
    ada.suites.create(name="Streamed", scenario_ids=ids)
    with StandIn(max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Streamed", prompt="Plain", target=target, repeats=4,
                             executor="workers", progress=False)  # fmt: skip
        with hub.admin() as admin:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # no worker yet: only the follower writes
                row = admin.execute("SELECT count(*) FROM workbench.run_attempt"
                                    " WHERE run_id = %s", (run.id,)).fetchone()  # fmt: skip
                if row is not None and row[0] == 12:
                    break
                time.sleep(0.05)
        assert row is not None and row[0] == 12  # every row, before any worker started
        worker = spawn_worker(hub.a.role.database_url(), run.id)
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        run.wait(30)
    assert "played 12 attempts" in out
    assert results_per_attempt(hub, run.id) == {"passed:1": 12}
