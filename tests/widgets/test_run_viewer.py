"""RunViewer (issue 12), driven in Python as a user would: filters, selection, transcript."""

from __future__ import annotations

import time
from typing import Any

import pytest

import workbench
from tests.conftest import user_handle
from tests.runs.conftest import Setup, make_setup
from workbench import called, not_called, tool, tool_calls
from workbench.db.engine import Database
from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    expect,
    must_contain,
    semantic,
    user,
)
from workbench.widgets.run_viewer import RunViewer


@pytest.fixture
def setup(wb: Workbench) -> Setup:
    made = make_setup(
        wb,
        {
            "Greets": [user("hello"), expect(must_contain("hello"), semantic("It is polite"))],
            "Refunds": [user("refund please"), expect(must_contain("refund"))],
            "Broken": [user("broken"), expect(must_contain("x"))],
        },
    )
    wb.scenarios.update(made.scenario_ids[1], ScenarioUpdate(tags=("billing",)), expected_version=1)
    return made


def reply(last_user: str) -> Any:
    if "broken" in last_user:
        return None  # not a string: a provider error, so the attempt is an ERROR
    return "hello, how nice" if "hello" in last_user else "no"


def play(setup: Setup, **options: Any) -> Any:
    target, judge = workbench.offline(reply), workbench.offline(judge_score=0.2)
    return setup.wb.runs.start(
        suite=setup.suite_id,
        prompt=setup.prompt_id,
        target=target,
        judge=judge,
        progress=False,
        **options,
    )


def labels(viewer: RunViewer) -> list[str]:
    return [label for label, _ in viewer.attempt_list.options]


def test_counts_and_filters_by_outcome_scenario_and_tag(setup: Setup) -> None:
    viewer = RunViewer(play(setup, repeats=2).wait(60))
    assert viewer.progress.value == viewer.progress.max == 6
    assert "0 passed, 4 failed, 2 errored" in viewer.counts.value
    assert len(labels(viewer)) == 6
    viewer.show.value = "failed"
    assert {r["scenario"] for r in viewer.visible()} == {"Greets", "Refunds"}
    viewer.show.value = "errored"
    assert [r["scenario"] for r in viewer.visible()] == ["Broken", "Broken"]
    viewer.show.value = "all"
    viewer.tag.value = "billing"
    assert {r["scenario"] for r in viewer.visible()} == {"Refunds"}
    viewer.tag.value = "(all)"
    viewer.scenario.value = "Greets"
    assert all("Greets" in label for label in labels(viewer)) and len(labels(viewer)) == 2


def test_the_transcript_highlights_failures_and_shows_the_judges_reasoning(setup: Setup) -> None:
    viewer = RunViewer(play(setup).wait(60))
    assert "Select an attempt" in viewer.transcript.value
    viewer.select(1, 1)
    shown = viewer.transcript.value
    assert "user</b>: hello" in shown and "hello, how nice" in shown
    assert "MUST_CONTAIN hello: <b>PASSED</b>" in shown
    assert "background:#fde2e1" in shown  # the judge's low score fails SEMANTIC_ASSERT
    assert "judge (score 0.2)" in shown and "offline provider" in shown
    viewer.select(3, 1)
    assert "error:" in viewer.transcript.value and "<b>ERROR</b>" in viewer.transcript.value


def test_the_transcript_shows_the_system_prompt_and_each_replys_usage(setup: Setup) -> None:
    viewer = RunViewer(play(setup).wait(60))
    viewer.select(1)
    shown = viewer.transcript.value
    # The prompt "Be {{ tone }}." rendered with the stored variable, as the run sent it.
    assert '<details class="wb-system"><summary>system prompt</summary>' in shown
    assert '<pre style="white-space:pre-wrap">Be kind.</pre>' in shown
    # Offline tokens are words: 3 sent ("Be kind." and "hello"), 3 in "hello, how nice".
    usage = viewer.run.transcript(position=1)["turns"][1]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (3, 3)
    assert '<span class="wb-usage">offline · 3 + 3 tokens · ' in shown
    assert " s · $0</span>" in shown  # the offline provider costs nothing


def test_the_viewer_follows_a_run_while_it_plays(committed_db: Database) -> None:
    # Committed: the viewer's thread and the run's each need their own connection.
    wb = user_handle(committed_db, "Ada")
    setup = make_setup(wb, {"Greets": [user("hello"), expect(must_contain("hello"))]})
    run = play(setup, repeats=90, concurrency=1)
    viewer = RunViewer(run, interval=0.05)
    run.wait(60)
    deadline = time.monotonic() + 10
    while viewer.progress.value < 90 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert viewer.progress.value == 90 and len(labels(viewer)) == 90
    viewer._thread.join(10)  # its last refresh, before the tables are emptied


def test_the_flaky_filter_shows_attempts_of_flaky_scenarios(wb: Workbench) -> None:
    calls = {"n": 0}

    def alternating(_: str) -> str:
        calls["n"] += 1
        return "hello" if calls["n"] % 2 else "bye"

    made = make_setup(wb, {"Flips": [user("hi"), expect(must_contain("hello"))]})
    run = wb.runs.start(
        suite=made.suite_id, prompt=made.prompt_id, target=workbench.offline(alternating),
        repeats=2, concurrency=1, progress=False,
    ).wait(60)  # fmt: skip
    viewer = RunViewer(run)
    viewer.show.value = "flaky"
    assert len(viewer.visible()) == 2


def test_transcripts_and_attempts_are_the_owners_only(setup: Setup, other_wb: Workbench) -> None:
    run = play(setup).wait(60)
    with pytest.raises(NotFound):
        other_wb.runs.attempts(run.id)
    with pytest.raises(NotFound):
        other_wb.runs.transcript(run.id, position=1)
    with pytest.raises(NotFound, match="No attempt"):
        setup.wb.runs.transcript(run.id, position=9)
    with pytest.raises(ValidationError, match="positions count from 1"):
        setup.wb.runs.transcript(run.id, position=-1)


def test_the_transcript_shows_each_tool_call_and_highlights_failed_tool_checks(
    wb: Workbench,
) -> None:
    order = {"type": "object", "properties": {"order_id": {"type": "string"}}}
    lookup = tool("lookup_order", "Look up", parameters=order, returns={"status": "shipped"})
    scenario = wb.scenarios.create(ScenarioCreate(name="Orders", tools=[lookup], turns=[
        user("where is A1"),
        expect(must_contain("shipped"), called("lookup_order", args={"order_id": "A1"}),
               not_called("lookup_order")),
    ]))  # fmt: skip
    suite = wb.suites.create(name="Tools", scenario_ids=[scenario.id])
    prompt = wb.prompts.create(name="Agent", content="Help.")
    rules = {"where": tool_calls(("lookup_order", {"order_id": "A1"}), ("nope", {}),
                                 then="It is {results}")}  # fmt: skip
    run = wb.runs.start(suite=suite.id, prompt=prompt.id, target=workbench.offline(rules),
                        progress=False).wait(60)  # fmt: skip
    viewer = RunViewer(run)
    viewer.select(1)
    shown = viewer.transcript.value
    assert "<code>lookup_order({&quot;order_id&quot;: &quot;A1&quot;})</code> → " in shown
    assert "{&quot;status&quot;: &quot;shipped&quot;}" in shown
    assert "tool round 1 · mock" in shown and "error: there is no tool named" in shown
    quoted_args = "args={&#x27;order_id&#x27;: &#x27;A1&#x27;}"
    assert f"expectation 2 · TOOL_CALLED lookup_order {quoted_args}" in shown
    failed = '<li style="background:#fde2e1'
    assert failed in shown and "TOOL_NOT_CALLED lookup_order: <b>FAILED</b>" in shown
