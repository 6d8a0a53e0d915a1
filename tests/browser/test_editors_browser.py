"""The editors in JupyterLab, in headless Chromium: typed into and clicked, never scripted.

One module, few flows: they share the session's JupyterLab server (2 cores: each flow costs a
kernel start). `WORKBENCH_UPDATE_SCREENSHOTS=1` also writes docs/studio.png from the studio
flow, so the README's picture is what the harness really shows.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    REPO_ROOT,
    LabServer,
    dropdown_select,
    layout_problems,
    run_notebook_in_lab,
    screenshot_whole,
    text_input,
    widget_button,
    widget_labels,
    write_notebook,
)
from tests.browser.test_lab_widgets import workbench_cell
from tests.conftest import insert_user
from workbench.db.engine import Database
from workbench.handle import Workbench

pytestmark = pytest.mark.browser

BROWSER_CELL = (
    "from workbench.widgets.scenario_browser import ScenarioBrowser\nScenarioBrowser(wb.scenarios)"
)


def test_build_a_scenario_by_typing_and_clicking_then_reopen_it_after_a_reload(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Lovelace")
    notebook = write_notebook(lab_server, "author.ipynb", [workbench_cell(user), BROWSER_CELL])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    widget_button(page, "New scenario").click()
    text_input(page, "Name").fill("Greets by name (browser)")
    widget_button(page, "+ USER turn").click()
    page.locator('textarea[placeholder="What the user says"]').fill("Hi, I'm Ada")
    widget_button(page, "+ EXPECT after").first.click()
    values = page.locator('textarea[placeholder="text, pattern or statement"]')
    expect(values).to_have_count(1)
    values.first.fill("Ada")
    widget_button(page, "+ expectation").click()
    expect(values).to_have_count(2)
    page.locator(".wb-expectation-type select").nth(1).select_option("MUST_NOT_CONTAIN")
    values.nth(1).fill("sorry")
    widget_button(page, "Save").first.click()

    expect(widget_labels(page).filter(has_text="Saved 'Greets by name (browser)'")).to_be_visible()
    stored = Workbench(committed_db, user).scenarios.get_by_name("Greets by name (browser)")
    checks = [(e.type.value, e.value) for e in stored.turns[1].expectations]
    assert checks == [("MUST_CONTAIN", "Ada"), ("MUST_NOT_CONTAIN", "sorry")]

    page.reload()
    run_notebook_in_lab(page, lab_server, notebook)
    row = widget_labels(page).filter(has_text="Greets by name (browser) · DRAFT · v1")
    expect(row).to_contain_text("2 turns, 2 expectations")
    widget_button(page, "Open").first.click()
    expect(text_input(page, "Name")).to_have_value("Greets by name (browser)")
    expect(page.locator('textarea[placeholder="What the user says"]')).to_have_value("Hi, I'm Ada")
    expect(values.nth(1)).to_have_value("sorry")


def test_a_validation_error_appears_beside_its_field(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Noether")
    editor_cell = (
        "from workbench.widgets.scenario_editor import ScenarioEditor\nScenarioEditor(wb.scenarios)"
    )
    notebook = write_notebook(lab_server, "invalid.ipynb", [workbench_cell(user), editor_cell])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    widget_button(page, "+ USER turn").click()
    widget_button(page, "Save").first.click()

    problem = page.get_by_text("name: is empty; give it a name")
    expect(problem).to_be_visible()
    turn_problem = page.get_by_text("text: a USER turn needs text")
    expect(turn_problem).to_be_visible()
    name_box = text_input(page, "Name").bounding_box()
    problem_box = problem.bounding_box()
    assert name_box is not None and problem_box is not None
    # Right under the Name field, not in a list at the bottom of the editor.
    assert 0 <= problem_box["y"] - (name_box["y"] + name_box["height"]) < 40
    assert Workbench(committed_db, user).scenarios.list().total == 0


PROMPT_CELL = """\
import ipywidgets
from workbench.widgets.prompt_editor import PromptEditor
from workbench.widgets.variable_editor import VariableEditor

variables = VariableEditor(wb.variables)
prompt = PromptEditor(wb.prompts, variables=wb.variables)
variables.on_saved.append(prompt.refresh_variables)
ipywidgets.VBox([prompt, variables])
"""


def test_the_prompt_preview_follows_the_content_and_the_variables(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Hypatia")
    notebook = write_notebook(lab_server, "prompt.ipynb", [workbench_cell(user), PROMPT_CELL])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    page.locator('textarea[placeholder="You help {{ company }} customers."]').fill(
        "Hello {{ who }}, welcome."
    )
    preview = page.locator("pre.wb-preview")
    expect(preview).to_have_text("Hello {{who}}, welcome.")
    expect(preview.locator("mark.wb-missing")).to_have_text("{{who}}")

    widget_button(page, "+ variable").click()
    page.locator('input[placeholder="key"]').fill("who")
    page.locator('input[placeholder="value"]').fill("Ada")
    widget_button(page, "Save variables").click()

    expect(preview).to_have_text("Hello Ada, welcome.")
    expect(preview.locator("mark.wb-missing")).to_have_count(0)
    assert Workbench(committed_db, user).variables.as_dict() == {"who": "Ada"}


def test_the_studio_shows_every_tab(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Curie")
    wb = Workbench(committed_db, user)
    from workbench import ScenarioCreate, must_contain
    from workbench import expect as expect_turn
    from workbench import user as user_turn

    for name in ("Greets by name", "Refund policy", "Order status"):
        turns = [user_turn(f"About {name.lower()}"), expect_turn(must_contain("order"))]
        wb.scenarios.create(ScenarioCreate(name=name, tags=["smoke"], turns=turns))
    notebook = write_notebook(lab_server, "studio.ipynb", [workbench_cell(user), "wb.studio()"])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    tabs = page.locator(".jp-OutputArea-output .lm-TabBar-tab")
    titles = ["Scenarios", "Suites", "Prompts", "Variables", "API keys", "Runs"]
    expect(tabs).to_have_text(titles)
    expect(widget_labels(page).filter(has_text="Refund policy · DRAFT")).to_be_visible()
    widget_button(page, "Open").first.click()  # the newest first: "Order status"
    scenario_name = page.locator('input[placeholder="what the scenario checks"]')
    expect(scenario_name).to_have_value("Order status")
    if os.environ.get("WORKBENCH_UPDATE_SCREENSHOTS"):
        studio = page.locator(".jp-OutputArea-output .widget-tab").first
        screenshot_whole(page, studio, REPO_ROOT / "docs" / "studio.png")
    page.locator(".lm-TabBar-tab", has_text="Variables").click()
    expect(widget_button(page, "Save variables")).to_be_visible()
    assert dropdown_select(page, "Status").count() >= 1
    # At JupyterLab's default width no button is cut short and nothing runs off the edge.
    output = page.locator(".jp-OutputArea-output").last
    for title in titles:
        page.locator(".jp-OutputArea-output .lm-TabBar-tab", has_text=title).click()
        assert layout_problems(output) == [], title
