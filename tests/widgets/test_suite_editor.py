"""SuiteEditor, driven as a user would: name it, pick scenarios, reorder, remove."""

from __future__ import annotations

from workbench import ScenarioCreate, expect, must_contain, user
from workbench.handle import Workbench
from workbench.widgets.suite_editor import SuiteEditor


def make(wb: Workbench, name: str) -> str:
    turns = [user("hi"), expect(must_contain("hello"))]
    return wb.scenarios.create(ScenarioCreate(name=name, turns=turns)).id


def shown(editor: SuiteEditor) -> list[str]:
    return [tick.description for tick in editor.picker_box.children if tick in editor.picker_rows]


def pick(editor: SuiteEditor, name: str) -> None:
    editor.picker_search.value = name
    editor.picker_rows[0].value = True
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
    assert [label.split(" · ")[0] for label in shown(editor)] == ["Refund policy"]


def test_several_ticked_scenarios_are_added_at_once_in_the_order_shown(wb: Workbench) -> None:
    ids = {name: make(wb, name) for name in ("Refund window", "Refund receipt", "Greeting")}
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    editor.name.value = "refunds"
    editor.save_button.click()
    editor.picker_search.value = "refund"
    assert [label.split(" · ")[0] for label in shown(editor)] == ["Refund receipt", "Refund window"]
    editor.tick_all_button.click()
    editor.add_button.click()
    assert editor.message.value == "Added 2 scenarios."
    assert editor.suite_id is not None
    assert wb.suites.get(editor.suite_id).scenario_ids == (
        ids["Refund receipt"],
        ids["Refund window"],
    )
    # Now in the suite: shown as such, not tickable, and nothing is left ticked.
    assert all(tick.disabled and not tick.value for tick in editor.picker_box.children)
    assert shown(editor)[0].endswith("· in the suite")


def test_adding_with_nothing_ticked_says_what_to_do(wb: Workbench) -> None:
    make(wb, "Once")
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    editor.name.value = "s"
    editor.save_button.click()
    editor.add_button.click()
    assert editor.message.value == "Tick the scenarios to add."
    pick(editor, "Once")
    assert len(editor.items) == 1 and editor.picker_rows[0].disabled


def test_scenarios_made_meanwhile_appear_on_refresh(wb: Workbench) -> None:
    editor = SuiteEditor(wb.suites, scenarios=wb.scenarios)
    assert shown(editor) == []
    make(wb, "Made in another cell")
    editor.refresh_picker_button.click()
    assert [label.split(" · ")[0] for label in shown(editor)] == ["Made in another cell"]


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
