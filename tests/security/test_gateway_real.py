"""A detached run on a real hub's dask-gateway, end to end, with the docs' settings.

The hub runs docs/isolation.md's `jupyterhub_config.py` plus the dask-gateway lines of
docs/scaling.md; dask-gateway-server runs the `dask_gateway_config.py` of docs/scaling.md. Both are
read out of the pages (only addresses are changed, to free ports, and the gateway runs its
clusters as the test's own user: `UnsafeLocalBackend`, since the hub's users have no system
accounts here). Alice starts a detached run on her gateway cluster from a kernel, the kernel
closes, the run finishes; Bob's `Gateway()` neither lists nor reaches her cluster.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from tests.db.test_connection_errors import free_port, password_server  # noqa: F401
from tests.security.real_hub import (
    REPO_ROOT,
    HubSettings,
    Kernel,
    RealHub,
    configurable_http_proxy,
    start_hub,
    stop_hub,
)
from tests.security.test_jupyterhub_real import hub_environment
from tests.security.test_roles import secured_database_on
from workbench.testing.standin import StandIn

pytest.importorskip("dask_gateway_server")

SCALING = REPO_ROOT / "docs" / "scaling.md"
USERS = ("alice", "bob")
ATTEMPTS = 200  # at 0.2 s a reply and 8 at once: about 5 s of playing, after the kernel closed
RUN_TIMEOUT_S = 90


def docs_block(first_line: str) -> str:
    """The one Python block of docs/scaling.md that starts with `first_line`."""
    blocks = re.findall(r"```python\n(.*?)```", SCALING.read_text(encoding="utf-8"), re.DOTALL)
    found = [block for block in blocks if block.startswith(first_line)]
    assert len(found) == 1, f"docs/scaling.md should hold one block starting {first_line!r}"
    return found[0]


def moved(config: str, ports: dict[str, int]) -> str:
    """The docs' config with its local addresses moved to the test's free ports."""
    for documented, port in ports.items():
        assert documented in config, f"the docs' config no longer names {documented}"
        config = config.replace(documented, f"127.0.0.1:{port}")
    return config


@pytest.fixture(scope="module")
def admin_url(password_server: int) -> str:  # noqa: F811 - the imported fixture
    return secured_database_on(password_server, "gatewayreal")


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("hub", "hub_api", "proxy_api", "http", "tcp", "api")}


@pytest.fixture(scope="module")
def gateway(
    ports: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen[bytes]]:
    """dask-gateway-server with the docs' config, beside the hub (which it asks who is who)."""
    scratch = tmp_path_factory.mktemp("gateway")
    config = moved(
        docs_block("# dask_gateway_config.py"),
        {"127.0.0.1:8001": ports["http"], "127.0.0.1:8786": ports["tcp"],
         "127.0.0.1:8081": ports["hub_api"]},
    )  # fmt: skip
    test_lines = [
        "# --- test settings (tests/security/test_gateway_real.py) ---",
        f"c.DaskGateway.address = '127.0.0.1:{ports['api']}'",
        "c.DaskGateway.backend_class = "
        "'dask_gateway_server.backends.local.UnsafeLocalBackend'",  # no system users here
        f"c.LocalClusterConfig.cluster_state_dir = {str(scratch / 'clusters')!r}",
        f"c.ClusterConfig.environment = {{'PYTHONPATH': {str(REPO_ROOT)!r}}}",
    ]
    path = scratch / "dask_gateway_config.py"
    path.write_text(config + "\n" + "\n".join(test_lines) + "\n", encoding="utf-8")
    log = (scratch / "gateway.log").open("wb")
    process = subprocess.Popen(
        ["dask-gateway-server", "-f", str(path)],
        cwd=scratch,
        env={**gateway_environment(), "DASK_GATEWAY_TOKEN": TOKEN},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # stops its clusters too
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


TOKEN = secrets.token_hex(32)


def gateway_environment() -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)  # dask, dask-gateway-server
    return {**os.environ, "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")])}


@pytest.fixture(scope="module")
def hub(
    ports: dict[str, int],
    admin_url: str,
    gateway: subprocess.Popen[bytes],
    scratch_database: Callable[[], URL],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RealHub]:
    settings = HubSettings(
        port=ports["hub"],
        hub_port=ports["hub_api"],
        proxy_api_port=ports["proxy_api"],
        proxy_command=configurable_http_proxy(),
        state_db_url=scratch_database().render_as_string(hide_password=False),
        scratch=tmp_path_factory.mktemp("hub"),
        admin_token=secrets.token_hex(32),
    )
    extra = moved(
        docs_block("# jupyterhub_config.py, for dask-gateway"),
        {"127.0.0.1:8001": ports["http"], "127.0.0.1:8786": ports["tcp"]},
    )
    environment = {**hub_environment(admin_url), "DASK_GATEWAY_TOKEN": TOKEN}
    hub = start_hub(settings, environment, extra)
    try:
        yield hub
    finally:
        stop_hub(hub, list(USERS))


START_CELL = """
import json, warnings, workbench
from dask_gateway import Gateway
wb = workbench.connect()
scenario = wb.scenarios.create(workbench.ScenarioCreate(name="Echo", turns=(
    workbench.user("hi"), workbench.expect(workbench.must_contain("hi")))))
wb.suites.create(name="Gateway", scenario_ids=[scenario.id])
wb.prompts.create(name="Plain", content="Be brief.")
gateway = Gateway()
cluster = gateway.new_cluster(worker_cores=1, worker_memory=1, shutdown_on_close=False)
cluster.scale(1)
client = cluster.get_client()
client.wait_for_workers(1, timeout=120)
with warnings.catch_warnings(record=True) as said:
    warnings.simplefilter("always")
    run = wb.runs.start(suite="Gateway", prompt="Plain", repeats={attempts}, concurrency=8,
                        target=workbench.openai_compatible(base_url={base_url!r}, model="m"),
                        executor=client, detach=True, progress=False)
print(json.dumps({{"run": run.id, "cluster": cluster.name,
                  "warned": [type(w.message).__name__ for w in said]}}))
"""

PEEK_CELL = """
import json
from dask_gateway import Gateway
gateway = Gateway()
seen = {{"listed": [c.name for c in gateway.list_clusters()]}}
try:
    gateway.connect({name!r})
    seen["connected"] = True
except Exception as error:
    seen["connected"], seen["error"] = False, type(error).__name__ + ": " + str(error)[:200]
print(json.dumps(seen))
"""


def run_status(admin_url: str, run_id: str) -> tuple[str, int]:
    with psycopg.connect(admin_url) as admin:
        row = admin.execute(
            "SELECT r.status, (SELECT count(*) FROM workbench.run_attempt a WHERE a.run_id = r.id"
            " AND a.status IN ('passed', 'failed', 'error')) FROM workbench.run r WHERE r.id = %s",
            (run_id,),
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


def test_a_detached_run_on_a_gateway_cluster_outlives_its_kernel_and_is_alice_s_alone(
    hub: RealHub, admin_url: str
) -> None:
    hub.api("POST", "/users", {"usernames": list(USERS)})
    with StandIn(latency_s=0.2, max_lifetime_s=240) as standin:
        hub.start_server("alice")
        alice = Kernel(hub, "alice", hub.user_token("alice"))
        try:
            started = alice.run(
                START_CELL.format(attempts=ATTEMPTS, base_url=standin.openai_base_url)
            )
        finally:
            alice.close()  # the kernel that made the cluster and started the run goes away
        at_close = run_status(admin_url, started["run"])
        assert at_close[0] == "running" and at_close[1] < ATTEMPTS  # still to play, kernel gone
        assert started["warned"] == ["DetachedOnHub"]  # said at start: it ends with the server
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while run_status(admin_url, started["run"])[0] != "finished":
            assert time.monotonic() < deadline, (
                f"the detached run did not finish: {run_status(admin_url, started['run'])}"
            )
            time.sleep(0.5)
        assert run_status(admin_url, started["run"]) == ("finished", ATTEMPTS)

        hub.start_server("bob")
        bob = Kernel(hub, "bob", hub.user_token("bob"))
        try:
            peeked = bob.run(PEEK_CELL.format(name=started["cluster"]))
        finally:
            bob.close()
    assert peeked["listed"] == []
    assert peeked["connected"] is False, peeked
