"""ScenarioEditor on a simulated block (issue 21): persona, turn bounds and each-reply checks
are edited beside the goal, saved as edited, kept identical when untouched, and every problem is
shown at its field with nothing saved."""

from __future__ import annotations

import workbench
from workbench import (
    ScenarioCreate,
    expect,
    judge_conversation,
    must_contain,
    must_contain_any,
    must_not_contain,
    simulated_user,
    user,
)
from workbench.db.enums import ExpectationType
from workbench.handle import Workbench
from workbench.services.scenarios.simulated import SimulatedSpec
from workbench.widgets._common import problem_texts
from workbench.widgets.scenario_editor import ScenarioEditor
from workbench.widgets.scenario_simulated import SimulatedFields

CHECKS = [must_not_contain("guarantee"), must_contain_any("sorry", "apolog", case_sensitive=True)]
BLOCK = simulated_user("Get a refund", persona="curt", min_turns=2, max_turns=3, each_reply=CHECKS)


def made(wb: Workbench, name: str = "Simulated edits") -> str:
    turns = [user("hi"), expect(must_contain("hello")), BLOCK, judge_conversation("Stays calm")]
    return wb.scenarios.create(ScenarioCreate(name=name, turns=turns)).id


def opened(wb: Workbench, scenario_id: str) -> tuple[ScenarioEditor, SimulatedFields]:
    editor = ScenarioEditor(wb.scenarios, scenario_id)
    fields = editor.turns[2].simulated_fields
    assert fields is not None
    return editor, fields


def stored_block(wb: Workbench, scenario_id: str) -> SimulatedSpec:
    block = wb.scenarios.get(scenario_id).turns[2].simulated
    assert block is not None
    return block


def test_the_fields_show_the_stored_block(wb: Workbench) -> None:
    editor, fields = opened(wb, made(wb))
    assert editor.turns[2].text.value == "Get a refund"
    assert (fields.persona.value, fields.min_turns.value, fields.max_turns.value) == ("curt", 2, 3)
    kinds = [row.spec().type for row in fields.checks]
    assert kinds == [ExpectationType.MUST_NOT_CONTAIN, ExpectationType.MUST_CONTAIN_ANY]
    assert editor.turns[0].simulated_fields is None  # a scripted USER turn has none
    assert [row.header.value for row in editor.turns] == [
        "Turn 1 · USER",
        "Turn 2 · EXPECT",
        "Turn 3 · USER · simulated user",
        "Turn 4 · EXPECT · judge conversation",
    ]


def test_saved_unchanged_the_block_is_stored_identical(wb: Workbench) -> None:
    scenario_id = made(wb)
    before = stored_block(wb, scenario_id)
    editor, _ = opened(wb, scenario_id)
    editor.save()
    assert editor.message.value.startswith("Saved")
    assert stored_block(wb, scenario_id) == before
    assert wb.scenarios.get(scenario_id).simulation_problems == ()


def test_every_field_is_stored_as_edited(wb: Workbench) -> None:
    scenario_id = made(wb)
    editor, fields = opened(wb, scenario_id)
    editor.turns[2].text.value = "Get a cash refund"
    fields.persona.value = "polite, persistent"
    fields.min_turns.value, fields.max_turns.value = 3, 8
    assert editor.dirty
    fields.checks[0].value.value = "promise"
    fields.remove_check(fields.checks[1])
    fields.add_check_button.click()
    fields.checks[1].value.value = "store credit"
    fields.checks[1].type.value = "MUST_CONTAIN"
    editor.save()
    assert editor.problems_shown() == []
    assert stored_block(wb, scenario_id) == SimulatedSpec(
        "Get a cash refund",
        "polite, persistent",
        3,
        8,
        (must_not_contain("promise"), must_contain("store credit")),
    )
    assert wb.scenarios.get(scenario_id).version == 2
    reopened, again = opened(wb, scenario_id)  # and read back into the fields
    assert (again.persona.value, again.min_turns.value, again.max_turns.value) == (
        "polite, persistent", 3, 8,
    )  # fmt: skip
    assert reopened.turns[2].text.value == "Get a cash refund"


def test_each_problem_is_shown_at_its_field_and_nothing_is_saved(wb: Workbench) -> None:
    scenario_id = made(wb)
    editor, fields = opened(wb, scenario_id)
    editor.turns[2].text.value = "  "
    fields.min_turns.value, fields.max_turns.value = 4, 2
    fields.checks[0].value.value = ""
    editor.save()
    assert "Not saved" in editor.message.value
    assert problem_texts(fields.goal_problems) == [
        "the simulated user needs a goal (what it tries to get done)"
    ]
    assert problem_texts(fields.field_problems["min_turns"]) == ["min_turns=4 is above max_turns=2"]
    assert problem_texts(fields.checks[0].problems) == ["value: MUST_NOT_CONTAIN needs a value"]
    assert "turn 3, min_turns: min_turns=4 is above max_turns=2" in editor.problems_shown()
    assert wb.scenarios.get(scenario_id).version == 1
    assert stored_block(wb, scenario_id) == BLOCK.simulated

    fields.min_turns.value, fields.max_turns.value = 1, 60  # above the ceiling of 50
    editor.turns[2].text.value = "Get a refund"
    fields.checks[0].value.value = "guarantee"
    editor.save()
    assert problem_texts(fields.goal_problems) == []  # the earlier problems are cleared
    assert problem_texts(fields.field_problems["max_turns"]) == ["is 60; the ceiling is 50"]
    assert wb.scenarios.get(scenario_id).version == 1

    fields.max_turns.value = 50
    editor.save()
    assert editor.problems_shown() == [] and stored_block(wb, scenario_id).max_turns == 50


def plain(wb: Workbench) -> str:
    turns = [user("I bought a blender 40 days ago"), expect(must_contain("30 days"))]
    return wb.scenarios.create(ScenarioCreate(name="Plain refund", turns=turns)).id


def test_a_block_and_criteria_added_in_the_editor_are_stored_and_played(wb: Workbench) -> None:
    scenario_id = plain(wb)
    editor = ScenarioEditor(wb.scenarios, scenario_id)
    editor.add_simulated_button.click()
    block = editor.turns[2]
    fields = block.simulated_fields
    assert fields is not None and block.text.value == "" and editor.dirty
    block.text.value = "Get a cash refund"
    fields.persona.value = "persistent"
    fields.min_turns.value, fields.max_turns.value = 2, 2
    fields.add_check_button.click()
    fields.checks[0].value.value = "guarantee"
    editor.add_judge_button.click()
    judge = editor.turns[3]
    assert judge.conversation_judge and judge.add_expectation_button.description == "+ criterion"
    judge.expectations[0].value.value = "Stays polite"
    judge.add_expectation_button.click()  # a second criterion: a SEMANTIC_ASSERT, not a MUST_...
    judge.expectations[1].value.value = "Offers store credit"
    editor.save()
    assert editor.problems_shown() == [] and editor.message.value.startswith("Saved")

    stored = wb.scenarios.get(scenario_id)
    assert stored.version == 2 and stored.simulation_problems == ()
    assert stored.turns[2] == simulated_user(
        "Get a cash refund", persona="persistent", min_turns=2, max_turns=2,
        each_reply=[must_not_contain("guarantee")],
    )  # fmt: skip
    assert stored.turns[3] == judge_conversation("Stays polite", "Offers store credit")
    assert stored.turns[2].text == "Simulated user. Goal: Get a cash refund"  # the web app's view

    # And it plays offline: two simulated turns, each criterion judged.
    suite = wb.suites.create(name="Added in the editor", scenario_ids=[scenario_id])
    prompt = wb.prompts.create(name="Support", content="Follow the 30-day policy.")
    run = wb.runs.start(
        suite=suite.id,
        prompt=prompt.id,
        target=workbench.offline(default="I can offer store credit."),
        judge=workbench.offline(),
        progress=False,
    ).wait(60)
    talks = run.conversations()
    assert list(talks["turns_played"]) == [2] and list(talks["ending"]) == ["max_turns"]
    frame = run.frame()
    assert list(frame[frame["type"] == "CONVERSATION"]["status"]) == ["PASSED", "PASSED"]


def test_an_added_turn_goes_where_asked_and_its_problems_to_their_fields(wb: Workbench) -> None:
    scenario_id = plain(wb)
    editor = ScenarioEditor(wb.scenarios, scenario_id)
    added = editor.add_turn("SIMULATED", after=editor.turns[0])
    assert editor.turns[1] is added and added.simulated_fields is not None
    judge = editor.add_turn("judge")
    assert editor.turns[3] is judge and judge.conversation_judge
    assert added.simulated_fields.max_turns.value == 6  # simulated_user's defaults
    added.simulated_fields.min_turns.value = 9
    editor.save()  # an empty goal, min above max, an empty criterion
    assert "Not saved" in editor.message.value
    assert problem_texts(added.simulated_fields.goal_problems) == [
        "the simulated user needs a goal (what it tries to get done)"
    ]
    assert problem_texts(added.simulated_fields.field_problems["min_turns"]) == [
        "min_turns=9 is above max_turns=6"
    ]
    assert "criterion: a criterion is empty; say what to judge" in problem_texts(
        judge.expectations[0].problems
    )
    assert wb.scenarios.get(scenario_id).version == 1  # nothing saved

    added.text.value = "Get a refund"
    added.simulated_fields.min_turns.value = 1
    judge.expectations[0].value.value = "Stays polite"
    judge.expectations[0].type.value = "MUST_CONTAIN"  # not a statement: said at the criterion
    editor.save()
    assert problem_texts(judge.expectations[0].problems) == [
        "criterion: a criterion is a SEMANTIC_ASSERT statement, not MUST_CONTAIN"
    ]
    assert wb.scenarios.get(scenario_id).version == 1

    judge.expectations[0].type.value = "SEMANTIC_ASSERT"
    editor.save()
    assert editor.problems_shown() == []
    kinds = [(t.type.value, t.simulated is not None, t.conversation_judge)
             for t in wb.scenarios.get(scenario_id).turns]  # fmt: skip
    assert kinds == [("USER", False, False), ("USER", True, False), ("EXPECT", False, False),
                     ("EXPECT", False, True)]  # fmt: skip
