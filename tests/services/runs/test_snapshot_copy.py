"""A run's snapshots are copied by PostgreSQL from the scenarios (issue 24): only the scenarios
with tools or simulated blocks are read into Python and changed there; what the run keeps is
what the scenarios held at its start, and a check that fails writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

import workbench
from workbench import called, judge_conversation, simulated_user, tool
from workbench.errors import ConfigError, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    TurnSpec,
    expect,
    must_contain,
    must_contain_any,
    must_not_contain,
    regex,
    semantic,
    user,
)

LOOKUP = tool("lookup_order", "Look up an order", returns={"status": "shipped"})
SCENARIOS: dict[str, tuple[list[Any], list[Any] | None]] = {
    "Plain": ([user("Hi"), expect(must_contain_any("hello", "hi"), regex(r"\d+"))], None),
    "Tools": (
        [user("Where is A1?"), expect(called("lookup_order"), must_contain("shipped"))],
        [LOOKUP],
    ),
    "Simulated": (
        [
            user("Hi"),
            expect(must_contain("hi")),
            simulated_user(
                "Get a refund", min_turns=1, max_turns=2, each_reply=[must_not_contain("guarantee")]
            ),
            judge_conversation("The assistant stays polite"),
        ],
        None,
    ),
    "Two turns": (
        [
            user("One"),
            expect(must_contain("1")),
            user("Two"),
            expect(must_not_contain("3"), semantic("Is polite", threshold=0.35)),
        ],
        None,
    ),
}
TARGET = workbench.offline({}, default="hi 1 shipped")


def suite_of(wb: Workbench, names: list[str]) -> str:
    ids = []
    for name in names:
        turns, tools = SCENARIOS[name]
        spec = ScenarioCreate(name=name, turns=list[TurnSpec](turns), tools=tools or [])
        ids.append(wb.scenarios.create(spec).id)
    wb.prompts.create(name="Support", content="Be brief.")
    return wb.suites.create(name="Mixed", scenario_ids=ids).id


def stored(wb: Workbench, sql: str, **params: Any) -> list[Any]:
    with wb.database.transaction() as session:
        return list(session.execute(text(sql), params).all())


def counts(wb: Workbench) -> tuple[int, ...]:
    tables = ("run", "run_scenario", "run_attempt")
    return tuple(stored(wb, f"SELECT count(*) FROM workbench.{t}")[0][0] for t in tables)


def test_the_snapshots_are_what_the_scenarios_held_at_start(wb: Workbench) -> None:
    suite = suite_of(wb, ["Plain", "Tools", "Simulated", "Two turns"])
    # Every snapshot read and changed in Python, as start() did before the copy.
    whole = wb.runs._plan(suite, "Support", None).scenarios
    assert not any(s.copied for s in whole)
    run = wb.runs.start(suite=suite, prompt="Support", target=TARGET,
                        judge=workbench.offline({}, judge_score=1.0), progress=False)  # fmt: skip
    run.wait(60)
    rows = stored(wb, "SELECT position, scenario_id, scenario_name, scenario_version, turns,"
                      " tools FROM workbench.run_scenario WHERE run_id = :r ORDER BY position",
                  r=run.id)  # fmt: skip
    expected = [(s.position, s.scenario_id, s.name, s.version, s.turns, s.tools) for s in whole]
    assert [tuple(row) for row in rows] == expected
    by_name = {row[2]: row for row in rows}
    assert by_name["Plain"][4][1]["expectations"][0]["values"] == ["hello", "hi"]
    assert by_name["Plain"][5] is None
    assert [t["name"] for t in by_name["Tools"][5]["tools"]] == ["lookup_order"]
    assert by_name["Tools"][4][1]["tool_checks"][0]["type"] == "TOOL_CALLED"
    assert by_name["Simulated"][4][2]["simulated"]["goal"] == "Get a refund"
    assert by_name["Simulated"][4][3]["conversation_judge"] is True
    assert [t["type"] for t in by_name["Two turns"][4]] == ["USER", "EXPECT", "USER", "EXPECT"]
    assert by_name["Two turns"][4][3]["expectations"][1]["threshold"] == 0.35
    # A scenario changed after the start leaves the run's snapshot as it was.
    plain = by_name["Plain"][1]
    changed = ScenarioUpdate(turns=[user("Changed"), expect(must_contain("x"))])
    wb.scenarios.update(plain, changed, expected_version=by_name["Plain"][3])
    again = stored(wb, "SELECT turns FROM workbench.run_scenario WHERE run_id = :r"
                       " AND scenario_id = :s", r=run.id, s=plain)  # fmt: skip
    assert again[0][0] == by_name["Plain"][4]


def test_a_check_that_fails_in_the_start_transaction_writes_nothing(
    wb: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = suite_of(wb, ["Plain", "Tools"])
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="No API key"):  # after the plan's read
        wb.runs.start(suite=suite, prompt="Support", target=workbench.openai("gpt-4o-mini"),
                      progress=False)  # fmt: skip
    with pytest.raises(ValidationError, match="offline target plays only"):
        wb.runs.start(suite=suite, prompt="Support", target=TARGET, executor="workers",
                      progress=False)  # fmt: skip
    assert counts(wb) == (0, 0, 0)


def test_a_suite_changed_between_plan_and_copy_writes_nothing(wb: Workbench) -> None:
    """The plan and the copy are one REPEATABLE READ transaction in `start()`; apart (as here),
    a suite that changed in between is refused, the run row written first rolled back."""
    suite = suite_of(wb, ["Plain", "Tools"])
    service = wb.runs
    with wb.database.transaction() as session:
        plan = service._plan(suite, "Support", None, session=session)
    assert [s.copied for s in plan.scenarios] == [True, False]
    late = ScenarioCreate(name="Late", turns=[user("x"), expect(must_contain("x"))])
    extra = wb.scenarios.create(late)
    wb.suites.add(suite, extra.id)
    with pytest.raises(ValidationError, match="suite changed"):
        service._insert("run-late", "owner-0", plan, TARGET, None, 1, False)
    assert counts(wb) == (0, 0, 0)
