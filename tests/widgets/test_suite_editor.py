"""SuiteEditor, driven as a user would: name it, pick scenarios, reorder, remove."""

from __future__ import annotations

from workbench import ScenarioCreate, expect, must_contain, user
from workbench.handle import Workbench
from workbench.widgets.suite_editor import SuiteEditor


def make(wb: Workbench, name: str) -> str:
    turns = [user("hi"), expect(must_contain("hello"))]
    return wb.scenarios.create(ScenarioCreate(name=name, turns=turns)).id


def pick(editor: SuiteEditor, name: str) -> None:
    editor.picker_search.value = name
    editor.picker.value = editor.picker.options[0][1]
    editor.add_button.click()


def test_create_add_reorder_remove(wb: Workbench) -> None:
    first, second = make(wb, "Alpha"), make(wb, "Beta")
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    editor.name.value = "smoke"
    editor.tags.value = ["ci"]
    editor.save_button.click()
    assert editor.suite_id is not None and editor.message.value == "Saved suite 'smoke'."

    pick(editor, "Alpha")
    pick(editor, "Beta")
    assert wb.suites.get(editor.suite_id).scenario_ids == (first, second)
    assert editor.items[0].label.value == "1. Alpha · DRAFT · 2 turns, 1 expectations"

    editor.items[1].up_button.click()
    assert wb.suites.get(editor.suite_id).scenario_ids == (second, first)
    assert [row.item.name for row in editor.items] == ["Beta", "Alpha"]

    editor.items[0].remove_button.click()
    assert wb.suites.get(editor.suite_id).scenario_ids == (first,)
    assert repr(editor) == "SuiteEditor('smoke', 1 scenarios, saved)"


def test_picker_searches_the_users_scenarios(wb: Workbench, other_wb: Workbench) -> None:
    make(wb, "Refund policy")
    make(wb, "Greeting")
    make(other_wb, "Refund (someone else's)")
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    editor.picker_search.value = "refund"
    assert [label.split(" · ")[0] for label, _ in editor.picker.options] == ["Refund policy"]


def test_adding_twice_is_refused_with_the_reason(wb: Workbench) -> None:
    make(wb, "Once")
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    editor.name.value = "s"
    editor.save_button.click()
    pick(editor, "Once")
    pick(editor, "Once")
    assert "already in the suite" in editor.message.value
    assert len(editor.items) == 1


def test_adding_before_saving_says_to_save_first(wb: Workbench) -> None:
    make(wb, "Early")
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    pick(editor, "Early")
    assert editor.message.value == "Save the suite first, then add scenarios."


def test_opens_an_existing_suite_and_renames_it(wb: Workbench) -> None:
    scenario = make(wb, "Member")
    suite = wb.suites.create(name="old", scenario_ids=[scenario])
    editor = SuiteEditor(wb.suites, suite.id)
    assert editor.name.value == "old" and len(editor.items) == 1
    editor.name.value = "new"
    editor.save_button.click()
    assert wb.suites.get(suite.id).name == "new"
