"""Runs with simulated users and conversation criteria (issue 21): the play loop, the bounds,
retries, verdicts (inconclusive apart), storage, and what start refuses.

Offline targets play both sides without a network; the stand-in plays them over real HTTP
through both SDKs (the simulator and the judge answer in structured output)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.conftest import insert_user
from tests.runs.conftest import Setup
from workbench import judge_conversation, must_not_contain, simulated_user
from workbench.db.engine import Database
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.runs import RunWorker, WorkerSettings
from workbench.services.runs.simulated_setup import stored_simulator
from workbench.services.scenarios.types import ScenarioCreate, expect, must_contain, user
from workbench.testing.standin import StandIn
from workbench.widgets.run_viewer import RunViewer

CRITERIA = ("Never promises a cash refund", "Offers store credit")


def turns(min_turns: int = 2, max_turns: int = 4, **block: Any) -> list[Any]:
    return [
        user("Hi, I bought a blender 40 days ago and want to return it."),
        expect(must_contain("30 days")),
        simulated_user(
            goal="Get a cash refund",
            persona="polite",
            min_turns=min_turns,
            max_turns=max_turns,
            each_reply=[must_not_contain("guarantee")],
            **block,
        ),
        judge_conversation(*CRITERIA),
    ]


def setup_with(wb: Workbench, scenario_turns: list[Any] | None = None) -> Setup:
    spec = ScenarioCreate(name="Refund outside the window", turns=scenario_turns or turns())
    scenario = wb.scenarios.create(spec)
    suite = wb.suites.create(name="Refunds", scenario_ids=[scenario.id])
    prompt = wb.prompts.create(name="Support", content="You follow the 30-day policy.")
    return Setup(wb, suite.id, prompt.id, (scenario.id,))


def start(made: Setup, target: Any, **options: Any) -> Any:
    return made.wb.runs.start(
        suite=made.suite_id, prompt=made.prompt_id, target=target, progress=False, **options
    )


TARGET = workbench.offline({"blender": "Returns are accepted within 30 days."},
                           default="I can offer store credit.")  # fmt: skip
USER = {"store credit": "No, I want cash.", "cash": "[done] I got my cash refund."}


def stored(wb: Workbench, sql: str) -> list[Any]:
    with wb.database.transaction() as session:
        return list(session.execute(text(sql)).all())


def test_offline_plays_both_sides_and_stops_at_max_turns(wb: Workbench) -> None:
    made = setup_with(wb)
    run = start(made, TARGET, judge=workbench.offline(USER), repeats=2).wait(60)
    assert run.status == "finished"
    talks = run.conversations()
    assert list(talks["turns_played"]) == [4, 4]  # "No, I want cash." never reaches "[done]"
    assert list(talks["ending"]) == ["max_turns", "max_turns"]
    first = talks["transcript"].iloc[0]
    assert [m["role"] for m in first][:4] == ["user", "assistant", "user", "assistant"]
    # No rule matches the scripted reply: the offline user's default; then its rules.
    assert [m["text"] for m in first[:3]] == [
        "Please go on.",
        "I can offer store credit.",
        "No, I want cash.",
    ]
    frame = run.frame()
    criteria = frame[frame["type"] == "CONVERSATION"]
    assert len(criteria) == 4 and set(criteria["status"]) == {"PASSED"}
    assert set(criteria["verdict"]) == {"pass"}
    # The escaped prompt (conversation-judge-v2) is the version stored with every verdict.
    assert {d["prompt_version"] for d in criteria["detail"]} == {"conversation-judge-v2"}
    each = frame[frame["type"] == "MUST_NOT_CONTAIN"]
    assert len(each) == 2 and set(each["status"]) == {"PASSED"}
    totals = wb.runs.get(run.id).totals or {}
    assert {"cost_usd", "judge_cost_usd", "simulator_cost_usd"} <= set(totals)  # per role


def test_the_simulator_ends_the_block_once_past_min_turns(wb: Workbench) -> None:
    made = setup_with(wb, turns(min_turns=1, max_turns=5))
    user_side = workbench.offline({"store credit": "[done] fine, cash it is"})
    run = start(made, TARGET, judge=user_side).wait(60)
    talk = run.conversations().iloc[0]
    assert talk["ending"] == "goal_reached" and talk["turns_played"] == 1  # asked, then done
    assert talk["reason"] == "fine, cash it is"


def test_done_before_min_turns_is_not_taken(wb: Workbench) -> None:
    made = setup_with(wb, turns(min_turns=3, max_turns=5))
    run = start(made, TARGET, judge=workbench.offline({"": "[done] bye"})).wait(60)
    talk = run.conversations().iloc[0]
    # "[done]" with nothing to say while it must speak is unusable: asked again, then ERROR.
    assert talk["ending"] == "error" and "empty" in talk["reason"]
    assert talk["simulator_calls"] == 2
    assert run.attempts()["status"].iloc[0] == "error"


def test_an_inconclusive_criterion_is_counted_apart(wb: Workbench) -> None:
    made = setup_with(wb)
    run = start(made, TARGET, judge=workbench.offline(USER, judge_score=0.5)).wait(60)
    frame = run.frame()
    criteria = frame[frame["type"] == "CONVERSATION"]
    assert set(criteria["status"]) == {"INCONCLUSIVE"}
    assert run.attempts()["status"].iloc[0] == "passed"  # never counted as failed
    summary = run.summary()
    conversation = summary[summary["type"] == "CONVERSATION"]
    assert list(conversation["inconclusive"]) == [1, 1]
    assert list(conversation["failed"]) == [0, 0]


def test_a_failed_each_reply_check_names_the_replies(wb: Workbench) -> None:
    made = setup_with(wb)
    target = workbench.offline({"blender": "Within 30 days."}, default="I guarantee it.")
    run = start(made, target, judge=workbench.offline(USER, judge_score=0.0)).wait(60)
    frame = run.frame()
    each = frame[frame["type"] == "MUST_NOT_CONTAIN"].iloc[0]
    assert each["status"] == "FAILED"
    assert run.attempts()["status"].iloc[0] == "failed"
    assert set(frame[frame["type"] == "CONVERSATION"]["status"]) == {"FAILED"}


def test_no_simulator_is_refused_before_anything_is_written(wb: Workbench) -> None:
    made = setup_with(wb)
    with pytest.raises(ValidationError, match="simulator="):
        start(made, TARGET)
    assert stored(wb, "SELECT id FROM workbench.run") == []


def test_simulator_plays_instead_of_the_judge(wb: Workbench) -> None:
    made = setup_with(wb)
    run = start(made, TARGET, judge=workbench.offline({}, judge_score=0.0),
                simulator=workbench.offline(USER)).wait(60)  # fmt: skip
    talk = run.conversations().iloc[0]
    assert talk["turns_played"] == 4 and talk["transcript"][2]["text"] == "No, I want cash."
    assert talk["simulator_prompt_version"] == "simulator-v1"
    frame = run.frame()
    assert set(frame[frame["type"] == "CONVERSATION"]["status"]) == {"FAILED"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_over_both_sdks_against_the_stand_in(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-simulated")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-simulated")
    made = setup_with(wb, turns(min_turns=3, max_turns=3))
    reply = "Returns are accepted within 30 days."
    with StandIn(conversation_verdict="inconclusive", replies=lambda last: reply) as server:
        if provider == "openai":
            target = workbench.openai_compatible(base_url=server.openai_base_url, model="m")
        else:
            target = workbench.anthropic("claude-x", base_url=server.base_url)
        run = start(made, target, judge=target).wait(60)
        bodies = list(server.bodies)
    talk = run.conversations().iloc[0]
    assert talk["ending"] == "max_turns" and talk["turns_played"] == 3
    assert talk["simulator_calls"] == 3  # never asked past max_turns
    assert talk["transcript"][0]["text"].startswith("simulated reply to: Returns")
    frame = run.frame()
    assert set(frame[frame["type"] == "CONVERSATION"]["status"]) == {"INCONCLUSIVE"}
    judged = [b for b in bodies if "<criterion>" in str(b)]
    assert len(judged) == 2  # one call per criterion
    assert all("Get a cash refund" not in str(b) for b in judged)  # never the goal


def test_an_offline_simulator_is_not_mistaken_for_an_offline_judge(wb: Workbench) -> None:
    # Offline targets compare equal whatever their rules: the simulator's own rules must play.
    made = setup_with(wb)
    run = start(made, TARGET, judge=workbench.offline(), simulator=workbench.offline(USER))
    talk = run.wait(60).conversations().iloc[0]
    assert talk["transcript"][2]["text"] == "No, I want cash."


def test_the_transcript_and_the_run_viewer_show_the_conversation(wb: Workbench) -> None:
    made = setup_with(wb)
    run = start(made, TARGET, judge=workbench.offline(USER, judge_score=0.5)).wait(60)
    shown = run.transcript(position=1)
    block, judged = shown["turns"][2], shown["turns"][3]
    assert block["simulated"]["goal"] == "Get a cash refund"
    assert block["conversation"]["ending"] == "max_turns"
    assert block["expectations"][0]["status"] == "PASSED"
    assert judged["conversation_judge"] and judged["expectations"][0]["status"] == "INCONCLUSIVE"
    viewer = RunViewer(run)
    viewer.select(1, 1)
    page = viewer.transcript.value
    assert (
        "<b>simulated user</b>" in page and "<small>(simulated)</small>: No, I want cash." in page
    )
    assert "ended: <b>max_turns</b>" in page
    assert "CONVERSATION Never promises a cash refund: <b>INCONCLUSIVE</b>" in page
    assert "judge (inconclusive): offline provider: fixed verdict" in page


def test_the_simulator_is_kept_for_resume_and_workers(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-simulated")
    made = setup_with(wb, turns(min_turns=1, max_turns=1))
    with StandIn() as server:
        simulator = workbench.openai_compatible(base_url=server.openai_base_url, model="sim")
        run = start(made, TARGET, judge=workbench.offline(), simulator=simulator).wait(60)
        asked = [b for b in server.bodies if b.get("model") == "sim"]
    assert len(asked) == 1 and run.conversations()["simulator_model"].iloc[0] == "sim"
    options = stored(wb, f"SELECT options FROM workbench.run WHERE id = '{run.id}'")[0][0]
    rebuilt = stored_simulator(options)
    assert rebuilt is not None and rebuilt.settings() == simulator.settings()
    assert "sk-" not in str(options)  # settings, never a key


def test_the_simulator_is_never_answered_from_the_response_cache(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-simulated")
    made = setup_with(wb, turns(min_turns=2, max_turns=2))
    with StandIn() as server:
        simulator = workbench.openai_compatible(base_url=server.openai_base_url, model="sim")
        for _ in range(2):  # the second run finds the target's replies in the cache
            run = start(made, TARGET, judge=simulator, simulator=simulator, cache=True).wait(60)
        asked = [b for b in server.bodies if "response_format" in b and "<criterion>" not in str(b)]
    assert len(asked) == 4  # 2 simulated turns, asked again in the second run
    assert run.conversations()["turns_played"].iloc[0] == 2


def played_the_same(run: Any) -> tuple[list[Any], list[Any]]:
    """What a run stored of its conversations and criteria, without what differs by executor
    (ids, times, which process played)."""
    talks = run.conversations().drop(columns=["attempt_id"], errors="ignore")
    kept = [c for c in talks.columns if not c.endswith(("_s", "_at", "latency"))]
    frame = run.frame()
    criteria = frame[frame["type"].isin(["CONVERSATION", "MUST_NOT_CONTAIN"])]
    rows = criteria[["repeat", "turn", "expectation", "type", "status", "verdict", "reasoning"]]
    details = [
        {k: v for k, v in detail.items() if k != "latency_s"} for detail in criteria["detail"]
    ]
    return talks[kept].to_dict("records"), [*rows.to_dict("records"), *details]


def test_workers_play_a_simulated_run_as_the_kernel_does(
    committed_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Offline targets are refused on workers (check_playable_elsewhere): the stand-in plays the
    # target, the simulator and the judge, over HTTP, as a worker would reach real providers.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-simulated-workers")
    wb = Workbench(committed_db, insert_user(committed_db))
    made = setup_with(wb, turns(min_turns=2, max_turns=3))
    reply = "Returns are accepted within 30 days."
    with StandIn(conversation_verdict="fail", replies=lambda last: reply) as server:
        url = server.openai_base_url
        target = workbench.openai_compatible(base_url=url, model="target")
        options = {"judge": workbench.openai_compatible(base_url=url, model="judge"),
                   "simulator": workbench.openai_compatible(base_url=url, model="sim"),
                   "repeats": 2}  # fmt: skip
        in_kernel = start(made, target, **options).wait(60)
        run = start(made, target, executor="workers", **options)
        worker = RunWorker(wb.database, wb.user.id)
        played = asyncio.run(worker.serve(run.id, WorkerSettings(concurrency=2)))
        run.wait(60)
    assert played == 2 and run.status == "finished"
    talks = run.conversations()
    assert list(talks["ending"]) == ["max_turns"] * 2 and list(talks["turns_played"]) == [3, 3]
    assert set(talks["simulator_model"]) == {"sim"}
    frame = run.frame()
    criteria = frame[frame["type"] == "CONVERSATION"]
    assert len(criteria) == 4 and set(criteria["status"]) == {"FAILED"}
    assert {d["judge_model"] for d in criteria["detail"]} == {"judge"}
    assert played_the_same(run) == played_the_same(in_kernel)
