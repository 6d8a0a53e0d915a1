"""Runs whose assistants call tools (issue 20): the loop, the checks, the stored calls.

Offline targets play the loop without a network; the stand-in plays it over real HTTP through
both SDKs and the direct transport, in each API's own message format."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import workbench
from tests.runs.conftest import Setup
from workbench import called, calls_in_order, not_called, tool, tool_calls
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    expect,
    must_contain,
    regex,
    semantic,
    user,
)
from workbench.testing.standin import StandIn

ORDER = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
LOOKUP = tool(
    "lookup_order",
    "Look up an order by its id",
    parameters=ORDER,
    returns={"status": "shipped"},
    cases=[({"order_id": "A2"}, {"status": "lost"})],
)
REFUND = tool("issue_refund", "Refund an order", parameters=ORDER, returns={"refunded": True})
TURNS = [
    user("Where is my order A1?"),
    expect(called("lookup_order", args={"order_id": "A1"}, times=1), must_contain("shipped")),
    user("It never came, refund me."),
    expect(calls_in_order("lookup_order", "issue_refund"), not_called("lookup_order")),
]
RULES = {
    "Where is my order": tool_calls(
        ("lookup_order", {"order_id": "A1"}), then="Your order is {results}."
    ),
    "refund me": tool_calls(
        ("lookup_order", {"order_id": "A2"}),
        then=tool_calls(("issue_refund", {"order_id": "A2"}), then="Done: {results}"),
    ),
}


def setup_with(wb: Workbench, turns: list[Any] = TURNS, tools: list[Any] | None = None) -> Setup:
    spec = ScenarioCreate(name="Where is my order", tools=tools or [LOOKUP, REFUND], turns=turns)
    scenario = wb.scenarios.create(spec)
    suite = wb.suites.create(name="Orders", scenario_ids=[scenario.id])
    prompt = wb.prompts.create(name="Support", content="You help with orders.")
    return Setup(wb, suite.id, prompt.id, (scenario.id,))


def start(made: Setup, target: Any, **options: Any) -> Any:
    return made.wb.runs.start(
        suite=made.suite_id, prompt=made.prompt_id, target=target, progress=False, **options
    )


def rows(wb: Workbench) -> int:
    with wb.database.transaction() as session:
        return int(session.scalar(text("SELECT count(*) FROM workbench.run")) or 0)


def test_offline_rules_play_the_loop_and_tool_checks_are_rows(wb: Workbench) -> None:
    made = setup_with(wb)
    run = start(made, workbench.offline(RULES), repeats=2).wait(60)
    frame = run.frame()
    tools = frame[frame["type"].str.startswith("TOOL_")]
    assert list(tools["type"])[:3] == ["TOOL_CALLED", "TOOL_ORDER", "TOOL_NOT_CALLED"]
    assert list(tools["expectation"])[:3] == [2, 1, 2]  # after the turn's text checks
    assert list(tools["status"])[:3] == ["PASSED", "PASSED", "FAILED"]  # lookup_order was called
    text_rows = frame[frame["type"] == "MUST_CONTAIN"]
    assert set(text_rows["status"]) == {"PASSED"}
    assert 'Your order is {"status": "shipped"}.' in set(text_rows["reply"])
    calls = run.tool_calls_frame()
    assert len(calls) == 2 * 3
    first = calls.iloc[:3]
    assert list(first["name"]) == ["lookup_order", "lookup_order", "issue_refund"]
    assert list(first["turn"]) == [2, 4, 4] and list(first["round"]) == [1, 1, 2]
    assert list(first["result"]) == ['{"status": "shipped"}', '{"status": "lost"}',
                                     '{"refunded": true}']  # fmt: skip
    assert set(first["source"]) == {"mock"} and first["error"].isna().all()
    assert list(calls["repeat"]) == [1, 1, 1, 2, 2, 2]


def test_live_functions_replace_mocks_and_failures_reach_the_model(wb: Workbench) -> None:
    made = setup_with(wb)
    seen: list[str] = []

    def lookup_order(order_id: str) -> dict[str, str]:
        seen.append(order_id)
        return {"status": f"live {order_id}"}

    def issue_refund(order_id: str) -> None:
        raise RuntimeError("payments are down")

    run = start(
        made,
        workbench.offline(RULES),
        tools={"lookup_order": lookup_order, "issue_refund": issue_refund},
    ).wait(60)
    assert seen == ["A1", "A2"]
    calls = run.tool_calls_frame()
    assert list(calls["source"]) == ["live", "live", "live"]
    assert calls["result"].iloc[0] == '{"status": "live A1"}'
    assert calls["error"].iloc[2] == "RuntimeError: payments are down"
    frame = run.frame()
    last_reply = frame[frame["turn"] == 4]["reply"].iloc[0]
    assert last_reply == "Done: Error: RuntimeError: payments are down"  # the model saw it


def test_unknown_tools_and_unmatched_mocks_are_error_results(wb: Workbench) -> None:
    strict = tool("lookup_order", "Look up", parameters=ORDER, cases=[({"order_id": "Z"}, 1)])
    turns = [user("go"), expect(called("lookup_order"))]
    made = setup_with(wb, turns, [strict])
    rules = {"go": tool_calls(("lookup_order", {"order_id": "A1"}), ("nope", {}), then="ok")}
    run = start(made, workbench.offline(rules)).wait(60)
    calls = run.tool_calls_frame()
    assert list(calls["name"]) == ["lookup_order", "nope"]
    assert "no case matching" in calls["error"].iloc[0]
    assert calls["error"].iloc[1] == "there is no tool named 'nope'"
    assert list(calls["source"]) == ["mock", "none"]
    assert run.frame()["status"].tolist() == ["PASSED"]


def test_max_tool_rounds_is_an_error_naming_the_limit(wb: Workbench) -> None:
    turns = [user("loop"), expect(must_contain("x"), called("lookup_order"))]
    made = setup_with(wb, turns)
    forever: Any = "never"
    for _ in range(5):
        forever = tool_calls(("lookup_order", {"order_id": "A1"}), then=forever)
    run = start(made, workbench.offline({"loop": forever}), max_tool_rounds=2).wait(60)
    frame = run.frame()
    assert list(frame["status"]) == ["ERROR", "ERROR"]
    assert "max_tool_rounds=2" in frame["error"].iloc[0]
    assert frame["passed"].isna().all()
    assert len(run.tool_calls_frame()) == 2  # both answered rounds are kept


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"max_tool_rounds": 0}, "max_tool_rounds"),
        ({"tools": {"bad name": print}}, "tools"),
        ({"tools": {"lookup_order": 3}}, "must be a function"),
    ],
)
def test_bad_run_options_write_nothing(wb: Workbench, options: dict[str, Any], match: str) -> None:
    made = setup_with(wb)
    with pytest.raises(ValidationError, match=match):
        start(made, workbench.offline(RULES), **options)
    assert rows(wb) == 0


def test_a_check_on_a_tool_nobody_offers_is_refused_at_start(wb: Workbench) -> None:
    turns = [user("go"), expect(not_called("delete_account"))]
    made = setup_with(wb, turns)
    with pytest.raises(ValidationError, match="delete_account"):
        start(made, workbench.offline(RULES))
    assert rows(wb) == 0
    run = start(made, workbench.offline(RULES), tools={"delete_account": lambda: "gone"}).wait(60)
    assert run.frame()["status"].tolist() == ["PASSED"]


def test_checks_the_web_app_displaced_stop_the_start(wb: Workbench) -> None:
    made = setup_with(wb)
    with wb.database.transaction() as session:
        session.execute(
            text('UPDATE "ScenarioTurn" SET id = id + 100000 WHERE "scenarioId" = :id'),
            {"id": made.scenario_ids[0]},
        )
    with pytest.raises(ValidationError, match="changed since outside the workbench"):
        start(made, workbench.offline(RULES))
    assert rows(wb) == 0


@pytest.mark.parametrize("transport", ["sdk", "direct"])
@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_the_loop_over_http_in_each_apis_own_format(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch, api: str, transport: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-tools")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-tools")
    made = setup_with(wb)
    rounds = {
        "Where is my order A1?": [[("lookup_order", {"order_id": "A1"})]],
        "It never came, refund me.": [
            [("lookup_order", {"order_id": "A2"}), ("issue_refund", {"order_id": "A2"})]
        ],
    }
    with StandIn(tool_rounds=rounds, max_lifetime_s=120) as server:
        if api == "openai":
            target = workbench.openai("gpt-4o-mini", base_url=server.openai_base_url,
                                      transport=transport)  # fmt: skip
        else:
            target = workbench.anthropic("claude-3-5-haiku-latest", base_url=server.base_url,
                                         transport=transport)  # fmt: skip
        run = start(made, target).wait(60)
        bodies = list(server.bodies)
    assert len(bodies) == 4  # two turns, one tool round each
    frame = run.frame()
    assert frame["status"].tolist() == ["PASSED", "PASSED", "PASSED", "FAILED"]
    calls = run.tool_calls_frame()
    assert list(calls["name"]) == ["lookup_order", "lookup_order", "issue_refund"]
    assert list(calls["round"]) == [1, 1, 1]  # parallel calls of one reply, all answered
    second = bodies[1]  # the first turn's second request: the call and its result
    assert "shipped" in frame["reply"].iloc[0]
    if api == "openai":
        assert second["tools"][0] == {"type": "function", "function": {
            "name": "lookup_order", "description": "Look up an order by its id",
            "parameters": ORDER}}  # fmt: skip
        call_message, result = second["messages"][-2:]
        assert call_message["tool_calls"][0]["function"] == {
            "name": "lookup_order", "arguments": json.dumps({"order_id": "A1"})}  # fmt: skip
        assert result == {"role": "tool", "tool_call_id": call_message["tool_calls"][0]["id"],
                          "content": '{"status": "shipped"}'}  # fmt: skip
    else:
        assert second["tools"][0]["input_schema"] == ORDER
        call_message, result = second["messages"][-2:]
        use = call_message["content"][0]
        assert (use["type"], use["input"]) == ("tool_use", {"order_id": "A1"})
        assert result["role"] == "user"
        block = {"type": "tool_result", "tool_use_id": use["id"],
                 "content": '{"status": "shipped"}', "is_error": False}  # fmt: skip
        assert result["content"] == [block]
        last = bodies[3]["messages"][-1]["content"]
        assert [block["tool_use_id"] for block in last] == ["toolu_0", "toolu_1"]


def test_tool_calls_are_stored_bounded_and_only_yours(wb: Workbench, other_wb: Workbench) -> None:
    big = tool("lookup_order", "Look up", parameters=ORDER, returns="x" * 50_000)
    made = setup_with(wb, [user("Where is my order A1?"), expect(called("lookup_order"))], [big])
    run = start(made, workbench.offline(RULES)).wait(60)
    calls = run.tool_calls_frame()
    assert len(calls["result"].iloc[0]) == 20_000
    with pytest.raises(workbench.NotFound):
        other_wb.runs.tool_calls_frame(run.id)


def test_the_judge_sees_the_calls_and_their_results(wb: Workbench) -> None:
    turns = [user("Where is my order A1?"), expect(semantic("it says the order shipped"))]
    made = setup_with(wb, turns)
    with StandIn(max_lifetime_s=60) as server:
        judge = workbench.openai_compatible(base_url=server.openai_base_url, model="judge")
        run = start(made, workbench.offline(RULES), judge=judge).wait(60)
        asked = next(b for b in server.bodies if b.get("response_format"))
    conversation = asked["messages"][1]["content"]
    assert '[assistant] calls: lookup_order({"order_id": "A1"}) [call_0_0]' in conversation
    assert '[tool result call_0_0] {"status": "shipped"}' in conversation
    assert run.frame()["status"].tolist() == ["PASSED"]


def test_args_match_subsets_and_patterns(wb: Workbench) -> None:
    checks = [
        called("lookup_order", args={"order_id": regex(r"a\d")}),  # case-insensitive by default
        called("lookup_order", args={"order_id": regex(r"a\d", case_sensitive=True)}),
        called("lookup_order", args={"order_id": "A1"}, times=2),
        called("lookup_order", args={}),
        called(
            "lookup_order",
            args_schema={
                "type": "object",
                "required": ["order_id"],
                "properties": {"order_id": {"pattern": "^A"}},
            },
        ),
        called("lookup_order", args_schema={"type": "object", "required": ["email"]}),
    ]
    made = setup_with(wb, [user("Where is my order A1?"), expect(*checks)])
    run = start(made, workbench.offline(RULES)).wait(60)
    assert run.frame()["status"].tolist() == [
        "PASSED", "FAILED", "FAILED", "PASSED", "PASSED", "FAILED",
    ]  # fmt: skip
    assert run.frame()["detail"].iloc[2] == {"calls": ["lookup_order"], "matching": 1}


def test_keys_a_live_function_returns_are_not_stored(wb: Workbench) -> None:
    made = setup_with(wb, [user("Where is my order A1?"), expect(called("lookup_order"))])
    key = "sk-proj-" + "A1b2C3d4" * 4

    def lookup_order(order_id: str) -> dict[str, str]:
        raise ValueError(f"bad token {key}")

    run = start(made, workbench.offline(RULES), tools={"lookup_order": lookup_order}).wait(60)
    calls = run.tool_calls_frame()
    assert calls["error"].iloc[0] == "ValueError: bad token [redacted]"
    with wb.database.transaction() as session:
        dumped = session.scalar(text("SELECT string_agg(t::text, '') FROM workbench.tool_call t"))
    assert key not in str(dumped) and "[redacted]" in str(dumped)


MCP_SERVER = str(Path(__file__).resolve().parents[2] / "runs" / "mcp_orders_server.py")


def test_an_mcp_server_answers_what_no_mock_does_and_is_stopped(wb: Workbench) -> None:
    # The scenario defines only issue_refund (a mock); lookup_order comes from the server.
    turns = [
        user("It never came, refund me."),
        expect(calls_in_order("lookup_order", "issue_refund"), must_contain("lost")),
    ]
    made = setup_with(wb, turns, [REFUND])
    server = workbench.mcp_stdio(sys.executable, MCP_SERVER, env={"REGION": "eu"})
    assert "eu" not in repr(server)  # env may hold keys: never shown
    before = children()
    run = start(made, workbench.offline(RULES), tools=[server]).wait(60)
    calls = run.tool_calls_frame()
    assert list(calls["source"]) == ["mcp", "mock"]  # the scenario's mock wins by name
    assert calls["result"].iloc[0] == '{"status": "mcp A2", "region": "eu"}'
    # MUST_CONTAIN first (the reply has no "lost"), then TOOL_ORDER
    assert run.frame()["status"].tolist() == ["FAILED", "PASSED"]
    assert children() == before  # the server was stopped when the run ended


def test_an_mcp_tools_failure_is_an_error_result(wb: Workbench) -> None:
    turns = [user("It never came, refund me."), expect(called("issue_refund"))]
    made = setup_with(wb, turns, [LOOKUP])
    server = workbench.mcp_stdio(sys.executable, MCP_SERVER)
    run = start(made, workbench.offline(RULES), tools=server).wait(60)
    calls = run.tool_calls_frame()
    assert list(calls["source"]) == ["mock", "mcp"]
    assert "refunds for A2 are closed" in calls["error"].iloc[1]
    assert run.frame()["status"].tolist() == ["PASSED"]


def test_a_check_on_an_mcp_tool_is_accepted_at_start_only_with_the_server(wb: Workbench) -> None:
    made = setup_with(wb, [user("go"), expect(not_called("lookup_order"))], [REFUND])
    with pytest.raises(ValidationError, match="lookup_order"):
        start(made, workbench.offline(RULES))
    server = workbench.mcp_stdio(sys.executable, MCP_SERVER)
    assert start(made, workbench.offline(RULES), tools=server).wait(60).frame()[
        "status"
    ].tolist() == ["PASSED"]


def test_an_mcp_server_that_does_not_start_writes_nothing(wb: Workbench) -> None:
    made = setup_with(wb)
    with pytest.raises(workbench.ConfigError, match="did not start"):
        start(made, workbench.offline(RULES), tools=workbench.mcp_stdio("/nonexistent/server"))
    assert rows(wb) == 0


def children() -> set[int]:
    """This process's live child processes."""
    own = os.getpid()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == own and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def test_tool_checks_have_repeats_and_flakiness_like_any_check(wb: Workbench) -> None:
    made = setup_with(wb, [user("Where is my order A1?"), expect(called("lookup_order"))])
    # Asked once per request: calls, then the text after them; then text alone; and again.
    answers = itertools.cycle(
        [tool_calls(("lookup_order", {"order_id": "A1"}), then="ok"), "ok", "I do not know"]
    )
    target = workbench.offline(lambda last: next(answers))
    run = start(made, target, repeats=4, concurrency=1).wait(60)
    assert run.frame()["status"].tolist() == ["PASSED", "FAILED", "PASSED", "FAILED"]
    flaky = run.flaky()
    assert flaky["type"].tolist() == ["TOOL_CALLED"] and flaky["outcomes"].tolist() == ["PFPF"]


def test_cancelling_a_run_stops_its_mcp_servers(wb: Workbench) -> None:
    made = setup_with(wb, [user("slow please"), expect(called("slow_lookup"))], [LOOKUP])
    rules = {"slow": tool_calls(("slow_lookup", {"order_id": "A1"}), then="done")}
    before = children()
    run = start(
        made, workbench.offline(rules), tools=workbench.mcp_stdio(sys.executable, MCP_SERVER)
    )
    deadline = time.monotonic() + 30
    while len(children() - before) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)  # the play has started its server
    assert children() - before
    time.sleep(0.5)  # the call is in flight (the tool sleeps 30 s)
    run.cancel()
    assert wb.runs.get(run.id).status == "cancelled"
    deadline = time.monotonic() + 10
    while children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children() - before
