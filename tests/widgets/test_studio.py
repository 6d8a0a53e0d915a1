"""The studio: every editor in one widget, reachable as `wb.studio()` and `workbench.studio(wb)`."""

from __future__ import annotations

import pytest
from ipywidgets import HTML

import workbench
from workbench import ScenarioCreate, user
from workbench.handle import Workbench
from workbench.widgets.prompt_editor import PromptEditor
from workbench.widgets.studio import Studio


@pytest.fixture(autouse=True)
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENCRYPTION_KEY", "workbench-test-master-secret")


def test_has_a_tab_per_entity_and_takes_extra_tabs(wb: Workbench) -> None:
    notes = HTML("notes go here")
    studio = wb.studio(extra_tabs={"Notes": notes})
    assert isinstance(studio, Studio)
    assert studio.titles == (
        "Scenarios", "Suites", "Prompts", "Variables", "API keys", "Runs", "Notes"
    )  # fmt: skip
    assert studio.children[-1] is notes and studio.children[-2] is studio.runs
    assert repr(studio) == (
        "Studio(tabs: Scenarios, Suites, Prompts, Variables, API keys, Runs, Notes)"
    )


def test_module_level_studio_is_the_same(wb: Workbench) -> None:
    assert workbench.studio(wb).titles == wb.studio().titles


def test_a_scenario_made_in_the_studio_shows_in_its_list(wb: Workbench) -> None:
    studio = wb.studio()
    studio.scenarios.new_button.click()
    editor = studio.scenarios.editor
    assert editor is not None
    editor.name.value = "From the studio"
    editor.add_user_button.click()
    editor.turns[0].text.value = "Hello"
    editor.save_button.click()
    assert [row.summary.name for row in studio.scenarios.rows] == ["From the studio"]


def test_saving_variables_redraws_the_prompt_preview(wb: Workbench) -> None:
    studio = wb.studio()
    prompt = studio.prompts.editor
    assert isinstance(prompt, PromptEditor)
    prompt.content.value = "Hi {{ who }}"
    assert "<mark" in prompt.preview.value

    studio.variables.add_row("who", "Ada")
    studio.variables.save_button.click()
    assert "Hi Ada" in prompt.preview.value and "<mark" not in prompt.preview.value


def test_saved_prompt_and_suite_appear_in_their_choosers(wb: Workbench) -> None:
    studio = wb.studio()
    prompt = studio.prompts.editor
    prompt.name.value = "greeter"
    prompt.content.value = "Hello"
    prompt.save_button.click()
    assert [label for label, _ in studio.prompts.chooser.options] == ["greeter"]

    studio.suites.editor.name.value = "smoke"
    studio.suites.editor.save_button.click()
    assert [label for label, _ in studio.suites.chooser.options] == ["smoke"]
    studio.suites.open_button.click()
    assert studio.suites.editor.name.value == "smoke"


def test_showing_the_suites_tab_lists_scenarios_made_meanwhile(wb: Workbench) -> None:
    studio = wb.studio()
    editor = studio.suites.editor
    assert editor.ticked() == [] and editor.picker_rows == []
    wb.scenarios.create(ScenarioCreate(name="Made later", turns=[user("hi")]))
    studio.selected_index = studio.titles.index("Suites")
    assert [tick.description.split(" · ")[0] for tick in editor.picker_box.children] == [
        "Made later"
    ]
