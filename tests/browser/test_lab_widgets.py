"""Widgets driven as a person would: JupyterLab in headless Chromium, a real kernel and database.

Tests whose kernel writes to the database take `committed_db` before `browser_page`: fixtures are
torn down in reverse, so the kernels are shut down before the tables are emptied.
"""

from __future__ import annotations

import json
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LabServer,
    dropdown_select,
    password_input,
    run_notebook_in_lab,
    save_notebook,
    text_input,
    widget_button,
    widget_labels,
    write_notebook,
)
from tests.conftest import insert_user
from workbench.db.engine import Database
from workbench.handle import SignedInUser, Workbench

pytestmark = pytest.mark.browser

SMOKE_CELL = """\
import ipywidgets as widgets

reply = widgets.Text(value="not clicked", description="Reply")
button = widgets.Button(description="Ask the kernel")

def answer(_):
    reply.value = "answered by kernel " + str(6 * 7)

button.on_click(answer)
widgets.VBox([button, reply])
"""


def test_clicking_a_button_runs_its_kernel_callback_and_renders_the_change(
    browser_page: Page, lab_server: LabServer
) -> None:
    notebook = write_notebook(lab_server, "smoke.ipynb", [SMOKE_CELL])
    run_notebook_in_lab(browser_page, lab_server, notebook)
    reply = text_input(browser_page, "Reply")
    expect(reply).to_have_value("not clicked")

    widget_button(browser_page, "Ask the kernel").click()

    # "42" is computed in the kernel, so the value can only come from the callback running there.
    expect(reply).to_have_value("answered by kernel 42")


def workbench_cell(user: SignedInUser) -> str:
    """Code that builds the kernel's handle for `user` on the lab's DATABASE_URL."""
    return f"""\
import workbench
from workbench.handle import SignedInUser, Workbench

wb = Workbench(
    workbench.open_database(),
    SignedInUser(id={user.id!r}, email={user.email!r}, name={user.name!r}),
)
"""


def test_api_key_editor_saves_a_key_that_the_saved_notebook_does_not_hold(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Grace")
    api_key = f"sk-ant-browser-{secrets.token_hex(12)}"
    editor_cell = "from workbench.widgets.api_keys import ApiKeyEditor\nApiKeyEditor(wb.api_keys)"
    notebook = write_notebook(lab_server, "api_keys.ipynb", [workbench_cell(user), editor_cell])
    run_notebook_in_lab(browser_page, lab_server, notebook)
    page = browser_page

    dropdown_select(page, "Provider").select_option(label="Anthropic")
    text_input(page, "Key name").fill("browser test")
    password_input(page, "API key").fill(api_key)
    widget_button(page, "Save key").click()

    expect(widget_labels(page).filter(has_text="Saved the Anthropic key")).to_have_text(
        "Saved the Anthropic key 'browser test'."
    )
    expect(widget_labels(page).filter(has_text="Anthropic · browser test · active")).to_be_visible()
    expect(password_input(page, "API key")).to_have_value("")
    saved = save_notebook(page, lab_server, notebook)

    assert api_key not in notebook.read_text(encoding="utf-8")
    widget_state = json.dumps(saved.metadata["widgets"])
    assert "Saved the Anthropic key 'browser test'." in widget_state
    stored = Workbench(committed_db, user).api_keys.list()
    assert [(key.provider, key.key_name) for key in stored] == [("anthropic", "browser test")]


def test_scenarios_frame_renders_a_scenario_created_in_the_kernel(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Hopper")
    create_and_show = """\
from workbench import ScenarioCreate, expect, must_contain, user
from workbench.frames import scenarios_frame

wb.scenarios.create(ScenarioCreate(
    name="Refund policy (browser)",
    turns=[user("Can I get a refund?"), expect(must_contain("refund"))],
))
scenarios_frame(wb)
"""
    notebook = write_notebook(
        lab_server, "scenarios.ipynb", [workbench_cell(user), create_and_show]
    )
    run_notebook_in_lab(browser_page, lab_server, notebook)

    table = browser_page.locator(".jp-OutputArea-output table.dataframe")
    expect(table).to_have_count(1)
    headers = [text.strip() for text in table.locator("thead th").all_inner_texts()]
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(1)
    cells = [text.strip() for text in rows.first.locator("th, td").all_inner_texts()]
    shown = dict(zip(headers, cells, strict=True))
    assert shown["name"] == "Refund policy (browser)"
    assert (shown["status"], shown["turn_count"], shown["expectation_count"]) == ("DRAFT", "2", "1")
