"""ScenarioEditor's tools and tool checks, driven as a user would: set `.value`, `.click()`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from workbench import (
    ScenarioCreate,
    called,
    calls_in_order,
    expect,
    must_contain,
    not_called,
    regex,
    tool,
    user,
)
from workbench.db.engine import Database
from workbench.handle import Workbench
from workbench.services.scenarios.types import ScenarioView
from workbench.widgets.scenario_editor import ScenarioEditor

ORDER = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
LOOKUP = tool(
    "lookup_order",
    "Look up an order by its id",
    parameters=ORDER,
    returns={"status": "shipped"},
    cases=[({"order_id": "A2"}, {"status": "lost"})],
)
REFUND = tool("issue_refund", "Refund an order", parameters=ORDER)  # no returns: cases only
CHECKS = (
    called("lookup_order", args={"order_id": regex(r"A\d+")}, times=1),
    not_called("issue_refund"),
    called("lookup_order", args_schema={"type": "object", "required": ["order_id"]}),
)


def orders(wb: Workbench) -> ScenarioView:
    return wb.scenarios.create(ScenarioCreate(name="Orders", tools=[LOOKUP, REFUND], turns=[
        user("Where is A1?"), expect(must_contain("shipped"), *CHECKS),
        user("Refund it"), expect(calls_in_order("lookup_order", "issue_refund", "lookup_order")),
    ]))  # fmt: skip


def documents(wb: Workbench, scenario_id: str) -> dict[int, Any]:
    """The stored "tools" documents by version, turn ids left out (a save writes new turns)."""
    with wb.database.transaction() as session:
        found = session.execute(
            text("SELECT version, document FROM workbench.scenario_extension"
                 " WHERE scenario_id = :id AND kind = 'tools' ORDER BY version"),
            {"id": scenario_id},
        ).all()  # fmt: skip
    for _, document in found:
        for group in document["checks"]:
            group.pop("turn_id")
    return dict(found)


def test_saving_unchanged_stores_identical_tools_and_checks(wb: Workbench) -> None:
    made = orders(wb)
    editor = ScenarioEditor(wb.scenarios, made.id)
    assert [row.name.value for row in editor.tools_panel.rows] == ["lookup_order", "issue_refund"]
    assert editor.tools_panel.rows[1].returns.value == ""  # no returns: not "null"
    assert [row.kind for row in editor.turns[1].tool_checks] == [
        "TOOL_CALLED", "TOOL_NOT_CALLED", "TOOL_CALLED"]  # fmt: skip
    args = json.loads(editor.turns[1].tool_checks[0].args.value)
    assert args == {"order_id": {"$regex": r"A\d+"}}
    assert editor.turns[3].tool_checks[0].names.value == [
        "lookup_order", "issue_refund", "lookup_order"]  # fmt: skip

    editor.save_button.click()

    saved = wb.scenarios.get(made.id)
    assert saved.version == 2 and editor.message.value == "Saved 'Orders' as version 2."
    assert saved.tools == (LOOKUP, REFUND) and not saved.tools[1].has_returns
    assert [t.tool_checks for t in saved.turns] == [t.tool_checks for t in made.turns]
    stored = documents(wb, made.id)
    assert stored[2] == stored[1]  # the same JSON, check for check


def test_edited_tools_are_stored_as_edited_in_a_new_version(wb: Workbench) -> None:
    made = orders(wb)
    editor = ScenarioEditor(wb.scenarios, made.id)
    lookup = editor.tools_panel.rows[0]
    lookup.returns.value = '{"status": "delayed"}'
    lookup.cases.value = '[[{"order_id": "A2"}, {"status": "lost"}], [{"order_id": "A3"}, null]]'
    editor.tools_panel.rows[1].remove_button.click()
    added = editor.tools_panel.add_button
    added.click()
    new = editor.tools_panel.rows[-1]
    new.name.value = "cancel_order"
    new.description.value = "Cancel an order"
    new.parameters.value = json.dumps(ORDER)
    assert editor.dirty

    editor.save_button.click()

    saved = wb.scenarios.get(made.id)
    assert saved.version == 2
    assert saved.tools == (
        tool("lookup_order", "Look up an order by its id", parameters=ORDER,
             returns={"status": "delayed"},
             cases=[({"order_id": "A2"}, {"status": "lost"}), ({"order_id": "A3"}, None)]),
        tool("cancel_order", "Cancel an order", parameters=ORDER),
    )  # fmt: skip
    assert wb.scenarios.get_version(made.id, 1).tools == (LOOKUP, REFUND)  # history keeps it


def test_json_is_checked_as_it_is_typed_and_a_save_waits_for_it(wb: Workbench) -> None:
    made = orders(wb)
    editor = ScenarioEditor(wb.scenarios, made.id)
    row = editor.tools_panel.rows[0]
    assert len(row.children) == 5  # names line, 3 JSON areas, problems: no empty boxes built
    row.parameters.value = '{"type": "object", "properties": {'
    assert "not JSON: Expecting property name" in row.parameters_problem.value
    assert row.children[2] is row.parameters_problem  # right under the parameters
    row.parameters.value = '{"type": "string"}'
    assert "must be a JSON Schema with &quot;type&quot;: &quot;object&quot;" in (
        row.parameters_problem.value
    )
    row.returns.value = "{shipped}"
    row.cases.value = '[{"order_id": "A2"}]'
    assert "not JSON" in row.returns_problem.value
    assert "[arguments, result] pairs" in row.cases_problem.value

    editor.save_button.click()

    assert editor.message.value == "Not saved: 3 problem(s) in the tools' JSON, shown beside them."
    assert wb.scenarios.get(made.id).version == 1
    assert editor.problems_shown() == [
        'tool 1, parameters: must be a JSON Schema with "type": "object"',
        "tool 1, returns: not JSON: Expecting property name enclosed in double quotes (line 1, "
        "column 2)",
        'tool 1, cases: must be a list of [arguments, result] pairs: [[{"order_id": "A2"}, ...]]',
    ]
    row.cases.value = "[1, [2]]"  # JSON, but no pairs: refused as well, without an exception
    editor.save_button.click()
    assert editor.message.value.startswith("Not saved: 3 problem(s) in the tools' JSON")
    row.parameters.value = json.dumps(ORDER)
    row.returns.value = ""
    row.cases.value = ""
    assert row.parameters_problem.value == row.returns_problem.value == ""
    editor.save_button.click()
    saved = wb.scenarios.get(made.id)
    assert saved.version == 2 and not saved.tools[0].has_returns and saved.tools[0].cases == ()


def test_tool_checks_are_added_per_expect_turn_with_their_types_fields(wb: Workbench) -> None:
    made = wb.scenarios.create(ScenarioCreate(name="Checks", tools=[LOOKUP, REFUND], turns=[
        user("Where is A1?"), expect(must_contain("shipped")),
    ]))  # fmt: skip
    editor = ScenarioEditor(wb.scenarios, made.id)
    turn = editor.turns[1]
    assert turn.tool_checks == []
    turn.tool_checks_box.add_button.click()
    first = turn.tool_checks[0]
    assert first.kind == "TOOL_CALLED"
    assert first.shown() == [first.type, first.name, first.times, first.delete_button,
                             first.args, first.args_schema]  # fmt: skip
    first.name.value = "lookup_order"
    first.args.value = '{"order_id": '
    assert first.shown()[-1] is first.json_problem and "not JSON" in first.json_problem.value
    first.args.value = '{"order_id": "A1"}'
    assert first.json_problem.value == ""
    first.times.value = "2"
    second = turn.add_tool_check()
    second.type.value = "TOOL_NOT_CALLED"
    assert second.shown() == [second.type, second.name, second.delete_button]
    second.name.value = "issue_refund"
    third = turn.add_tool_check()
    third.type.value = "TOOL_ORDER"
    assert third.names in third.shown() and third.name not in third.shown()
    third.names.value = ["lookup_order", "issue_refund"]
    removed = turn.add_tool_check()
    removed.delete_button.click()

    editor.save_button.click()

    saved = wb.scenarios.get(made.id)
    assert saved.version == 2 and saved.tool_problems == ()
    assert saved.turns[1].tool_checks == (
        called("lookup_order", args={"order_id": "A1"}, times=2),
        not_called("issue_refund"),
        calls_in_order("lookup_order", "issue_refund"),
    )
    assert saved.turns[1].expectations == made.turns[1].expectations


def test_a_new_scenario_is_created_with_its_tools_and_checks(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    editor.name.value = "From scratch"
    row = editor.tools_panel.add_tool()
    row.name.value = "lookup_order"
    row.parameters.value = json.dumps(ORDER)
    row.returns.value = '{"status": "shipped"}'
    editor.add_user_button.click()
    editor.turns[0].text.value = "Where is A1?"
    editor.add_expect_button.click()
    editor.turns[1].expectations[0].value.value = "shipped"
    editor.turns[1].add_tool_check().name.value = "lookup_order"
    editor.save_button.click()
    stored = wb.scenarios.get_by_name("From scratch")
    assert stored.tools == (tool("lookup_order", parameters=ORDER, returns={"status": "shipped"}),)
    assert stored.turns[1].tool_checks == (called("lookup_order"),)


def test_the_services_problems_appear_at_the_tool_and_check_they_name(wb: Workbench) -> None:
    made = orders(wb)
    editor = ScenarioEditor(wb.scenarios, made.id)
    editor.tools_panel.rows[1].name.value = "lookup_order"  # a duplicate
    editor.tools_panel.add_tool().name.value = "bad name!"
    check = editor.turns[1].tool_checks[0]
    check.args.value = '{"order_id": '
    assert "args: not JSON" in check.json_problem.value  # as it is typed
    check.times.value = "twice"
    assert "times: a whole number" in check.json_problem.value

    editor.save_button.click()

    assert wb.scenarios.get(made.id).version == 1
    assert editor.message.value.startswith("Not saved: 4 problem(s), shown beside the fields")
    assert "duplicate tool name" in editor.tools_panel.rows[1].problems.value
    assert "is not a tool name the providers accept" in editor.tools_panel.rows[2].problems.value
    assert "args are not JSON" in check.problems.value
    assert "times: must be a whole number" in check.problems.value
    assert editor.problems_shown() == [
        "tool 2, name: duplicate tool name 'lookup_order'",
        "tool 3, name: 'bad name!' is not a tool name the providers accept: 1 to 64 letters, "
        "digits, '_' or '-'",
        "turn 2, tool check 1, args: args are not JSON (Expecting value (line 1, column 14))",
        "turn 2, tool check 1, times: must be a whole number ≥ 0",
    ]


def test_checks_the_web_app_displaced_are_shown_and_put_back_with_the_editor(
    db: Database, wb: Workbench
) -> None:
    made = orders(wb)
    with db.transaction() as session:  # the web app replaces the turns (new ids)
        session.execute(text('DELETE FROM "ScenarioTurn" WHERE "scenarioId" = :id'),
                        {"id": made.id})  # fmt: skip
        session.execute(
            text('INSERT INTO "ScenarioTurn" ("scenarioId", "orderIndex", "turnType", "userText")'
                 " VALUES (:id, 0, 'USER', 'Where is A1?'), (:id, 1, 'EXPECT', NULL)"),
            {"id": made.id},
        )  # fmt: skip
    with pytest.warns(UserWarning, match="changed since outside the workbench"):
        editor = ScenarioEditor(wb.scenarios, made.id)
    assert "turn 2: its tool checks (TOOL_CALLED lookup_order" in editor.tools_note.value
    assert "#b00020" in editor.tools_note.value and editor.turns[1].tool_checks == []
    assert [row.name.value for row in editor.tools_panel.rows] == ["lookup_order", "issue_refund"]
    editor.turns[1].add_tool_check().name.value = "lookup_order"
    editor.save_button.click()
    saved = wb.scenarios.get(made.id)
    assert saved.tool_problems == () and editor.tools_note.value == ""
    assert saved.turns[1].tool_checks == (called("lookup_order"),)
    assert saved.tools == (LOOKUP, REFUND)


def test_a_conflict_shows_my_tool_edits_and_overwrites_nothing(wb: Workbench) -> None:
    made = orders(wb)
    mine = ScenarioEditor(wb.scenarios, made.id)
    theirs = ScenarioEditor(wb.scenarios, made.id)
    theirs.tools_panel.rows[0].description.value = "Find an order"
    theirs.save_button.click()

    mine.tools_panel.rows[0].returns.value = '{"status": "delayed"}'
    mine.save_button.click()

    stored = wb.scenarios.get(made.id)
    assert stored.version == 2 and stored.tools[0].returns == {"status": "shipped"}
    mine.conflict.show_changes_button.click()
    edits = mine.conflict.changes.value.split("Your edits")[1]
    assert "tool &#x27;lookup_order&#x27; changed" in edits
    assert "issue_refund" not in edits  # unchanged: not a difference (nor "removed")


def test_restoring_a_version_shows_its_tools_and_checks(wb: Workbench) -> None:
    made = orders(wb)
    editor = ScenarioEditor(wb.scenarios, made.id)
    editor.tools_panel.rows[1].remove_button.click()
    editor.turns[1].tool_checks[1].delete_button.click()
    editor.save_button.click()
    assert [row.name.value for row in editor.tools_panel.rows] == ["lookup_order"]

    editor.history_button.click()
    editor.history.versions.value = 1
    editor.history.restore_button.click()

    assert editor.version == 3 and not editor.dirty
    assert [row.name.value for row in editor.tools_panel.rows] == ["lookup_order", "issue_refund"]
    assert editor.turns[1].spec().tool_checks == CHECKS
    assert wb.scenarios.get(made.id).tools == (LOOKUP, REFUND)


def test_edge_values_round_trip_unchanged(wb: Workbench) -> None:
    odd = tool("odd-tool_2", "Ünïcode, \"quotes\" and\nlines", returns=None,
               parameters={"type": "object", "properties": {"n": {"type": "number"}}},
               cases=[({}, 0.1), ({"n": 1e300}, [1, {"a": None}]), ({"n": -0}, "")])  # fmt: skip
    checks = (called("odd-tool_2", args={}, times=0), called("odd-tool_2", args={"n": 1.5}))
    made = wb.scenarios.create(ScenarioCreate(name="Odd", tools=[odd], turns=[
        user("hi"), expect(*checks)]))  # fmt: skip
    editor = ScenarioEditor(wb.scenarios, made.id)
    assert editor.tools_panel.rows[0].returns.value == "null"  # returns None is a result
    assert editor.turns[1].tool_checks[0].times.value == "0"
    editor.save_button.click()
    saved = wb.scenarios.get(made.id)
    # (PostgreSQL's jsonb gives 1e300 back as a whole number: compare with what it gave back)
    assert saved.version == 2 and saved.tools == made.tools and saved.tools[0].has_returns
    assert saved.turns[1].tool_checks == checks
    stored = documents(wb, made.id)
    assert stored[2] == stored[1]
