"""The Dask executor on a LocalCluster of 2 worker processes, against the loopback stand-in.

Workers sign in with A's own role (the secured database of tests/security), whose URL reaches
them only through the worker plugin: the scheduler's tasks never hold it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

import workbench
from tests.security.conftest import hub, secured_url  # noqa: F401 (fixtures)
from tests.security.hub import Hub
from tests.services.runs.test_worker import ada, results_per_attempt  # noqa: F401 (fixture)
from workbench.handle import Workbench
from workbench.testing.standin import StandIn

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as made:
        yield made


def test_a_run_of_500_attempts_completes_and_no_task_holds_a_secret(
    hub: Hub,  # noqa: F811
    ada: Workbench,  # noqa: F811
    cluster: object,
) -> None:
    password = hub.a.role.password
    with (
        StandIn(latency_s=0.02, max_lifetime_s=120) as server,
        distributed.Client(cluster) as client,
    ):
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target, repeats=500,
                                 concurrency=20, executor=client, progress=False)  # fmt: skip
        held = b""
        for _ in range(200):  # submitted from the client's loop: reaches the scheduler soon
            held = client.run_on_scheduler(held_by_scheduler)
            if f"workbench-run-{run.id}".encode() in held:
                break
            time.sleep(0.05)
        run.wait(timeout=120)
        logs = repr(client.get_worker_logs()) + repr(client.get_scheduler_logs())
    assert run.status == "finished"
    assert results_per_attempt(hub, run.id) == {"passed:1": 500}
    assert f"workbench-run-{run.id}".encode() in held  # the dump really holds the run's tasks
    assert run.id.encode() in held  # ... and their arguments, pickled
    assert password.encode() not in held and password not in logs


def held_by_scheduler(dask_scheduler: Any) -> bytes:
    """Everything the scheduler holds of its tasks, as a dashboard or a scheduler plugin could
    read it: each task's key, its run spec (the function with its arguments) pickled, and the
    repr of its arguments. The credentials plugin is left out on purpose: it is the one place
    the database URL may be, and only the user's own workers receive it."""
    from distributed.protocol.pickle import dumps

    parts: list[bytes] = []
    for key, state in dask_scheduler.tasks.items():
        spec = state.run_spec
        parts += [str(key).encode(), dumps(spec), repr(getattr(spec, "args", ())).encode()]
    return b"\n".join(parts)


def _slow(*_args: object) -> None:
    time.sleep(2)  # still on the scheduler when it is read


def test_the_secret_check_finds_a_secret_passed_as_a_task_argument(cluster: object) -> None:
    """The check above can fail: a task given a secret as an argument is caught."""
    secret = "s3cr3t-" + os.urandom(8).hex()
    with distributed.Client(cluster) as client:
        leaky = client.submit(_slow, secret, key="leaky-task", pure=False)
        held = b""
        for _ in range(200):
            held = client.run_on_scheduler(held_by_scheduler)
            if b"leaky-task" in held:
                break
            time.sleep(0.05)
        leaky.result(timeout=30)
    assert b"leaky-task" in held
    assert secret.encode() in held


ATTACH = """
import sys, workbench
wb = workbench.connect(sys.argv[1], quiet=True)
run = wb.runs.attach(sys.argv[2], progress=False).wait(timeout=120)
print(run.status, sum(run._counts.values()))
"""


def test_a_detached_run_finishes_after_its_client_closes_and_attach_follows_it(
    hub: Hub,  # noqa: F811
    ada: Workbench,  # noqa: F811
    cluster: object,
) -> None:
    with StandIn(latency_s=0.05, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        # By address, as from another machine: the cluster is not this kernel's object.
        with distributed.Client(cluster.scheduler_address) as client:  # type: ignore[attr-defined]
            run = ada.runs.start(suite="Workers", prompt="Plain", target=target, repeats=300,
                                 concurrency=10, executor=client, detach=True,
                                 progress=False)  # fmt: skip
        run.cancel()  # this kernel stops following; the cluster goes on
        url = hub.a.role.database_url()
        env = {**os.environ}
        done = subprocess.run(
            [sys.executable, "-c", ATTACH, url, run.id],
            env=env, capture_output=True, text=True, timeout=150,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["finished", "300"]
    assert results_per_attempt(hub, run.id) == {"passed:1": 300}


def test_killing_a_worker_process_mid_run_loses_nothing(
    hub: Hub,  # noqa: F811
    ada: Workbench,  # noqa: F811
) -> None:
    import signal

    from workbench.services.runs.dask import DaskExecutor

    with (
        StandIn(latency_s=0.1, max_lifetime_s=120) as server,
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as own,
        distributed.Client(own) as client,
    ):
        pids = client.run(os.getpid)
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        executor = DaskExecutor(client, lease_s=2.0, heartbeat_s=0.4)
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target, repeats=400,
                             concurrency=8, executor=executor, progress=False)  # fmt: skip
        deadline = time.monotonic() + 60
        while sum(run._counts.values()) < 80 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(next(iter(pids.values())), signal.SIGKILL)  # mid-batch, by its pid
        run.wait(timeout=120)
    assert run.status == "finished"
    assert results_per_attempt(hub, run.id) == {"passed:1": 400}


def test_dask_executors_that_cannot_play_a_run_are_refused_before_any_row(
    ada: Workbench,  # noqa: F811
    cluster: object,
) -> None:
    from workbench.errors import ConfigError, ValidationError
    from workbench.services.runs.dask import DaskExecutor

    target = workbench.openai_compatible(base_url="http://127.0.0.1:9/v1", model="m")
    start = {"suite": "Workers", "prompt": "Plain", "target": target, "progress": False}
    before = len(ada.runs.list())
    with (
        distributed.Client(cluster) as client,
        pytest.raises(ConfigError, match="stops when the kernel ends"),
    ):
        ada.runs.start(executor=client, detach=True, **start)  # its LocalCluster is ours
    with pytest.raises(ValidationError, match="This Dask client is closed"):
        ada.runs.start(executor=client, **start)
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty,
        distributed.Client(empty) as client,
        pytest.raises(ConfigError, match=r"No Dask worker joined this cluster within 0\.5 s"),
    ):
        ada.runs.start(executor=DaskExecutor(client, workers_timeout_s=0.5), **start)
    assert len(ada.runs.list()) == before


def test_a_run_cancelled_in_the_kernel_is_handed_to_a_dask_cluster_by_resume(
    hub: Hub,  # noqa: F811
    ada: Workbench,  # noqa: F811
    cluster: object,
) -> None:
    with StandIn(latency_s=0.05, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = ada.runs.start(suite="Workers", prompt="Plain", target=target, repeats=200,
                             concurrency=2, progress=False)  # fmt: skip
        time.sleep(0.5)
        run.cancel()
        assert ada.runs.get(run.id).status == "cancelled"
        played_here = sum(run._counts.values())
        assert played_here < 200
        with distributed.Client(cluster) as client:
            resumed = ada.runs.resume(run.id, executor=client, progress=False).wait(120)
    assert resumed.status == "finished"
    assert 0 < resumed.total <= 200 - played_here  # what the cluster was handed: the rest
    assert results_per_attempt(hub, run.id) == {"passed:1": 200}
