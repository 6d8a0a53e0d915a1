"""ScenarioEditor, driven as a user would: set `.value`, `.click()`, read what it shows."""

from __future__ import annotations

from ipywidgets import Textarea

from workbench import (
    ScenarioCreate,
    ScenarioUpdate,
    called,
    expect,
    judge_conversation,
    must_contain,
    must_not_contain,
    simulated_user,
    tool,
    user,
)
from workbench.db.enums import ExpectationType, ScenarioStatus
from workbench.handle import Workbench
from workbench.widgets.scenario_editor import ScenarioEditor


def build(editor: ScenarioEditor, name: str = "Greets by name") -> None:
    """A USER turn and an EXPECT turn with two expectations, typed and clicked."""
    editor.name.value = name
    editor.tags.value = ["smoke"]
    editor.add_user_button.click()
    editor.turns[0].text.value = "Hi, I'm Ada"
    editor.turns[0].add_expect_button.click()
    first = editor.turns[1].expectations[0]
    first.value.value = "Ada"
    editor.turns[1].add_expectation_button.click()
    second = editor.turns[1].expectations[1]
    second.type.value = "MUST_CONTAIN_ANY"
    second.values.value = ["hello", "hi"]


def test_creates_a_scenario_from_typed_values(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    build(editor)
    assert editor.dirty and editor.dirty_label.value == "● unsaved changes"

    editor.save_button.click()

    stored = wb.scenarios.get_by_name("Greets by name")
    assert stored.tags == ("smoke",)
    assert [t.type.value for t in stored.turns] == ["USER", "EXPECT"]
    assert stored.turns[0].text == "Hi, I'm Ada"
    kinds = [(e.type, e.value, e.values) for e in stored.turns[1].expectations]
    assert kinds == [
        (ExpectationType.MUST_CONTAIN, "Ada", ()),
        (ExpectationType.MUST_CONTAIN_ANY, None, ("hello", "hi")),
    ]
    assert editor.scenario_id == stored.id and editor.version == 1
    assert not editor.dirty and editor.dirty_label.value == "saved · version 1"
    assert editor.message.value == "Saved 'Greets by name' as version 1."


def test_a_type_shows_only_the_fields_it_uses(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    editor.add_user_button.click()
    editor.add_expect_button.click()
    row = editor.turns[1].expectations[0]
    shown = row.shown()
    assert row.value in shown and row.values not in shown and row.threshold not in shown

    row.type.value = "SEMANTIC_ASSERT"
    shown = row.shown()
    assert row.threshold in shown and row.case_sensitive not in shown
    assert isinstance(row.value, Textarea)  # a statement runs long: a text area, not a line

    row.type.value = "MUST_CONTAIN_ANY"
    shown = row.shown()
    assert row.values in shown and row.value not in shown and row.case_sensitive in shown
    assert shown[0] is row.type and shown[-1] is row.values


def test_edit_reorder_and_update_with_the_loaded_version(wb: Workbench) -> None:
    made = wb.scenarios.create(
        ScenarioCreate(name="Order", turns=[user("one"), expect(must_contain("x")), user("two")])
    )
    editor = ScenarioEditor(wb.scenarios, made.id)
    assert editor.turns[0].text.value == "one" and not editor.dirty

    editor.turns[2].up_button.click()  # "two" before the EXPECT turn
    editor.turns[0].delete_button.click()  # drop "one"
    editor.turns[0].text.value = "two, edited"
    editor.save_button.click()

    stored = wb.scenarios.get(made.id)
    assert stored.version == 2
    assert [t.text for t in stored.turns] == ["two, edited", None]
    assert [row.header.value for row in editor.turns] == ["Turn 1 · USER", "Turn 2 · EXPECT"]


def test_validation_problems_appear_beside_their_field_and_nothing_is_saved(
    wb: Workbench,
) -> None:
    editor = ScenarioEditor(wb.scenarios)
    editor.add_user_button.click()  # empty text
    editor.add_expect_button.click()  # empty MUST_CONTAIN value
    editor.locale.value = "not a locale!"

    editor.save_button.click()

    assert wb.scenarios.list().total == 0
    assert "is empty" in editor.field_problems["name"].value
    assert "is not a locale tag" in editor.field_problems["locale"].value
    assert "a USER turn needs text" in editor.turns[0].problems.value
    assert "MUST_CONTAIN needs a value" in editor.turns[1].expectations[0].problems.value
    assert editor.turns[1].problems.value == ""
    assert editor.message.value.startswith("Not saved: 4 problem(s), shown beside the fields")
    assert editor.message.style.text_color == "#b00020"
    assert editor.scenario_id is None and editor.dirty


def test_problems_clear_once_fixed_and_saved(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    editor.add_user_button.click()
    editor.save_button.click()
    editor.name.value = "Fixed"
    editor.turns[0].text.value = "Hello"
    editor.save_button.click()
    assert editor.field_problems["name"].value == ""
    assert editor.turns[0].problems.value == ""
    assert wb.scenarios.get_by_name("Fixed").version == 1


def test_a_conflict_says_who_is_ahead_and_never_overwrites(wb: Workbench) -> None:
    made = wb.scenarios.create(ScenarioCreate(name="Shared", turns=[user("hi")]))
    mine = ScenarioEditor(wb.scenarios, made.id)
    theirs = ScenarioEditor(wb.scenarios, made.id)
    theirs.turns[0].text.value = "theirs"
    theirs.save_button.click()

    mine.turns[0].text.value = "mine"
    mine.save_button.click()

    stored = wb.scenarios.get(made.id)
    assert stored.turns[0].text == "theirs" and stored.version == 2
    assert "It is now at version 2" in mine.conflict.message.value
    assert "you opened version 1" in mine.conflict.message.value
    assert mine.message.value == "Not saved: see below."

    mine.conflict.show_changes_button.click()
    assert "version 1 → 2" in mine.conflict.changes.value
    assert "turn 1 changed: USER &#x27;theirs&#x27; → USER &#x27;mine&#x27;" in (
        mine.conflict.changes.value
    )

    mine.conflict.reload_button.click()
    assert mine.version == 2 and mine.turns[0].text.value == "theirs" and not mine.dirty
    assert mine.conflict.children == ()


def test_status_buttons_follow_the_lifecycle(wb: Workbench) -> None:
    made = wb.scenarios.create(ScenarioCreate(name="Life", turns=[user("hi")]))
    editor = ScenarioEditor(wb.scenarios, made.id)
    assert editor.draft_button.disabled and not editor.publish_button.disabled

    editor.publish_button.click()
    assert wb.scenarios.get(made.id).status is ScenarioStatus.PUBLISHED
    assert editor.status_label.value == "Status: PUBLISHED" and editor.publish_button.disabled

    editor.archive_button.click()
    editor.draft_button.click()
    assert wb.scenarios.get(made.id).status is ScenarioStatus.DRAFT


def test_status_change_refused_while_edits_are_unsaved(wb: Workbench) -> None:
    made = wb.scenarios.create(ScenarioCreate(name="Unsaved", turns=[user("hi")]))
    editor = ScenarioEditor(wb.scenarios, made.id)
    editor.name.value = "Unsaved, renamed"
    editor.publish_button.click()
    assert wb.scenarios.get(made.id).status is ScenarioStatus.DRAFT
    assert editor.message.value == "Save your changes first, then change the status."


def test_history_lists_versions_diffs_any_two_and_restores(wb: Workbench) -> None:
    made = wb.scenarios.create(ScenarioCreate(name="Hist", turns=[user("first")]))
    wb.scenarios.update(made.id, ScenarioUpdate(name="Hist 2"), expected_version=1)
    editor = ScenarioEditor(wb.scenarios, made.id)
    editor.history_button.click()
    assert [value for _, value in editor.history.versions.options] == [2, 1]

    editor.history.from_version.value = 1
    editor.history.to_version.value = 2
    editor.history.diff_button.click()
    assert "name changed: &#x27;Hist&#x27; → &#x27;Hist 2&#x27;" in editor.history.diff_text.value

    editor.history.versions.value = 1
    editor.history.restore_button.click()
    assert wb.scenarios.get(made.id).name == "Hist"
    assert editor.name.value == "Hist" and editor.version == 3
    assert [value for _, value in editor.history.versions.options] == [3, 2, 1]


def test_repr_says_what_it_is(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    assert repr(editor) == "ScenarioEditor('(no name)', version 0, DRAFT, 0 turns, new)"
    build(editor)
    editor.save_button.click()
    assert repr(editor) == "ScenarioEditor('Greets by name', version 1, DRAFT, 2 turns, saved)"


def test_the_problems_shown_read_as_text_in_the_editors_numbering(wb: Workbench) -> None:
    editor = ScenarioEditor(wb.scenarios)
    editor.name.value = "Shown"
    editor.locale.value = "english"
    editor.add_user_button.click()
    editor.turns[0].text.value = "hi"
    editor.turns[0].add_expect_button.click()
    editor.save_button.click()
    assert editor.problems_shown() == [
        "locale: 'english' is not a locale tag like 'en', 'pt-BR' or 'zh-Hant-TW'",
        "turn 2, expectation 1, value: MUST_CONTAIN needs a value",
    ]
    assert repr(editor.conflict) == "ConflictPanel(no conflict)"


def test_saving_in_the_editor_keeps_tools_and_tool_checks(wb: Workbench) -> None:
    lookup = tool("lookup_order", "Look up", returns={"status": "shipped"})
    made = wb.scenarios.create(ScenarioCreate(name="Tools kept", tools=[lookup], turns=[
        user("where is A1"), expect(must_contain("shipped"), called("lookup_order")),
    ]))  # fmt: skip
    editor = ScenarioEditor(wb.scenarios, made.id)
    assert editor.tools_panel.rows[0].name.value == "lookup_order"
    editor.turns[0].text.value = "where is my order A1"
    assert editor.turns[1].spec().tool_checks == (called("lookup_order"),)  # the row is built
    editor.save()
    saved = wb.scenarios.get(made.id)
    assert saved.version == 2 and saved.turns[0].text == "where is my order A1"
    assert saved.tools == (lookup,)
    assert saved.turns[1].tool_checks == (called("lookup_order"),)


def test_the_editor_edits_a_simulated_goal_and_keeps_the_block(wb: Workbench) -> None:
    block = simulated_user("Get a refund", persona="curt", min_turns=2, max_turns=3,
                           each_reply=[must_not_contain("guarantee")])  # fmt: skip
    made = wb.scenarios.create(ScenarioCreate(name="Simulated kept", turns=[
        user("hi"), expect(must_contain("hello")), block, judge_conversation("Stays polite"),
    ]))  # fmt: skip
    editor = ScenarioEditor(wb.scenarios, made.id)
    row = editor.turns[2]
    assert row.text.value == "Get a refund"  # the box is the goal, not the web app's text
    assert row.simulated_fields is not None and row.simulated_fields.persona.value == "curt"
    row.text.value = "Get a cash refund"
    editor.turns[3].expectations[0].value.value = "Stays polite and calm"
    editor.save()
    saved = wb.scenarios.get(made.id)
    assert saved.version == 2 and saved.simulation_problems == ()
    assert saved.turns[2].simulated is not None
    assert saved.turns[2].simulated.goal == "Get a cash refund"
    assert saved.turns[2].simulated.each_reply == (must_not_contain("guarantee"),)
    assert saved.turns[3].conversation_judge
    assert saved.turns[3].expectations[0].value == "Stays polite and calm"
