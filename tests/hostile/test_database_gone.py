"""The database goes away mid-run: the run fails loudly, its counts claim nothing unstored, and
a resume plays what was not stored (issue 18, item 1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

import workbench
from tests.hostile.test_server_stopped import local_home  # noqa: F401 (a fixture)
from tests.runs.conftest import make_setup
from workbench.db.embedded import stop_server
from workbench.errors import ResultsNotStored
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import StandIn

SCENARIOS, REPEATS = 20, 5


def finished(wb: workbench.Workbench, run_id: str) -> int:
    with wb.database.transaction() as session:
        return int(
            session.scalar(
                text(
                    "SELECT count(*) FROM workbench.run_attempt WHERE run_id = :r"
                    " AND status IN ('passed', 'failed', 'error')"
                ),
                {"r": run_id},
            )
            or 0
        )


def test_a_database_gone_mid_run_fails_the_run_with_what_was_not_stored(
    local_home: Path,  # noqa: F811
    capfd: pytest.CaptureFixture[str],
) -> None:
    wb = workbench.connect(quiet=True)
    scenarios = {f"S{n}": [user(f"m {n}"), expect(must_contain("m"))] for n in range(SCENARIOS)}
    setup = make_setup(wb, scenarios)
    with StandIn(latency_s=0.1, max_lifetime_s=120) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", max_retries=0
        )
        run = wb.runs.start(suite=setup.suite_id, prompt=setup.prompt_id, target=target,
                            repeats=REPEATS, concurrency=4, progress=False)  # fmt: skip
        deadline = time.monotonic() + 60
        while sum(run._counts.values()) < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        capfd.readouterr()
        assert stop_server(local_home / "data" / "pg")
        with pytest.raises(ResultsNotStored) as caught:
            run.wait(60)
        message = str(caught.value)
        assert f"wb.runs.resume({run.id!r})" in message and "could not be written" in message
        assert "not stored" in message and caught.value.run_id == run.id
        shown = sum(run._counts.values())
        assert 0 < shown < SCENARIOS * REPEATS

        again = workbench.connect(quiet=True)  # starts the embedded server again
        assert finished(again, run.id) == shown  # the handle claimed nothing unstored
        resumed = again.runs.resume(run.id, progress=False).wait(60)
    assert finished(again, run.id) == SCENARIOS * REPEATS
    assert sum(resumed._counts.values()) == SCENARIOS * REPEATS - shown
    assert again.runs.get(run.id).status == "finished"
    assert "never retrieved" not in capfd.readouterr().err
