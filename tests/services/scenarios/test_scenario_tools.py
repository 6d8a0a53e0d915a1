"""Tools, mocks and tool checks stored with their scenario (issue 20): saved in the workbench
schema, versioned, restored, validated before anything is written, and never attached to the
wrong turn when the web app edits the turns."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from workbench import called, calls_in_order, not_called, tool
from workbench.db.engine import Database
from workbench.db.models import Scenario, ScenarioExtension, ScenarioTurn
from workbench.errors import NotFound, ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    ScenarioView,
    expect,
    must_contain,
    regex,
    user,
)

ORDER = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}
LOOKUP = tool(
    "lookup_order",
    "Look up an order by its id",
    parameters=ORDER,
    returns={"status": "shipped"},
    cases=[({"order_id": "A2"}, {"status": "lost"})],
)
REFUND = tool("issue_refund", "Refund an order", parameters=ORDER, returns={"refunded": True})
SPEC = ScenarioCreate(
    name="Where is my order",
    tools=[LOOKUP, REFUND],
    turns=[
        user("Where is my order A1?"),
        expect(called("lookup_order", args={"order_id": "A1"}), must_contain("shipped")),
        user("It never came, refund me."),
        expect(calls_in_order("lookup_order", "issue_refund"), not_called("delete_account")),
    ],
)


def extension_rows(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(ScenarioExtension)) or 0)


@pytest.fixture
def scenario(wb: Workbench) -> ScenarioView:
    return wb.scenarios.create(SPEC)


def test_tools_and_checks_come_back_as_written(wb: Workbench, scenario: ScenarioView) -> None:
    got = wb.scenarios.get(scenario.id)
    assert got.tools == (LOOKUP, REFUND)
    assert got.tools[0].mock({"order_id": "A2"}) == {"status": "lost"}
    assert got.tools[0].mock({"order_id": "A9"}) == {"status": "shipped"}
    assert got.turns[1].tool_checks == (called("lookup_order", args={"order_id": "A1"}),)
    assert got.turns[1].expectations == (must_contain("shipped"),)
    assert [c.type for c in got.turns[3].tool_checks] == ["TOOL_ORDER", "TOOL_NOT_CALLED"]
    assert got.tool_problems == ()


def test_stored_in_the_workbench_schema_only(db: Database, scenario: ScenarioView) -> None:
    with db.transaction() as session:
        row = session.execute(select(ScenarioExtension)).scalar_one()
        turn_ids = session.scalars(
            select(ScenarioTurn.id)
            .where(ScenarioTurn.scenario_id == scenario.id)
            .order_by(ScenarioTurn.order_index)
        ).all()
        snapshot = session.scalar(text('SELECT snapshot::text FROM "ScenarioVersion"'))
    assert (row.kind, row.version) == ("tools", 1)
    assert [g["turn_id"] for g in row.document["checks"]] == [turn_ids[1], turn_ids[3]]
    assert [g["position"] for g in row.document["checks"]] == [1, 3]
    assert "lookup_order" not in str(snapshot)  # the web app's snapshot is untouched


def test_versions_carry_tools_and_restore_brings_them_back(
    wb: Workbench, scenario: ScenarioView
) -> None:
    v2 = wb.scenarios.update(
        scenario.id,
        ScenarioUpdate(tools=[LOOKUP], turns=[user("Hi"), expect(called("lookup_order"))]),
        expected_version=1,
    )
    assert v2.tools == (LOOKUP,)
    assert v2.turns[1].tool_checks == (called("lookup_order"),)
    v3 = wb.scenarios.update(scenario.id, ScenarioUpdate(tags=["x"]), expected_version=2)
    assert v3.tools == (LOOKUP,) and v3.turns[1].tool_checks == (called("lookup_order"),)
    assert wb.scenarios.get_version(scenario.id, 1).tools == (LOOKUP, REFUND)
    assert wb.scenarios.get_version(scenario.id, 1).turns[3].tool_checks
    changes = [str(change) for change in wb.scenarios.diff(scenario.id, 1, 2).changes]
    assert any("tool 'issue_refund' removed" in change for change in changes)
    assert any("TOOL_CALLED lookup_order" in change for change in changes)
    restored = wb.scenarios.restore(scenario.id, 1)
    assert restored.tools == (LOOKUP, REFUND)
    assert restored.turns[1].tool_checks == scenario.turns[1].tool_checks
    assert restored.tool_problems == ()


def test_duplicate_copies_tools(wb: Workbench, scenario: ScenarioView) -> None:
    copy = wb.scenarios.duplicate(scenario.id)
    assert copy.tools == scenario.tools
    assert [t.tool_checks for t in copy.turns] == [t.tool_checks for t in scenario.turns]


def test_a_web_app_edit_of_the_turns_is_noticed_never_misattached(
    db: Database, wb: Workbench, scenario: ScenarioView
) -> None:
    # The web app replaces the turns (new ids) the way Prisma's nested writes do.
    with db.transaction() as session:
        session.execute(text('DELETE FROM "ScenarioTurn" WHERE "scenarioId" = :id'),
                        {"id": scenario.id})  # fmt: skip
        session.execute(
            text(
                'INSERT INTO "ScenarioTurn" ("scenarioId", "orderIndex", "turnType", "userText")'
                " VALUES (:id, 0, 'USER', 'Hi'), (:id, 1, 'EXPECT', NULL)"
            ),
            {"id": scenario.id},
        )
        session.execute(
            text('UPDATE "Scenario" SET version = version + 1 WHERE id = :id'), {"id": scenario.id}
        )
    with pytest.warns(UserWarning, match="changed since outside the workbench"):
        got = wb.scenarios.get(scenario.id)
    assert all(turn.tool_checks == () for turn in got.turns)
    assert len(got.tool_problems) == 2 and "turn 2" in got.tool_problems[0]
    assert got.tools == (LOOKUP, REFUND)  # tools do not depend on turns
    # Saving the turns again from the workbench puts checks on them and clears the problem.
    fixed = wb.scenarios.update(
        scenario.id,
        ScenarioUpdate(turns=[user("Hi"), expect(called("lookup_order"))]),
        expected_version=got.version,
    )
    assert fixed.tool_problems == () and fixed.turns[1].tool_checks == (called("lookup_order"),)


def test_an_in_place_reorder_is_noticed(
    db: Database, wb: Workbench, scenario: ScenarioView
) -> None:
    with db.transaction() as session:
        session.execute(
            text(
                'UPDATE "ScenarioTurn" SET "orderIndex" = "orderIndex" + 10'
                ' WHERE "scenarioId" = :id'
            ),
            {"id": scenario.id},
        )
        session.execute(
            text(
                'UPDATE "ScenarioTurn" SET "orderIndex" = CASE "orderIndex" WHEN 11 THEN 3'
                ' WHEN 13 THEN 1 ELSE "orderIndex" - 10 END WHERE "scenarioId" = :id'
            ),
            {"id": scenario.id},
        )
    with pytest.warns(UserWarning):
        got = wb.scenarios.get(scenario.id)
    assert all(turn.tool_checks == () for turn in got.turns)
    assert len(got.tool_problems) == 2


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ScenarioCreate(name="a", tools=[tool("bad name!")]), "tools[0].name"),
        (ScenarioCreate(name="a", tools=[tool("x" * 65)]), "tools[0].name"),
        (ScenarioCreate(name="a", tools=[tool("t"), tool("t")]), "tools[1].name"),
        (ScenarioCreate(name="a", tools=[tool("t", parameters={"type": "string"})]),
         "tools[0].parameters"),
        (ScenarioCreate(name="a", tools=[tool("t", parameters=[1])]), "tools[0].parameters"),
        (ScenarioCreate(name="a", tools=[tool("t", returns=object())]), "tools[0].returns"),
        (ScenarioCreate(name="a", turns=[user("hi"), expect(called("bad name"))]), "name"),
        (ScenarioCreate(name="a", turns=[user("hi"), expect(calls_in_order("t"))]), "names"),
        (ScenarioCreate(name="a", tools=[tool("t")],
                        turns=[user("hi"), expect(called("t", args={"x": object()}))]), "args"),
        (ScenarioCreate(name="a", tools=[tool("t")],
                        turns=[user("hi"), expect(called("t", times=-1))]), "times"),
        (ScenarioCreate(name="a", tools=[tool("t")],
                        turns=[user("hi"), expect(called("t", args={"x": regex("(")}))]), "args"),
        (ScenarioCreate(name="a", tools=[tool("t")], turns=[user("hi"), expect(
            called("t", args_schema={"type": "nonsense"}))]), "args_schema"),
    ],
)  # fmt: skip
def test_bad_tools_are_refused_before_anything_is_written(
    db: Database, wb: Workbench, spec: ScenarioCreate, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        wb.scenarios.create(spec)
    assert field + ":" in str(raised.value)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Scenario)) == 0
    assert extension_rows(db) == 0


def test_regex_arguments_are_kept(wb: Workbench) -> None:
    spec = ScenarioCreate(
        name="r", tools=[LOOKUP],
        turns=[user("hi"), expect(called("lookup_order", args={"order_id": regex(r"A\d")}))],
    )  # fmt: skip
    got = wb.scenarios.create(spec)
    assert got.turns[1].tool_checks[0].args == {"order_id": {"$regex": r"A\d"}}


def test_another_users_tools_are_not_found(
    wb: Workbench, other_wb: Workbench, scenario: ScenarioView
) -> None:
    with pytest.raises(NotFound):
        other_wb.scenarios.get(scenario.id)


@pytest.mark.parametrize("format", ["json", "yaml"])
def test_the_workspace_export_carries_tools_to_another_user(
    wb: Workbench, other_wb: Workbench, scenario: ScenarioView, format: str
) -> None:
    exported = wb.export_workspace(format=format)
    assert "lookup_order" in exported and "TOOL_ORDER" in exported
    other_wb.import_workspace(exported, format=format)
    copy = other_wb.scenarios.get_by_name(scenario.name)
    assert copy.tools == scenario.tools
    assert [t.tool_checks for t in copy.turns] == [t.tool_checks for t in scenario.turns]
    assert copy.id != scenario.id


def test_an_imported_document_with_bad_tools_writes_nothing(db: Database, wb: Workbench) -> None:
    document = {
        "format": "workbench.scenarios/v1",
        "scenarios": [
            {"name": "a", "tools": [{"name": "bad name", "parameters": {"type": "object"}}],
             "turns": [{"user": "hi"}, {"expect": [{"type": "TOOL_CALLED", "names": ["x"],
                                                     "times": "2"}]}]},
        ],
    }  # fmt: skip
    with pytest.raises(ValidationError) as raised:
        wb.import_scenarios(document)
    message = str(raised.value)
    assert "scenarios[0].tools[0].name" in message and "times" in message
    assert extension_rows(db) == 0
