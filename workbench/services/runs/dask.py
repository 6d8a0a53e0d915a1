"""The Dask executor: `wb.runs.start(..., executor=dask_client)` (extra `workbench[dask]`).

One task per Dask worker, each an `async def` playing the run as `workbench worker` does
(`RunWorker.serve`: the one path of runs/play.py) on the worker's event loop: the ledger, not
Dask, decides who plays what, so a worker that dies only loses its leases. `detach=True`
submits with `fire_and_forget`: the run goes on after the kernel closes and
`wb.runs.attach(run_id)` follows it from any later kernel.

Credentials reach workers through a worker plugin registered by the user's own client, never as
task arguments (the scheduler keeps those in its graph, and dashboards show them): the tasks
carry only the run's id, the user's id and numbers. The plugin holds the user's DATABASE_URL
and the provider keys found in the client's environment; its repr shows neither.

Imported only when a Dask client is passed: `import workbench` never imports distributed.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from typing import Any

from distributed import Client, WorkerPlugin, fire_and_forget, get_worker

from workbench.db.engine import open_database
from workbench.db.security.identity import role_user
from workbench.errors import AuthError, ConfigError, ValidationError
from workbench.services.runs.worker import RunWorker, WorkerSettings

PLUGIN_NAME = "workbench-credentials"
CARRIED_ENV = ("ENCRYPTION_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
"""Environment variables the plugin brings to workers when the client's process has them."""


class DetachedOnHub(UserWarning):
    """A detached run on a hub plays with a database role that stops when the server stops."""


DETACHED_ON_HUB = (
    "Run {run_id} is detached: it goes on when this kernel or your browser closes. It plays "
    "with your hub database role, which is locked when your JupyterHub server stops or is "
    "culled; the run is then interrupted, and wb.runs.resume({run_id!r}, executor=client, "
    "detach=True) from your next server plays the rest (docs/scaling.md)."
)


def warn_if_role_ends_with_server(database: Any, run_id: str) -> None:
    """Say at start that a detached run cannot outlive the user's hub server (the post-stop
    hook locks the role its workers sign in with), when that is so."""
    if os.environ.get("JUPYTERHUB_API_TOKEN") and role_user(database) is not None:
        warnings.warn(DETACHED_ON_HUB.format(run_id=run_id), DetachedOnHub, stacklevel=4)


class WorkbenchCredentials(WorkerPlugin):
    """The user's database URL and keys, on the user's own workers only."""

    name = PLUGIN_NAME

    def __init__(self, database_url: str, env: dict[str, str]) -> None:
        self._url, self._env = database_url, env

    def setup(self, worker: Any) -> None:
        os.environ.update(self._env)  # the vault's ENCRYPTION_KEY, provider env keys

    @property
    def database_url(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"<WorkbenchCredentials {len(self._env)} env values, database URL hidden>"

    __str__ = __repr__


class DaskExecutor:
    """A client with lease settings: `executor=DaskExecutor(client, lease_s=5)` (a plain
    `Client` gets the ledger's defaults: 60 s leases, beats every 10 s). `workers_timeout_s`:
    how long a start waits for a first worker in a cluster that has none (one still scaling up)
    before it refuses the run."""

    def __init__(
        self,
        client: Client,
        *,
        lease_s: float = 60.0,
        heartbeat_s: float = 10.0,
        workers_timeout_s: float = 30.0,
    ) -> None:
        self.client, self.lease_s, self.heartbeat_s = client, lease_s, heartbeat_s
        self.workers_timeout_s = workers_timeout_s


def checked_client(executor: Client | DaskExecutor, *, concurrency: int, detach: bool) -> tuple[
    Client, WorkerSettings
]:  # fmt: skip
    """The client to submit to and its workers' settings, once it can play a run: open, with a
    worker, and (detached) on a cluster that outlives this kernel. Every check comes before the
    run's rows are written, so a refused run leaves nothing behind."""
    if isinstance(executor, DaskExecutor):
        client, wait_s = executor.client, executor.workers_timeout_s
        settings = WorkerSettings(concurrency, executor.lease_s, executor.heartbeat_s)
    else:
        client, wait_s, settings = executor, 30.0, WorkerSettings(concurrency)
    if client.status != "running":
        raise ValidationError(
            f"This Dask client is {client.status}: connect a new one (Client(cluster) or "
            "cluster.get_client()) and start the run again."
        )
    if detach and getattr(client.cluster, "shutdown_on_close", False):
        gateway = type(client.cluster).__name__ == "GatewayCluster"
        raise ConfigError(_GATEWAY_DETACH if gateway else _LOCAL_DETACH)
    if not client.scheduler_info()["workers"]:
        try:
            client.wait_for_workers(1, timeout=wait_s)
        except TimeoutError:
            raise ConfigError(
                f"No Dask worker joined this cluster within {wait_s:g} s: scale it first "
                "(cluster.scale(2) or cluster.adapt(minimum=1)), then start the run "
                "(DaskExecutor(client, workers_timeout_s=...) waits longer)."
            ) from None
    return client, settings


_GATEWAY_DETACH = (
    "A detached run must outlive this kernel, but this cluster stops when its client closes "
    "(dask-gateway's default). Create it with gateway.new_cluster(shutdown_on_close=False) (or "
    "set cluster.shutdown_on_close = False before starting), and stop it yourself once the run "
    "has finished: cluster.shutdown(), or the gateway's idle timeout "
    "(c.ClusterConfig.idle_timeout). The workbench never stops a cluster it did not create."
)
_LOCAL_DETACH = (
    "A detached run must outlive this kernel, but this cluster object stops when the kernel "
    "ends (a LocalCluster made here does). Connect to a scheduler started outside the kernel "
    "instead, by address: Client('tcp://host:8786') (`dask scheduler` and `dask worker`), or a "
    "dask-gateway cluster made with shutdown_on_close=False."
)


def register_credentials(client: Client, database_url: str) -> None:
    env = {name: os.environ[name] for name in CARRIED_ENV if os.environ.get(name)}
    client.register_plugin(WorkbenchCredentials(database_url, env), name=PLUGIN_NAME)


async def play_on_worker(run_id: str, user_id: str, settings: WorkerSettings) -> int:
    """The Dask task: sign in from the plugin's URL, check it is `user_id`, play the run."""
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if not isinstance(plugin, WorkbenchCredentials):
        raise AuthError("No workbench credentials on this worker; start the run from a client.")
    database = await asyncio.to_thread(open_database, plugin.database_url)
    try:
        mapped = await asyncio.to_thread(role_user, database)
        if mapped is not None and mapped[0] != user_id:
            raise AuthError("This worker's database role belongs to another user.")
        return await RunWorker(database, user_id).serve(run_id, settings)
    finally:
        database.engine.dispose()


def submit(
    client: Client, *, database_url: str, run_id: str, user_id: str, settings: WorkerSettings,
    detach: bool,
) -> list[Any]:  # fmt: skip
    """One task per worker now in the cluster; `detach` lets them outlive this client."""
    register_credentials(client, database_url)
    workers = list(client.scheduler_info()["workers"]) or [None]
    futures = [
        client.submit(
            play_on_worker,
            run_id,
            user_id,
            settings,
            pure=False,
            workers=[address] if address else None,
            allow_other_workers=True,
            key=f"workbench-run-{run_id}-{index}",
        )
        for index, address in enumerate(workers)
    ]
    if detach:
        fire_and_forget(futures)  # type: ignore[no-untyped-call]
    return futures
