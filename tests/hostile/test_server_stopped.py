"""A handle whose embedded server was stopped: one clear ConfigError, nothing on stderr."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from workbench.db.embedded import stop_server
from workbench.errors import ConfigError


@pytest.fixture
def local_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Local mode on a private embedded server (its own data directory), stopped afterwards.

    Not under pytest's tmp_path: another pytest run on the machine prunes old base temp
    directories, which took the data directory away mid-test.
    """
    home = Path(tempfile.mkdtemp(prefix="wb-stopped-server-"))
    home.chmod(0o755)  # the server runs as the unprivileged pgserver user when we are root
    monkeypatch.setenv("WORKBENCH_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    try:
        yield home
    finally:
        stop_server(home / "data" / "pg")
        shutil.rmtree(home, ignore_errors=True)


def test_a_stopped_server_says_to_connect_again_and_connect_restarts_it(
    local_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    wb = workbench.connect(quiet=True)
    assert list(wb.scenarios.list()) == []
    assert stop_server(local_home / "data" / "pg")
    capfd.readouterr()
    # The first call meets the pooled connection the server closed; the next finds no server.
    for _ in range(2):
        with pytest.raises(ConfigError) as caught:
            wb.scenarios.list()
        assert "run workbench.connect() again" in str(caught.value)
        assert "starts the embedded server" in str(caught.value)
    stderr = capfd.readouterr().err
    assert "Exception during reset" not in stderr and "Traceback" not in stderr
    again = workbench.connect(quiet=True)
    assert list(again.scenarios.list()) == []
