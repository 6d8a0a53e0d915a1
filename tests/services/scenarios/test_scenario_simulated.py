"""Simulated users and conversation criteria stored with their scenario (issue 21): what the web
app sees, the workbench document beside it, validation before anything is written, and a web
app edit of the turns noticed, never misattached."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select, text

from workbench import judge_conversation, must_not_contain, simulated_user
from workbench.db.engine import Database
from workbench.db.models import Scenario, ScenarioExtension
from workbench.errors import ValidationError
from workbench.handle import Workbench
from workbench.services.scenarios.types import (
    ScenarioCreate,
    ScenarioUpdate,
    ScenarioView,
    expect,
    must_contain,
    user,
)

BLOCK = simulated_user(
    goal="Get a full cash refund; refuse store credit twice",
    persona="polite, persistent",
    min_turns=2,
    max_turns=6,
    each_reply=[must_not_contain("guarantee")],
)
SPEC = ScenarioCreate(
    name="Refund outside the window",
    turns=[
        user("Hi, I bought a blender 40 days ago and want to return it."),
        expect(must_contain("30 days")),
        BLOCK,
        judge_conversation(
            "Never promises a cash refund outside the 30-day policy",
            "Offers store credit or an escalation",
        ),
    ],
)


def rows(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(ScenarioExtension)) or 0)


@pytest.fixture
def scenario(wb: Workbench) -> ScenarioView:
    return wb.scenarios.create(SPEC)


def test_blocks_and_criteria_come_back_as_written(wb: Workbench, scenario: ScenarioView) -> None:
    got = wb.scenarios.get(scenario.id)
    assert got.turns == SPEC.turns
    assert got.turns[2].simulated is not None
    assert got.turns[2].simulated.each_reply == (must_not_contain("guarantee"),)
    assert got.turns[3].conversation_judge
    assert got.simulation_problems == ()


def test_the_web_app_sees_a_user_turn_carrying_the_goal(
    db: Database, scenario: ScenarioView
) -> None:
    with db.transaction() as session:
        found = session.execute(
            text(
                'SELECT t."turnType"::text, t."userText", e.type::text, e.value'
                ' FROM "ScenarioTurn" t LEFT JOIN "ScenarioExpectation" e ON e."turnId" = t.id'
                ' WHERE t."scenarioId" = :id ORDER BY t."orderIndex", e."orderIndex"'
            ),
            {"id": scenario.id},
        ).all()
    assert found[2][:2] == ("USER", "Simulated user. Goal: " + BLOCK.simulated.goal)
    assert [(r[2], r[3]) for r in found[3:]] == [
        ("SEMANTIC_ASSERT", "Never promises a cash refund outside the 30-day policy"),
        ("SEMANTIC_ASSERT", "Offers store credit or an escalation"),
    ]


@pytest.mark.filterwarnings("error")
def test_versions_carry_the_document_forward(
    db: Database, wb: Workbench, scenario: ScenarioView
) -> None:
    renamed = wb.scenarios.update(
        scenario.id, ScenarioUpdate(name="Renamed"), expected_version=scenario.version
    )
    assert renamed.turns == SPEC.turns
    plain = wb.scenarios.update(
        scenario.id, ScenarioUpdate(turns=[user("Hi"), expect(must_contain("hi"))]),
        expected_version=renamed.version,
    )  # fmt: skip
    assert all(t.simulated is None and not t.conversation_judge for t in plain.turns)
    assert rows(db) == 3  # versions 1 and 2 carry it; version 3's is empty (nothing applies)
    assert wb.scenarios.get(scenario.id).simulation_problems == ()


@pytest.mark.parametrize(
    ("turn", "words"),
    [
        (simulated_user(goal="x", min_turns=4, max_turns=2), "min_turns=4 is above max_turns=2"),
        (simulated_user(goal="x", max_turns=51), "the ceiling is 50"),
        (simulated_user(goal="  "), "needs a goal"),
        (simulated_user(goal="x", min_turns=0), "at least 1"),
        (simulated_user(goal="x", each_reply=[must_contain("")]), "each_reply[0].value"),
    ],
)
def test_bad_blocks_are_refused_before_anything_is_written(
    db: Database, wb: Workbench, turn: object, words: str
) -> None:
    before = rows(db)
    with pytest.raises(ValidationError, match=r"turn 1") as raised:
        wb.scenarios.create(ScenarioCreate(name="Bad", turns=[turn, judge_conversation("ok")]))
    assert words in str(raised.value)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Scenario)) == 0
    assert rows(db) == before


def test_an_empty_criterion_is_refused(wb: Workbench) -> None:
    with pytest.raises(ValidationError, match="criterion"):
        wb.scenarios.create(
            ScenarioCreate(name="Bad", turns=[simulated_user(goal="x"), judge_conversation("")])
        )
    with pytest.raises(ValidationError, match="at least one criterion"):
        wb.scenarios.create(
            ScenarioCreate(name="Bad", turns=[simulated_user(goal="x"), judge_conversation()])
        )


def test_a_criterion_that_is_not_a_statement_is_refused(wb: Workbench) -> None:
    # The judge reads a criterion's statement: a MUST_CONTAIN's value would be judged as one.
    judged = replace(judge_conversation("ok"), expectations=(must_contain("refund"),))
    with pytest.raises(ValidationError, match="turn 2, criteria\\[0\\]: a criterion is a "
                       "SEMANTIC_ASSERT statement, not MUST_CONTAIN"):  # fmt: skip
        wb.scenarios.create(ScenarioCreate(name="Bad", turns=[simulated_user(goal="x"), judged]))
    assert wb.scenarios.list().items == ()


def test_a_web_app_edit_is_noticed_never_misattached(
    db: Database, wb: Workbench, scenario: ScenarioView
) -> None:
    with db.transaction() as session:  # the web app replaces the turns (new ids)
        session.execute(text('DELETE FROM "ScenarioTurn" WHERE "scenarioId" = :id'),
                        {"id": scenario.id})  # fmt: skip
        session.execute(
            text(
                'INSERT INTO "ScenarioTurn" ("scenarioId", "orderIndex", "turnType", "userText")'
                " VALUES (:id, 0, 'USER', 'Hi'), (:id, 1, 'EXPECT', NULL),"
                " (:id, 2, 'USER', 'Simulated user. Goal: x'), (:id, 3, 'EXPECT', NULL)"
            ),
            {"id": scenario.id},
        )
    with pytest.warns(UserWarning, match="changed since outside the workbench"):
        got = wb.scenarios.get(scenario.id)
    assert all(t.simulated is None and not t.conversation_judge for t in got.turns)
    assert len(got.simulation_problems) == 2 and "turn 3" in got.simulation_problems[0]


@pytest.mark.filterwarnings("error")
def test_restore_duplicate_and_history_bring_the_blocks_back(
    wb: Workbench, scenario: ScenarioView
) -> None:
    plain = wb.scenarios.update(
        scenario.id, ScenarioUpdate(turns=[user("Hi"), expect(must_contain("hi"))]),
        expected_version=scenario.version,
    )  # fmt: skip
    assert wb.scenarios.get_version(scenario.id, 1).turns == SPEC.turns
    diff = wb.scenarios.diff(scenario.id, 1, plain.version)
    assert not diff.is_empty
    restored = wb.scenarios.restore(scenario.id, 1)
    assert restored.turns == SPEC.turns and restored.simulation_problems == ()
    copy = wb.scenarios.duplicate(scenario.id)
    assert copy.turns == SPEC.turns


@pytest.mark.parametrize("format", ["json", "yaml"])
def test_the_workspace_export_carries_blocks_to_another_user(
    wb: Workbench, other_wb: Workbench, scenario: ScenarioView, format: str
) -> None:
    exported = wb.export_workspace(format=format)
    assert "simulated_user" in exported and "judge_conversation" in exported
    other_wb.import_workspace(exported, format=format)
    copy = other_wb.scenarios.get_by_name(scenario.name)
    assert copy.turns == SPEC.turns and copy.id != scenario.id


def test_an_imported_document_with_a_bad_block_writes_nothing(db: Database, wb: Workbench) -> None:
    document = {
        "format": "workbench.scenarios/v1",
        "scenarios": [
            {"name": "a", "turns": [{"simulated_user": {"goal": "x", "min_turns": 5,
                                                        "max_turns": 2}},
                                    {"judge_conversation": ["ok"]}]},
        ],
    }  # fmt: skip
    with pytest.raises(ValidationError, match=r"scenarios\[0\].turns\[0\]: .*min_turns=5"):
        wb.import_scenarios(document)
    assert rows(db) == 0
