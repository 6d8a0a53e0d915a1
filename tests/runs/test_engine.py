"""Conversation semantics, pinned by what the stand-in server actually received."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import workbench
from tests.runs.conftest import Setup, make_setup
from workbench.handle import Workbench
from workbench.runs.engine import ExpectationRow, worse
from workbench.services.scenarios.types import expect, must_contain, must_not_contain, user
from workbench.testing.standin import StandIn


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn(max_lifetime_s=120) as server:
        yield server


def play(setup: Setup, target: Any, **options: Any) -> Any:
    run = setup.wb.runs.start(
        suite=setup.suite_id, prompt=setup.prompt_id, target=target, progress=False, **options
    )
    return run.wait(60)


def compatible(server: StandIn) -> Any:
    return workbench.openai_compatible(base_url=server.openai_base_url, model="m", max_retries=0)


def test_system_text_user_turns_and_real_replies_are_sent_and_trailing_user_is_not(
    setup: Setup, standin: StandIn
) -> None:
    run = play(setup, compatible(standin))
    bodies = [b["messages"] for b in standin.bodies]
    assert len(bodies) == 3  # one per EXPECT turn; "never sent" is never sent
    two_turns = [m for m in bodies if m[1]["content"] == "first"]
    second = next(m for m in two_turns if len(m) == 4)
    assert second == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "echo: first"},
        {"role": "user", "content": "second"},
    ]
    assert all("never sent" not in str(m) for m in bodies)
    frame = run.frame()
    assert list(frame["status"]) == ["PASSED", "PASSED", "FAILED", "PASSED"]


def test_consecutive_user_turns_are_merged_for_anthropic(
    wb: Workbench, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    setup = make_setup(wb, {"Merged": [user("one"), user("two"), expect(must_contain("two"))]})
    target = workbench.anthropic("claude-test", base_url=standin.base_url, max_retries=0)
    run = play(setup, target)
    (body,) = standin.bodies
    assert body["messages"] == [{"role": "user", "content": "one\n\ntwo"}]
    assert list(run.frame()["status"]) == ["PASSED"]


def test_a_failed_expectation_does_not_stop_the_scenario(setup: Setup, standin: StandIn) -> None:
    frame = play(setup, compatible(standin)).frame()
    two = frame[frame["scenario"] == "Two turns"]
    assert list(two["turn"]) == [2, 2, 4]  # the FAILED check on turn 2, then turn 4 played
    assert list(two["status"]) == ["PASSED", "FAILED", "PASSED"]


def test_stop_on_failure_stops_the_scenario(setup: Setup, standin: StandIn) -> None:
    frame = play(setup, compatible(standin), stop_on_failure=True).frame()
    assert list(frame[frame["scenario"] == "Two turns"]["turn"]) == [2, 2]
    assert len(standin.bodies) == 2


def test_a_provider_error_ends_the_attempt_as_error_never_failed(
    wb: Workbench, standin: StandIn
) -> None:
    setup = make_setup(
        wb,
        {
            "Only": [
                user("a"),
                expect(must_contain("a"), must_not_contain("z")),
                user("b"),
                expect(must_contain("b")),
            ]
        },
    )
    standin.inject("401")
    run = play(setup, compatible(standin))
    frame = run.frame()
    assert list(frame["status"]) == ["ERROR", "ERROR"]  # turn 2's two checks; turn 4 not played
    assert frame["passed"].isna().all()
    assert "auth" in frame["error"][0]
    summary = run.summary()
    assert list(summary["failed"]) == [0, 0] and list(summary["errors"]) == [1, 1]
    assert wb.runs.get(run.id).totals["errors"] == 1


def test_the_run_goes_on_after_an_attempt_errors(setup: Setup, standin: StandIn) -> None:
    standin.inject("500")  # max_retries=0: the first request fails, the others answer
    run = play(setup, compatible(standin), concurrency=1)
    totals = setup.wb.runs.get(run.id).totals
    assert totals["errors"] == 1 and totals["passed"] + totals["failed"] == 1
    assert setup.wb.runs.get(run.id).status == "finished"


@pytest.mark.parametrize(
    ("before", "statuses", "after"),
    [
        ("passed", [], "passed"),
        ("passed", ["PASSED", "PASSED"], "passed"),
        ("passed", ["PASSED", "ERROR"], "error"),
        ("passed", ["ERROR", "FAILED"], "failed"),  # a failure outweighs an error
        ("error", ["PASSED"], "error"),
        ("error", ["FAILED"], "failed"),
        ("failed", ["PASSED", "ERROR"], "failed"),
        ("passed", ["INCONCLUSIVE"], "passed"),
    ],
)
def test_an_attempt_is_as_bad_as_its_worst_expectation(
    before: str, statuses: list[str], after: str
) -> None:
    rows = [ExpectationRow(0, i, "MUST_CONTAIN", s, {}) for i, s in enumerate(statuses)]
    assert worse(before, rows) == after
