"""A simulated block edited in JupyterLab, in headless Chromium (issue 21): max turns typed
above the ceiling shows its problem under the field and saves nothing; typed within it, saves."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LabServer,
    layout_problems,
    run_notebook_in_lab,
    text_input,
    widget_button,
    widget_labels,
    write_notebook,
)
from tests.browser.test_lab_widgets import workbench_cell
from tests.conftest import insert_user
from workbench import (
    ScenarioCreate,
    judge_conversation,
    must_contain,
    must_not_contain,
    simulated_user,
)
from workbench import expect as expect_turn  # `expect` is Playwright's here
from workbench import user as user_turn
from workbench.db.engine import Database
from workbench.handle import Workbench

pytestmark = pytest.mark.browser


def test_max_turns_is_edited_and_saved_and_its_problem_shown_beside_it(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Hopper")
    wb = Workbench(committed_db, user)
    block = simulated_user("Get a refund", persona="curt", min_turns=1, max_turns=3,
                           each_reply=[must_not_contain("guarantee")])  # fmt: skip
    made = wb.scenarios.create(
        ScenarioCreate(name="Simulated (browser)", turns=[block, judge_conversation("Polite")])
    )
    editor_cell = (
        "from workbench.widgets.scenario_editor import ScenarioEditor\n"
        f"ScenarioEditor(wb.scenarios, {made.id!r})"
    )
    notebook = write_notebook(lab_server, "simulated.ipynb", [workbench_cell(user), editor_cell])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    expect(text_input(page, "Persona")).to_have_value("curt")
    label = page.locator(".widget-label", has_text="max turns")  # an IntText: type="number"
    max_turns = page.locator(".widget-text", has=label).locator('input[type="number"]')
    expect(max_turns).to_have_value("3")
    assert layout_problems(page.locator(".jp-OutputArea-output").last) == []

    max_turns.fill("60")
    max_turns.press("Enter")
    widget_button(page, "Save").first.click()
    problem = page.get_by_text("is 60; the ceiling is 50")
    expect(problem).to_be_visible()
    field_box, problem_box = max_turns.bounding_box(), problem.bounding_box()
    assert field_box is not None and problem_box is not None
    assert 0 <= problem_box["y"] - (field_box["y"] + field_box["height"]) < 60  # beside it
    assert wb.scenarios.get(made.id).version == 1  # nothing saved

    max_turns.fill("8")
    max_turns.press("Enter")
    widget_button(page, "Save").first.click()
    expect(widget_labels(page).filter(has_text="Saved 'Simulated (browser)'")).to_be_visible()
    stored = wb.scenarios.get(made.id).turns[0].simulated
    assert stored is not None and (stored.max_turns, stored.persona) == (8, "curt")
    assert stored.each_reply == (must_not_contain("guarantee"),)


def test_a_block_and_a_criterion_are_added_by_clicking_and_saved(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    person = insert_user(committed_db, name="Lovelace")
    wb = Workbench(committed_db, person)
    made = wb.scenarios.create(
        ScenarioCreate(
            name="Scripted (browser)",
            turns=[user_turn("hi"), expect_turn(must_contain("hello"))],
        )
    )
    editor_cell = (
        "from workbench.widgets.scenario_editor import ScenarioEditor\n"
        f"ScenarioEditor(wb.scenarios, {made.id!r})"
    )
    notebook = write_notebook(lab_server, "added.ipynb", [workbench_cell(person), editor_cell])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)
    output = page.locator(".jp-OutputArea-output").last

    widget_button(page, "+ simulated user").click()
    goal = output.locator('textarea[placeholder="The simulated user\'s goal"]')
    goal.fill("Get a cash refund")
    goal.press("Tab")
    label = page.locator(".widget-label", has_text="max turns")
    max_turns = page.locator(".widget-text", has=label).locator('input[type="number"]')
    expect(max_turns).to_have_value("6")  # simulated_user's default
    max_turns.fill("3")
    max_turns.press("Enter")
    widget_button(page, "+ judge conversation").click()
    values = output.locator('textarea[placeholder="text, pattern or statement"]')
    expect(values).to_have_count(2)  # turn 2's check, then the new criterion once it is drawn
    criterion = values.last
    criterion.fill("Stays polite")
    criterion.press("Tab")
    assert layout_problems(output) == []

    widget_button(page, "Save").first.click()
    expect(widget_labels(page).filter(has_text="Saved 'Scripted (browser)'")).to_be_visible()
    turns = wb.scenarios.get(made.id).turns
    assert turns[2] == simulated_user("Get a cash refund", max_turns=3)
    assert turns[3] == judge_conversation("Stays polite")
