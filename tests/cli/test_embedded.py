"""`workbench db status` and `workbench db stop` on the embedded server, in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.db.embedded import running_server, stop_server


def workbench_command(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment |= {"WORKBENCH_HOME": str(home), **env}
    code = "import sys; from workbench.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    stop_server(tmp_path / "data" / "pg")


def test_status_and_stop_follow_the_server(home: Path) -> None:
    pgdata = home / "data" / "pg"
    before = workbench_command(home, "db", "status")
    assert before.returncode == 3
    assert (
        before.stdout.strip() == f"The embedded PostgreSQL server in {pgdata} has no cluster yet."
    )

    started = workbench_command(home, "db", "upgrade")  # starts the server, as connect() does
    assert started.returncode == 0, started.stderr
    server = running_server(pgdata)
    assert server is not None
    up = workbench_command(home, "db", "status")
    assert up.returncode == 0
    assert f"in {pgdata} is running (pid {server.pid}, port {server.port}" in up.stdout

    stopped = workbench_command(home, "db", "stop")
    assert stopped.returncode == 0
    assert stopped.stdout.strip() == f"Stopped the embedded PostgreSQL server in {pgdata}."
    assert running_server(pgdata) is None
    down = workbench_command(home, "db", "status")
    assert (down.returncode, down.stdout.strip()) == (
        3,
        f"The embedded PostgreSQL server in {pgdata} is not running.",
    )
    again = workbench_command(home, "db", "stop")
    assert again.returncode == 0 and "nothing to stop" in again.stdout


def test_with_database_url_set_it_says_which_server_is_used(home: Path) -> None:
    url = "postgresql://ada:s3cret-password@db.example.com:5432/app"
    shown = workbench_command(home, "db", "status", DATABASE_URL=url)
    assert shown.returncode == 3
    assert "DATABASE_URL is set: the workbench uses postgresql://ada:***@db.example.com" in (
        shown.stdout
    )
    assert "s3cret" not in shown.stdout + shown.stderr
