"""A run keeps its target's settings: `resume` without `target=` plays with them (issue 18, 5)."""

from __future__ import annotations

import workbench
from tests.runs.conftest import Setup
from workbench.testing.standin import StandIn


def test_resume_without_a_target_plays_with_the_runs_own_settings(setup: Setup) -> None:
    # Cancelled before any answer came; resumed without target=, the stored target is rebuilt
    # with its timeout and retries: every attempt gives up after 0.3 s, not the 60 s default.
    with StandIn(latency_s=1.5, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", timeout_s=0.3, max_retries=0,
            stop=("never",), concurrency=3,
        )  # fmt: skip
        run = setup.wb.runs.start(suite="Smoke", prompt="Support", target=target, repeats=3,
                                  progress=False)  # fmt: skip
        run.cancel()
        assert setup.wb.runs.get(run.id).status == "cancelled"
        resumed = setup.wb.runs.resume(run.id, progress=False).wait(60)
    assert setup.wb.runs.get(run.id).status == "finished"
    errors = set(resumed.frame()["error"])
    assert errors == {"openai_compatible: no answer within 0.3 s"}
    assert server.bodies[-1]["stop"] == ["never"]
