"""The studio's Runs tab, the chips, the suite picker and the layout, in JupyterLab in headless
Chromium: typed into and clicked, never scripted.

Few flows, each a kernel start (2 shared cores). The page is the harness's default (1280 wide,
the file browser open: JupyterLab as it opens), where no button may be cut short ("Rem...") and
no widget may run off the output's right edge.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    REPO_ROOT,
    LabServer,
    layout_problems,
    run_notebook_in_lab,
    screenshot_whole,
    widget_button,
    widget_html,
    widget_labels,
    write_notebook,
)
from tests.browser.test_lab_widgets import workbench_cell
from tests.conftest import insert_user
from workbench import ScenarioCreate
from workbench import user as user_turn
from workbench.db.engine import Database
from workbench.handle import Workbench

pytestmark = pytest.mark.browser


def studio_tab(page: Page, title: str) -> None:
    page.locator(".jp-OutputArea-output .lm-TabBar-tab", has_text=re.compile(f"^{title}$")).click()


RUNS_SETUP = """\
from workbench import ScenarioCreate, expect, must_contain, user

greets = wb.scenarios.create(ScenarioCreate(
    name="Greets", turns=[user("hello"), expect(must_contain("hello"))]))
wb.suites.create(name="Smoke", scenario_ids=[greets.id])
wb.prompts.create(name="Support", content="You are a support agent.")
studio = wb.studio()
studio
"""


def test_the_runs_tab_starts_a_run_shows_it_live_and_compares_two(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Turing")
    notebook = write_notebook(lab_server, "runs_tab.ipynb", [workbench_cell(user), RUNS_SETUP])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)
    studio_tab(page, "Runs")
    output = page.locator(".jp-OutputArea-output").last

    reply = page.locator('input[placeholder="echo: <the user\'s message>"]')
    reply.fill("hello there")
    reply.press("Tab")  # sent when the field is left, as a user moving on does
    widget_button(page, "Start run").click()
    counts = widget_html(page).filter(has_text="attempts:")
    expect(counts).to_contain_text("1/1 attempts: 1 passed, 0 failed")
    past = widget_labels(page).filter(has_text="· Smoke · Support · offline ·")
    expect(past).to_have_count(1)
    expect(past.first).to_contain_text("finished · 100% passed (1/1) · $0")

    reply.fill("go away")
    reply.press("Tab")
    widget_button(page, "Start run").click()
    expect(counts).to_contain_text("1/1 attempts: 0 passed, 1 failed")
    expect(past).to_have_count(2)
    expect(past.first).to_contain_text("0% passed (0/1)")
    output.locator(".widget-button", has_text="Compare with...").first.click()
    widget_button(page, "Compare").filter(has_text=re.compile("^Compare$")).click()
    table = output.locator("table.dataframe")
    expect(table.locator("td", has_text="regression")).to_have_count(1)
    expect(table).to_contain_text("go away")

    # The viewer shows the system prompt and each reply's usage.
    page.locator(".widget-select select").select_option(index=0)
    transcript = widget_html(page).filter(has_text="Greets: failed")
    expect(transcript.locator("summary", has_text="system prompt")).to_be_visible()
    expect(transcript.locator(".wb-usage")).to_contain_text("offline · ")
    assert layout_problems(output) == []
    if os.environ.get("WORKBENCH_UPDATE_SCREENSHOTS"):
        tab = output.locator(".widget-tab").first
        screenshot_whole(page, tab, REPO_ROOT / "docs" / "studio-runs.png")
    stored = Workbench(committed_db, user).runs.list()
    assert [view.status for view in stored] == ["finished", "finished"]


EDITOR_SETUP = """\
from workbench import ScenarioCreate, expect, must_contain_any, semantic, user
from workbench.widgets.scenario_editor import ScenarioEditor

statement = ("the reply greets the user by name, says the shop opens at nine on weekdays and at"
             " ten on weekends, and offers to help with a refund without asking for a receipt")
made = wb.scenarios.create(ScenarioCreate(name="Chips and statements", turns=[
    user("Hi, I'm Ada. When do you open?"),
    expect(must_contain_any("hello", "hi"), semantic(statement)),
]))
ScenarioEditor(wb.scenarios, made.id)
"""


def test_chips_take_focus_and_enter_and_long_values_fit(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Lamarr")
    notebook = write_notebook(lab_server, "chips.ipynb", [workbench_cell(user), EDITOR_SETUP])
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)
    output = page.locator(".jp-OutputArea-output").last

    values = output.locator(".wb-chip")
    expect(values).to_have_text(["hello", "hi"])
    values.first.click()
    entry = output.locator('.wb-chip-entry input[placeholder="a value, then Enter"]')
    expect(entry).to_be_focused()  # not JupyterLab's command mode
    page.keyboard.type("welcome")
    page.keyboard.press("Enter")
    expect(values).to_have_text(["hello", "hi", "welcome"])  # one chip per Enter
    expect(entry).to_have_value("")
    cells_before = page.locator(".jp-Notebook .jp-Cell").count()
    page.keyboard.type("hey")  # the field keeps the focus: no notebook shortcut fires
    page.keyboard.press("Enter")
    expect(values).to_have_text(["hello", "hi", "welcome", "hey"])
    assert page.locator(".jp-Notebook .jp-Cell").count() == cells_before
    output.locator(".wb-chip-remove").nth(1).click()
    expect(values).to_have_text(["hello", "welcome", "hey"])

    areas = output.locator("textarea")
    texts = [areas.nth(index).input_value() for index in range(areas.count())]
    # A text area, the whole statement in it (a one-line field showed its first 30 characters).
    assert any(text.startswith("the reply greets") and text.endswith("receipt") for text in texts)
    assert layout_problems(output) == []
    widget_button(page, "Save").first.click()
    expect(widget_labels(page).filter(has_text="as version 2")).to_be_visible()
    stored = Workbench(committed_db, user).scenarios.get_by_name("Chips and statements")
    assert stored.turns[1].expectations[0].values == ("hello", "welcome", "hey")


SUITE_SETUP = """\
from workbench import ScenarioCreate, expect, must_contain, user

for name in ("Refund window", "Refund receipt", "Greeting"):
    wb.scenarios.create(ScenarioCreate(name=name, turns=[user("hi"), expect(must_contain("x"))]))
studio = wb.studio()
studio
"""


def test_the_suite_editor_adds_ticked_scenarios_and_sees_new_ones(
    committed_db: Database, browser_page: Page, lab_server: LabServer
) -> None:
    user = insert_user(committed_db, name="Meitner")
    cells = [workbench_cell(user), SUITE_SETUP]
    notebook = write_notebook(lab_server, "suite_picker.ipynb", cells)
    page = browser_page
    run_notebook_in_lab(page, lab_server, notebook)
    output = page.locator(".jp-OutputArea-output").last
    studio_tab(page, "Suites")

    page.locator('input[placeholder="what the suite is for"]').fill("Refunds")
    widget_button(page, "Save suite").click()
    expect(widget_labels(page).filter(has_text="Saved suite 'Refunds'.")).to_be_visible()
    page.locator('input[placeholder="scenario name"]').fill("refund")
    ticks = output.locator(".widget-checkbox")
    expect(ticks).to_have_count(2)
    for tick in ticks.all():
        tick.locator("input").check()
    widget_button(page, "Add ticked").click()
    expect(widget_labels(page).filter(has_text="Added 2 scenarios.")).to_be_visible()
    expect(widget_labels(page).filter(has_text=re.compile(r"^\d\. Refund"))).to_have_count(2)
    assert layout_problems(output) == []

    # Made elsewhere (here: in the kernel, as another cell would) while the studio is open.
    later = ScenarioCreate(name="Refund later", turns=[user_turn("hi")])
    Workbench(committed_db, user).scenarios.create(later)
    studio_tab(page, "Scenarios")
    studio_tab(page, "Suites")
    expect(ticks.filter(has_text="Refund later")).to_have_count(1)
    stored = Workbench(committed_db, user).suites.list()
    assert [suite.name for suite in stored] == ["Refunds"]
