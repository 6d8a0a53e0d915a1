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


def test_a_run_whose_server_stops_raises_a_config_error_and_logs_nothing(
    local_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import gc
    import time

    from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
    from workbench.testing.standin import StandIn

    wb = workbench.connect(quiet=True)
    turns = [user("hi"), expect(must_contain("hi"))]
    ids = [wb.scenarios.create(ScenarioCreate(name=f"s{i}", turns=turns)).id for i in range(5)]
    wb.suites.create(name="Suite", scenario_ids=ids)
    wb.prompts.create(name="Prompt", content="Be kind.")
    with StandIn(latency_s=0.2, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = wb.runs.start(
            suite="Suite", prompt="Prompt", target=target, repeats=20, concurrency=2,
            progress=False,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while server.requests < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stop_server(local_home / "data" / "pg")
        with pytest.raises(ConfigError) as caught:
            run.wait(60)
    message = str(caught.value)
    assert "run workbench.connect() again" in message
    assert f"wb.runs.resume({run.id!r})" in message
    gc.collect()  # an unretrieved task exception is logged when the task is collected
    stderr = capfd.readouterr().err
    assert "never retrieved" not in stderr and "Traceback" not in stderr
