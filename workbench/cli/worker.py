"""`workbench worker`: play a run's attempts from the ledger, alongside any other workers.

    workbench worker --run RUN_ID --concurrency 50 [--transport direct]

Signs in like `workbench.connect()` (DATABASE_URL of your own role, a saved session, the hub):
a worker only ever sees and claims its own user's runs. Exits 0 when nothing is left to claim.
SIGTERM (or Ctrl-C) stops it gracefully: finished attempts are written, the ones it still held
go back to pending for the other workers.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TYPE_CHECKING, Any

from workbench.cli.startup import start_up

if TYPE_CHECKING:
    from workbench.db.engine import Database
    from workbench.services.runs.worker import RunWorker, WorkerSettings


def add_worker_command(commands: Any) -> None:
    worker = commands.add_parser("worker", help="play a run's attempts from the database")
    worker.add_argument("--run", required=True, help="the run's id (wb.runs.list())")
    worker.add_argument("--concurrency", type=int, default=16, help="calls in flight")
    worker.add_argument("--lease", type=float, default=None, help="lease seconds (default 60)")
    worker.add_argument("--heartbeat", type=float, default=None, help="heartbeat seconds")
    worker.add_argument(
        "--transport",
        choices=("sdk", "direct"),
        default=None,
        help="HTTP client: direct aiohttp (new targets' default) or the official SDKs (about"
        " three times the CPU per call); default: the run's target's (docs/providers.md)",
    )
    # A worker process ends without the interpreter's teardown: several start beside each
    # other, CPU-bound, for every run (cli/startup.py, issue 24).
    worker.set_defaults(command=run_worker, end_process=True)


def run_worker(args: argparse.Namespace) -> int:
    # The worker's imports and sign-in, without collections (cli/startup.py).
    with start_up(own_process=getattr(args, "own_process", False)):
        database, worker, settings = _started(args)
    try:
        played = asyncio.run(_serve(worker, args.run, settings))
    finally:
        database.engine.dispose()  # closed here, not left to a teardown the process may skip
    print(f"worker: played {played} attempts of run {args.run}", flush=True)
    return 0


def _started(args: argparse.Namespace) -> tuple[Database, RunWorker, WorkerSettings]:
    import workbench
    from workbench.errors import ValidationError
    from workbench.runs.ledger import HEARTBEAT_SECONDS, LEASE_SECONDS
    from workbench.services.limits import MAX_CONCURRENCY
    from workbench.services.runs.worker import RunWorker, WorkerSettings

    lease = LEASE_SECONDS if args.lease is None else args.lease
    beat = HEARTBEAT_SECONDS if args.heartbeat is None else args.heartbeat
    if (
        not 1 <= args.concurrency <= MAX_CONCURRENCY
        or not 0 < lease <= 86_400
        or not 0 < beat < lease
    ):
        raise ValidationError(
            f"--concurrency must be from 1 to {MAX_CONCURRENCY:,}, --lease from 0 to 86,400"
            " seconds and --heartbeat between 0 and the lease"
        )
    settings = WorkerSettings(args.concurrency, lease, beat, args.transport)
    wb = workbench.connect(quiet=True)
    return wb.database, RunWorker(wb.database, wb.user.id), settings  # only its user's runs


async def _serve(worker: RunWorker, run_id: str, settings: WorkerSettings) -> int:
    task = asyncio.get_running_loop().create_task(worker.serve(run_id, settings))
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        print("worker: stopped; unfinished attempts handed back", file=sys.stderr, flush=True)
        return 0
