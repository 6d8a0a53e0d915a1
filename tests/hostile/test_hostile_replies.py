"""Hostile replies never lose other results (issue 18, items 1 and 2).

Runs of 30 scenarios at concurrency 4 against the stand-in over real HTTP and the real SDKs:
one reply holding a lone surrogate, usage counts of 10**12, replies of several megabytes.
Every attempt's result is stored; what could not be stored as sent is stored made storable
(a replacement character, a clamped count, a cut reply marked `reply_cut`)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup, make_setup
from workbench.handle import Workbench
from workbench.runs.storable import INT_MAX
from workbench.services.scenarios.types import expect, must_contain, user
from workbench.testing.standin import SURROGATE_REPLY, StandIn

SCENARIOS = 30


@pytest.fixture
def thirty(wb: Workbench) -> Setup:
    """30 one-turn scenarios: "message 1" ... "message 30", each expecting its echo."""
    return make_setup(
        wb,
        {
            f"Scenario {n}": [user(f"message {n}"), expect(must_contain(f"message {n}"))]
            for n in range(1, SCENARIOS + 1)
        },
    )


def start(setup: Setup, target: Any, **options: Any) -> Any:
    return setup.wb.runs.start(
        suite=setup.suite_id, prompt=setup.prompt_id, target=target, concurrency=4,
        progress=False, **options,
    )  # fmt: skip


def stored(setup: Setup, run_id: str) -> dict[str, int]:
    """Finished attempts in the database, by status."""
    with setup.wb.database.transaction() as session:
        rows = session.execute(
            text(
                "SELECT status, count(*) FROM workbench.run_attempt WHERE run_id = :r"
                " AND status IN ('passed', 'failed', 'error') GROUP BY status"
            ),
            {"r": run_id},
        ).all()
    return {str(status): int(n) for status, n in rows}


def test_a_lone_surrogate_in_one_reply_loses_no_other_result(thirty: Setup) -> None:
    # On main this run said "30/30 attempts" and the database held 25.
    def reply(message: str) -> str:
        return SURROGATE_REPLY if message == "message 7" else f"echo: {message}"

    with StandIn(replies=reply, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        run = start(thirty, target).wait(60)
    assert sum(stored(thirty, run.id).values()) == SCENARIOS
    assert sum(run._counts.values()) == SCENARIOS  # the handle counts what is stored
    assert thirty.wb.runs.get(run.id).status == "finished"
    frame = run.frame()
    bad = frame[frame["scenario"] == "Scenario 7"]
    assert list(bad["reply"]) == ["bad\ufffdsurrogate"] and list(bad["status"]) == ["FAILED"]
    assert (frame[frame["scenario"] != "Scenario 7"]["status"] == "PASSED").all()


@pytest.mark.parametrize("transport", ["sdk", "direct"])
def test_usage_counts_beyond_the_column_are_clamped_and_stored(
    thirty: Setup, transport: str
) -> None:
    # On main 8 of 30 were lost, and a resume lost the same 8 again.
    hostile = {f"message {n}": "huge_numbers" for n in range(1, SCENARIOS + 1, 4)}
    with StandIn(hostile=hostile, latency_s=0.05, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", transport=transport
        )
        run = start(thirty, target)
        deadline = time.monotonic() + 30  # cancel once some are stored, then resume
        while sum(run._counts.values()) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        run.cancel()
        kept = sum(stored(thirty, run.id).values())
        assert sum(run._counts.values()) == kept
        resumed = thirty.wb.runs.resume(run.id, progress=False).wait(60)
    assert stored(thirty, run.id) == {"passed": SCENARIOS}
    assert sum(resumed._counts.values()) == SCENARIOS - kept
    frame = resumed.frame()
    huge = frame[frame["scenario"].isin([f"Scenario {n}" for n in range(1, SCENARIOS + 1, 4)])]
    assert len(huge) == len(hostile)
    assert set(huge["prompt_tokens"]) == {INT_MAX} and set(huge["completion_tokens"]) == {INT_MAX}


@pytest.mark.parametrize("transport", ["sdk", "direct"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_an_oversize_reply_is_cut_marked_and_checked_as_kept(
    thirty: Setup, transport: str, provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "stand-in-takes-any-key")
    hostile = {"message 3": "oversize", "message 11": "oversize"}
    with StandIn(hostile=hostile, oversize_bytes=3_000_000, max_lifetime_s=60) as server:
        if provider == "openai":
            target = workbench.openai_compatible(
                base_url=server.openai_base_url, model="m", transport=transport
            )
        else:
            target = workbench.anthropic("claude", base_url=server.base_url, transport=transport)
        run = start(thirty, target, repeats=1).wait(60)
    assert sum(stored(thirty, run.id).values()) == SCENARIOS
    frame = run.frame()
    assert "reply_cut" in frame.columns
    cut = frame[frame["reply_cut"]]
    assert sorted(cut["scenario"]) == ["Scenario 11", "Scenario 3"]
    assert {len(reply) for reply in cut["reply"]} == {1_000_000}
    assert set(cut["reply"].str.strip("x")) == {""}  # the head of the reply, nothing else
    assert list(cut["status"]) == ["FAILED", "FAILED"]  # checked on what was kept
    assert not frame[~frame["reply_cut"]]["reply_cut"].any()
    assert (frame[~frame["reply_cut"]]["status"] == "PASSED").all()


def test_a_target_may_keep_more_of_a_reply(thirty: Setup) -> None:
    hostile = {"message 3": "oversize"}
    with StandIn(hostile=hostile, oversize_bytes=3_000_000, max_lifetime_s=60) as server:
        target = workbench.openai_compatible(
            base_url=server.openai_base_url, model="m", max_reply_bytes=5_000_000
        )
        run = start(thirty, target).wait(60)
    frame = run.frame()
    whole = frame[frame["scenario"] == "Scenario 3"]
    assert list(whole["reply_cut"]) == [False]
    assert len(whole["reply"].iloc[0]) > 3_000_000 - 65536
