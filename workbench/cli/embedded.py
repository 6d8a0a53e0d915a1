"""`workbench db status` and `workbench db stop`: the embedded PostgreSQL server.

The embedded server starts on first use and stays up for later kernels, also after `workbench
lab` exits; these say whether it runs and stop it. Only the server in this user's data
directory (`WORKBENCH_HOME`) is concerned; a `DATABASE_URL` server is never touched.

    workbench db status     # exit 0 when it runs, 3 when it does not (as `pg_ctl status`)
    workbench db stop       # kernels using it lose their connection; the next use restarts it
"""

from __future__ import annotations

import argparse
import os
from typing import Any

NOT_RUNNING = 3


def add_server_commands(db_commands: Any) -> None:
    status = db_commands.add_parser(
        "status", help="is the embedded PostgreSQL server running? (exit 0 yes, 3 no)"
    )
    status.set_defaults(command=server_status)
    stop = db_commands.add_parser("stop", help="stop the embedded PostgreSQL server")
    stop.set_defaults(command=stop_server)


def _uses_another_server() -> str | None:
    raw = os.environ.get("DATABASE_URL")
    if not raw:
        return None
    from workbench.db.url import mask_raw

    return f"DATABASE_URL is set: the workbench uses {mask_raw(raw.strip())}, not this server."


def server_status(args: argparse.Namespace) -> int:
    from workbench.db.embedded import cluster_dir, running_server

    note = _uses_another_server()
    if note:
        print(note)
    pgdata = cluster_dir()
    server = running_server(pgdata)
    if server is None:
        state = "has no cluster yet" if not pgdata.exists() else "is not running"
        print(f"The embedded PostgreSQL server in {pgdata} {state}.")
        return NOT_RUNNING
    print(
        f"The embedded PostgreSQL server in {pgdata} is running "
        f"(pid {server.pid}, port {server.port}, socket directory {server.socket_dir})."
    )
    return 0


def stop_server(args: argparse.Namespace) -> int:
    from workbench.db.embedded import cluster_dir
    from workbench.db.embedded import stop_server as stop

    note = _uses_another_server()
    if note:
        print(note)
    pgdata = cluster_dir()
    if stop(pgdata):
        print(f"Stopped the embedded PostgreSQL server in {pgdata}.")
    else:
        print(f"No embedded PostgreSQL server is running in {pgdata}; nothing to stop.")
    return 0
