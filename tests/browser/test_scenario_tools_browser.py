"""ScenarioEditor's tools in JupyterLab, in headless Chromium: typed into and clicked.

A tool is added with its parameters as JSON (the inline message appears while the JSON is
broken and goes once it is fixed), a TOOL_CALLED check goes on an EXPECT turn, and the saved
scenario, read back through the service, has both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LabServer,
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
from workbench import called, tool
from workbench.db.engine import Database
from workbench.handle import Workbench

pytestmark = pytest.mark.browser

EDITOR_CELL = (
    "from workbench.widgets.scenario_editor import ScenarioEditor\nScenarioEditor(wb.scenarios)"
)
ORDER = {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}


def test_add_a_tool_fix_its_json_check_a_call_and_save(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Hopper")
    notebook = write_notebook(lab_server, "tools.ipynb", [workbench_cell(user), EDITOR_CELL])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)

    text_input(page, "Name").fill("Where is my order (browser)")
    widget_button(page, "+ tool").click()
    page.locator(".wb-tool-name input").fill("lookup_order")
    parameters = page.locator(".wb-tool-parameters textarea")
    parameters.fill('{"type": "object", "properties": {"order_id": ')
    problem = page.get_by_text("not JSON: Expecting value")
    expect(problem).to_be_visible()
    parameters.fill(json.dumps(ORDER))
    expect(problem).to_have_count(0)
    page.locator(".wb-tool-returns textarea").fill('{"status": "shipped"}')

    widget_button(page, "+ USER turn").click()
    page.locator('textarea[placeholder="What the user says"]').fill("Where is A1?")
    widget_button(page, "+ EXPECT after").first.click()
    page.locator('textarea[placeholder="text, pattern or statement"]').fill("shipped")
    widget_button(page, "+ tool check").click()
    expect(page.locator(".wb-tool-check-type select")).to_have_value("TOOL_CALLED")
    page.locator(".wb-tool-check-name input").fill("lookup_order")
    page.locator(".wb-tool-check-args textarea").fill('{"order_id": "A1"}')
    editor = page.locator(".jp-OutputArea-output").last
    assert layout_problems(editor) == []  # no "Remove t...", nothing past the edge
    if os.environ.get("WORKBENCH_TOOLS_SCREENSHOT"):
        screenshot_whole(page, editor, Path(os.environ["WORKBENCH_TOOLS_SCREENSHOT"]))
    widget_button(page, "Save").first.click()

    expect(
        widget_labels(page).filter(has_text="Saved 'Where is my order (browser)'")
    ).to_be_visible()
    stored = Workbench(committed_db, user).scenarios.get_by_name("Where is my order (browser)")
    assert stored.tools == (tool("lookup_order", parameters=ORDER, returns={"status": "shipped"}),)
    assert stored.turns[1].tool_checks == (called("lookup_order", args={"order_id": "A1"}),)
    assert stored.turns[1].expectations[0].value == "shipped"
