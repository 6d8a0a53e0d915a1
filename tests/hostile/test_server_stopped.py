"""A handle whose embedded server was stopped: one clear ConfigError, nothing on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench
from workbench.db.embedded import stop_server
from workbench.errors import ConfigError


@pytest.fixture
def local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Local mode on a private embedded server (its own data directory), stopped afterwards."""
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield tmp_path
    stop_server(tmp_path / "data" / "pg")


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
